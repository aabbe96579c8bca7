import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { DeliveryRequest } from '../lib/domain/event-ports';
import type { LocalDeliveryQueue, ReceivedMessage } from '../lib/webhooks/table-queue';

export {
  localDeliveryQueue,
  type LocalDeliveryQueue,
  type ReceivedMessage,
} from '../lib/webhooks/table-queue';

export interface DeliveryPollerOptions {
  queue: LocalDeliveryQueue;
  /** The worker (lib/webhooks/worker.ts), fed one message per call as SQS would feed a batch. */
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Messages in flight at most. Default 16. */
  concurrency?: number;
  /** Of one endpoint, in flight at most: a slow endpoint cannot take every slot. Default 4. */
  perEndpoint?: number;
  /**
   * Wait when there is nothing to receive. Default 1 s: an enqueue in this process and a
   * finished delivery wake the poller at once, so the wait only delays a retry coming due or a
   * redelivery queued by another process (the API's), and keeps an idle stack's DynamoDB quiet.
   */
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
}

export interface DeliveryPoller {
  /** Stops receiving and waits for the messages in flight. */
  stop(): Promise<void>;
}

/**
 * Feeds the worker from the local queue as Lambda's SQS event source mapping feeds it from SQS:
 * each message its own call, many at once, so a slow endpoint holds only its own messages (and
 * at most `perEndpoint` slots). A message whose call succeeds or is not reported failed is
 * deleted; a failed one stays, visible again when its postponement or visibility timeout ends.
 */
export function startDeliveryPoller(options: DeliveryPollerOptions): DeliveryPoller {
  const { queue, handler } = options;
  const concurrency = options.concurrency ?? 16;
  const perEndpoint = options.perEndpoint ?? 4;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const onError = options.onError ?? ((error) => console.error('[delivery-poller]', error));
  const inFlight = new Map<string, number>();
  const tasks = new Set<Promise<void>>();
  let stopped = false;
  let wake: () => void = () => undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  queue.onEnqueue(() => wake());

  const run = async (message: ReceivedMessage): Promise<void> => {
    const endpoint = message.request.endpointId;
    try {
      const response = await handler(sqsEventOf(message));
      if (response.batchItemFailures.length === 0) await queue.delete(message.receiptHandle);
    } catch (error) {
      onError(error); // as Lambda: the whole batch (this message) comes back after its visibility
    } finally {
      inFlight.set(endpoint, (inFlight.get(endpoint) ?? 1) - 1);
      wake();
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      const free = concurrency - tasks.size;
      let messages: ReceivedMessage[] = [];
      if (free > 0) {
        // Counts what this receive takes too, so one receive cannot fill an endpoint's share twice.
        const taking = new Map<string, number>();
        const accept = ({ endpointId }: DeliveryRequest): boolean => {
          const held = (inFlight.get(endpointId) ?? 0) + (taking.get(endpointId) ?? 0);
          if (held >= perEndpoint) return false;
          taking.set(endpointId, (taking.get(endpointId) ?? 0) + 1);
          return true;
        };
        try {
          messages = await queue.receive(free, accept);
        } catch (error) {
          onError(error);
        }
      }
      for (const message of messages) {
        const endpoint = message.request.endpointId;
        inFlight.set(endpoint, (inFlight.get(endpoint) ?? 0) + 1);
        const task = run(message).finally(() => tasks.delete(task));
        tasks.add(task);
      }
      if (messages.length === 0 && !stopped) await sleep(pollIntervalMs);
    }
  };
  const main = loop();

  return {
    async stop() {
      stopped = true;
      wake();
      await main;
      await Promise.all(tasks);
    },
  };
}

/** One received message as Lambda's SQS event source mapping delivers it. */
export function sqsEventOf(message: ReceivedMessage): SQSEvent {
  return {
    Records: [
      {
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAt),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(message.sentAt),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:local-delivery-queue',
        awsRegion: 'us-east-1',
      },
    ],
  };
}
