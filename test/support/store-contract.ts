/**
 * What every `LedgerStore` does, as cases any implementation must pass: the DynamoDB adapter on
 * DynamoDB Local (`test/integration/store-contract.test.ts`) and the in-memory store the domain
 * unit tests run on (`test/unit/memory-store.test.ts`). A case the fake passes and the adapter
 * fails (or the reverse) is a fake that lies; both files run this one list.
 *
 * The cases share one store (one table), so each works on accounts of its own.
 */
import { monotonicFactory } from 'ulid';
import {
  STATEMENT_CHUNK,
  type AccountCondition,
  type CommittedMarker,
  type LedgerStore,
  type MovementWrite,
  type RefusedMarker,
  type StatementLine,
  type TransactionRecord,
} from '../../lib/domain/ports';
import type { Account, MovementType, Payout } from '../../lib/domain/types';

export interface StoreUnderContract {
  /** The store the cases run on; opened once, before them. */
  open(): Promise<LedgerStore>;
  close?(): Promise<void>;
}

const nextId = monotonicFactory();
const OPENED_AT = '2026-11-01T00:00:00.000Z';
const NOW = '2026-12-01T10:00:00.000Z';
const LATER = '2026-12-01T10:05:00.000Z';
const ALICE = 'user-alice';

/** A USD account of Alice's with `balance` available, as an earlier history left it. */
export function accountOf(overrides: Partial<Account> = {}): Account {
  const balance = overrides.balance ?? 1_000;
  return {
    accountId: nextId(),
    ownerId: ALICE,
    currency: 'USD',
    balance,
    pending: 0,
    available: balance,
    version: 3,
    createdAt: OPENED_AT,
    updatedAt: OPENED_AT,
    ...overrides,
  };
}

function movementOf(
  account: Account,
  type: MovementType,
  amount: number,
  condition: Omit<AccountCondition, 'accountId'>,
): MovementWrite {
  return {
    transactionId: nextId(),
    accountId: account.accountId,
    type,
    amount,
    idempotencyKey: `key-${nextId()}`,
    requestHash: `hash-${type}-${amount}`,
    createdAt: NOW,
    expiresAt: 1_900_000_000,
    account: { accountId: account.accountId, ...condition },
  };
}

/** A withdrawal by the account's owner, in its currency, refused while frozen. */
export const debit = (account: Account, amount: number): MovementWrite =>
  movementOf(account, 'WITHDRAWAL', amount, {
    effect: 'debit',
    frozenBlocks: true,
    requiredOwnerId: account.ownerId,
    currency: account.currency,
  });

/** An operator's deposit: no owner, no currency named, lands on a frozen account. */
export const credit = (account: Account, amount: number): MovementWrite =>
  movementOf(account, 'DEPOSIT', amount, { effect: 'credit', frozenBlocks: false });

export function transferOf(from: Account, to: Account, amount: number): MovementWrite {
  const movement = movementOf(from, 'TRANSFER_OUT', amount, {
    effect: 'debit',
    frozenBlocks: true,
    requiredOwnerId: from.ownerId,
    currency: from.currency,
  });
  const credited = { effect: 'credit', frozenBlocks: false, currency: from.currency } as const;
  return {
    ...movement,
    counterparty: { accountId: to.accountId, type: 'TRANSFER_IN', ...credited },
  };
}

/** A payout's hold with its payout record, expiring at `holdExpiresAt`. */
export function holdOf(
  account: Account,
  amount: number,
  options: { holdExpiresAt?: string; transactionId?: string } = {},
): MovementWrite {
  const movement = movementOf(account, 'PAYOUT', amount, {
    effect: 'hold',
    frozenBlocks: true,
    requiredOwnerId: account.ownerId,
  });
  const transactionId = options.transactionId ?? movement.transactionId;
  const payout: Payout = {
    transactionId,
    accountId: account.accountId,
    amount,
    currency: account.currency,
    destination: 'acct_dest',
    status: 'PENDING',
    idempotencyKey: movement.idempotencyKey,
    createdAt: NOW,
    updatedAt: NOW,
    holdExpiresAt: options.holdExpiresAt ?? '2026-12-01T10:15:00.000Z',
    attempts: 0,
  };
  return { ...movement, transactionId, payout };
}

/** The marker a committed movement leaves under its key: the request's fingerprint and outcome. */
export const markerOf = (movement: MovementWrite): CommittedMarker => ({
  outcome: 'COMMITTED',
  accountId: movement.accountId,
  idempotencyKey: movement.idempotencyKey,
  requestHash: movement.requestHash,
  createdAt: movement.createdAt,
  transactionId: movement.transactionId,
  type: movement.type,
  amount: movement.amount,
  ...(movement.fee ? { fee: movement.fee } : {}),
  ...(movement.counterparty ? { counterpartyAccountId: movement.counterparty.accountId } : {}),
});

/** The statement lines 1..count of an account, a deposit of 10 each. */
function linesOf(account: Account, count: number, from = 1): StatementLine[] {
  return Array.from({ length: count }, (_, i) => ({
    transactionId: nextId(),
    accountId: account.accountId,
    type: 'DEPOSIT' as const,
    amount: 10,
    currency: 'USD',
    balanceAfter: 10 * (from + i),
    sequence: from + i,
    idempotencyKey: `line-${from + i}`,
    createdAt: NOW,
    status: 'POSTED' as const,
  }));
}

