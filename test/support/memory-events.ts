import type {
  DeliveryAttempt,
  EventStore,
  FeedRange,
  StoredEvent,
  WebhookEndpoint,
  WebhookStore,
} from '../../lib/domain/event-ports';
import { scopeOf } from '../../lib/domain/event-ports';

/** The event store in memory: put once per id, feeds in position order. Answers are copies. */
export function memoryEventStore(): EventStore & { events: Map<string, StoredEvent> } {
  const events = new Map<string, StoredEvent>();
  const range = (list: StoredEvent[], r: FeedRange) =>
    list
      .filter((e) => (r.after === undefined || e.position > r.after) && e.position <= r.until)
      .sort((a, b) => (a.position < b.position ? -1 : 1))
      .slice(0, r.limit)
      .map((e) => structuredClone(e));
  return {
    events,
    async putEvent(event) {
      if (events.has(event.id)) return 'exists';
      events.set(event.id, structuredClone(event));
      return 'created';
    },
    async getEvent(id) {
      const event = events.get(id);
      return event === undefined ? undefined : structuredClone(event);
    },
    async listAccountEvents(accountId, r) {
      return range(
        [...events.values()].filter((e) => e.accountId === accountId),
        r,
      );
    },
    async listAllEvents(r) {
      return range([...events.values()], r);
    },
  };
}

/**
 * A minimal webhook store in memory (helper B's test/support/memory-webhook-store.ts is the full
 * one): endpoints by id, attempts newest first, and a count of scope reads (the cache's tests).
 */
export function memoryWebhookStore(): WebhookStore & {
  endpoints: Map<string, WebhookEndpoint>;
  attempts: DeliveryAttempt[];
  scopeReads: string[][];
} {
  const endpoints = new Map<string, WebhookEndpoint>();
  const attempts: DeliveryAttempt[] = [];
  const scopeReads: string[][] = [];
  return {
    endpoints,
    attempts,
    scopeReads,
    async createEndpoint(endpoint) {
      endpoints.set(endpoint.id, structuredClone(endpoint));
    },
    async getEndpoint(id) {
      const endpoint = endpoints.get(id);
      return endpoint === undefined ? undefined : structuredClone(endpoint);
    },
    async listEndpointsByOwner(ownerId) {
      return [...endpoints.values()].filter((e) => e.ownerId === ownerId);
    },
    async deleteEndpoint(endpoint) {
      endpoints.delete(endpoint.id);
    },
    async endpointsForScopes(scopes) {
      scopeReads.push([...scopes]);
      return [...endpoints.values()]
        .filter((e) => scopes.includes(scopeOf(e)))
        .map((e) => structuredClone(e));
    },
    async disableEndpoint(id, reason, at) {
      const endpoint = endpoints.get(id);
      if (endpoint === undefined || endpoint.status === 'disabled') return;
      Object.assign(endpoint, { status: 'disabled', disabledAt: at, disabledReason: reason });
    },
    async recordAttempt(attempt) {
      attempts.push(structuredClone(attempt));
    },
    async listAttempts(endpointId, page) {
      const mine = attempts
        .filter((a) => a.endpointId === endpointId)
        .sort((a, b) => (a.attemptedAt < b.attemptedAt ? 1 : -1));
      const start = page.cursor === undefined ? 0 : Number(page.cursor);
      const slice = mine.slice(start, start + page.limit);
      const next = start + page.limit;
      return next < mine.length
        ? { attempts: slice, nextCursor: String(next) }
        : { attempts: slice };
    },
  };
}
