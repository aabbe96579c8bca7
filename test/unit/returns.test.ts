import { monotonicFactory } from 'ulid';
import { DEFAULT_LIMITS } from '../../lib/domain/limits';
import { requestPayout, withdraw } from '../../lib/domain/movements';
import { dispatchPayout } from '../../lib/domain/payouts';
import {
  GatewayUnavailableError,
  TransientStoreError,
  type Log,
  type PayoutReturn,
  type PayoutReturnsFeed,
} from '../../lib/domain/ports';
import {
  consumePayoutReturns,
  returnKeyOf,
  type ReturnDeps,
  type ReturnOutcome,
} from '../../lib/domain/returns';
import { reverseTransaction } from '../../lib/domain/reversals';
import { sequenceChanges } from '../../lib/domain/sequencer';
import { TermsCache } from '../../lib/domain/terms';
import type { Account, Caller, Payout } from '../../lib/domain/types';
import { noMetrics } from '../../lib/metrics';
import { memoryLedgerStore, type MemoryLedgerStore } from '../support/memory-store';
import { accountOf } from '../support/store-contract';

const alice: Caller = { userId: 'user-alice', username: 'alice', isOperator: false };
const ops: Caller = { userId: 'user-ops', username: 'ops', isOperator: true };
const START = Date.parse('2026-12-01T10:00:00.000Z');
const WAIT_MS = 60 * 60_000;

interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
}

/** A feed of the returns reported, two a page, its cursor an index. */
function fakeFeed() {
  const returns: PayoutReturn[] = [];
  const reads: (string | undefined)[] = [];
  let unavailable = false;
  let forgetCursor = false;
  const feed: PayoutReturnsFeed = {
    async returns(after) {
      reads.push(after);
      if (unavailable) throw new GatewayUnavailableError('status_503', { status: 503 });
      // A gateway that lost its state reads an unknown cursor from the first return.
      const start = after === undefined || forgetCursor ? 0 : Number(after);
      forgetCursor = false;
      const page = returns.slice(start, start + 2);
      return { returns: page, next: String(start + page.length) };
    },
  };
  return {
    feed,
    reads,
    report: (transactionId: string) =>
      returns.push({
        idempotencyKey: transactionId,
        reference: `sim_${transactionId}`,
        returnedAt: new Date(START).toISOString(),
        reason: 'account_closed',
      }),
    setUnavailable: (value: boolean) => {
      unavailable = value;
    },
    forgetCursor: () => {
      forgetCursor = true;
    },
  };
}

/** Alice's account of 1,000 on an in-memory store, and the returns reader's deps over `feed`. */
function setUp() {
  // Version 0: no movement before the test's, so its lines start the statement.
  const account: Account = accountOf({ balance: 1_000, version: 0 });
  const store: MemoryLedgerStore = memoryLedgerStore({ accounts: [account] });
  const clock = { now: START };
  const lines: LogLine[] = [];
  const logTo =
    (level: LogLine['level']) =>
    (message: string, ...attributes: Record<string, unknown>[]) =>
      lines.push({ level, message, attributes: Object.assign({}, ...attributes) });
  const logger: Log = { info: logTo('info'), warn: logTo('warn'), error: logTo('error') };
  const gateway = fakeFeed();
  const nextId = monotonicFactory();
  const deps: ReturnDeps = {
    store,
    logger,
    newId: () => nextId(),
    now: () => new Date(clock.now),
    idempotencyTtlSeconds: 86_400,
    sleep: async () => undefined,
    termsCache: new TermsCache(),
    limitDefaults: DEFAULT_LIMITS,
    withdrawalSwitch: { isPaused: async () => false, cacheMs: 5000 },
    metrics: noMetrics,
    gateway: gateway.feed,
    returnWaitMs: WAIT_MS,
  };
  let keys = 0;
  const key = () => `k-${(keys += 1)}`;

  /** Holds a payout of `amount`; it stays PENDING until `post`. */
  const hold = async (amount: number): Promise<Payout> => {
    const held = await requestPayout(
      { ...deps, payoutHoldSeconds: 900 },
      { caller: alice, accountId: account.accountId, amount, destination: 'bank-1', ...ids() },
    );
    if (held.payout === undefined) throw new Error('a payout without its record');
    return held.payout;
  };
  const ids = () => {
    const k = key();
    return { idempotencyKey: k, requestId: k };
  };
  /** The gateway pays it, and the sequencer writes its statement line (as in AWS). */
  const post = async (payout: Payout): Promise<void> => {
    const paying = {
      store,
      logger,
      now: deps.now,
      retryAfterMs: 30_000,
      gateway: {
        send: async () => ({ status: 'SUCCEEDED' as const, reference: 'ref-1' }),
        cancel: async () => ({ status: 'CANCELLED' as const }),
      },
    };
    expect(await dispatchPayout(paying, payout)).toBe('POSTED');
    await sequence();
  };
  const sequence = async () => {
    const after = await store.getAccount(account.accountId);
    await sequenceChanges(store, [{ id: 0, before: null, after }], deps.now);
  };
  const balance = async () => (await store.getAccount(account.accountId))?.balance;
  const logged = () =>
    lines
      .filter((line) => line.message.startsWith('returned payout'))
      .map(({ level, message, attributes }) => ({
        level,
        message,
        transactionId: attributes.transactionId,
      }));
  const pass = () => consumePayoutReturns(deps);
  return { account, store, clock, deps, gateway, hold, post, sequence, balance, logged, pass, ids };
}

