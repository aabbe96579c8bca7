import { Logger } from '@aws-lambda-powertools/logger';
import { dispatchPayout, payoutFor, sweepPayouts, type PayoutDeps } from '../../lib/domain/payouts';
import {
  GatewayUnavailableError,
  TransientStoreError,
  type CancelOutcome,
  type GatewayOutcome,
  type PayoutGateway,
  type PayoutInstruction,
} from '../../lib/domain/ports';
import type { Account, Payout } from '../../lib/domain/types';
import { failureOf } from '../support/failure';
import { memoryLedgerStore, type MemoryLedgerStore } from '../support/memory-store';
import { accountOf, holdOf } from '../support/store-contract';

/** When the holds of `holdOf` are made; they expire 15 minutes later. */
const HELD_AT = Date.parse('2026-12-01T10:00:00.000Z');
const EXPIRES_AT = Date.parse('2026-12-01T10:15:00.000Z');
const RETRY_AFTER_MS = 30_000;
const unavailable = () => new GatewayUnavailableError('timeout');

/** A gateway answering by key as told (paid, by default), and recording what it was asked. */
function fakeGateway(
  answers: {
    send?: (key: string) => GatewayOutcome;
    cancel?: (key: string) => CancelOutcome;
  } = {},
) {
  const sent: PayoutInstruction[] = [];
  const cancelled: string[] = [];
  const gateway: PayoutGateway = {
    async send(instruction) {
      sent.push(instruction);
      return (answers.send ?? ((key) => ({ status: 'SUCCEEDED', reference: `ref-${key}` })))(
        instruction.idempotencyKey,
      );
    },
    async cancel(key) {
      cancelled.push(key);
      return (answers.cancel ?? (() => ({ status: 'CANCELLED' })))(key);
    },
  };
  return { gateway, sent, cancelled };
}

/** An account of 1,000 with a hold of 300, the store, and the payout deps at `clock.now`. */
async function heldPayout(gateway: PayoutGateway) {
  const account: Account = accountOf({ balance: 1_000 });
  const store = memoryLedgerStore({ accounts: [account] });
  const payout = await hold(store, account, 300);
  const clock = { now: HELD_AT + 1_000 };
  const pauses: number[] = [];
  const deps: PayoutDeps = {
    store,
    gateway,
    logger: new Logger({ logLevel: 'SILENT' }),
    now: () => new Date(clock.now),
    retryAfterMs: RETRY_AFTER_MS,
    sleep: async (ms) => {
      pauses.push(ms);
    },
  };
  /** The payout and its account's balances as the store holds them now. */
  const state = async () => ({
    payout: await store.getPayout(account.accountId, payout.transactionId),
    balances: await balancesOf(store, account),
  });
  return { account, store, payout, clock, deps, pauses, state };
}

async function hold(
  store: MemoryLedgerStore,
  account: Account,
  amount: number,
  holdExpiresAt?: string,
): Promise<Payout> {
  const movement = holdOf(account, amount, holdExpiresAt ? { holdExpiresAt } : {});
  await store.writeMovement(movement);
  const payout = await store.getPayout(account.accountId, movement.transactionId);
  if (payout === null) throw new Error('the hold has no payout');
  return payout;
}

const balancesOf = async (store: MemoryLedgerStore, account: Account) => {
  const read = await store.getAccount(account.accountId);
  return { balance: read?.balance, pending: read?.pending, available: read?.available };
};
/** The account's balances with the hold of 300 held, paid out, or released. */
const HELD = { balance: 1_000, pending: 300, available: 700 };
const PAID = { balance: 700, pending: 0, available: 700 };
const RELEASED = { balance: 1_000, pending: 0, available: 1_000 };

