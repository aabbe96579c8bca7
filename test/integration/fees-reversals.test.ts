import { auditLedger, formatAudit } from '../../lib/audit/ledger-audit';
import { setFeeSchedule } from '../../lib/domain/fees';
import { deposit, requestPayout, transfer, withdraw } from '../../lib/domain/movements';
import { listTransactions } from '../../lib/domain/history';
import { dispatchPayout } from '../../lib/domain/payouts';
import type { PayoutGateway } from '../../lib/domain/ports';
import { postingsOf } from '../../lib/domain/postings';
import { reverseTransaction } from '../../lib/domain/reversals';
import type { Account, Caller, Payout } from '../../lib/domain/types';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';

/**
 * Fees and reversals against DynamoDB Local (issue 19): each movement's postings sum to zero,
 * the fee is part of the same atomic step, and reversals never pass the original.
 */
const alice = customer('alice');
const bob = customer('bob');
let ledger: TestLedger;

beforeAll(async () => {
  ledger = await createTestLedger('fees-reversals');
});
afterAll(() => ledger.close());

let keys = 0;
const request = (accountId: string, amount: number, caller: Caller = alice) => {
  keys += 1;
  return { caller, accountId, amount, idempotencyKey: `k-${keys}`, requestId: `r-${keys}` };
};
const reversal = (transactionId: string, fields: { amount?: number; allowNegative?: boolean }) => {
  keys += 1;
  return {
    caller: operator,
    transactionId,
    reason: 'customer dispute',
    ...fields,
    idempotencyKey: `rev-${keys}`,
    requestId: `rr-${keys}`,
  };
};
const balanceOf = async (account: Account) =>
  (await ledger.store.getAccount(account.accountId))?.balance;
const chargeFees = (account: Account, withdrawal: { flat?: number; bps?: number }) =>
  setFeeSchedule(ledger.deps, operator, {
    accountId: account.accountId,
    schedule: { WITHDRAWAL: withdrawal, PAYOUT: withdrawal },
    reason: 'standard pricing',
  });

const newestLine = async (account: Account) => {
  const [line] = await ledger.statement(account.accountId);
  if (line === undefined) throw new Error(`no statement line on ${account.accountId}`);
  return line;
};
const payoutOf = (held: { payout?: Payout }): Payout => {
  if (held.payout === undefined) throw new Error('a payout answered without its record');
  return held.payout;
};

/** Every line of these accounts, with the postings that balance it summed per transaction. */
async function postingSums(accounts: Account[]): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for (const account of accounts) {
    for (const line of await ledger.statement(account.accountId)) {
      const total = postingsOf(line).reduce((sum, p) => sum + p.amount, 0);
      sums.set(line.transactionId, (sums.get(line.transactionId) ?? 0) + total);
    }
  }
  return sums;
}

