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
 * The payout dispatcher: in AWS behind the table's event source mapping (filtered to new
 * payout records), locally behind the stream poller. A committed payout record is the outbox;
 * its INSERT is the one event that sends it. A redelivered record sends it again under the
 * same gateway idempotency key and finds it resolved, so money leaves at most once.
 */
export function payoutDispatcher(deps: () => PayoutDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        const change = record.dynamodb;
        if (!isNewPayoutRecord(record)) return;
        const payout = unmarshall(change?.NewImage as Record<string, AttributeValue>) as Payout;
        try {
          await dispatchPayout(deps(), payout);
        } catch (error) {
          logger.error('payout dispatch failed', {
            error: error as Error,
            transactionId: payout.transactionId,
          });
          failures.push({ itemIdentifier: change?.SequenceNumber ?? '' });
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}