const notRefused = { committed: false, counterpartyRefused: false, counterparty: null };
const sequences = (lines: { sequence: number | null }[]) => lines.map((line) => line.sequence);
const range = (high: number, low: number) =>
  Array.from({ length: high - low + 1 }, (_, i) => high - i);

export function ledgerStoreContract(subject: StoreUnderContract): void {
  let opened: LedgerStore | undefined;
  const store = (): LedgerStore => {
    if (opened === undefined) throw new Error('the store under contract is not open');
    return opened;
  };
  /** Creates `account` in the store and returns it as created. */
  const existing = async (account: Account = accountOf()): Promise<Account> => {
    await store().createAccount(account);
    return account;
  };

  beforeAll(async () => {
    opened = await subject.open();
  });
  afterAll(async () => {
    await subject.close?.();
  });

  describe('accounts', () => accountCases(store, existing));
  describe('movements', () => movementCases(store, existing));
  describe('transfers', () => transferCases(store, existing));
  describe('payouts', () => payoutCases(store, existing));
  describe('the statement', () => statementCases(store, existing));
  describe('operator controls', () => controlCases(store, existing));
  describe('system accounts', () => systemCases(store));
  describe('movement details', () => detailsCases(store, existing));
  describe('fee schedules', () => feeCases(store, existing));
  describe('reversals', () => reversalCases(store, existing));
  describe('payout returns', () => returnsCases(store));
}

type Store = () => LedgerStore;
type Existing = (account?: Account) => Promise<Account>;

function accountCases(store: Store, existing: Existing): void {
  it('reads an account back as it was created, and null for an unknown id', async () => {
    const account = await existing(accountOf({ balance: 250, frozen: false }));

    expect(await store().getAccount(account.accountId)).toEqual(account);
    expect(await store().getAccount(nextId())).toBeNull();
  });

  it('refuses to create an account whose id exists, and leaves the first as it was', async () => {
    const account = await existing();

    await expect(store().createAccount({ ...account, balance: 5 })).rejects.toThrow();
    expect(await store().getAccount(account.accountId)).toEqual(account);
  });

  it("lists an owner's accounts oldest first, and nobody else's", async () => {
    const owner = `user-${nextId()}`;
    const newer = await existing(accountOf({ ownerId: owner, createdAt: LATER }));
    const older = await existing(accountOf({ ownerId: owner, createdAt: NOW }));
    await existing(accountOf({ ownerId: `user-${nextId()}` }));

    expect(await store().listAccountsByOwner(owner)).toEqual([older, newer]);
  });

  it('answers copies: changing an answer changes nothing stored', async () => {
    const account = await existing();
    const read = await store().getAccount(account.accountId);
    if (read === null) throw new Error('account missing');
    read.balance = 0;

    expect(await store().getAccount(account.accountId)).toEqual(account);
  });

  it('answers a health probe', async () => {
    await expect(store().ping()).resolves.toBeUndefined();
  });
}

