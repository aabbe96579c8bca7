import { randomBytes } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { accountFor } from './accounts';
import { ValidationError, WebhookEndpointNotFoundError } from './errors';
import {
  isEventType,
  type EventType,
  type WebhookEndpoint,
  type WebhookStore,
} from './event-ports';
import type { AccountStore, Log } from './ports';
import type { Caller } from './types';

/**
 * Webhook endpoints (docs/events.md): registered by a customer for their own accounts or by an
 * operator for any, seen and deleted by whoever registered them (and by operators). Someone
 * else's endpoint answers exactly like a missing one, so ids cannot be probed.
 */
export interface WebhookDeps {
  store: WebhookStore;
  accounts: Pick<AccountStore, 'getAccount'>;
  logger: Log;
  newId: () => string;
  now: () => Date;
  /** Local stack only: http://127.0.0.1 and http://localhost receivers are allowed. */
  allowHttpLocalhost: boolean;
}

export interface NewWebhookEndpoint {
  url: string;
  eventTypes: string[];
  accountId?: string;
}

const MAX_URL_LENGTH = 2048;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Address ranges a deployed service must never POST to: loopback, private, link-local, ... */
const INTERNAL_RANGES = (() => {
  const list = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
  ] as const)
    list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of [
    ['::', 127],
    ['fc00::', 7],
    ['fe80::', 10],
  ] as const)
    list.addSubnet(net, prefix, 'ipv6');
  return list;
})();

function isInternalAddress(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIPv4(bare)) return INTERNAL_RANGES.check(bare, 'ipv4');
  // BlockList checks an IPv4-mapped IPv6 address (::ffff:127.0.0.1) against the IPv4 ranges too.
  return isIPv6(bare) && INTERNAL_RANGES.check(bare, 'ipv6');
}

/**
 * Where deliveries may go: HTTPS only (the body is signed, not encrypted), never to the service's
 * own network by an address literal. Locally, plain HTTP to this machine for the local receiver.
 * A hostname is not resolved here: a name pointing inside is the network's to block.
 */
export function checkEndpointUrl(raw: string, allowHttpLocalhost: boolean): string {
  if (raw.length > MAX_URL_LENGTH)
    throw new ValidationError(`url must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError('url must be an absolute URL, e.g. https://example.com/webhooks');
  }
  if (url.username !== '' || url.password !== '')
    throw new ValidationError('url must not carry a user name or password');
  const local = allowHttpLocalhost && LOCAL_HOSTS.has(url.hostname);
  if (url.protocol === 'http:' && local) return url.href;
  if (url.protocol !== 'https:') {
    throw new ValidationError(
      allowHttpLocalhost
        ? 'url must be https:// (or http://127.0.0.1 or http://localhost on the local stack)'
        : 'url must be https://',
    );
  }
  if (!local && (/(^|\.)localhost\.?$/.test(url.hostname) || isInternalAddress(url.hostname)))
    throw new ValidationError('url must not point at a loopback, private or link-local address');
  return url.href;
}

function checkEventTypes(types: string[]): EventType[] {
  if (types.length === 0) throw new ValidationError('eventTypes must name at least one event type');
  const unknown = types.find((type) => !isEventType(type));
  if (unknown !== undefined)
    throw new ValidationError(`eventTypes: ${JSON.stringify(unknown)} is not an event type`);
  if (new Set(types).size !== types.length)
    throw new ValidationError('eventTypes must not repeat a type');
  return types as EventType[];
}

/** `whsec_` and 32 random bytes: the HMAC key a receiver checks signatures with. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

export async function registerEndpoint(
  deps: WebhookDeps,
  caller: Caller,
  request: NewWebhookEndpoint,
): Promise<WebhookEndpoint> {
  const url = checkEndpointUrl(request.url, deps.allowHttpLocalhost);
  const eventTypes = checkEventTypes(request.eventTypes);
  // A customer's own account only (another's is reported like a missing one); an operator's must exist.
  if (request.accountId !== undefined)
    await accountFor({ store: deps.accounts }, caller, request.accountId);
  const endpoint: WebhookEndpoint = {
    id: deps.newId(),
    url,
    eventTypes,
    ...(request.accountId !== undefined ? { accountId: request.accountId } : {}),
    ownerId: caller.userId,
    operator: caller.isOperator,
    secret: newWebhookSecret(),
    status: 'enabled',
    createdAt: deps.now().toISOString(),
  };
  await deps.store.createEndpoint(endpoint);
  deps.logger.info('webhook endpoint registered', {
    endpointId: endpoint.id,
    origin: new URL(url).origin,
    eventTypes,
    accountId: endpoint.accountId,
    ownerId: endpoint.ownerId,
    operator: endpoint.operator,
  });
  return endpoint;
}

/** The endpoint, if the caller may see it: its owner's, or any for an operator. */
export async function endpointFor(
  deps: Pick<WebhookDeps, 'store'>,
  caller: Caller,
  id: string,
): Promise<WebhookEndpoint> {
  const endpoint = await deps.store.getEndpoint(id);
  if (endpoint === undefined) throw new WebhookEndpointNotFoundError();
  if (!caller.isOperator && endpoint.ownerId !== caller.userId)
    throw new WebhookEndpointNotFoundError();
  return endpoint;
}

/** The endpoints the caller registered, oldest first (operators too see their own here). */
export async function listEndpoints(
  deps: Pick<WebhookDeps, 'store'>,
  caller: Caller,
): Promise<WebhookEndpoint[]> {
  const endpoints = await deps.store.listEndpointsByOwner(caller.userId);
  return endpoints.sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
}

/** Deletes the endpoint: nothing more is delivered to it (a delivery under way may finish). */
export async function deleteEndpoint(
  deps: Pick<WebhookDeps, 'store' | 'logger'>,
  caller: Caller,
  id: string,
): Promise<void> {
  const endpoint = await endpointFor(deps, caller, id);
  await deps.store.deleteEndpoint(endpoint);
  deps.logger.info('webhook endpoint deleted', {
    endpointId: endpoint.id,
    ownerId: endpoint.ownerId,
    deletedBy: caller.userId,
  });
}
