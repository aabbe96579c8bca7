import { EventNotFoundError, ForbiddenError, WebhookEndpointNotFoundError } from './errors';
import {
  scopeOf,
  scopesOf,
  type DeliveryAttempt,
  type DeliveryQueue,
  type DeliveryRequest,
  type EventStore,
  type LedgerEvent,
  type StoredEvent,
  type WebhookEndpoint,
  type WebhookStore,
} from './event-ports';
import type { Log } from './ports';
import type { Caller } from './types';

/**
 * Webhook delivery (docs/events.md): the publisher fans each event out to the endpoints that
 * listen for it, one queued message per (event, endpoint); the worker makes one attempt per
 * message and tells the queue when to try again. At least once: a message leaves the queue only
 * once its event was delivered, its endpoint gave up, or there is nothing left to deliver to.
 */

/** One POST to an endpoint; never throws for what the endpoint did (refused, slow, down). */
export interface WebhookSender {
  post(request: {
    url: string;
    body: string;
    headers: Record<string, string>;
    timeoutMs: number;
  }): Promise<{ statusCode: number } | { error: string }>;
}

export interface DeliveryMetrics {
  /** An endpoint failed for the whole give-up period and was disabled (alarmed on). */
  endpointDisabled(): void;
}

export interface FanOutDeps {
  webhooks: Pick<WebhookStore, 'endpointsForScopes'>;
  queue: DeliveryQueue;
  now: () => Date;
}

export interface DeliveryDeps extends FanOutDeps {
  events: Pick<EventStore, 'getEvent'>;
  webhooks: WebhookStore;
  sender: WebhookSender;
  /** The Webhook-Signature header of a body (lib/webhooks/sign.ts). */
  sign: (secret: string, body: string, unixSeconds: number) => string;
  logger: Log;
  metrics: DeliveryMetrics;
  timeoutMs: number;
  /** The first retry's delay; each next one doubles, up to MAX_RETRY_MS. */
  retryBaseMs: number;
  /** A delivery still failing this long after it was queued disables its endpoint. */
  giveUpMs: number;
}

export const MAX_RETRY_MS = 12 * 3600 * 1000;

/**
 * Queues one delivery per event and enabled endpoint subscribed to its type. The endpoints are
 * read for each batch (one strongly consistent Query per scope), never from a cache: an endpoint
 * gets every event whose change committed after its registration answered, since the batch
 * holding that change is read later still.
 */
export async function fanOut(deps: FanOutDeps, events: StoredEvent[]): Promise<void> {
  const scopes = [...new Set(events.flatMap(scopesOf))];
  const endpoints = await deps.webhooks.endpointsForScopes(scopes);
  const requests = events.flatMap((event) => {
    const reach = new Set(scopesOf(event));
    return endpoints
      .filter(
        (e) => reach.has(scopeOf(e)) && e.status === 'enabled' && e.eventTypes.includes(event.type),
      )
      .map((endpoint): DeliveryRequest => ({ eventId: event.id, endpointId: endpoint.id }));
  });
  if (requests.length > 0) await deps.queue.enqueue(requests);
}

/** A queued delivery as the worker receives it: which try this is, and when it was queued. */
export interface DeliveryMessage {
  request: DeliveryRequest;
  /** 1 on the first receive (SQS ApproximateReceiveCount). */
  attempt: number;
  /** When the message was queued (SQS SentTimestamp): the give-up period counts from it. */
  sentAt: Date;
}

export type DeliveryOutcome = 'delivered' | 'dropped' | 'gave-up' | { retryInMs: number };

/** The event as the API shows it (`Event` in openapi.yaml), in the contract's field order. */
export const eventBody = (event: LedgerEvent): LedgerEvent => ({
  id: event.id,
  type: event.type,
  createdAt: event.createdAt,
  accountId: event.accountId,
  sequence: event.sequence,
  data: event.data,
});

/** One attempt to deliver one event to one endpoint; says whether and when to try again. */
export async function deliver(
  deps: DeliveryDeps,
  message: DeliveryMessage,
): Promise<DeliveryOutcome> {
  const { eventId, endpointId, redelivery } = message.request;
  const endpoint = await deps.webhooks.getEndpoint(endpointId);
  if (endpoint === undefined || (endpoint.status === 'disabled' && redelivery !== true)) {
    const reason = endpoint === undefined ? 'endpoint deleted' : 'endpoint disabled';
    deps.logger.info('webhook delivery dropped', { eventId, endpointId, reason });
    return 'dropped';
  }
  const event = await deps.events.getEvent(eventId);
  if (event === undefined) {
    // Events are written before they are queued and kept 30 days: a missing one is a bug.
    deps.logger.error('webhook delivery dropped: event not found', { eventId, endpointId });
    return 'dropped';
  }
  const started = deps.now();
  const body = JSON.stringify(eventBody(event));
  const answer = await deps.sender.post({
    url: endpoint.url,
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-signature': deps.sign(endpoint.secret, body, Math.floor(started.getTime() / 1000)),
    },
    timeoutMs: deps.timeoutMs,
  });
  const finished = deps.now();
  const delivered = 'statusCode' in answer && answer.statusCode >= 200 && answer.statusCode < 300;
  const outcome = delivered ? 'delivered' : nextStep(deps, message, finished);
  await record(deps, {
    endpointId,
    eventId,
    eventType: event.type,
    attempt: message.attempt,
    attemptedAt: started.toISOString(),
    outcome: delivered ? 'delivered' : 'failed',
    ...answer,
    durationMs: finished.getTime() - started.getTime(),
    ...(typeof outcome === 'object'
      ? { nextAttemptAt: new Date(finished.getTime() + outcome.retryInMs).toISOString() }
      : {}),
  });
  if (outcome === 'gave-up') await giveUp(deps, endpoint, message, finished);
  return outcome;
}