function movementCases(store: Store, existing: Existing): void {
  it('commits a debit: balance and available fall, the version counts it, it is the last movement', async () => {
    const account = await existing();
    const movement = debit(account, 300);

    await expect(store().writeMovement(movement)).resolves.toEqual({ committed: true });

    expect(await store().getAccount(account.accountId)).toEqual({
      ...account,
      balance: 700,
      available: 700,
      version: 4,
      updatedAt: NOW,
      lastMovement: {
        transactionId: movement.transactionId,
        type: 'WITHDRAWAL',
        amount: 300,
        idempotencyKey: movement.idempotencyKey,
        createdAt: NOW,
      },
    });
    expect(await store().getMarker(account.accountId, movement.idempotencyKey)).toEqual(
      markerOf(movement),
    );
    expect(await store().listPending(account.accountId, 10)).toEqual([
      {
        transactionId: movement.transactionId,
        accountId: account.accountId,
        type: 'WITHDRAWAL',
        amount: 300,
        idempotencyKey: movement.idempotencyKey,
        createdAt: NOW,
      },
    ]);
  });

  it('refuses a debit above the available funds, returns the account as it was, writes nothing', async () => {
    const account = await existing(accountOf({ balance: 100 }));
    const movement = debit(account, 300);

    await expect(store().writeMovement(movement)).resolves.toEqual({
      ...notRefused,
      accountRefused: true,
      account,
      existingMarker: null,
    });
    expect(await store().getAccount(account.accountId)).toEqual(account);
    expect(await store().getMarker(account.accountId, movement.idempotencyKey)).toBeNull();
    expect(await store().listPending(account.accountId, 10)).toEqual([]);
  });

  it('debits down to exactly zero', async () => {
    const account = await existing(accountOf({ balance: 300 }));

    await expect(store().writeMovement(debit(account, 300))).resolves.toEqual({ committed: true });
    expect(await store().getAccount(account.accountId)).toMatchObject({ balance: 0, available: 0 });
  });

  it('returns the marker a reused key holds, reports no refused account, and changes nothing', async () => {
    const account = await existing();
    const first = debit(account, 100);
    await store().writeMovement(first);
    const after = await store().getAccount(account.accountId);

    const again = { ...debit(account, 100), idempotencyKey: first.idempotencyKey };

    await expect(store().writeMovement(again)).resolves.toEqual({
      ...notRefused,
      accountRefused: false,
      account: null,
      existingMarker: markerOf(first),
    });
    expect(await store().getAccount(account.accountId)).toEqual(after);
  });

  it('reports both the refused account and the existing marker when both conditions fail', async () => {
    const account = await existing(accountOf({ balance: 150 }));
    const first = debit(account, 100);
    await store().writeMovement(first);

    const again = { ...debit(account, 100), idempotencyKey: first.idempotencyKey };

    await expect(store().writeMovement(again)).resolves.toEqual({
      ...notRefused,
      accountRefused: true,
      account: expect.objectContaining({ balance: 50, version: 4 }),
      existingMarker: markerOf(first),
    });
  });

  it('finds its own marker when the same movement is written again after it committed', async () => {
    const account = await existing();
    const movement = debit(account, 100);
    await store().writeMovement(movement);

    await expect(store().writeMovement(movement)).resolves.toMatchObject({
      accountRefused: false,
      existingMarker: { transactionId: movement.transactionId },
    });
    expect(await store().getAccount(account.accountId)).toMatchObject({ balance: 900 });
  });

  it('reports a missing account as a refused condition with no account', async () => {
    const ghost = accountOf();

    await expect(store().writeMovement(credit(ghost, 10))).resolves.toEqual({
      ...notRefused,
      accountRefused: true,
      account: null,
      existingMarker: null,
    });
  });

  it('refuses a frozen account a debit but accepts a credit', async () => {
    const account = await existing();
    const change = { id: nextId(), by: 'ops', at: NOW, reason: 'incident' };
    const frozen = await store().setFrozen(account.accountId, true, change);

    await expect(store().writeMovement(debit(account, 10))).resolves.toEqual({
      ...notRefused,
      accountRefused: true,
      account: frozen,
      existingMarker: null,
    });
    await expect(store().writeMovement(credit(account, 10))).resolves.toEqual({ committed: true });
    expect(await store().getAccount(account.accountId)).toMatchObject({
      balance: 1_010,
      frozen: true,
    });
  });

  it('refuses a debit by anyone but the required owner, and one in another currency', async () => {
    const account = await existing();
    const byBob = debit(account, 10);
    byBob.account.requiredOwnerId = 'user-bob';
    const inEuros = debit(account, 10);
    inEuros.account.currency = 'EUR';

    for (const movement of [byBob, inEuros]) {
      await expect(store().writeMovement(movement)).resolves.toMatchObject({
        accountRefused: true,
        account,
      });
    }
    expect(await store().getAccount(account.accountId)).toEqual(account);
  });

  it('refuses a credit past Number.MAX_SAFE_INTEGER, and accepts one that reaches it exactly', async () => {
    const account = await existing(accountOf({ balance: Number.MAX_SAFE_INTEGER - 10 }));

    await expect(store().writeMovement(credit(account, 11))).resolves.toMatchObject({
      accountRefused: true,
      account,
    });
    await expect(store().writeMovement(credit(account, 10))).resolves.toEqual({ committed: true });
    expect(await store().getAccount(account.accountId)).toMatchObject({
      balance: Number.MAX_SAFE_INTEGER,
    });
  });

  it('records a refusal under a free key, and returns the outcome already there otherwise', async () => {
    const account = await existing();
    const refusal: RefusedMarker = {
      outcome: 'REFUSED',
      accountId: account.accountId,
      idempotencyKey: `key-${nextId()}`,
      requestHash: 'hash',
      createdAt: NOW,
      status: 409,
      error: { code: 'INSUFFICIENT_FUNDS', message: 'short', requestId: 'req-1' },
    };

    await expect(store().recordRefusal(refusal, 1_900_000_000)).resolves.toEqual({
      recorded: true,
    });
    const second = { ...refusal, error: { ...refusal.error, requestId: 'req-2' } };
    await expect(store().recordRefusal(second, 1_900_000_000)).resolves.toEqual({
      recorded: false,
      existing: refusal,
    });
    const movement = { ...debit(account, 10), idempotencyKey: refusal.idempotencyKey };
    await expect(store().writeMovement(movement)).resolves.toMatchObject({
      existingMarker: refusal,
    });
  });
}

