import { marshall } from '@aws-sdk/util-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { PayoutDeps } from '../../lib/domain/payouts';
import type { Payout } from '../../lib/domain/types';
import { payoutDispatcher } from '../../lib/payout-stream';
import type { GatewayOutcome, LedgerStore } from '../../lib/domain/ports';

function payout(transactionId: string): Payout {
  return {
    transactionId,
    accountId: 'A',
    amount: 100,
    currency: 'USD',
    destination: 'acct_1',
    status: 'PENDING',
    idempotencyKey: `k-${transactionId}`,
    createdAt: '2026-12-05T00:00:00.000Z',
    updatedAt: '2026-12-05T00:00:00.000Z',
    holdExpiresAt: '2026-12-05T00:15:00.000Z',
    attempts: 0,
  };
}

function insert(p: Payout, sequenceNumber: string): DynamoDBRecord {
  return {
    eventName: 'INSERT',
    dynamodb: {
      Keys: { pk: { S: `PAYOUT#${p.accountId}` }, sk: { S: p.transactionId } },
      NewImage: marshall(p) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      SequenceNumber: sequenceNumber,
    },
  };
}

/** Deps whose gateway answers each payout after `delayMs[transactionId]` (never, if absent). */
function depsWith(delayMs: Record<string, number>, resolved: string[]): PayoutDeps {
  return {
    store: {
      async resolvePayout(p: Payout) {
        resolved.push(p.transactionId);
        return true;
      },
    } as unknown as LedgerStore,
    gateway: {
      send: (instruction) =>
        new Promise<GatewayOutcome>((resolve) => {
          const delay = delayMs[instruction.idempotencyKey];
          if (delay !== undefined) {
            setTimeout(() => resolve({ status: 'SUCCEEDED', reference: 'ref' }), delay);
          }
        }),
      cancel: async () => ({ status: 'CANCELLED' }),
    },
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    now: () => new Date('2026-12-05T00:00:01.000Z'),
    retryAfterMs: 30_000,
  };
}

describe('payoutDispatcher', () => {
  it('moves on past a gateway that holds its answer, so payouts behind it are not held up', async () => {
    const resolved: string[] = [];
    const dispatch = payoutDispatcher(() => depsWith({ fast: 5 }, resolved), 100);
    const event: DynamoDBStreamEvent = {
      Records: [insert(payout('stuck'), '1'), insert(payout('fast'), '2')],
    };

    const started = Date.now();
    const answer = await dispatch(event);

    expect(Date.now() - started).toBeLessThan(1000);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(resolved).toEqual(['fast']);
  });

  it('settles a slow answer when it comes, after the batch returned', async () => {
    const resolved: string[] = [];
    const dispatch = payoutDispatcher(() => depsWith({ slow: 300 }, resolved), 50);

    await dispatch({ Records: [insert(payout('slow'), '1')] });
    expect(resolved).toEqual([]);
    await new Promise((done) => setTimeout(done, 500));
    expect(resolved).toEqual(['slow']);
  });

  it('reports a payout whose dispatch failed within the wait, so the stream delivers it again', async () => {
    const deps = depsWith({ broken: 1 }, []);
    deps.store = {
      async resolvePayout() {
        throw new Error('DynamoDB down');
      },
    } as unknown as LedgerStore;
    const dispatch = payoutDispatcher(() => deps, 1000);

    const answer = await dispatch({ Records: [insert(payout('broken'), '7')] });

    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '7' }] });
  });
});
