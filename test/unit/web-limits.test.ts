/**
 * Withdrawal limits on the page (web/src/limits.ts, issue 20): the refusal before sending, the
 * words for the server's LIMIT_EXCEEDED, when the limits are read again, and the operator's view
 * of a change; in plain node with the API's answers stubbed.
 */
import { Api, ApiError, type LimitsStatus } from '../../web/src/api';
import {
  isTimezone,
  limitsChangeText,
  LimitsRoom,
  overLimit,
  refusalMessage,
} from '../../web/src/limits';
import { parseLimit } from '../../web/src/money';
import { answers } from '../support/stub-fetch';

const ACCOUNT = '01J00000000000000000000000';

const today: LimitsStatus = {
  daily: 10_000,
  perMovement: 6_000,
  timezone: 'UTC',
  day: '2026-12-06',
  usedToday: 7_000,
  remainingToday: 3_000,
};

afterEach(() => jest.restoreAllMocks());

describe('overLimit', () => {
  it('lets through a charge up to what remains today, its fee included', () => {
    expect(overLimit(today, { action: 'withdrawal', amount: 2_950n, fee: 50n }, 'USD')).toBeNull();
    expect(overLimit(today, { action: 'transfer', amount: 3_000n, fee: 0n }, 'USD')).toBeNull();
  });

  it('refuses a charge above what remains today, saying what remains of which limit', () => {
    expect(overLimit(today, { action: 'withdrawal', amount: 2_951n, fee: 50n }, 'USD')).toBe(
      'This withdrawal comes to $30.01 with its fee of $0.50, above what may still leave this account today: $30.00 of its daily limit of $100.00. Nothing was sent.',
    );
    expect(overLimit(today, { action: 'transfer', amount: 3_001n, fee: 0n }, 'USD')).toBe(
      'This transfer comes to $30.01, above what may still leave this account today: $30.00 of its daily limit of $100.00. Nothing was sent.',
    );
  });

  it('names the per-movement limit first, as the server checks it first', () => {
    const fresh = { ...today, usedToday: 0, remainingToday: 10_000 };
    expect(overLimit(fresh, { action: 'payout', amount: 6_000n, fee: 100n }, 'USD')).toBe(
      "This payout comes to $61.00 with its fee of $1.00, above this account's limit of $60.00 per movement. Nothing was sent.",
    );
    expect(overLimit(fresh, { action: 'payout', amount: 5_900n, fee: 100n }, 'USD')).toBeNull();
  });

  it("formats in the account's currency", () => {
    const yen = { ...today, daily: 5_000, remainingToday: 1_000, perMovement: 5_000 };
    expect(overLimit(yen, { action: 'withdrawal', amount: 1_001n, fee: 0n }, 'JPY')).toMatch(
      /¥1,001.*¥1,000 of its daily limit of ¥5,000/,
    );
  });
});

describe("the server's LIMIT_EXCEEDED", () => {
  const api = new Api('https://api.example', () => 'token');
  const refused = (limit?: unknown) => () =>
    Response.json(
      { error: { code: 'LIMIT_EXCEEDED', message: 'Over the limit.', requestId: 'r1', limit } },
      { status: 409 },
    );

  async function errorOf(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => {
        throw new Error('it was not refused');
      },
      (error: unknown) => error,
    );
  }

  it('says which limit and what remains, from error.limit', async () => {
    answers(
      refused({ kind: 'daily', limit: 10_000, used: 9_000, remaining: 1_000 }),
      refused({ kind: 'perMovement', limit: 6_000, used: 0, remaining: 10_000 }),
    );
    const daily = await errorOf(api.withdraw(ACCOUNT, 2_000n, 'k1'));
    expect(daily).toBeInstanceOf(ApiError);
    expect((daily as ApiError).limit).toEqual({
      kind: 'daily',
      limit: 10_000,
      used: 9_000,
      remaining: 1_000,
    });
    expect(refusalMessage(daily, 'withdrawal', 'USD')).toBe(
      'The service refused it: above what may still leave this account today. $10.00 of the daily limit of $100.00 remains ($90.00 used). Nothing was changed.',
    );
    const perMovement = await errorOf(api.requestPayout(ACCOUNT, 7_000n, 'bank-1', 'k2'));
    expect(refusalMessage(perMovement, 'payout', 'USD')).toBe(
      "The service refused it: above this account's limit of $60.00 per movement, fees included. Nothing was changed.",
    );
  });

  it('falls back to the general message when the body has no readable limit', async () => {
    answers(refused(), refused({ kind: 'weekly', limit: 1, used: 0, remaining: 1 }));
    for (const key of ['k1', 'k2']) {
      const error = await errorOf(api.transfer(ACCOUNT, ACCOUNT, 100n, key));
      expect((error as ApiError).limit).toBeUndefined();
      expect(refusalMessage(error, 'transfer', 'USD')).toMatch(/over the account's limit/);
    }
  });

  it('leaves other refusals to their usual messages', () => {
    const error = new ApiError(409, 'INSUFFICIENT_FUNDS', 'No.');
    expect(refusalMessage(error, 'payout', 'USD')).toMatch(/does not cover this payout/);
  });
});