function transferCases(store: Store, existing: Existing): void {
  it('debits one account and credits the other with a TRANSFER_IN entry known by the transaction id', async () => {
    const from = await existing();
    const to = await existing(accountOf({ ownerId: 'user-bob', balance: 0 }));
    const movement = transferOf(from, to, 400);

    await expect(store().writeMovement(movement)).resolves.toEqual({ committed: true });

    const { transactionId, idempotencyKey } = movement;
    const common = { transactionId, amount: 400, createdAt: NOW };
    expect(await store().getAccount(from.accountId)).toMatchObject({
      balance: 600,
      version: 4,
      lastMovement: {
        ...common,
        type: 'TRANSFER_OUT',
        idempotencyKey,
        counterpartyAccountId: to.accountId,
      },
    });
    const toEntry = { ...common, type: 'TRANSFER_IN', idempotencyKey: transactionId };
    expect(await store().getAccount(to.accountId)).toEqual({
      ...to,
      balance: 400,
      available: 400,
      version: 4,
      updatedAt: NOW,
      lastMovement: { ...toEntry, counterpartyAccountId: from.accountId },
    });
    expect(await store().listPending(to.accountId, 10)).toEqual([
      { ...toEntry, accountId: to.accountId, counterpartyAccountId: from.accountId },
    ]);
    expect(await store().getMarker(from.accountId, idempotencyKey)).toEqual(markerOf(movement));
  });

  it('reports a missing counterparty as its refused condition, with the debited account untouched', async () => {
    const from = await existing();
    const movement = transferOf(from, accountOf(), 400);

    await expect(store().writeMovement(movement)).resolves.toEqual({
      committed: false,
      accountRefused: false,
      account: null,
      counterpartyRefused: true,
      counterparty: null,
      existingMarker: null,
    });
    expect(await store().getAccount(from.accountId)).toEqual(from);
  });

  it("reports a counterparty in another currency with its state, and the payer's refusal too", async () => {
    const from = await existing(accountOf({ balance: 100 }));
    const to = await existing(accountOf({ currency: 'EUR' }));

    await expect(store().writeMovement(transferOf(from, to, 400))).resolves.toEqual({
      committed: false,
      accountRefused: true,
      account: from,
      counterpartyRefused: true,
      counterparty: to,
      existingMarker: null,
    });
  });
}

function payoutCases(store: Store, existing: Existing): void {
  /** An account with a committed hold of 300 on its 1,000. */
  const held = async () => {
    const account = await existing();
    const movement = holdOf(account, 300);
    await store().writeMovement(movement);
    const payout = await store().getPayout(account.accountId, movement.transactionId);
    if (payout === null) throw new Error('payout missing');
    return { account, movement, payout };
  };

  it('holds a payout: available moves to pending; balance, version and last movement stay', async () => {
    const { account, movement, payout } = await held();

    expect(payout).toEqual(movement.payout);
    expect(await store().getAccount(account.accountId)).toEqual({
      ...account,
      pending: 300,
      available: 700,
      updatedAt: NOW,
    });
    expect(await store().listPending(account.accountId, 10)).toEqual([
      expect.objectContaining({ type: 'PAYOUT', status: 'PENDING', destination: 'acct_dest' }),
    ]);
  });

  it('reports the marker, not a second hold, when a payout is written again after it committed', async () => {
    const { account, movement } = await held();

    await expect(store().writeMovement(movement)).resolves.toMatchObject({
      existingMarker: markerOf(movement),
    });
    expect(await store().getAccount(account.accountId)).toMatchObject({ pending: 300 });
  });

  it('posts a hold once: the balance falls, the version counts it, the payout leaves PENDING', async () => {
    const { account, payout } = await held();
    const resolution = { status: 'POSTED', gatewayReference: 'gw-1', at: LATER } as const;

    await expect(store().resolvePayout(payout, resolution)).resolves.toBe(true);
    await expect(store().resolvePayout(payout, resolution)).resolves.toBe(false);

    expect(await store().getAccount(account.accountId)).toEqual({
      ...account,
      balance: 700,
      pending: 0,
      available: 700,
      version: 4,
      updatedAt: LATER,
      lastMovement: {
        transactionId: payout.transactionId,
        type: 'PAYOUT',
        amount: 300,
        idempotencyKey: payout.idempotencyKey,
        createdAt: NOW,
        status: 'POSTED',
        destination: 'acct_dest',
      },
    });
    expect(await store().getPayout(account.accountId, payout.transactionId)).toEqual({
      ...payout,
      status: 'POSTED',
      gatewayReference: 'gw-1',
      updatedAt: LATER,
    });
    expect(await store().listPending(account.accountId, 10)).toEqual([
      expect.objectContaining({ transactionId: payout.transactionId, status: 'POSTED' }),
    ]);
  });

  it('voids a hold once: the amount is available again, the version counts it, a later post is refused', async () => {
    const { account, payout } = await held();

    const voided = { status: 'VOIDED', voidReason: 'refused', at: LATER } as const;
    await expect(store().resolvePayout(payout, voided)).resolves.toBe(true);
    const posted = { status: 'POSTED', gatewayReference: 'gw-late', at: LATER } as const;
    await expect(store().resolvePayout(payout, posted)).resolves.toBe(false);

    expect(await store().getAccount(account.accountId)).toMatchObject({
      balance: 1_000,
      pending: 0,
      available: 1_000,
      version: 4,
      lastMovement: { transactionId: payout.transactionId, status: 'VOIDED' },
    });
    expect(await store().getPayout(account.accountId, payout.transactionId)).toEqual({
      ...payout,
      status: 'VOIDED',
      voidReason: 'refused',
      updatedAt: LATER,
    });
  });

  it('answers false for resolving a payout that does not exist, and null for reading it', async () => {
    const account = await existing();
    const ghost = holdOf(account, 10).payout;
    if (ghost === undefined) throw new Error('no payout');

    await expect(
      store().resolvePayout(ghost, { status: 'VOIDED', voidReason: 'x', at: LATER }),
    ).resolves.toBe(false);
    expect(await store().getPayout(account.accountId, ghost.transactionId)).toBeNull();
  });

  it('records gateway attempts of an open payout, and none once it is resolved', async () => {
    const { account, payout } = await held();

    await store().recordPayoutAttempt(payout, LATER, 'timeout');
    await store().recordPayoutAttempt(payout, LATER, 'status_503');
    expect(await store().getPayout(account.accountId, payout.transactionId)).toEqual({
      ...payout,
      attempts: 2,
      lastAttemptAt: LATER,
      lastError: 'status_503',
    });

    await store().resolvePayout(payout, { status: 'VOIDED', voidReason: 'x', at: LATER });
    await store().recordPayoutAttempt(payout, NOW, 'late');
    expect(await store().getPayout(account.accountId, payout.transactionId)).toMatchObject({
      attempts: 2,
      lastError: 'status_503',
    });
  });

  it('lists open payouts soonest expiry first, at most limitPerShard of each shard', async () => {
    const account = await existing(accountOf({ balance: 10_000 }));
    // Due in 2001, before any other case's payouts. The last character of the id picks the
    // shard: each of the four holds two, and the later one (n + 4) is due sooner.
    const prefix = nextId().slice(0, 24);
    const holds = [0, 1, 2, 3, 4, 5, 6, 7].map((n) =>
      holdOf(account, 10, {
        transactionId: `${prefix}${n}${n % 4}`,
        holdExpiresAt: `2001-01-01T00:00:0${7 - n}.000Z`,
      }),
    );
    for (const hold of holds) await store().writeMovement(hold);
    const ours = (payouts: Payout[]) =>
      payouts.filter((p) => p.accountId === account.accountId).map((p) => p.holdExpiresAt);

    expect(ours(await store().listOpenPayouts(100))).toEqual(
      holds.map((h) => h.payout?.holdExpiresAt).reverse(),
    );
    expect(ours(await store().listOpenPayouts(1))).toEqual(
      holds
        .slice(4)
        .map((h) => h.payout?.holdExpiresAt)
        .reverse(),
    );

    for (const hold of holds) {
      const payout = hold.payout as Payout;
      await store().resolvePayout(payout, { status: 'VOIDED', voidReason: 'x', at: LATER });
    }
    expect(ours(await store().listOpenPayouts(100))).toEqual([]);
  });
}