/** After a failed attempt: the backoff's next delay, never past the give-up instant. */
export function nextStep(
  deps: Pick<DeliveryDeps, 'retryBaseMs' | 'giveUpMs'>,
  message: Pick<DeliveryMessage, 'attempt' | 'sentAt'>,
  now: Date,
): 'gave-up' | { retryInMs: number } {
  const left = message.sentAt.getTime() + deps.giveUpMs - now.getTime();
  if (left <= 0) return 'gave-up';
  const backoff = Math.min(deps.retryBaseMs * 2 ** (message.attempt - 1), MAX_RETRY_MS);
  return { retryInMs: Math.min(backoff, left) };
}

/**
 * The attempt goes to the endpoint's log. Losing that record must not send the event again
 * (the endpoint already answered), so a failure to write it is logged, not thrown.
 */
async function record(deps: DeliveryDeps, attempt: DeliveryAttempt): Promise<void> {
  const { endpointId, eventId, outcome, statusCode, error, nextAttemptAt } = attempt;
  const fields = { endpointId, eventId, attempt: attempt.attempt, statusCode, error };
  if (outcome === 'delivered') deps.logger.info('webhook delivered', fields);
  else deps.logger.warn('webhook attempt failed', { ...fields, nextAttemptAt });
  try {
    await deps.webhooks.recordAttempt(attempt);
  } catch (failure) {
    deps.logger.error('webhook attempt not recorded', { endpointId, eventId, error: failure });
  }
}

async function giveUp(
  deps: DeliveryDeps,
  endpoint: WebhookEndpoint,
  message: DeliveryMessage,
  at: Date,
): Promise<void> {
  const days = Math.round((deps.giveUpMs / 86_400_000) * 10) / 10;
  const reason = `deliveries failed for ${days} days (event ${message.request.eventId})`;
  if (endpoint.status === 'disabled') {
    // An operator's redelivery to an endpoint that was already off: nothing more to switch off.
    deps.logger.warn('webhook redelivery gave up', { endpointId: endpoint.id, reason });
    return;
  }
  await deps.webhooks.disableEndpoint(endpoint.id, reason, at.toISOString());
  deps.metrics.endpointDisabled();
  deps.logger.error('webhook endpoint disabled', {
    endpointId: endpoint.id,
    ownerId: endpoint.ownerId,
    reason,
  });
}

/** An operator asks for one event to be delivered again, even to a disabled endpoint. */
export async function redeliver(
  deps: Pick<DeliveryDeps, 'webhooks' | 'events' | 'queue' | 'logger'>,
  caller: Caller,
  endpointId: string,
  eventId: string,
): Promise<{ endpointId: string; eventId: string }> {
  if (!caller.isOperator) throw new ForbiddenError();
  const endpoint = await deps.webhooks.getEndpoint(endpointId);
  if (endpoint === undefined) throw new WebhookEndpointNotFoundError();
  const event = await deps.events.getEvent(eventId);
  if (event === undefined) throw new EventNotFoundError();
  // Never another customer's event to this endpoint, nor a type its owner did not ask for.
  if (!scopesOf(event).includes(scopeOf(endpoint)) || !endpoint.eventTypes.includes(event.type)) {
    throw new EventNotFoundError('This endpoint does not receive this event.');
  }
  await deps.queue.enqueue([{ eventId, endpointId, redelivery: true }]);
  deps.logger.info('webhook redelivery queued', { endpointId, eventId, by: caller.userId });
  return { endpointId, eventId };
}

/** An endpoint's attempts, newest first: its owner's or any for an operator. */
export async function listDeliveryAttempts(
  deps: { webhooks: Pick<WebhookStore, 'getEndpoint' | 'listAttempts'> },
  caller: Caller,
  endpointId: string,
  page: { cursor?: string; limit: number },
): Promise<{ attempts: DeliveryAttempt[]; nextCursor?: string }> {
  const endpoint = await deps.webhooks.getEndpoint(endpointId);
  // Another customer's endpoint is answered like a missing one, so ids cannot be probed.
  if (endpoint === undefined || (!caller.isOperator && endpoint.ownerId !== caller.userId)) {
    throw new WebhookEndpointNotFoundError();
  }
  return deps.webhooks.listAttempts(endpointId, page);
}
