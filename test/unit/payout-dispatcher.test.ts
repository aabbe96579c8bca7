import { marshall } from '@aws-sdk/util-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { PayoutDeps } from '../../lib/domain/payouts';
import type { GatewayOutcome, PayoutInstruction } from '../../lib/domain/ports';
import type { Payout } from '../../lib/domain/types';
import { payoutDispatcher } from '../../lib/payout-stream';
import { memoryLedgerStore } from '../support/memory-store';
import { accountOf, holdOf } from '../support/store-contract';

/** A stream record as the table delivers it (the Lambda event's shape, not the SDK's). */
function record(
  payout: Payout,
  sequenceNumber: string,
  eventName: DynamoDBRecord['eventName'] = 'INSERT',
  pk = `PAYOUT#${payout.accountId}`,
): DynamoDBRecord {
  return {
    eventName,
    dynamodb: {
      Keys: { pk: { S: pk }, sk: { S: payout.transactionId } },
      NewImage: marshall(payout) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      SequenceNumber: sequenceNumber,
    },
  };
}

/**
 * An account holding one payout per transaction id, and a gateway that pays each after
 * `delayMs[transactionId]` (never, if absent). Timers are jest's: nothing waits on real time.
 */
async function payoutsHeld(delayMs: Record<string, number>) {
  const account = accountOf({ balance: 1_000 });
  const store = memoryLedgerStore({ accounts: [account] });
  const payouts: Record<string, Payout> = {};
  for (const transactionId of Object.keys(delayMs)) {
    await store.writeMovement(holdOf(account, 100, { transactionId }));
    const payout = await store.getPayout(account.accountId, transactionId);
    if (payout === null) throw new Error('no payout');
    payouts[transactionId] = payout;
  }
  const sent: PayoutInstruction[] = [];
  const deps: PayoutDeps = {
    store,
    gateway: {
      send: (instruction) =>
        new Promise<GatewayOutcome>((resolve) => {
          sent.push(instruction);
          const delay = delayMs[instruction.idempotencyKey] ?? Infinity;
          if (delay < Infinity)
            setTimeout(() => resolve({ status: 'SUCCEEDED', reference: 'r' }), delay);
        }),
      cancel: async () => ({ status: 'CANCELLED' }),
    },
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    now: () => new Date('2026-12-01T10:00:01.000Z'),
    retryAfterMs: 30_000,
    sleep: async () => undefined,
  };
  const status = async (transactionId: string) =>
    (await store.getPayout(account.accountId, transactionId))?.status;
  return { store, deps, payouts, sent, status };
}

/** Starts `dispatching` and tells whether it has answered, as the fake clock moves. */
function watch<T>(dispatching: Promise<T>) {
  const watched: { answer?: T } = {};
  void dispatching.then((answer) => (watched.answer = answer));
  return watched;
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('payoutDispatcher', () => {
  it('moves on past a gateway that holds its answer, so payouts behind it are not held up', async () => {
    const held = await payoutsHeld({ stuck: Infinity, fast: 5 });
    const { payouts } = held;
    const dispatch = payoutDispatcher(() => held.deps, 100);
    const event: DynamoDBStreamEvent = {
      Records: [record(payouts.stuck as Payout, '1'), record(payouts.fast as Payout, '2')],
    };

    const batch = watch(dispatch(event));
    await jest.advanceTimersByTimeAsync(99);
    expect(batch.answer).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);

    expect(batch.answer).toEqual({ batchItemFailures: [] });
    expect(await held.status('fast')).toBe('POSTED');
    expect(await held.status('stuck')).toBe('PENDING');
  });

  it('settles a slow answer when it comes, after the batch returned', async () => {
    const held = await payoutsHeld({ slow: 300 });
    const dispatch = payoutDispatcher(() => held.deps, 50);

    const batch = watch(dispatch({ Records: [record(held.payouts.slow as Payout, '1')] }));
    await jest.advanceTimersByTimeAsync(50);
    expect(batch.answer).toEqual({ batchItemFailures: [] });
    expect(await held.status('slow')).toBe('PENDING');

    await jest.advanceTimersByTimeAsync(250);
    expect(await held.status('slow')).toBe('POSTED');
  });

  it('reports a payout whose dispatch failed within the wait, so the stream delivers it again', async () => {
    const held = await payoutsHeld({ broken: 1 });
    held.store.failNext('resolvePayout', new Error('DynamoDB down'));
    const dispatch = payoutDispatcher(() => held.deps, 1000);

    const batch = watch(dispatch({ Records: [record(held.payouts.broken as Payout, '7')] }));
    await jest.advanceTimersByTimeAsync(1);

    expect(batch.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '7' }] });
    expect(await held.status('broken')).toBe('PENDING');
  });

  it('acts only on new payout records: not on their updates, nor on other items', async () => {
    const held = await payoutsHeld({ changed: 1 });
    const payout = held.payouts.changed as Payout;
    const dispatch = payoutDispatcher(() => held.deps, 1000);
    const event = {
      Records: [record(payout, '1', 'MODIFY'), record(payout, '2', 'INSERT', 'ACCOUNT#x')],
    };

    const batch = watch(dispatch(event));
    await jest.advanceTimersByTimeAsync(0);

    expect(batch.answer).toEqual({ batchItemFailures: [] });
    expect(held.sent).toEqual([]);
    expect(await held.status('changed')).toBe('PENDING');
  });
});