function statementCases(store: Store, existing: Existing): void {
  it('lists pending entries newest first by transaction id, below a cursor', async () => {
    const account = await existing();
    const movements = [1, 2, 3, 4, 5].map(() => credit(account, 1));
    for (const movement of movements) await store().writeMovement(movement);
    const ids = movements.map((m) => m.transactionId).reverse();

    const firstTwo = await store().listPending(account.accountId, 2);
    expect(firstTwo.map((e) => e.transactionId)).toEqual(ids.slice(0, 2));
    const nextTwo = await store().listPending(account.accountId, 2, ids[1]);
    expect(nextTwo.map((e) => e.transactionId)).toEqual(ids.slice(2, 4));
  });

  it('writes statement lines, then retires the pending entries they replace', async () => {
    const account = await existing(accountOf({ balance: 0, version: 0 }));
    const movements = [1, 2, 3].map(() => credit(account, 10));
    for (const movement of movements) await store().writeMovement(movement);
    const lines = linesOf(account, 3).map((line, i) => ({
      ...line,
      transactionId: movements[i]?.transactionId ?? '',
    }));

    await store().writeStatementLines(lines, LATER);

    expect(await store().listPending(account.accountId, 10)).toEqual([]);
    expect(await store().listStatement(account.accountId, 10)).toEqual([...lines].reverse());
  });

  it('writes a chunk again without a trace (a redelivered batch)', async () => {
    const account = await existing();
    const lines = linesOf(account, 4);
    await store().writeStatementLines(lines, NOW);
    await store().writeStatementLines(lines, LATER);

    expect(await store().listStatement(account.accountId, 10)).toEqual([...lines].reverse());
  });

  it(`refuses more than ${STATEMENT_CHUNK} lines at once`, async () => {
    const account = await existing();

    await expect(
      store().writeStatementLines(linesOf(account, STATEMENT_CHUNK + 1), NOW),
    ).rejects.toThrow(`at most ${STATEMENT_CHUNK}`);
    expect(await store().listStatement(account.accountId, 10)).toEqual([]);
  });

  it('pages the statement newest first below a sequence, one line more than the limit', async () => {
    const account = await existing();
    await store().writeStatementLines(linesOf(account, 25), NOW);
    await store().writeStatementLines(linesOf(account, 5, 26), NOW);
    const page = (limit: number, before?: number) =>
      store().listStatement(account.accountId, limit, before).then(sequences);

    expect(await page(10)).toEqual(range(30, 20));
    expect(await page(10, 21)).toEqual(range(20, 10));
    expect(await page(10, 5)).toEqual(range(4, 1));
    expect(await page(10, 1)).toEqual([]);
    const above = (after: number) =>
      store().listStatementAbove(account.accountId, after).then(sequences);
    expect(await above(25)).toEqual(range(30, 26));
    expect(await above(-3)).toEqual(range(30, 1));
    expect(await above(30)).toEqual([]);
  });

  it("finds a movement's line among the newest 100, and not an older one", async () => {
    const account = await existing();
    const lines = linesOf(account, 105);
    for (let start = 0; start < lines.length; start += STATEMENT_CHUNK) {
      await store().writeStatementLines(lines.slice(start, start + STATEMENT_CHUNK), NOW);
    }
    const find = (line?: StatementLine) =>
      store().findRecentLine(account.accountId, line?.transactionId ?? 'none');

    expect(await find(lines[5])).toEqual(lines[5]);
    expect(await find(lines[104])).toEqual(lines[104]);
    expect(await find(lines[4])).toBeNull();
    expect(await find(undefined)).toBeNull();
  });
}