const counts = (some: Partial<Record<ReturnOutcome, number>>) => ({
  REVERSED: 0,
  ALREADY_REVERSED: 0,
  WAITING: 0,
  FAILED: 0,
  NOT_FOUND: 0,
  NOT_REVERSIBLE: 0,
  ...some,
});

describe('returned payouts', () => {
  it('reverses a posted payout the gateway reports returned: the money back, linked, logged once', async () => {
    const t = setUp();
    const payout = await t.hold(300);
    await t.post(payout);
    expect(await t.balance()).toBe(700);
    t.gateway.report(payout.transactionId);

    expect(await t.pass()).toEqual(counts({ REVERSED: 1 }));

    expect(await t.balance()).toBe(1_000);
    const original = await t.store.getTransaction(payout.transactionId);
    expect(original).toMatchObject({ reversed: 300 });
    expect(original?.reversals).toEqual([
      expect.objectContaining({ amount: 300, reason: 'returned by the gateway: account_closed' }),
    ]);
    expect(
      await t.store.getMarker(t.account.accountId, returnKeyOf(payout.transactionId)),
    ).toMatchObject({ outcome: 'COMMITTED', type: 'REVERSAL_IN', amount: 300 });
    expect(t.logged()).toEqual([
      {
        level: 'info',
        message: 'returned payout reversed',
        transactionId: payout.transactionId,
      },
    ]);
  });

  it('reverses a return reported twice only once, in one pass or over two', async () => {
    const t = setUp();
    const payout = await t.hold(300);
    await t.post(payout);
    t.gateway.report(payout.transactionId);
    t.gateway.report(payout.transactionId);

    expect(await t.pass()).toEqual(counts({ REVERSED: 1, ALREADY_REVERSED: 1 }));
    t.gateway.forgetCursor();
    expect(await t.pass()).toEqual(counts({ ALREADY_REVERSED: 2 }));

    expect(await t.balance()).toBe(1_000);
    expect((await t.store.getTransaction(payout.transactionId))?.reversals).toHaveLength(1);
  });

  it('reverses once when two passes read the same return at the same time, or an answer was lost', async () => {
    const t = setUp();
    const [raced, lost] = [await t.hold(100), await t.hold(200)];
    await t.post(raced);
    await t.post(lost);
    t.gateway.report(raced.transactionId);

    const [a, b] = await Promise.all([t.pass(), t.pass()]);
    expect(a.REVERSED + b.REVERSED).toBe(1);
    expect(a.ALREADY_REVERSED + b.ALREADY_REVERSED).toBe(1);

    t.gateway.report(lost.transactionId);
    // The reversal commits, its answer is lost: tried again, and found made.
    t.store.failAfterNext('writeMovement', new TransientStoreError('unavailable'));
    expect(await t.pass()).toEqual(counts({ FAILED: 1 }));
    expect(await t.pass()).toEqual(counts({ ALREADY_REVERSED: 1 }));

    expect(await t.balance()).toBe(1_000);
    for (const payout of [raced, lost]) {
      expect((await t.store.getTransaction(payout.transactionId))?.reversals).toHaveLength(1);
    }
  });

  it('lets a return of a payout not posted yet wait, and reverses it once the payout is posted', async () => {
    const t = setUp();
    const payout = await t.hold(300);
    t.gateway.report(payout.transactionId);

    expect(await t.pass()).toEqual(counts({ WAITING: 1 }));
    expect((await t.store.getReturnsProgress()).waiting).toEqual([
      expect.objectContaining({ idempotencyKey: payout.transactionId }),
    ]);
    expect(await t.balance()).toBe(1_000); // held, not yet posted

    await t.post(payout);
    expect(await t.pass()).toEqual(counts({ REVERSED: 1 }));

    expect(await t.balance()).toBe(1_000);
    expect(await t.store.getReturnsProgress()).toMatchObject({ cursor: '1', waiting: [] });
  });

  it('logs and drops a return of no known payout once it has waited, never blocking the feed', async () => {
    const t = setUp();
    t.gateway.report('01JUNKNOWNPAYOUT0000000000');
    const payout = await t.hold(200);
    await t.post(payout);
    t.gateway.report(payout.transactionId);

    expect(await t.pass()).toEqual(counts({ WAITING: 1, REVERSED: 1 }));
    t.clock.now += WAIT_MS;
    expect(await t.pass()).toEqual(counts({ NOT_FOUND: 1 }));

    expect(await t.store.getReturnsProgress()).toMatchObject({ cursor: '2', waiting: [] });
    expect(t.logged()).toContainEqual({
      level: 'error',
      message: 'returned payout never found; dropped, an operator should look',
      transactionId: '01JUNKNOWNPAYOUT0000000000',
    });
    expect(await t.pass()).toEqual(counts({}));
  });

  it('keeps a return whose reversal failed for the next pass, and settles the others', async () => {
    const t = setUp();
    const [first, second] = [await t.hold(100), await t.hold(200)];
    await t.post(first);
    await t.post(second);
    t.gateway.report(first.transactionId);
    t.gateway.report(second.transactionId);
    t.store.failNext('getTransaction', new TransientStoreError('unavailable'));

    expect(await t.pass()).toEqual(counts({ FAILED: 1, REVERSED: 1 }));
    expect(t.logged()[0]).toMatchObject({ level: 'warn', transactionId: first.transactionId });
    expect(await t.balance()).toBe(1_000 - 100);

    expect(await t.pass()).toEqual(counts({ REVERSED: 1 }));
    expect(await t.balance()).toBe(1_000);
  });

  it('saves the cursor after each page and reads on from it at the next pass', async () => {
    const t = setUp();
    const payouts = [await t.hold(10), await t.hold(20), await t.hold(30)];
    for (const payout of payouts) {
      await t.post(payout);
      t.gateway.report(payout.transactionId);
    }

    expect(await t.pass()).toEqual(counts({ REVERSED: 3 }));
    expect(await t.pass()).toEqual(counts({}));

    // Two a page: 0-1, 2, then an empty page; the next pass starts past all three.
    expect(t.gateway.reads).toEqual([undefined, '2', '3', '3']);
    expect(await t.store.getReturnsProgress()).toEqual({ cursor: '3', waiting: [], version: 2 });
  });

  it('changes nothing while the feed cannot be read, and reads it again at the next pass', async () => {
    const t = setUp();
    const payout = await t.hold(300);
    await t.post(payout);
    t.gateway.report(payout.transactionId);
    t.gateway.setUnavailable(true);

    expect(await t.pass()).toEqual(counts({}));
    expect(await t.store.getReturnsProgress()).toEqual({ waiting: [], version: 0 });

    t.gateway.setUnavailable(false);
    expect(await t.pass()).toEqual(counts({ REVERSED: 1 }));
  });

  it('reverses what an operator left of a payout, and nothing of one reversed in full', async () => {
    const t = setUp();
    const [partly, fully] = [await t.hold(300), await t.hold(200)];
    await t.post(partly);
    await t.post(fully);
    const byOperator = (transactionId: string, amount?: number) =>
      reverseTransaction(t.deps, {
        caller: ops,
        transactionId,
        ...(amount !== undefined ? { amount } : {}),
        reason: 'goodwill',
        ...t.ids(),
      });
    await byOperator(partly.transactionId, 100);
    await byOperator(fully.transactionId);
    t.gateway.report(partly.transactionId);
    t.gateway.report(fully.transactionId);

    expect(await t.pass()).toEqual(counts({ REVERSED: 1, ALREADY_REVERSED: 1 }));

    expect(await t.balance()).toBe(1_000);
    expect(await t.store.getTransaction(partly.transactionId)).toMatchObject({ reversed: 300 });
  });

  it('drops, with an error, a return naming a movement that is not a posted payout', async () => {
    const t = setUp();
    const withdrawal = await withdraw(t.deps, {
      caller: alice,
      accountId: t.account.accountId,
      amount: 50,
      ...t.ids(),
    });
    await t.sequence();
    t.gateway.report(withdrawal.transaction.transactionId);

    expect(await t.pass()).toEqual(counts({ NOT_REVERSIBLE: 1 }));
    expect(await t.balance()).toBe(950);
    expect(t.logged()).toEqual([expect.objectContaining({ level: 'error' })]);
  });
});
