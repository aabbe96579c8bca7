import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { dispatchPayout, type PayoutDeps } from './domain/payouts';
import type { Payout } from './domain/types';
import { logger } from './logger';
import { isPayoutPartition } from './persistence/keys';

/** What the dispatcher acts on (serverless.yml's filter says the same to AWS): a new payout. */
export const isNewPayoutRecord = (record: DynamoDBRecord): boolean =>
  record.eventName === 'INSERT' && isPayoutPartition(record.dynamodb?.Keys?.pk?.S);

/**
 * How long a batch waits for one payout's gateway answer. A slower answer (a gateway that holds
 * the connection until our 5 s timeout) must not hold every payout behind it in the stream: past
 * this, the batch moves on and the answer settles the payout when it comes, or, if the container
 * is frozen or recycled first, the sweeper asks the gateway again by the same key.
 */
export const DISPATCH_WAIT_MS = 2000;

/**
 * The payout dispatcher: in AWS behind the table's event source mapping (filtered to new
 * payout records), locally behind the stream poller. A committed payout record is the outbox;
 * its INSERT is the one event that sends it. A redelivered record sends it again under the
 * same gateway idempotency key and finds it resolved, so money leaves at most once.
 */
export function payoutDispatcher(deps: () => PayoutDeps, waitMs = DISPATCH_WAIT_MS) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        const change = record.dynamodb;
        if (!isNewPayoutRecord(record)) return;
        const payout = unmarshall(change?.NewImage as Record<string, AttributeValue>) as Payout;
        const dispatched = dispatchPayout(deps(), payout).then(
          () => null,
          (error: unknown) => {
            logger.error('payout dispatch failed', {
              error: error as Error,
              transactionId: payout.transactionId,
            });
            return error;
          },
        );
        let timer: NodeJS.Timeout | undefined;
        const waited = new Promise<'waiting'>((resolve) => {
          timer = setTimeout(() => resolve('waiting'), waitMs);
        });
        const outcome = await Promise.race([dispatched, waited]);
        clearTimeout(timer);
        if (outcome === 'waiting') {
          logger.info('payout dispatch goes on beyond this batch', {
            transactionId: payout.transactionId,
          });
        } else if (outcome !== null) {
          failures.push({ itemIdentifier: change?.SequenceNumber ?? '' });
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}
