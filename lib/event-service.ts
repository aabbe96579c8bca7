import { SQSClient } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { config } from './config';
import { fanOut, type DeliveryDeps } from './domain/deliveries';
import type { EventFeedDeps } from './domain/event-feed';
import type { DeliveryQueue, EventStore } from './domain/event-ports';
import type { WebhookDeps } from './domain/webhooks';
import type { EventPublisherDeps } from './events-stream';
import { logger } from './logger';
import { cloudWatchDeliveryMetrics } from './metrics';
import { documentClient } from './persistence/dynamodb-client';
import { dynamoEventStore } from './persistence/event-store';
import { dynamoWebhookStore } from './persistence/webhook-store';
import { serviceDeps } from './service';
import { createHttpWebhookSender } from './webhooks/http-sender';
import { signPayload } from './webhooks/signature';
import { sqsDeliveryQueue, type Postpone } from './webhooks/sqs-queue';
// Used only where DYNAMODB_ENDPOINT is set (the local stack); in AWS the queue is SQS.
import { localDeliveryQueue } from './webhooks/table-queue';

/**
 * The events' and webhooks' collaborators (docs/events.md), wired once per container. Apart from
 * lib/service.ts so the money path's functions do not load the SQS client and the webhook code.
 */
let webhooks: WebhookDeps | undefined;

let events: EventStore | undefined;
let publisher: EventPublisherDeps | undefined;

/** The event store on the ledger table, one per container. */
function eventStore(): EventStore {
  events ??= dynamoEventStore({ db: documentClient(), name: config().tableName });
  return events;
}

/** The event feed's collaborators (GET /events). */
export function eventFeedDeps(): EventFeedDeps {
  return {
    events: eventStore(),
    accounts: serviceDeps().store,
    now: () => new Date(),
    settleMs: config().eventFeedSettleMs,
  };
}

/** The event publisher's: the event store, the accounts' owners (cached: they never change). */
export function eventDeps(): EventPublisherDeps {
  if (publisher === undefined) {
    const store = serviceDeps().store;
    const owners = new Map<string, Promise<string | null>>();
    publisher = {
      events: eventStore(),
      ownerOf(accountId) {
        let owner = owners.get(accountId);
        if (owner === undefined) {
          owner = store.getAccount(accountId).then((account) => account?.ownerId ?? null);
          // A failed or empty read is not kept: the next batch asks again.
          owner.then(
            (found) => found === null && owners.delete(accountId),
            () => owners.delete(accountId),
          );
          owners.set(accountId, owner);
        }
        return owner;
      },
      details: (transactionIds) => store.readDetails(transactionIds),
      // Every event, new or already kept (a batch read again), goes to the endpoints listening.
      fanOut: (published) => fanOut(deliveryDeps(), published),
      now: () => new Date(),
    };
  }
  return publisher;
}

/** The webhook endpoints' collaborators: their store, the accounts (ownership) and the URL rule. */
export function webhookDeps(): WebhookDeps {
  if (webhooks === undefined) {
    const c = config();
    webhooks = {
      store: dynamoWebhookStore({ db: documentClient(), name: c.tableName }),
      accounts: serviceDeps().store,
      logger,
      newId: ulid,
      now: () => new Date(),
      allowHttpLocalhost: c.webhookAllowHttpLocalhost,
    };
  }
  return webhooks;
}

type QueueWithPostpone = DeliveryQueue & { postpone: Postpone };
let deliveryQueue: QueueWithPostpone | undefined;
let deliveries: DeliveryDeps | undefined;

/**
 * Locally there is no SQS: `npm start` creates its DynamoDB-Local-backed queue
 * (local/delivery-queue.ts) and hands it here before any handler runs in its process, so the
 * publisher's enqueue wakes the poller in the same process at once. Call before deliveryDeps().
 * Other local processes (serverless-offline's, for the redelivery route) are given none: they
 * open the same queue on the same table themselves (see queue()).
 */
export function useLocalDeliveryQueue(queue: QueueWithPostpone): void {
  deliveryQueue = queue;
}

/**
 * The delivery queue: SQS when DELIVERY_QUEUE_URL is set (AWS); else the local one given by
 * useLocalDeliveryQueue, or, on DynamoDB Local, the same queue opened on the table.
 */
function queue(): QueueWithPostpone {
  if (deliveryQueue === undefined) {
    const c = config();
    if (c.deliveryQueueUrl !== undefined) {
      deliveryQueue = sqsDeliveryQueue(new SQSClient({ region: c.region }), c.deliveryQueueUrl);
    } else if (c.dynamodbEndpoint !== undefined) {
      deliveryQueue = localDeliveryQueue({ db: documentClient(), tableName: c.tableName });
    } else {
      throw new Error('DELIVERY_QUEUE_URL is not set: webhook deliveries cannot be queued');
    }
  }
  return deliveryQueue;
}

/** The publisher's fan-out, the delivery worker's and the redelivery route's collaborators. */
export function deliveryDeps(): DeliveryDeps {
  if (deliveries === undefined) {
    const c = config();
    deliveries = {
      events: eventStore(),
      webhooks: webhookDeps().store,
      // Opened on first use: the attempts route reads no queue, and has no queue URL.
      queue: { enqueue: (requests) => queue().enqueue(requests) },
      sender: createHttpWebhookSender(),
      sign: signPayload,
      logger,
      metrics: cloudWatchDeliveryMetrics,
      now: () => new Date(),
      timeoutMs: c.webhookTimeoutMs,
      retryBaseMs: c.webhookRetryBaseMs,
      giveUpMs: c.webhookGiveUpMs,
    };
  }
  return deliveries;
}

/** The worker's postponement: ChangeMessageVisibility on the queue in use. */
export const deliveryPostpone = (): Postpone => queue().postpone;
