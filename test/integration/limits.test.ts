import { setFeeSchedule } from '../../lib/domain/fees';
import { LimitExceededError, ReplayedRefusalError } from '../../lib/domain/errors';
import { accountLimits, setAccountLimits, type LimitsOverride } from '../../lib/domain/limits';
import { requestPayout, withdraw, type MovementDeps } from '../../lib/domain/movements';
import { dispatchPayout } from '../../lib/domain/payouts';
import type { PayoutGateway } from '../../lib/domain/ports';
import { reverseTransaction } from '../../lib/domain/reversals';
import { TermsCache } from '../../lib/domain/terms';
import type { Account, Caller } from '../../lib/domain/types';
import { accountControlKey } from '../../lib/persistence/keys';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';

/**
 * Withdrawal limits against DynamoDB Local (issue 20): the day's counter is part of the
 * withdrawal's one transaction, so no read before it can be raced.
 */
const alice = customer('alice');
let ledger: TestLedger;

beforeAll(async () => {
  ledger = await createTestLedger('limits');
});
afterAll(() => ledger.close());

let keys = 0;
const request = (accountId: string, amount: number, caller: Caller = alice) => {
  keys += 1;
  return { caller, accountId, amount, idempotencyKey: `k-${keys}`, requestId: `r-${keys}` };
};
const limit = (account: Account, limits: LimitsOverride, deps = ledger.deps) =>
  setAccountLimits(deps, operator, {
    accountId: account.accountId,
    limits,
    reason: 'risk review',
  });
const used = (account: Account, day: string) => ledger.store.getLimitUsed(account.accountId, day);
const balanceOf = async (account: Account) =>
  (await ledger.store.getAccount(account.accountId))?.balance;
const at = (instant: string): MovementDeps => ({ ...ledger.deps, now: () => new Date(instant) });
const refusalOf = async (attempt: Promise<unknown>) => {
  const error = await attempt.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof LimitExceededError || error instanceof ReplayedRefusalError)) {
    throw new Error(`expected LIMIT_EXCEEDED, got ${String(error)}`);
  }
  return error;
};
const today = () => new Date().toISOString().slice(0, 10);

