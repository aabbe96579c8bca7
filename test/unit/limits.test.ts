import { Logger } from '@aws-lambda-powertools/logger';
import { LimitExceededError, ValidationError } from '../../lib/domain/errors';
import {
  DEFAULT_LIMITS,
  dayOf,
  isTimezone,
  limitRefusal,
  setAccountLimits,
} from '../../lib/domain/limits';
import { requestPayout, withdraw, type MovementDeps } from '../../lib/domain/movements';
import { TermsCache } from '../../lib/domain/terms';
import type { Account } from '../../lib/domain/types';
import { noMetrics } from '../../lib/metrics';
import { memoryLedgerStore } from '../support/memory-store';

const ACCOUNT_ID = '01JACCOUNT0000000000000000';
const NOW = '2026-12-05T12:00:00.000Z';
const alice = { userId: 'user-alice', username: 'alice', isOperator: false };
const ops = { userId: 'user-ops', username: 'ops', isOperator: true };

const account = (): Account => ({
  accountId: ACCOUNT_ID,
  ownerId: alice.userId,
  currency: 'USD',
  balance: 10_000,
  available: 10_000,
  pending: 0,
  version: 0,
  createdAt: NOW,
  updatedAt: NOW,
});

function ledger(termsCache = new TermsCache()) {
  const store = memoryLedgerStore({ accounts: [account()] });
  let ids = 0;
  const deps: MovementDeps & { store: typeof store } = {
    store,
    logger: new Logger({ logLevel: 'SILENT' }),
    newId: () => `01JTRANSACTION${String((ids += 1)).padStart(12, '0')}`,
    now: () => new Date(NOW),
    idempotencyTtlSeconds: 86_400,
    sleep: async () => undefined,
    termsCache,
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

describe('the day of a movement', () => {
  it.each([
    ['2026-12-05T04:59:59.999Z', 'America/New_York', '2026-12-04'],
    ['2026-12-05T05:00:00.000Z', 'America/New_York', '2026-12-05'],
    ['2026-12-05T23:30:00.000Z', 'Europe/Paris', '2026-12-06'],
    ['2026-12-05T23:30:00.000Z', 'UTC', '2026-12-05'],
  ])('%s is %s in %s', (instant, timezone, day) => {
    expect(dayOf(new Date(instant), timezone)).toBe(day);
  });

  it('knows IANA names and nothing else, not even an offset the runtime would take', () => {
    const names = ['UTC', 'Asia/Tokyo', 'Etc/GMT+2', 'Mars/Olympus', '+0200', '-05:00', ''];
    expect(names.map(isTimezone)).toEqual([true, true, true, false, false, false, false]);
  });
});

describe('limitRefusal', () => {
  const limits = { daily: 1_000, perMovement: 400 };
  it.each([
    [0, 400, null],
    [600, 400, null],
    [601, 400, { kind: 'daily', limit: 1_000, used: 601, remaining: 399 }],
    [0, 401, { kind: 'perMovement', limit: 400, used: 0, remaining: 1_000 }],
    // Past the daily limit already (lowered by an operator today): nothing remains, not less.
    [1_200, 1, { kind: 'daily', limit: 1_000, used: 1_200, remaining: 0 }],
  ])('with %d used, a charge of %d: %j', (used, charged, refusal) => {
    expect(limitRefusal(limits, used, charged)).toEqual(refusal);
  });
});

describe('a withdrawal under limits, on the in-memory store', () => {
  it('learns from the cancelled write that the limits changed, reads the terms once, and refuses past them', async () => {
    const { store, deps } = ledger();
    await setAccountLimits({ ...deps, limitDefaults: DEFAULT_LIMITS }, ops, {
      accountId: ACCOUNT_ID,
      limits: { daily: 500 },
      reason: 'risk',
    });

    await withdraw(deps, withdrawal(400, 'k1'));
    const refused = withdraw(deps, withdrawal(200, 'k2'));

    await expect(refused).rejects.toBeInstanceOf(LimitExceededError);
    await expect(refused).rejects.toMatchObject({
      limit: { kind: 'daily', limit: 500, used: 400, remaining: 100 },
    });
    const writes = store.calls('writeMovement').map(([movement]) => movement);
    expect(writes.map((w) => [w.account.termsVersion, w.limit])).toEqual([
      [
        0,
        { day: '2026-12-05', daily: DEFAULT_LIMITS.daily, perMovement: DEFAULT_LIMITS.perMovement },
      ],
      [1, { day: '2026-12-05', daily: 500, perMovement: DEFAULT_LIMITS.perMovement }],
      [1, { day: '2026-12-05', daily: 500, perMovement: DEFAULT_LIMITS.perMovement }],
    ]);
    expect(store.calls('getTerms')).toHaveLength(1);
    expect(await store.getLimitUsed(ACCOUNT_ID, '2026-12-05')).toBe(400);
  });

  it('holds a payout against the day it was requested, and remembers that day on the payout', async () => {
    const { store, deps } = ledger();
    const held = await requestPayout(
      { ...deps, payoutHoldSeconds: 60 },
      { ...withdrawal(300, 'p1'), destination: 'acct-9' },
    );

    expect(held.payout).toMatchObject({ limitDay: '2026-12-05' });
    expect(await store.getLimitUsed(ACCOUNT_ID, '2026-12-05')).toBe(300);
  });

  it('refuses an unknown timezone for the limits, and sets nothing', async () => {
    const { store, deps } = ledger();
    await expect(
      setAccountLimits({ ...deps, limitDefaults: DEFAULT_LIMITS }, ops, {
        accountId: ACCOUNT_ID,
        limits: { timezone: 'Mars/Olympus' },
        reason: 'x',
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await store.getLimits(ACCOUNT_ID)).toBeNull();
  });
});
