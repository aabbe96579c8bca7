import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { publishEventsHandler } from '../lib/events-stream';
import { payoutDispatcher } from '../lib/payout-stream';
import { eventDeps } from '../lib/event-service';
import { payoutDeps } from '../lib/service';

const dispatch = payoutDispatcher(payoutDeps);
const publish = publishEventsHandler(eventDeps);

/**
 * The table's outbox reader (serverless.yml `dispatchPayouts`): the payout dispatcher and the
 * event publisher on the same batch, side by side; the batch resumes at the earliest record
 * either failed.
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const answers = await Promise.all([dispatch(event), publish(event)]);
  const failed = new Set(answers.flatMap((a) => a.batchItemFailures.map((f) => f.itemIdentifier)));
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}
