import { SQSClient } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { config } from './config';
import { logger } from './logger';
import { cloudWatchDeliveryMetrics, cloudWatchMovementMetrics } from './metrics';
import type { AccountDeps } from './domain/accounts';
import type { LimitsDeps } from './domain/limits';
import { TermsCache } from './domain/terms';
import { WithdrawalSwitch, type ControlDeps } from './domain/controls';
import type { HistoryDeps } from './domain/history';
import type { MovementDeps } from './domain/movements';
import type { PayoutDeps } from './domain/payouts';
import { fanOut, type DeliveryDeps } from './domain/deliveries';
import type { DeliveryQueue } from './domain/event-ports';
import type { LedgerStore, PayoutGateway, PayoutReturnsFeed } from './domain/ports';
import type { ReturnDeps } from './domain/returns';
// Used only where DYNAMODB_ENDPOINT is set (the local stack); in AWS the queue is SQS.
import { localDeliveryQueue } from './webhooks/table-queue';
import { documentClient } from './persistence/dynamodb-client';
import { dynamoLedgerStore } from './persistence/dynamodb-store';
import { dynamoEventStore } from './persistence/event-store';
import { dynamoWebhookStore } from './persistence/webhook-store';
import { createHttpPayoutGateway } from './payouts/gateway';
import type { EventStore } from './domain/event-ports';
import type { EventFeedDeps } from './domain/event-feed';
import type { EventPublisherDeps } from './events-stream';
import type { WebhookDeps } from './domain/webhooks';
import { createHttpWebhookSender } from './webhooks/http-sender';
import { signPayload } from './webhooks/signature';
import { sqsDeliveryQueue, type Postpone } from './webhooks/sqs-queue';

/**
 * The one place the domain meets the real world: the DynamoDB adapters, the gateway client,
 * CloudWatch metrics and the logger, wired once per container.
 */
export type ServiceDeps = AccountDeps &
  MovementDeps &
  ControlDeps &
  HistoryDeps &
  LimitsDeps & { store: LedgerStore; payoutHoldSeconds: number };

let deps: ServiceDeps | undefined;
let gateway: (PayoutGateway & PayoutReturnsFeed) | undefined;
let payouts: PayoutDeps | undefined;
let returns: ReturnDeps | undefined;
let webhooks: WebhookDeps | undefined;

/** The domain's collaborators for the HTTP handlers. */
export function serviceDeps(): ServiceDeps {
  if (deps === undefined) {
    const c = config();
    const store = dynamoLedgerStore(documentClient(), c.tableName);
    deps = {
      store,
      logger,
      newId: ulid,
      now: () => new Date(),
      idempotencyTtlSeconds: c.idempotencyTtlSeconds,
      termsCache: new TermsCache(),
      limitDefaults: c.limitDefaults,
      withdrawalSwitch: new WithdrawalSwitch(store, c.pauseSwitchCacheMs),
      metrics: cloudWatchMovementMetrics,
      payoutHoldSeconds: c.payoutHoldSeconds,
    };
  }
  return deps;
}

/** The payout gateway's HTTP client, one per container. */
function gatewayClient(): PayoutGateway & PayoutReturnsFeed {
  if (gateway === undefined) {
    const c = config();
    if (c.payoutGatewayUrl === undefined) {
      throw new Error('PAYOUT_GATEWAY_URL is not set: payouts cannot be dispatched');
    }
    gateway = createHttpPayoutGateway({
      baseUrl: c.payoutGatewayUrl,
      timeoutMs: c.payoutGatewayTimeoutMs,
    });
  }
  return gateway;
}

/** The payout dispatcher's and sweeper's collaborators: the store and the gateway client. */
export function payoutDeps(): PayoutDeps {
  payouts ??= {
    store: serviceDeps().store,
    gateway: gatewayClient(),
    logger,
    now: () => new Date(),
    retryAfterMs: config().payoutRetryMs,
  };
  return payouts;
}

/** The returns reader's: the money path's (a return is reversed as any reversal) and the feed. */
export function returnDeps(): ReturnDeps {
  returns ??= {
    ...serviceDeps(),
    gateway: gatewayClient(),
    returnWaitMs: config().payoutReturnWaitMs,
  };
  return returns;
}

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