describe('fees', () => {
  it('charges a withdrawal amount + fee in one transaction and credits the fee to revenue', async () => {
    const a = await ledger.openAccount(alice, 10_000);
    await chargeFees(a, { flat: 50, bps: 100 });

    const result = await withdraw(ledger.deps, request(a.accountId, 2_000));

    expect(result.fee).toBe(70); // 50 + 1% of 2,000
    expect(result.transaction).toMatchObject({ amount: 2_000, fee: 70, balanceAfter: 7_930 });
    expect(await balanceOf(a)).toBe(7_930);
    await ledger.drain();
    const line = await newestLine(a);
    expect(line).toMatchObject({ type: 'WITHDRAWAL', amount: 2_000, fee: 70 });
    expect(postingsOf(line)).toEqual([
      { account: { customer: a.accountId }, amount: -2_070 },
      { account: { system: 'clearing' }, amount: 2_000 },
      { account: { system: 'revenue' }, amount: 70 },
    ]);
  });

  it('refuses a withdrawal whose amount + fee exceeds available and leaves everything unchanged', async () => {
    const a = await ledger.openAccount(alice, 1_000);
    await chargeFees(a, { flat: 10 });

    await expect(withdraw(ledger.deps, request(a.accountId, 995))).rejects.toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
    });

    expect(await ledger.store.getAccount(a.accountId)).toMatchObject({
      balance: 1_000,
      available: 1_000,
      version: 1,
    });
    // Exactly amount + fee = available commits.
    await expect(withdraw(ledger.deps, request(a.accountId, 990))).resolves.toMatchObject({
      fee: 10,
      balance: 0,
    });
  });

  it('charges the schedule in force at commit, even when this container priced with an older one', async () => {
    const a = await ledger.openAccount(alice, 10_000);
    await withdraw(ledger.deps, request(a.accountId, 100)); // seen with no schedule: version 0
    await chargeFees(a, { flat: 25 });

    const result = await withdraw(ledger.deps, request(a.accountId, 100));

    expect(result.fee).toBe(25);
    expect(await balanceOf(a)).toBe(10_000 - 100 - 125);
  });

  it('holds a payout with its fee, and charges both when it posts', async () => {
    const a = await ledger.openAccount(alice, 5_000);
    await chargeFees(a, { flat: 30 });

    const held = await requestPayout(
      { ...ledger.deps, payoutHoldSeconds: 600 },
      { ...request(a.accountId, 1_000), destination: 'acct-1' },
    );

    expect(held).toMatchObject({ fee: 30, pending: 1_030, available: 3_970, balance: 5_000 });
    expect(held.payout).toMatchObject({ amount: 1_000, fee: 30 });

    const sent: number[] = [];
    const gateway: PayoutGateway = {
      send: async (instruction) => {
        sent.push(instruction.amount);
        return { status: 'SUCCEEDED', reference: 'ref-1' };
      },
      cancel: async () => ({ status: 'CANCELLED' }),
    };
    const payoutDeps = { ...ledger.deps, gateway, retryAfterMs: 60_000 };
    await expect(dispatchPayout(payoutDeps, payoutOf(held))).resolves.toBe('POSTED');

    expect(sent).toEqual([1_000]); // the gateway sends the amount; the fee stays as revenue
    expect(await ledger.store.getAccount(a.accountId)).toMatchObject({
      balance: 3_970,
      pending: 0,
      available: 3_970,
    });
    await ledger.drain();
    const line = await newestLine(a);
    expect(postingsOf(line)).toEqual([
      { account: { customer: a.accountId }, amount: -1_030 },
      { account: { system: 'clearing' }, amount: 1_000 },
      { account: { system: 'revenue' }, amount: 30 },
    ]);

    // The money came back (a returned payout): reversed like any posted movement; the fee stays.
    const returned = await reverseTransaction(ledger.deps, reversal(line.transactionId, {}));
    expect(returned).toMatchObject({ balance: 4_970, reversed: { original: 1_000, remaining: 0 } });
  });

  it('releases a voided payout with its fee, and charges neither', async () => {
    const a = await ledger.openAccount(alice, 2_000);
    await chargeFees(a, { flat: 40 });
    const held = await requestPayout(
      { ...ledger.deps, payoutHoldSeconds: 600 },
      { ...request(a.accountId, 500), destination: 'acct-2' },
    );
    const gateway: PayoutGateway = {
      send: async () => ({ status: 'REFUSED', reason: 'closed account' }),
      cancel: async () => ({ status: 'CANCELLED' }),
    };

    await dispatchPayout({ ...ledger.deps, gateway, retryAfterMs: 60_000 }, payoutOf(held));

    expect(await ledger.store.getAccount(a.accountId)).toMatchObject({
      balance: 2_000,
      pending: 0,
      available: 2_000,
    });
    await ledger.drain();
    await expect(
      reverseTransaction(ledger.deps, reversal(held.transaction.transactionId, {})),
    ).rejects.toMatchObject({ code: 'NOT_REVERSIBLE' });
  });
});