function systemCases(store: Store): void {
  /** A currency of the case's own: the system accounts are shared by the whole table. */
  const currencyOf = () => `T${nextId().slice(-6)}`;
  const chunk = (accountId: string, currency: string, first: number, last: number) => ({
    accountId,
    currency,
    firstSequence: first,
    lastSequence: last,
  });

  it("adds a chunk's postings to the system accounts once, and says how far a replay was applied", async () => {
    const currency = currencyOf();
    const accountId = nextId();
    const first = { ...chunk(accountId, currency, 1, 3), amounts: { funding: -100, clearing: 30 } };

    await expect(store().applySystemPostings(first)).resolves.toEqual({ applied: true });
    await expect(store().applySystemPostings(first)).resolves.toEqual({
      applied: false,
      appliedThrough: 3,
    });
    // A redelivery that cut its chunk elsewhere overlaps what was applied: refused as a whole.
    const overlapping = { ...chunk(accountId, currency, 2, 5), amounts: { funding: -999 } };
    await expect(store().applySystemPostings(overlapping)).resolves.toEqual({
      applied: false,
      appliedThrough: 3,
    });
    // Lines past a gap are refused too, saying how far the account's lines were applied.
    const pastGap = { ...chunk(accountId, currency, 6, 7), amounts: { funding: -7 } };
    await expect(store().applySystemPostings(pastGap)).resolves.toEqual({
      applied: false,
      appliedThrough: 3,
    });
    const next = { ...chunk(accountId, currency, 4, 5), amounts: { funding: -5 } };
    await expect(store().applySystemPostings(next)).resolves.toEqual({ applied: true });
    // A chunk that posts nothing still moves the watermark.
    await expect(
      store().applySystemPostings({ ...chunk(accountId, currency, 6, 6), amounts: {} }),
    ).resolves.toEqual({ applied: true });
    await expect(
      store().applySystemPostings({
        ...chunk(accountId, currency, 7, 7),
        amounts: { funding: -7 },
      }),
    ).resolves.toEqual({ applied: true });

    expect((await store().systemBalances())[currency]).toEqual({ funding: -112, clearing: 30 });
  });

  it("sums each system account over every account's chunks, per currency", async () => {
    const [usd, eur] = [currencyOf(), currencyOf()];
    const postings = [
      { ...chunk(nextId(), usd, 1, 1), amounts: { funding: -10 } },
      { ...chunk(nextId(), usd, 1, 2), amounts: { funding: -20, clearing: 5 } },
      { ...chunk(nextId(), eur, 7, 9), amounts: { clearing: 40, revenue: 2 } },
    ];
    for (const p of postings) await store().applySystemPostings(p);

    const balances = await store().systemBalances();
    expect(balances[usd]).toEqual({ funding: -30, clearing: 5 });
    expect(balances[eur]).toEqual({ clearing: 40, revenue: 2 });
  });
}

function controlCases(store: Store, existing: Existing): void {
  const change = (reason: string) => ({ id: nextId(), by: 'ops', at: NOW, reason });

  it('freezes an account at its version and unfreezes it; null for an unknown account', async () => {
    const account = await existing(accountOf({ version: 9 }));

    await expect(store().setFrozen(account.accountId, true, change('incident'))).resolves.toEqual({
      ...account,
      frozen: true,
      frozenAtVersion: 9,
    });
    await expect(store().setFrozen(account.accountId, false, change('cleared'))).resolves.toEqual({
      ...account,
      frozen: false,
      frozenAtVersion: 9,
    });
    await expect(store().setFrozen(nextId(), true, change('typo'))).resolves.toBeNull();
  });

  it('keeps the withdrawal switch: off until set, then as last set, with who, when and why', async () => {
    await expect(store().getWithdrawalControl()).resolves.toEqual({ paused: false, changed: null });

    const changed = { by: 'ops', at: NOW, reason: 'incident' };
    await store().setWithdrawalControl({ paused: true, changed });
    await expect(store().getWithdrawalControl()).resolves.toEqual({ paused: true, changed });

    const resumed = { ...changed, at: LATER, reason: 'resolved' };
    await store().setWithdrawalControl({ paused: false, changed: resumed });
    await expect(store().getWithdrawalControl()).resolves.toEqual({
      paused: false,
      changed: resumed,
    });
  });
}

