/**
 * The webhook store on DynamoDB Local (lib/persistence/webhook-store.ts): an endpoint, its scope
 * copy and its owner link appear and go together; disabling changes the endpoint and the copy
 * the publisher reads; attempts page newest first across their shards. The same cases run on the
 * in-memory twin (test/support/memory-webhook-store.ts), so unit tests can trust it.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  scopeOf,
  scopesOf,
  type DeliveryAttempt,
  type WebhookEndpoint,
  type WebhookStore,
} from '../../lib/domain/event-ports';
import { ValidationError } from '../../lib/domain/errors';
import { dynamoWebhookStore } from '../../lib/persistence/webhook-store';
import { createTestTable } from '../support/dynamodb';
import { memoryWebhookStore } from '../support/memory-webhook-store';

let client: DynamoDBClient;
let dynamo: WebhookStore;
let scanAll: () => Promise<Array<Record<string, unknown>>>;

beforeAll(async () => {
  const table = await createTestTable('webhook-endpoints');
  client = table.client;
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  dynamo = dynamoWebhookStore({ db: doc, name: table.tableName });
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  scanAll = async () =>
    (await doc.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true }))).Items ??
    [];
});

afterAll(() => client?.destroy());

let counter = 0;
function endpoint(overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  counter += 1;
  return {
    id: `01JENDPOINT${String(counter).padStart(6, '0')}${Math.random().toString(36).slice(2, 11)}`,
    url: 'https://hooks.example.com/ledger',
    eventTypes: ['payout.posted', 'account.frozen'],
    ownerId: `user-${counter}`,
    operator: false,
    secret: `whsec_secret-${counter}`,
    status: 'enabled',
    createdAt: new Date(Date.UTC(2026, 4, 1, 10, 0, counter)).toISOString(),
    ...overrides,
  };
}

const attempt = (endpointId: string, i: number): DeliveryAttempt => ({
  endpointId,
  eventId: `movement.committed:01JACCOUNT:${i}`,
  eventType: 'movement.committed',
  attempt: 1 + (i % 3),
  // Some share a millisecond: the event id and attempt order them.
  attemptedAt: new Date(Date.UTC(2026, 4, 1, 10, 0, 0, Math.floor(i / 2))).toISOString(),
  outcome: i % 2 === 0 ? 'delivered' : 'failed',
  ...(i % 2 === 0 ? { statusCode: 204 } : { error: 'timeout' }),
  durationMs: i,
});

const stores: Array<[string, () => WebhookStore]> = [
  ['DynamoDB', () => dynamo],
  ['memory', () => memoryWebhookStore()],
];

describe.each(stores)('the webhook store (%s)', (_name, storeOf) => {
  let store: WebhookStore;
  beforeAll(() => {
    store = storeOf();
  });

  it('creates, reads, lists by owner and deletes an endpoint with its links', async () => {
    const owner = `owner-${counter}-${Math.random()}`;
    const first = endpoint({ ownerId: owner, accountId: '01JACCOUNTA000000000000000' });
    const second = endpoint({ ownerId: owner });
    await store.createEndpoint(first);
    await store.createEndpoint(second);
    expect(await store.getEndpoint(first.id)).toEqual(first);
    const listed = await store.listEndpointsByOwner(owner);
    expect(listed.sort((a, b) => a.id.localeCompare(b.id))).toEqual([first, second]);

    await store.deleteEndpoint(first);
    expect(await store.getEndpoint(first.id)).toBeUndefined();
    expect(await store.listEndpointsByOwner(owner)).toEqual([second]);
    expect(await store.endpointsForScopes([scopeOf(first)])).toEqual([]);
  });

  it("finds an event's endpoints by its scopes: its account's, its owner's and the operators' global ones", async () => {
    const accountId = `01JSCOPE${counter}${Math.random().toString(36).slice(2, 10)}`;
    const ownerId = `owner-scope-${counter}-${Math.random()}`;
    const onAccount = endpoint({ accountId, ownerId });
    const onOwner = endpoint({ ownerId });
    const global = endpoint({ ownerId: 'ops-user', operator: true });
    const elsewhere = endpoint({ accountId: `${accountId}X`, ownerId });
    for (const e of [onAccount, onOwner, global, elsewhere]) await store.createEndpoint(e);

    const found = await store.endpointsForScopes(scopesOf({ accountId, ownerId }));
    const ids = found.map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining([onAccount.id, onOwner.id, global.id]));
    expect(ids).not.toContain(elsewhere.id);
    // The publisher's copy carries what delivery needs: the secret, the types, the status.
    expect(found.find((e) => e.id === onAccount.id)).toEqual(onAccount);
    await store.deleteEndpoint(global);
  });

  it('disables an endpoint once, in the copy the publisher reads too; a deleted one stays gone', async () => {
    const accountId = `01JDISABLE${counter}${Math.random().toString(36).slice(2, 10)}`;
    const target = endpoint({ accountId });
    await store.createEndpoint(target);
    await store.disableEndpoint(target.id, 'failing for 3 days', '2026-05-04T10:00:00.000Z');
    await store.disableEndpoint(target.id, 'again', '2026-05-05T10:00:00.000Z');
    const disabled = {
      ...target,
      status: 'disabled',
      disabledAt: '2026-05-04T10:00:00.000Z',
      disabledReason: 'failing for 3 days',
    };
    expect(await store.getEndpoint(target.id)).toEqual(disabled);
    expect(await store.endpointsForScopes([`ACCOUNT#${accountId}`])).toEqual([disabled]);

    await store.deleteEndpoint(target);
    await store.disableEndpoint(target.id, 'after delete', '2026-05-06T10:00:00.000Z');
    expect(await store.getEndpoint(target.id)).toBeUndefined();
    expect(await store.endpointsForScopes([`ACCOUNT#${accountId}`])).toEqual([]);
  });

  it('pages attempts newest first across shards, each once, with an opaque cursor', async () => {
    const id = endpoint().id;
    const all = Array.from({ length: 23 }, (_, i) => attempt(id, i));
    await Promise.all(all.map((a) => store.recordAttempt(a)));
    await store.recordAttempt(attempt(`${id}-other`, 1));

    const seen: DeliveryAttempt[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listAttempts(id, { limit: 5, ...(cursor ? { cursor } : {}) });
      expect(page.attempts.length).toBeLessThanOrEqual(5);
      seen.push(...page.attempts);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined && pages < 10);
    expect(pages).toBe(5);
    const newestFirst = [...all].sort(
      (a, b) =>
        b.attemptedAt.localeCompare(a.attemptedAt) ||
        b.eventId.localeCompare(a.eventId) ||
        b.attempt - a.attempt,
    );
    expect(seen).toEqual(newestFirst);
    await expect(store.listAttempts(id, { limit: 5, cursor: 'not-a-cursor' })).rejects.toThrow(
      ValidationError,
    );
  });
});

it('keeps the secret out of the owner link and expires attempts after 30 days', async () => {
  const e = endpoint();
  await dynamo.createEndpoint(e);
  await dynamo.recordAttempt(attempt(e.id, 0));
  const items = await scanAll();
  const link = items.find(
    (item) => String(item.pk).startsWith('WEBHOOK_OWNER#') && item.sk === e.id,
  );
  expect(link).toEqual({ pk: `WEBHOOK_OWNER#${e.ownerId}`, sk: e.id, id: e.id });
  const stored = items.find((item) => String(item.pk).startsWith(`ATTEMPTS#${e.id}#`));
  expect(stored?.expiresAt).toBe(Date.parse(attempt(e.id, 0).attemptedAt) / 1000 + 30 * 86_400);
});
