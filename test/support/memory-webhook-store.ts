/**
 * The webhook store port in memory, for unit tests: the semantics of
 * lib/persistence/webhook-store.ts (test/integration/webhook-endpoints.test.ts holds the adapter
 * to the same cases). Every answer is a copy; `failNext` makes the next call of a method fail.
 */
import {
  scopeOf,
  type DeliveryAttempt,
  type WebhookEndpoint,
  type WebhookStore,
} from '../../lib/domain/event-ports';
import { attemptKey } from '../../lib/persistence/keys';
import { decodeAttemptCursor, encodeAttemptCursor } from '../../lib/persistence/webhook-store';

export interface MemoryWebhookStore extends WebhookStore {
  /** Every endpoint by id, as stored (copies). */
  endpoints(): WebhookEndpoint[];
  /** Every recorded attempt (copies). */
  attempts(): DeliveryAttempt[];
  /** The next call of `method` throws `error` without taking effect. */
  failNext(method: keyof WebhookStore, error: Error): void;
  calls: Array<keyof WebhookStore>;
}

const copy = <T>(value: T): T => structuredClone(value);

export function memoryWebhookStore(): MemoryWebhookStore {
  const endpoints = new Map<string, WebhookEndpoint>();
  /** By attempt sort key (unique per endpoint), as the adapter stores them. */
  const attempts = new Map<string, { sk: string; attempt: DeliveryAttempt }>();
  const failures = new Map<keyof WebhookStore, Error>();
  const calls: Array<keyof WebhookStore> = [];

  const enter = (method: keyof WebhookStore): void => {
    calls.push(method);
    const error = failures.get(method);
    if (error) {
      failures.delete(method);
      throw error;
    }
  };

  const store: WebhookStore = {
    async createEndpoint(endpoint) {
      enter('createEndpoint');
      if (endpoints.has(endpoint.id)) throw new Error(`endpoint ${endpoint.id} exists`);
      endpoints.set(endpoint.id, copy(endpoint));
    },
    async getEndpoint(id) {
      enter('getEndpoint');
      const found = endpoints.get(id);
      return found && copy(found);
    },
    async listEndpointsByOwner(ownerId) {
      enter('listEndpointsByOwner');
      return [...endpoints.values()].filter((e) => e.ownerId === ownerId).map(copy);
    },
    async deleteEndpoint(endpoint) {
      enter('deleteEndpoint');
      endpoints.delete(endpoint.id);
    },
    async endpointsForScopes(scopes) {
      enter('endpointsForScopes');
      return [...endpoints.values()].filter((e) => scopes.includes(scopeOf(e))).map(copy);
    },
    async disableEndpoint(id, reason, at) {
      enter('disableEndpoint');
      const found = endpoints.get(id);
      if (found === undefined || found.status === 'disabled') return;
      endpoints.set(id, { ...found, status: 'disabled', disabledAt: at, disabledReason: reason });
    },
    async recordAttempt(attempt) {
      enter('recordAttempt');
      const { pk, sk } = attemptKey(attempt);
      attempts.set(`${pk} ${sk}`, { sk, attempt: copy(attempt) });
    },
    async listAttempts(endpointId, page) {
      enter('listAttempts');
      const before = page.cursor === undefined ? undefined : decodeAttemptCursor(page.cursor);
      const newestFirst = [...attempts.values()]
        .filter(({ attempt }) => attempt.endpointId === endpointId)
        .filter(({ sk }) => before === undefined || sk < before)
        .sort((a, b) => b.sk.localeCompare(a.sk));
      const shown = newestFirst.slice(0, page.limit);
      const last = shown[shown.length - 1];
      return {
        attempts: shown.map(({ attempt }) => copy(attempt)),
        ...(newestFirst.length > page.limit && last !== undefined
          ? { nextCursor: encodeAttemptCursor(last.sk) }
          : {}),
      };
    },
  };

  return {
    ...store,
    endpoints: () => [...endpoints.values()].map(copy),
    attempts: () => [...attempts.values()].map(({ attempt }) => copy(attempt)),
    failNext: (method, error) => void failures.set(method, error),
    calls,
  };
}
