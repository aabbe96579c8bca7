import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { deliver, type DeliveryDeps, type DeliveryOutcome } from '../domain/deliveries';
import type { Postpone } from './sqs-queue';

const requestSchema = z.object({
  eventId: z.string().check(z.minLength(1)),
  endpointId: z.string().check(z.minLength(1)),
  redelivery: z.optional(z.boolean()),
});

/**
 * The delivery worker, an SQS event source handler (ReportBatchItemFailures): one attempt per
 * message, all of a batch at once, so a slow endpoint holds only its own messages. A message
 * to try again is postponed by its backoff (its visibility) and reported failed, so SQS keeps
 * it; every other message is reported done and deleted. The same handler runs locally, fed by
 * local/delivery-queue.ts.
 */
export function deliveryWorker(deps: () => DeliveryDeps, postpone: () => Postpone) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failed = await Promise.all(
      event.Records.map(async (record) => ((await handle(record)) ? [] : [record.messageId])),
    );
    return { batchItemFailures: failed.flat().map((itemIdentifier) => ({ itemIdentifier })) };
  };

  /** True when the message is done with (delivered, dropped, given up). */
  async function handle(record: SQSRecord): Promise<boolean> {
    const d = deps();
    const parsed = requestSchema.safeParse(parseJson(record.body));
    if (!parsed.success) {
      d.logger.error('webhook delivery message unreadable: dropped', {
        messageId: record.messageId,
      });
      return true;
    }
    let outcome: DeliveryOutcome;
    try {
      outcome = await deliver(d, {
        request: parsed.data,
        attempt: Number(record.attributes.ApproximateReceiveCount),
        sentAt: new Date(Number(record.attributes.SentTimestamp)),
      });
    } catch (error) {
      // The store failed, not the endpoint: the queue shows the message again after its
      // visibility timeout (and, received too often, moves it to the dead-letter queue).
      d.logger.error('webhook delivery failed', { messageId: record.messageId, error });
      return false;
    }
    if (typeof outcome !== 'object') return true;
    try {
      await postpone()(record.receiptHandle, outcome.retryInMs / 1000);
    } catch (error) {
      d.logger.warn('webhook retry not postponed', { messageId: record.messageId, error });
    }
    return false;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
