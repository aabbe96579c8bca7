import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeliveryQueue, DeliveryRequest } from '../domain/event-ports';

/** Delays a received message: it comes back to the worker after `seconds`, not before. */
export type Postpone = (receiptHandle: string, seconds: number) => Promise<void>;

/** SQS allows at most 10 messages per SendMessageBatch and 12 hours of visibility. */
const BATCH = 10;
export const MAX_VISIBILITY_SECONDS = 43_200;
const SEND_ATTEMPTS = 4;

/**
 * The delivery queue on SQS. A batch's entries can fail one by one (throttling, an internal
 * error): those are sent again, and only a batch still incomplete after a few tries throws, so
 * the caller (the publisher's stream batch) is retried as a whole. A message sent twice is a
 * delivery made twice: allowed (at least once), and receivers dedupe by event id.
 */
export function sqsDeliveryQueue(
  client: SQSClient,
  queueUrl: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): DeliveryQueue & { postpone: Postpone } {
  const sendBatch = async (requests: DeliveryRequest[]): Promise<void> => {
    let pending = requests.map((request, index) => ({
      Id: String(index),
      MessageBody: JSON.stringify(request),
    }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > SEND_ATTEMPTS) {
        throw new Error(`SQS refused ${pending.length} delivery messages ${SEND_ATTEMPTS} times`);
      }
      if (attempt > 1) await sleep(100 * 2 ** attempt);
      const out = await client.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }),
      );
      const failed = new Set((out.Failed ?? []).map((entry) => entry.Id));
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
  };
  return {
    async enqueue(requests) {
      const batches: DeliveryRequest[][] = [];
      for (let i = 0; i < requests.length; i += BATCH) batches.push(requests.slice(i, i + BATCH));
      await Promise.all(batches.map(sendBatch));
    },
    async postpone(receiptHandle, seconds) {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: Math.min(Math.max(Math.ceil(seconds), 0), MAX_VISIBILITY_SECONDS),
        }),
      );
    },
  };
}