function returnsCases(store: Store): void {
  it("keeps the returns reader's cursor and waiting returns, and saves only over the version read", async () => {
    const waiting = [
      {
        idempotencyKey: nextId(),
        reference: 'sim_1',
        returnedAt: NOW,
        reason: 'account_closed',
        firstSeenAt: LATER,
      },
    ];
    await expect(store().getReturnsProgress()).resolves.toEqual({ waiting: [], version: 0 });

    await expect(store().saveReturnsProgress({ cursor: 'c.1', waiting, version: 0 })).resolves.toBe(
      true,
    );
    // A pass that read version 0 too finds it taken, and writes nothing.
    await expect(
      store().saveReturnsProgress({ cursor: 'c.9', waiting: [], version: 0 }),
    ).resolves.toBe(false);
    await expect(store().getReturnsProgress()).resolves.toEqual({
      cursor: 'c.1',
      waiting,
      version: 1,
    });

    await expect(
      store().saveReturnsProgress({ cursor: 'c.2', waiting: [], version: 1 }),
    ).resolves.toBe(true);
    await expect(store().getReturnsProgress()).resolves.toEqual({
      cursor: 'c.2',
      waiting: [],
      version: 2,
    });
  });
}

function detailsCases(store: Store, existing: Existing): void {
  const details = { reference: 'INV 2026/42', description: 'Café \u{1F4B8}', metadata: { a: '1' } };
  const mark = { reference: details.reference, hasDetails: true as const };

  it("marks a movement's entries and last movements with its reference, and keeps its description and metadata apart", async () => {
    const [from, to] = [await existing(), await existing()];
    const movement = { ...transferOf(from, to, 10), details };

    await expect(store().writeMovement(movement)).resolves.toEqual({ committed: true });

    for (const accountId of [from.accountId, to.accountId]) {
      expect(await store().listPending(accountId, 10)).toEqual([expect.objectContaining(mark)]);
      expect((await store().getAccount(accountId))?.lastMovement).toMatchObject(mark);
    }
    const read = await store().readDetails([movement.transactionId, nextId()]);
    expect([...read]).toEqual([
      [movement.transactionId, { description: details.description, metadata: details.metadata }],
    ]);
    expect(await store().getMarker(from.accountId, movement.idempotencyKey)).toEqual(
      markerOf(movement),
    );
  });

  it('writes no details item and no mark for a movement with a reference alone', async () => {
    const account = await existing();
    const movement = { ...credit(account, 10), details: { reference: 'r' } };
    await store().writeMovement(movement);

    const [entry] = await store().listPending(account.accountId, 10);
    expect(entry).toMatchObject({ reference: 'r' });
    expect(entry).not.toHaveProperty('hasDetails');
    expect([...(await store().readDetails([movement.transactionId]))]).toEqual([]);
  });

  it('keeps the mark on a payout from its record to its posting', async () => {
    const account = await existing();
    const hold = holdOf(account, 10);
    if (hold.payout === undefined) throw new Error('a hold without its payout record');
    const payout: Payout = { ...hold.payout, ...mark };
    await store().writeMovement({ ...hold, payout, details });

    expect(await store().getPayout(account.accountId, hold.transactionId)).toEqual(payout);
    await store().resolvePayout(payout, { status: 'POSTED', gatewayReference: 'g', at: LATER });
    expect((await store().getAccount(account.accountId))?.lastMovement).toMatchObject({
      status: 'POSTED',
      ...mark,
    });
  });

  it('lists the lines of one reference newest first below a sequence, one more than the limit', async () => {
    const [account, other] = [await existing(), await existing()];
    const references = ['a', 'b', 'a', 'a', 'a', 'b'];
    const lines = linesOf(account, 6).map((line, i) => ({ ...line, reference: references[i] }));
    await store().writeStatementLines(lines, NOW);
    await store().writeStatementLines(
      linesOf(other, 1).map((line) => ({ ...line, reference: 'a' })),
      NOW,
    );
    const page = (limit: number, before?: number) =>
      store().listStatementByReference(account.accountId, 'a', limit, before);

    expect(await page(2)).toEqual([lines[4], lines[3], lines[2]]);
    expect(await page(2, 4)).toEqual([lines[2], lines[0]]);
    expect(await page(5, 1)).toEqual([]);
    expect(await store().listStatementByReference(account.accountId, 'c', 5)).toEqual([]);
    // The index's key is not the line's: the statement reads the lines as they were written.
    expect(await store().listStatement(account.accountId, 10)).toEqual([...lines].reverse());
  });
}

function feeCases(store: Store, existing: Existing): void {
  const change = (reason: string) => ({ id: nextId(), by: 'ops', at: NOW, reason });

  it("sets a fee schedule beside the account, moving the account's version up, with its last change", async () => {
    const account = await existing();
    await expect(store().getFees(account.accountId)).resolves.toBeNull();

    await store().setFees(account.accountId, { WITHDRAWAL: { flat: 5 } }, change('first'));
    const second = await store().setFees(account.accountId, { PAYOUT: { bps: 20 } }, change('new'));

    const expected = {
      version: 2,
      schedule: { PAYOUT: { bps: 20 } },
      changed: { by: 'ops', at: NOW, reason: 'new' },
    };
    expect(second).toEqual(expected);
    await expect(store().getFees(account.accountId)).resolves.toEqual(expected);
    // The account item carries the version only: its size does not grow with the schedule.
    await expect(store().getAccount(account.accountId)).resolves.toEqual({
      ...account,
      termsVersion: 2,
    });
    await expect(store().setFees(nextId(), {}, change('typo'))).resolves.toBeNull();
  });

  it('commits a debit of amount + fee priced with the version in force, and refuses another version', async () => {
    const account = await existing(accountOf({ termsVersion: 1 }));
    const priced = (termsVersion: number): MovementWrite => {
      const movement = debit(account, 100);
      return { ...movement, fee: 7, account: { ...movement.account, termsVersion } };
    };

    const stale = await store().writeMovement(priced(0));
    expect(stale).toMatchObject({ committed: false, accountRefused: true, account });
    await expect(store().writeMovement(priced(1))).resolves.toEqual({ committed: true });

    expect(await store().getAccount(account.accountId)).toMatchObject({
      balance: 893,
      available: 893,
      lastMovement: { amount: 100, fee: 7 },
    });
  });
}

