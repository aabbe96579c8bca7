/**
 * Events and webhooks (docs/events.md): the shapes and ports the event publisher, the event feed,
 * the webhook endpoints and the delivery worker share. The domain knows nothing of DynamoDB or
 * SQS; the adapters in lib/persistence and lib/webhooks implement these.
 */

export const EVENT_TYPES = [
  'movement.committed',
  'payout.held',
  'payout.posted',
  'payout.voided',
  'account.opened',
  'account.frozen',
  'account.unfrozen',
  'withdrawals.paused',
  'withdrawals.resumed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const isEventType = (value: string): value is EventType =>
  (EVENT_TYPES as readonly string[]).includes(value);

/** An event as the API shows it (`Event` in openapi.yaml). */
export interface LedgerEvent {
  /** Deterministic from the change it reports: a redelivered stream record maps to the same id. */
  id: string;
  type: EventType;
  /** When the change committed (ISO 8601). */
  createdAt: string;
  /** The account it concerns; null for service-wide events (withdrawals.paused/resumed). */
  accountId: string | null;
  /** The account's statement sequence where the change has one (movement.committed), else null. */
  sequence: number | null;
  /** The resource as the API shows it (LedgerEntry, Payout, Account, WithdrawalSwitch). */
  data: Record<string, unknown>;
}

/** An event as stored: with its place in the feed and, for matching endpoints, its account's owner. */
export interface StoredEvent extends LedgerEvent {
  /** `<publishedAt ISO>#<id>`: the feed's order, assigned when the event is first written. */
  position: string;
  /** The owner of `accountId` (not on the wire): customer endpoints without an account match by it. */
  ownerId: string | null;
}

/** A range of the feed: positions after `after` (exclusive) up to `until` (inclusive). */
export interface FeedRange {
  after?: string;
  until: string;
  limit: number;
}

export interface EventStore {
  /**
   * Writes the event at `position` unless an event with its id exists: exactly once per id, and
   * the event and its account's feed entry appear together or not at all.
   */
  putEvent(event: StoredEvent): Promise<'created' | 'exists'>;
  /**
   * putEvent for many, in as few writes as fit (one transaction holds up to 50 events): each
   * outcome in the events' order. A failure writes none of the transaction it fell in.
   */
  putEvents(events: StoredEvent[]): Promise<Array<'created' | 'exists'>>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  /** One account's events in feed order (strongly consistent). */
  listAccountEvents(accountId: string, range: FeedRange): Promise<StoredEvent[]>;
  /** Every event in feed order, service-wide (operators). */
  listAllEvents(range: FeedRange): Promise<StoredEvent[]>;
}

export type EndpointStatus = 'enabled' | 'disabled';

/** A registered webhook endpoint. `secret` never leaves the service after the 201 that created it. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  eventTypes: EventType[];
  /** Set: only this account's events. Unset: the owner's accounts (a customer) or all (an operator). */
  accountId?: string;
  /** Who registered it (the caller's user id). */
  ownerId: string;
  /** True when registered by an operator (matters only without accountId: every event). */
  operator: boolean;
  secret: string;
  status: EndpointStatus;
  createdAt: string;
  disabledAt?: string;
  disabledReason?: string;
}

/** Which endpoints an event can reach: its account's, its owner's, and the operators' global ones. */
export const scopesOf = (event: Pick<StoredEvent, 'accountId' | 'ownerId'>): string[] => [
  'ALL',
  ...(event.accountId === null ? [] : [`ACCOUNT#${event.accountId}`]),
  ...(event.ownerId === null ? [] : [`OWNER#${event.ownerId}`]),
];

/** The scope an endpoint listens on (the inverse of scopesOf). */
export const scopeOf = (endpoint: Pick<WebhookEndpoint, 'accountId' | 'ownerId' | 'operator'>) =>
  endpoint.accountId !== undefined
    ? `ACCOUNT#${endpoint.accountId}`
    : endpoint.operator
      ? 'ALL'
      : `OWNER#${endpoint.ownerId}`;

/** One POST to an endpoint, as recorded and shown to the endpoint's owner. */
export interface DeliveryAttempt {
  endpointId: string;
  eventId: string;
  eventType: EventType;
  /** 1 for the first attempt of a delivery (a redelivery starts again at 1). */
  attempt: number;
  attemptedAt: string;
  outcome: 'delivered' | 'failed';
  /** The endpoint's HTTP status, when it answered. */
  statusCode?: number;
  /** Why it failed without a status: timeout, connection refused, ... */
  error?: string;
  durationMs: number;
  /** When the next attempt is due, if one will be made. */
  nextAttemptAt?: string;
}

export interface WebhookStore {
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  getEndpoint(id: string): Promise<WebhookEndpoint | undefined>;
  listEndpointsByOwner(ownerId: string): Promise<WebhookEndpoint[]>;
  deleteEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** Enabled and disabled endpoints listening on any of these scopes. */
  endpointsForScopes(scopes: string[]): Promise<WebhookEndpoint[]>;
  /** Disables the endpoint (no-op when already disabled or deleted). */
  disableEndpoint(id: string, reason: string, at: string): Promise<void>;
  recordAttempt(attempt: DeliveryAttempt): Promise<void>;
  /** Newest first; `cursor` from the previous page. */
  listAttempts(
    endpointId: string,
    page: { cursor?: string; limit: number },
  ): Promise<{ attempts: DeliveryAttempt[]; nextCursor?: string }>;
}

/** What the delivery queue carries: one event for one endpoint. */
export interface DeliveryRequest {
  eventId: string;
  endpointId: string;
  /** An operator's redelivery: made even to a disabled endpoint. */
  redelivery?: boolean;
}

/** The queue between the publisher (or an operator's redelivery) and the delivery worker. */
export interface DeliveryQueue {
  enqueue(requests: DeliveryRequest[]): Promise<void>;
}