describe('dispatchPayout', () => {
  it('posts the hold when the gateway answers SUCCEEDED, sending by the transaction id', async () => {
    const { gateway, sent } = fakeGateway();
    const { payout, deps, state } = await heldPayout(gateway);

    await expect(dispatchPayout(deps, payout)).resolves.toBe('POSTED');

    expect(sent).toEqual([
      {
        idempotencyKey: payout.transactionId,
        amount: 300,
        currency: 'USD',
        destination: payout.destination,
      },
    ]);
    expect(await state()).toMatchObject({
      payout: { status: 'POSTED', gatewayReference: `ref-${payout.transactionId}` },
      balances: PAID,
    });
  });

  it('voids the hold when the gateway answers REFUSED', async () => {
    const { gateway } = fakeGateway({ send: () => ({ status: 'REFUSED', reason: 'closed' }) });
    const { payout, deps, state } = await heldPayout(gateway);

    await expect(dispatchPayout(deps, payout)).resolves.toBe('VOIDED');

    expect(await state()).toMatchObject({
      payout: { status: 'VOIDED', voidReason: 'closed' },
      balances: RELEASED,
    });
  });

  it('records the attempt and leaves the hold when the outcome is unknown', async () => {
    const { gateway } = fakeGateway({
      send: () => {
        throw unavailable();
      },
    });
    const { payout, deps, clock, state } = await heldPayout(gateway);

    await expect(dispatchPayout(deps, payout)).resolves.toBe('UNKNOWN');

    expect(await state()).toEqual({
      payout: {
        ...payout,
        attempts: 1,
        lastAttemptAt: new Date(clock.now).toISOString(),
        lastError: 'timeout',
      },
      balances: HELD,
    });
  });

  it('lets an error that is not the gateway being unavailable through, and leaves the hold', async () => {
    const { gateway } = fakeGateway({
      send: () => {
        throw new TypeError('bug');
      },
    });
    const { store, account, payout, deps } = await heldPayout(gateway);

    await expect(dispatchPayout(deps, payout)).rejects.toThrow('bug');
    expect(await store.getPayout(account.accountId, payout.transactionId)).toEqual(payout);
  });

  it('answers ALREADY_RESOLVED for a resolved payout without asking the gateway', async () => {
    const { gateway, sent } = fakeGateway();
    const { payout, deps } = await heldPayout(gateway);

    await expect(dispatchPayout(deps, { ...payout, status: 'POSTED' })).resolves.toBe(
      'ALREADY_RESOLVED',
    );
    expect(sent).toEqual([]);
  });

  it('answers ALREADY_RESOLVED when the payout was resolved meanwhile, and moves the money once', async () => {
    const { gateway } = fakeGateway();
    const { store, account, payout, deps } = await heldPayout(gateway);
    await dispatchPayout(deps, payout);

    // A redelivered stream record carries the payout as it was inserted: PENDING.
    await expect(dispatchPayout(deps, payout)).resolves.toBe('ALREADY_RESOLVED');
    expect(await balancesOf(store, account)).toEqual(PAID);
  });

  it('retries the resolution when it conflicts with a movement on the account', async () => {
    const { gateway } = fakeGateway();
    const { store, payout, deps, pauses } = await heldPayout(gateway);
    store.failNext('resolvePayout', new TransientStoreError('conflict'), 2);

    await expect(dispatchPayout(deps, payout)).resolves.toBe('POSTED');
    expect(store.calls('resolvePayout')).toHaveLength(3);
    expect(pauses).toHaveLength(2);
  });

  it('gives up after four conflicting resolutions, leaving the hold for the sweeper', async () => {
    const { gateway } = fakeGateway();
    const { store, account, payout, deps } = await heldPayout(gateway);
    store.failNext('resolvePayout', new TransientStoreError('conflict'), 4);

    await expect(dispatchPayout(deps, payout)).rejects.toBeInstanceOf(TransientStoreError);
    expect(store.calls('resolvePayout')).toHaveLength(4);
    expect(await balancesOf(store, account)).toEqual(HELD);
  });
});

