import { Logger } from '@aws-lambda-powertools/logger';
import { feeFor, feeSchedule, setFeeSchedule, type FeeSchedule } from '../../lib/domain/fees';
import { DEFAULT_LIMITS } from '../../lib/domain/limits';
import { withdraw, type MovementDeps } from '../../lib/domain/movements';
import { TermsCache } from '../../lib/domain/terms';
import { TransientStoreError } from '../../lib/domain/ports';
import type { Account } from '../../lib/domain/types';
import { noMetrics } from '../../lib/metrics';
import { memoryLedgerStore } from '../support/memory-store';

const ACCOUNT_ID = '01JACCOUNT0000000000000000';
const alice = { userId: 'user-alice', username: 'alice', isOperator: false };
const ops = { userId: 'user-ops', username: 'ops', isOperator: true };
const NOW = '2026-12-05T10:00:00.000Z';

const account = (extra: Partial<Account> = {}): Account => ({
  accountId: ACCOUNT_ID,
  ownerId: 'user-alice',
  currency: 'USD',
  balance: 10_000,
  available: 10_000,
  pending: 0,
  version: 3,
  createdAt: NOW,
  updatedAt: NOW,
  ...extra,
});

function ledger(accounts: Account[], feeCache = new TermsCache()) {
  const store = memoryLedgerStore({ accounts });
  let ids = 0;
  const deps: MovementDeps & { store: typeof store } = {
    store,
    logger: new Logger({ logLevel: 'SILENT' }),
    newId: () => `01JTRANSACTION${String((ids += 1)).padStart(12, '0')}`,
    now: () => new Date(NOW),
    idempotencyTtlSeconds: 86_400,
    sleep: async () => undefined,
    termsCache: feeCache,
    limitDefaults: DEFAULT_LIMITS,
    withdrawalSwitch: { isPaused: async () => false, cacheMs: 5000 },
    metrics: noMetrics,
  };
  return { store, deps };
}

const withdrawal = (amount: number, key: string) => ({
  caller: alice,
  accountId: ACCOUNT_ID,
  amount,
  idempotencyKey: key,
  requestId: key,
});

describe('feeFor', () => {
  it.each([
    [{}, 10_000, 0],
    [{ flat: 30 }, 10_000, 30],
    [{ bps: 150 }, 10_000, 150],
    [{ bps: 150 }, 99, 1], // 1.485 floored
    [{ flat: 10, bps: 100, min: 50 }, 1_000, 50],
    [{ flat: 10, bps: 100, max: 15 }, 1_000, 15],
    [{ bps: 10_000 }, 1_000_000_000_000, 1_000_000_000_000],
    // 999,900,000,000.9999 floored: a float product would round it up to ...001.
    [{ bps: 9_999 }, 1_000_000_000_001, 999_900_000_000],
  ])('prices %j on %d as %d', (rule, amount, fee) => {
    expect(feeFor(rule, amount)).toBe(fee);
  });

  it('charges nothing without a rule', () => {
    expect(feeFor(undefined, 5_000)).toBe(0);
  });
});