function reversalCases(store: Store, existing: Existing): void {
  /** A deposit of `amount`, posted: its statement line written as the sequencer writes it. */
  const posted = async (account: Account, amount: number): Promise<TransactionRecord> => {
    const [line] = linesOf(account, 1, 1).map((l) => ({ ...l, amount, balanceAfter: amount }));
    if (line === undefined) throw new Error('no line');
    await store().writeStatementLines([line], NOW);
    return {
      transactionId: line.transactionId,
      accountId: account.accountId,
      type: 'DEPOSIT',
      amount,
      currency: account.currency,
      createdAt: NOW,
    };
  };
  const reversalOf = (account: Account, original: TransactionRecord, amount: number) => {
    const movement = movementOf(account, 'REVERSAL_OUT', amount, {
      effect: 'debit',
      frozenBlocks: false,
    });
    const reversal = {
      reversalOf: original.transactionId,
      reversedType: original.type,
      reason: 'dispute',
      originalAmount: original.amount,
    };
    return { ...movement, reversal };
  };

  it('finds a posted movement by id from its statement line, and counts its reversals there', async () => {
    const account = await existing();
    const original = await posted(account, 300);
    await expect(store().getTransaction(original.transactionId)).resolves.toEqual({
      ...original,
      reversed: 0,
      reversals: [],
    });
    const first = reversalOf(account, original, 100);
    await expect(store().writeMovement(first)).resolves.toEqual({ committed: true });

    const reversals = [{ transactionId: first.transactionId, amount: 100, reason: 'dispute' }];
    await expect(store().getTransaction(original.transactionId)).resolves.toEqual({
      ...original,
      reversed: 100,
      reversals,
    });
    await expect(store().reversalsOf([original.transactionId, nextId()])).resolves.toEqual(
      new Map([[original.transactionId, reversals]]),
    );
    await expect(store().getTransaction(nextId())).resolves.toBeNull();
  });

  it("does not find a movement by its transfer's destination line, only by the source's", async () => {
    const [source, destination] = [await existing(), await existing()];
    const transactionId = nextId();
    const side = {
      transactionId,
      amount: 40,
      currency: 'USD',
      createdAt: NOW,
      status: 'POSTED' as const,
    };
    const incoming = {
      ...side,
      accountId: destination.accountId,
      type: 'TRANSFER_IN' as const,
      counterpartyAccountId: source.accountId,
      balanceAfter: 40,
      sequence: 1,
      idempotencyKey: 'in',
    };
    await store().writeStatementLines([incoming], NOW);
    await expect(store().getTransaction(transactionId)).resolves.toBeNull();

    const outgoing = {
      ...incoming,
      accountId: source.accountId,
      type: 'TRANSFER_OUT' as const,
      counterpartyAccountId: destination.accountId,
      idempotencyKey: 'out',
    };
    await store().writeStatementLines([outgoing], NOW);
    await expect(store().getTransaction(transactionId)).resolves.toEqual({
      transactionId,
      accountId: source.accountId,
      type: 'TRANSFER_OUT',
      amount: 40,
      currency: 'USD',
      counterpartyAccountId: destination.accountId,
      counterpartyType: 'TRANSFER_IN',
      createdAt: NOW,
      reversed: 0,
      reversals: [],
    });
  });

  it('refuses the reversal that would pass the original, saying what was reversed, and writes nothing', async () => {
    const account = await existing();
    const original = await posted(account, 300);
    await store().writeMovement(reversalOf(account, original, 250));

    const over = reversalOf(account, original, 51);
    await expect(store().writeMovement(over)).resolves.toMatchObject({
      committed: false,
      reversalRefused: { reversed: 250 },
    });
    await expect(store().writeMovement(reversalOf(account, original, 50))).resolves.toEqual({
      committed: true,
    });
    expect((await store().getAccount(account.accountId))?.balance).toBe(1_000 - 300);
  });

  it('refuses a first reversal larger than the original, and writes nothing', async () => {
    const account = await existing();
    const original = await posted(account, 300);

    await expect(store().writeMovement(reversalOf(account, original, 301))).resolves.toMatchObject({
      committed: false,
      reversalRefused: { reversed: 0 },
    });
    expect((await store().getAccount(account.accountId))?.balance).toBe(1_000);
    await expect(store().getTransaction(original.transactionId)).resolves.toMatchObject({
      reversed: 0,
      reversals: [],
    });
  });
}