describe('limits, on DynamoDB Local', () => {
  it('lets exactly 10 of 32 concurrent withdrawals through a daily limit that allows 10, and the counter equals their sum', async () => {
    const a = await ledger.openAccount(alice, 100_000);
    await limit(a, { daily: 1_000 });
    const deps = { ...ledger.deps, maxAttempts: 100 };

    const outcomes = await Promise.allSettled(
      Array.from({ length: 32 }, () => withdraw(deps, request(a.accountId, 100))),
    );

    const committed = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(committed).toHaveLength(10);
    expect(refused).toHaveLength(22);
    for (const error of refused) {
      expect(error).toBeInstanceOf(LimitExceededError);
      expect((error as LimitExceededError).limit).toMatchObject({ kind: 'daily', limit: 1_000 });
    }
    expect(await used(a, today())).toBe(1_000);
    expect(await balanceOf(a)).toBe(99_000);
  });

  it('counts a withdrawal across the day boundary in the new day, in the account timezone', async () => {
    const a = await ledger.openAccount(alice, 10_000);
    await limit(a, { daily: 500, timezone: 'America/New_York' });
    // 04:59:59Z is still 4 December in New York (UTC-5); 05:00:01Z is 5 December there.
    await withdraw(at('2026-12-05T04:59:59.000Z'), request(a.accountId, 500));
    await withdraw(at('2026-12-05T05:00:01.000Z'), request(a.accountId, 500));
    const over = await refusalOf(withdraw(at('2026-12-05T23:00:00.000Z'), request(a.accountId, 1)));

    expect(over.limit).toEqual({ kind: 'daily', limit: 500, used: 500, remaining: 0 });
    expect([await used(a, '2026-12-04'), await used(a, '2026-12-05')]).toEqual([500, 500]);
    expect(await balanceOf(a)).toBe(9_000);
  });

  it('counts a fee with its amount against the daily limit', async () => {
    const a = await ledger.openAccount(alice, 10_000);
    await limit(a, { daily: 1_000 });
    await setFeeSchedule(ledger.deps, operator, {
      accountId: a.accountId,
      schedule: { WITHDRAWAL: { flat: 10 } },
      reason: 'pricing',
    });

    const over = await refusalOf(withdraw(ledger.deps, request(a.accountId, 995)));
    const within = await withdraw(ledger.deps, request(a.accountId, 990));

    expect(over.limit).toMatchObject({ kind: 'daily', used: 0, remaining: 1_000 });
    expect(within).toMatchObject({ fee: 10, balance: 9_000 });
    expect(await used(a, today())).toBe(1_000);
  });

  it('gives a voided payout its room back', async () => {
    const a = await ledger.openAccount(alice, 5_000);
    await limit(a, { daily: 1_000 });
    const held = await requestPayout(
      { ...ledger.deps, payoutHoldSeconds: 600 },
      { ...request(a.accountId, 1_000), destination: 'acct-1' },
    );
    await refusalOf(withdraw(ledger.deps, request(a.accountId, 1)));
    expect(await used(a, today())).toBe(1_000);

    const gateway: PayoutGateway = {
      send: async () => ({ status: 'REFUSED', reason: 'closed account' }),
      cancel: async () => ({ status: 'CANCELLED' }),
    };
    const payout = held.payout;
    if (payout === undefined) throw new Error('no payout record');
    await dispatchPayout({ ...ledger.deps, gateway, retryAfterMs: 60_000 }, payout);

    expect(await used(a, today())).toBe(0);
    await expect(withdraw(ledger.deps, request(a.accountId, 1_000))).resolves.toMatchObject({
      balance: 4_000,
    });
  });

  it('gives a reversal of a withdrawal made today its room back', async () => {
    const a = await ledger.openAccount(alice, 5_000);
    await limit(a, { daily: 1_000 });
    const sent = await withdraw(ledger.deps, request(a.accountId, 800));
    await ledger.drain();

    await reverseTransaction(ledger.deps, {
      caller: operator,
      transactionId: sent.transaction.transactionId,
      amount: 300,
      reason: 'disputed',
      idempotencyKey: `rev-${keys}`,
      requestId: `rr-${keys}`,
    });

    expect(await used(a, today())).toBe(500);
    await expect(withdraw(ledger.deps, request(a.accountId, 500))).resolves.toMatchObject({
      balance: 5_000 - 800 + 300 - 500,
    });
  });

  it('refuses a movement above the per-movement maximum, changes nothing, and answers a retry the same', async () => {
    const a = await ledger.openAccount(alice, 5_000);
    await limit(a, { perMovement: 300 });
    const first = request(a.accountId, 301);

    const refused = await refusalOf(withdraw(ledger.deps, first));
    const replayed = await refusalOf(withdraw(ledger.deps, { ...first, requestId: 'retry' }));

    expect(refused.limit).toMatchObject({ kind: 'perMovement', limit: 300, used: 0 });
    expect(replayed).toBeInstanceOf(ReplayedRefusalError);
    expect(replayed.limit).toEqual(refused.limit);
    expect(await ledger.store.getAccount(a.accountId)).toMatchObject({
      balance: 5_000,
      available: 5_000,
      pending: 0,
    });
    expect(await used(a, today())).toBe(0);
    await ledger.drain();
    expect(await ledger.statement(a.accountId)).toHaveLength(1); // the opening deposit alone
  });

  it("audits an operator's change (who, when, why, before and after) and applies it to the next request", async () => {
    const a = await ledger.openAccount(alice, 5_000);
    // A container that saw the account's terms before the change: its guess is now stale.
    const warm = { ...ledger.deps, termsCache: new TermsCache() };
    await withdraw(warm, request(a.accountId, 200));

    const view = await limit(a, { daily: 250 });
    const over = await refusalOf(withdraw(warm, request(a.accountId, 100)));

    expect(view).toMatchObject({ daily: 250, usedToday: 200, remainingToday: 50 });
    expect(view.changed).toMatchObject({
      by: operator.userId,
      reason: 'risk review',
      previous: { daily: ledger.deps.limitDefaults.daily },
      limits: { daily: 250 },
    });
    expect(over.limit).toEqual({ kind: 'daily', limit: 250, used: 200, remaining: 50 });
    const records = (await ledger.items()).filter(
      (item) =>
        item.pk === accountControlKey(a.accountId, '', '').pk && item.action === 'SET_LIMITS',
    );
    expect(records).toEqual([
      expect.objectContaining({
        by: operator.userId,
        reason: 'risk review',
        previous: expect.objectContaining({ daily: ledger.deps.limitDefaults.daily }),
        limits: expect.objectContaining({ daily: 250 }),
      }),
    ]);
    await expect(accountLimits(ledger.deps, alice, a.accountId)).resolves.toMatchObject({
      daily: 250,
      usedToday: 200,
      remainingToday: 50,
      version: view.version,
    });
  });
});