describe('LimitsRoom', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('checks against limits read in the last 30 seconds without reading them again', async () => {
    const readAgain = jest.fn(async () => undefined);
    const room = new LimitsRoom(readAgain, now);
    room.saw(today);
    clock += 29_999;
    const charge = { action: 'withdrawal', amount: 3_001n, fee: 0n } as const;
    await expect(room.refusal(charge, 'USD')).resolves.toMatch(/\$30\.00 of its daily limit/);
    expect(readAgain).not.toHaveBeenCalled();
  });

  it('reads them again first when they are older, and checks what it read', async () => {
    const room = new LimitsRoom(async () => {
      clock += 200;
      room.saw({ ...today, daily: 20_000, remainingToday: 13_000 });
    }, now);
    room.saw(today);
    clock += 30_000;
    const charge = { action: 'withdrawal', amount: 3_001n, fee: 0n } as const;
    await expect(room.refusal(charge, 'USD')).resolves.toBeNull();
    await expect(room.current()).resolves.toMatchObject({ remainingToday: 13_000 });
  });

  it('leaves the decision to the server when the limits are unknown', async () => {
    // Never read (the read failed), or an API without limits.
    const failing = new LimitsRoom(async () => undefined, now);
    const charge = { action: 'payout', amount: 1_000_000n, fee: 0n } as const;
    await expect(failing.refusal(charge, 'USD')).resolves.toBeNull();
    const older = new LimitsRoom(async () => undefined, now);
    older.saw(undefined);
    await expect(older.refusal(charge, 'USD')).resolves.toBeNull();
  });
});

describe('the limits the API sends', () => {
  const api = new Api('https://api.example', () => 'token');
  const balance = { accountId: ACCOUNT, currency: 'USD', balance: 5, available: 5, pending: 0 };
  const at = '2026-12-06T00:00:00.000Z';

  it('reads a balance with its limits, and one from an API without limits', async () => {
    const unreadable = () =>
      Response.json({ ...balance, updatedAt: at, limits: { ...today, usedToday: '7000' } });
    answers(
      () => Response.json({ ...balance, updatedAt: at, limits: today }),
      () => Response.json({ ...balance, updatedAt: at }),
      // A read is tried three times before the page reports it.
      unreadable,
      unreadable,
      unreadable,
    );
    await expect(api.balance(ACCOUNT)).resolves.toMatchObject({ limits: today });
    await expect(api.balance(ACCOUNT)).resolves.not.toHaveProperty('limits');
    await expect(api.balance(ACCOUNT)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('reads and sets an account limits on their route', async () => {
    const limits = { accountId: ACCOUNT, ...today, version: 0, changed: null };
    const calls = answers(
      () => Response.json(limits),
      () => Response.json({ ...limits, daily: 5_000, version: 3 }),
    );
    await expect(api.limits(ACCOUNT)).resolves.toEqual(limits);
    await expect(api.setLimits(ACCOUNT, { daily: 5_000, reason: 'fraud' })).resolves.toMatchObject({
      daily: 5_000,
      version: 3,
    });
    expect(calls).toEqual([
      `GET https://api.example/accounts/${ACCOUNT}/limits`,
      `PUT https://api.example/accounts/${ACCOUNT}/limits`,
    ]);
  });
});

describe('limitsChangeText', () => {
  const previous = { daily: 1_000_000_000_000, perMovement: 1_000_000_000_000, timezone: 'UTC' };
  const when = (iso: string) => `at ${iso}`;

  it('says who, when, why, and each limit that changed from what to what', () => {
    const change = {
      by: 'ops-user',
      at: '2026-12-06T00:10:00.000Z',
      reason: 'Card reported stolen',
      previous,
      limits: { ...previous, daily: 10_000, timezone: 'Europe/Paris' },
    };
    expect(limitsChangeText(change, 'USD', when)).toBe(
      'Changed at 2026-12-06T00:10:00.000Z by ops-user: Card reported stolen. Daily limit $10,000,000,000.00 → $100.00; timezone UTC → Europe/Paris.',
    );
  });

  it('says so when a change set the limits they already had', () => {
    const change = { by: 'ops', at: 'then', reason: 'Pin', previous, limits: previous };
    expect(limitsChangeText(change, 'USD', when)).toBe(
      'Changed at then by ops: Pin. Limits unchanged.',
    );
  });
});

describe("the operator's limit fields", () => {
  it('take a positive amount in the currency, at most 10^12 minor units', () => {
    expect(parseLimit('100.00', 'USD')).toEqual({ ok: true, minor: 10_000n });
    expect(parseLimit('1,000', 'JPY')).toEqual({ ok: true, minor: 1_000n });
    expect(parseLimit('0', 'USD')).toEqual({
      ok: false,
      message: 'A limit must be more than zero.',
    });
    expect(parseLimit('-5', 'USD')).toEqual({
      ok: false,
      message: 'A limit must be more than zero.',
    });
    expect(parseLimit('10000000000.01', 'USD')).toEqual({
      ok: false,
      message: 'That amount is too large: a limit is at most $10,000,000,000.00.',
    });
    expect(parseLimit('1.001', 'USD')).toMatchObject({ ok: false });
  });

  it('know a timezone by its IANA name', () => {
    expect(isTimezone('UTC')).toBe(true);
    expect(isTimezone('Europe/Paris')).toBe(true);
    expect(isTimezone('Mars/Olympus')).toBe(false);
    expect(isTimezone('')).toBe(false);
  });
});