describe('a withdrawal under a fee schedule', () => {
  /** Alice's account with `schedule` set by an operator (version 1), as the store holds it. */
  async function pricedLedger(schedule: FeeSchedule, cache = new TermsCache()) {
    const built = ledger([account()], cache);
    await built.store.setFees(ACCOUNT_ID, schedule, { id: 'c1', by: 'ops', at: NOW, reason: 'x' });
    return built;
  }

  it('prices with the schedule this container saw and commits in one write', async () => {
    const cache = new TermsCache();
    cache.learn(ACCOUNT_ID, { version: 1, fees: { WITHDRAWAL: { flat: 25 } }, limits: {} });
    const { store, deps } = await pricedLedger({ WITHDRAWAL: { flat: 25 } }, cache);

    const result = await withdraw(deps, withdrawal(1_000, 'k1'));

    expect(result).toMatchObject({ fee: 25, balance: 8_975 });
    expect(store.calls('writeMovement')).toHaveLength(1);
    expect(store.calls('getTerms')).toHaveLength(0);
    expect(store.calls('writeMovement')[0]?.[0]).toMatchObject({
      fee: 25,
      account: { termsVersion: 1 },
    });
  });

  it('learns from the cancelled write that the terms changed, reads them once, and prices again', async () => {
    const { store, deps } = await pricedLedger({ WITHDRAWAL: { flat: 25 } });

    const result = await withdraw(deps, withdrawal(1_000, 'k1'));

    expect(result.fee).toBe(25);
    const writes = store.calls('writeMovement').map(([movement]) => movement);
    expect(writes.map((w) => [w.fee ?? 0, w.account.termsVersion])).toEqual([
      [0, 0],
      [25, 1],
    ]);
    expect(store.calls('getTerms')).toHaveLength(1);
    expect(store.calls('getAccount')).toHaveLength(1); // the answer's read, after the commit
    // The next one is priced right the first time.
    await withdraw(deps, withdrawal(1_000, 'k2'));
    expect(store.calls('writeMovement')).toHaveLength(3);
    expect(store.calls('getTerms')).toHaveLength(1);
  });

  it('never charges a fee the operator replaced before the commit', async () => {
    const cache = new TermsCache();
    cache.learn(ACCOUNT_ID, { version: 1, fees: { WITHDRAWAL: { flat: 99 } }, limits: {} });
    const { store, deps } = await pricedLedger({ WITHDRAWAL: { flat: 99 } }, cache);
    await setFeeSchedule(deps, ops, { accountId: ACCOUNT_ID, schedule: {}, reason: 'promo' });

    const result = await withdraw(deps, withdrawal(1_000, 'k1'));

    expect(result.fee).toBe(0);
    expect(await store.getAccount(ACCOUNT_ID)).toMatchObject({ balance: 9_000, termsVersion: 2 });
  });

  it('refuses amount + fee above available as INSUFFICIENT_FUNDS and changes nothing', async () => {
    const { store, deps } = await pricedLedger({ WITHDRAWAL: { flat: 1 } });

    await expect(withdraw(deps, withdrawal(10_000, 'k1'))).rejects.toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
    });
    expect(await store.getAccount(ACCOUNT_ID)).toMatchObject({ balance: 10_000, version: 3 });
  });
});

describe('fee schedules', () => {
  it('lets an operator set one and records who, when and why; the owner reads it back', async () => {
    const { deps } = ledger([account()]);

    const set = await setFeeSchedule(deps, ops, {
      accountId: ACCOUNT_ID,
      schedule: { PAYOUT: { bps: 50, min: 100 } },
      reason: 'new pricing',
    });

    const expected = {
      accountId: ACCOUNT_ID,
      version: 1,
      schedule: { PAYOUT: { bps: 50, min: 100 } },
      changed: { by: 'user-ops', at: NOW, reason: 'new pricing' },
    };
    expect(set).toEqual(expected);
    await expect(feeSchedule(deps, alice, ACCOUNT_ID)).resolves.toEqual(expected);
  });

  it('refuses a customer setting one, and hides another customer’s account', async () => {
    const { deps } = ledger([account()]);
    const mallory = { userId: 'user-mallory', username: 'mallory', isOperator: false };

    await expect(
      setFeeSchedule(deps, alice, { accountId: ACCOUNT_ID, schedule: {}, reason: 'x' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(feeSchedule(deps, mallory, ACCOUNT_ID)).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
    });
  });

  it('retries a change that conflicts with a movement in flight, and records it once', async () => {
    const { store, deps } = ledger([account()]);
    store.failNext('setFees', new TransientStoreError('conflict'), 2);

    const set = await setFeeSchedule(deps, ops, {
      accountId: ACCOUNT_ID,
      schedule: { WITHDRAWAL: { flat: 1 } },
      reason: 'busy account',
    });

    expect(set.version).toBe(1);
    expect(store.calls('setFees')).toHaveLength(3);
  });

  it('answers version 0 and no change for an account never priced', async () => {
    const { deps } = ledger([account()]);
    await expect(feeSchedule(deps, alice, ACCOUNT_ID)).resolves.toEqual({
      accountId: ACCOUNT_ID,
      version: 0,
      schedule: {},
      changed: null,
    });
  });
});