describe('reversals', () => {
  it('reverses a deposit, a withdrawal and a transfer: every transaction posts to zero, and the audit agrees', async () => {
    const a = await ledger.openAccount(alice, 3_000);
    const b = await ledger.openAccount(bob, 0);
    const withdrawal = await withdraw(ledger.deps, request(a.accountId, 500));
    const moved = await transfer(ledger.deps, {
      ...request(a.accountId, 400),
      toAccountId: b.accountId,
    });
    const credit = await deposit(ledger.deps, request(b.accountId, 250, operator));
    await ledger.drain();

    await reverseTransaction(ledger.deps, reversal(withdrawal.transaction.transactionId, {}));
    await reverseTransaction(
      ledger.deps,
      reversal(moved.transaction.transactionId, { amount: 150 }),
    );
    await reverseTransaction(ledger.deps, reversal(credit.transaction.transactionId, {}));
    await ledger.drain();

    expect(await balanceOf(a)).toBe(3_000 - 500 - 400 + 500 + 150);
    expect(await balanceOf(b)).toBe(400 - 150);
    for (const [transactionId, sum] of await postingSums([a, b])) {
      expect({ transactionId, sum }).toEqual({ transactionId, sum: 0 });
    }
    const audit = await auditLedger(ledger.client, ledger.tableName);
    expect(audit.ok ? 'ok' : formatAudit(audit)).toBe('ok');
  });

  it('links the reversal and the original both ways in the history', async () => {
    const a = await ledger.openAccount(alice, 1_000);
    const original = await withdraw(ledger.deps, request(a.accountId, 300));
    await ledger.drain();
    const reversed = await reverseTransaction(
      ledger.deps,
      reversal(original.transaction.transactionId, { amount: 100 }),
    );
    await ledger.drain();

    const page = await listTransactions(ledger.deps, alice, a.accountId, { limit: 20 });
    const byId = new Map(page.transactions.map((entry) => [entry.transactionId, entry]));
    expect(byId.get(reversed.transaction.transactionId)).toMatchObject({
      type: 'REVERSAL_IN',
      amount: 100,
      reversalOf: original.transaction.transactionId,
      reason: 'customer dispute',
    });
    expect(byId.get(original.transaction.transactionId)?.reversedBy).toEqual([
      { transactionId: reversed.transaction.transactionId, amount: 100 },
    ]);
    expect(reversed.reversed).toEqual({ original: 300, total: 100, remaining: 200 });
  });

  it('lets 16 concurrent partial reversals take the original up to its amount and never past it', async () => {
    const a = await ledger.openAccount(alice, 0);
    const original = await deposit(ledger.deps, request(a.accountId, 1_000, operator));
    await ledger.drain();

    const outcomes = await Promise.allSettled(
      Array.from({ length: 16 }, () =>
        reverseTransaction(
          ledger.deps,
          reversal(original.transaction.transactionId, { amount: 100 }),
        ),
      ),
    );

    const committed = outcomes.filter((o) => o.status === 'fulfilled');
    const codes = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [(o.reason as { code?: string }).code] : [],
    );
    // Ten fit; the others are refused by the cap, or gave up on contention with nothing changed.
    expect(committed.length).toBeLessThanOrEqual(10);
    expect(new Set(codes)).toEqual(
      new Set(
        codes.filter((c) => c === 'REVERSAL_EXCEEDS_ORIGINAL' || c === 'TRANSACTION_CONFLICT'),
      ),
    );
    expect(await balanceOf(a)).toBe(1_000 - committed.length * 100);
    const record = await ledger.store.getTransaction(original.transaction.transactionId);
    expect(record).toMatchObject({ reversed: committed.length * 100 });
    expect(record?.reversals).toHaveLength(committed.length);
    // Whatever contention left over, the cap still stops the eleventh: fill it up, then pass it.
    for (let i = committed.length; i < 10; i += 1) {
      await reverseTransaction(
        ledger.deps,
        reversal(original.transaction.transactionId, { amount: 100 }),
      );
    }
    await expect(
      reverseTransaction(ledger.deps, reversal(original.transaction.transactionId, { amount: 1 })),
    ).rejects.toMatchObject({ code: 'REVERSAL_EXCEEDS_ORIGINAL' });
    expect(await balanceOf(a)).toBe(0);
  });

  it('refuses to take back a credit that is no longer available, unless the operator allows a negative balance', async () => {
    const a = await ledger.openAccount(alice, 0);
    const credit = await deposit(ledger.deps, request(a.accountId, 800, operator));
    await withdraw(ledger.deps, request(a.accountId, 600));
    await ledger.drain();

    await expect(
      reverseTransaction(ledger.deps, reversal(credit.transaction.transactionId, {})),
    ).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(await balanceOf(a)).toBe(200);

    const forced = await reverseTransaction(
      ledger.deps,
      reversal(credit.transaction.transactionId, { allowNegative: true }),
    );
    expect(forced.transaction).toMatchObject({ type: 'REVERSAL_OUT', negativeAllowed: true });
    expect(forced).toMatchObject({ balance: -600, available: -600 });
    // A negative balance refuses every withdrawal.
    await expect(withdraw(ledger.deps, request(a.accountId, 1))).rejects.toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
    });
    await ledger.drain();
    const audit = await auditLedger(ledger.client, ledger.tableName);
    expect(audit.ok ? 'ok' : formatAudit(audit)).toBe('ok');
  });

  it('refuses a first reversal above the original amount and leaves the balance unchanged', async () => {
    const a = await ledger.openAccount(alice, 500);
    const original = await withdraw(ledger.deps, request(a.accountId, 100));
    await ledger.drain();

    await expect(
      reverseTransaction(
        ledger.deps,
        reversal(original.transaction.transactionId, { amount: 101 }),
      ),
    ).rejects.toMatchObject({ code: 'REVERSAL_EXCEEDS_ORIGINAL' });
    expect(await balanceOf(a)).toBe(400);
  });

  it('refuses a reversal of a reversal, and of an id with no posted movement', async () => {
    const a = await ledger.openAccount(alice, 500);
    const original = await withdraw(ledger.deps, request(a.accountId, 100));
    await ledger.drain();
    const first = await reverseTransaction(
      ledger.deps,
      reversal(original.transaction.transactionId, {}),
    );
    await ledger.drain();

    await expect(
      reverseTransaction(ledger.deps, reversal(first.transaction.transactionId, {})),
    ).rejects.toMatchObject({ code: 'NOT_REVERSIBLE' });
    await expect(
      reverseTransaction(ledger.deps, reversal('01JNOSUCHTRANSACTION000000', {})),
    ).rejects.toMatchObject({ code: 'TRANSACTION_NOT_FOUND' });
  });
});