describe('sweepPayouts', () => {
  const counts = (partial: Record<string, number>) => ({
    POSTED: 0,
    VOIDED: 0,
    UNKNOWN: 0,
    ALREADY_RESOLVED: 0,
    WAITING: 0,
    ...partial,
  });

  it('cancels an expired hold at the gateway and voids it, never sending it', async () => {
    const { gateway, sent, cancelled } = fakeGateway();
    const { payout, deps, clock, state } = await heldPayout(gateway);
    clock.now = EXPIRES_AT;

    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ VOIDED: 1 }));

    expect(cancelled).toEqual([payout.transactionId]);
    expect(sent).toEqual([]);
    expect(await state()).toMatchObject({
      payout: { status: 'VOIDED', voidReason: 'hold_expired' },
      balances: RELEASED,
    });
  });

  it('posts an expired hold the gateway answers it already paid', async () => {
    const { gateway } = fakeGateway({
      cancel: () => ({ status: 'SUCCEEDED', reference: 'paid-earlier' }),
    });
    const { deps, clock, state } = await heldPayout(gateway);
    clock.now = EXPIRES_AT + 60_000;

    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ POSTED: 1 }));
    expect(await state()).toMatchObject({
      payout: { status: 'POSTED', gatewayReference: 'paid-earlier' },
      balances: PAID,
    });
  });

  it('voids an expired hold with the reason the gateway refused it for', async () => {
    const { gateway } = fakeGateway({ cancel: () => ({ status: 'REFUSED', reason: 'closed' }) });
    const { store, account, payout, deps, clock } = await heldPayout(gateway);
    clock.now = EXPIRES_AT;

    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ VOIDED: 1 }));
    expect(await store.getPayout(account.accountId, payout.transactionId)).toMatchObject({
      voidReason: 'closed',
    });
  });

  it('leaves an expired hold and records the attempt when the gateway cannot be reached', async () => {
    const { gateway } = fakeGateway({
      cancel: () => {
        throw unavailable();
      },
    });
    const { deps, clock, state } = await heldPayout(gateway);
    clock.now = EXPIRES_AT;

    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ UNKNOWN: 1 }));
    expect(await state()).toMatchObject({
      payout: {
        status: 'PENDING',
        attempts: 1,
        lastError: 'timeout',
      },
      balances: HELD,
    });
  });

  it('waits retryAfterMs after the payout was made before sending it again', async () => {
    const { gateway, sent } = fakeGateway();
    const { payout, deps, clock } = await heldPayout(gateway);

    clock.now = HELD_AT + RETRY_AFTER_MS - 1;
    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ WAITING: 1 }));
    expect(sent).toEqual([]);

    clock.now = HELD_AT + RETRY_AFTER_MS;
    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ POSTED: 1 }));
    expect(sent.map((instruction) => instruction.idempotencyKey)).toEqual([payout.transactionId]);
  });

  it('counts retryAfterMs from the last unknown attempt', async () => {
    let reachable = false;
    const { gateway, sent } = fakeGateway({
      send: (key) => {
        if (!reachable) throw unavailable();
        return { status: 'SUCCEEDED', reference: key };
      },
    });
    const { deps, clock } = await heldPayout(gateway);
    clock.now = HELD_AT + RETRY_AFTER_MS;
    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ UNKNOWN: 1 }));
    reachable = true;

    clock.now += RETRY_AFTER_MS - 1;
    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ WAITING: 1 }));
    clock.now += 1;
    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ POSTED: 1 }));
    expect(sent).toHaveLength(2);
  });

  it('counts a listed payout resolved since the index was read as ALREADY_RESOLVED', async () => {
    const { gateway, sent, cancelled } = fakeGateway();
    const { store, payout, deps, clock } = await heldPayout(gateway);
    clock.now = EXPIRES_AT;
    // The open-payouts index lags the table: the payout is resolved between the list and the read.
    store.beforeNext('getPayout', () =>
      store.resolvePayout(payout, { status: 'POSTED', gatewayReference: 'r', at: 'now' }),
    );

    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ ALREADY_RESOLVED: 1 }));
    expect([...sent, ...cancelled]).toEqual([]);
  });

  it('passes over every open payout soonest expiry first, counting each outcome', async () => {
    const { gateway, cancelled, sent } = fakeGateway();
    const { store, account, payout, deps, clock } = await heldPayout(gateway);
    const sooner = await hold(store, account, 100, '2026-12-01T10:05:00.000Z');
    const later = await hold(store, account, 100, '2026-12-01T11:00:00.000Z');
    clock.now = EXPIRES_AT;

    await expect(sweepPayouts(deps, { limitPerShard: 5 })).resolves.toEqual(
      counts({ VOIDED: 2, POSTED: 1 }),
    );
    expect(store.calls('listOpenPayouts')).toEqual([[5]]);
    expect(cancelled).toEqual([sooner.transactionId, payout.transactionId]);
    expect(sent.map((instruction) => instruction.idempotencyKey)).toEqual([later.transactionId]);
  });

  it('retries a resolution that conflicts, on an expired hold too', async () => {
    const { gateway } = fakeGateway();
    const { store, deps, clock } = await heldPayout(gateway);
    clock.now = EXPIRES_AT;
    store.failNext('resolvePayout', new TransientStoreError('conflict'));

    await expect(sweepPayouts(deps)).resolves.toEqual(counts({ VOIDED: 1 }));
    expect(store.calls('resolvePayout')).toHaveLength(2);
  });
});

describe('payoutFor', () => {
  it("shows a payout to its account's owner, and not-found to another customer", async () => {
    const { gateway } = fakeGateway();
    const { account, payout, deps } = await heldPayout(gateway);
    const owner = { userId: account.ownerId, username: 'alice', isOperator: false };
    const stranger = { userId: 'user-mallory', username: 'mallory', isOperator: false };

    await expect(payoutFor(deps, owner, account.accountId, payout.transactionId)).resolves.toEqual(
      payout,
    );
    const hidden = await failureOf(
      payoutFor(deps, stranger, account.accountId, payout.transactionId),
    );
    const missing = await failureOf(payoutFor(deps, owner, account.accountId, 'nope'));
    expect([hidden.code, missing.code]).toEqual(['ACCOUNT_NOT_FOUND', 'PAYOUT_NOT_FOUND']);
  });
});
