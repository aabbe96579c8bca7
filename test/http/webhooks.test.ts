/**
 * Events and signed webhooks end to end, against the real local stack (npm start): a committed
 * movement reaches the stack's receiver signed and shows in GET /events for its owner only; a
 * receiver that was down gets every event of its account once it is back, and nothing else;
 * forged and stale signatures are refused by the receiver; one customer cannot reach another's
 * events, endpoints or attempts; an operator can deliver an event again.
 *
 * The bounds (local settings, npm start): the sequencer and the outbox reader poll the stream,
 * the delivery worker polls its queue, so a committed movement reaches a receiver within
 * PIPELINE_MS; GET /events serves it EVENT_FEED_SETTLE_SECONDS (5 s) later. A failed delivery is
 * tried again after WEBHOOK_RETRY_BASE_SECONDS (2 s locally), then 4, 8, … s.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DeliveryAttempt, DeliveryAttemptPage, Event, EventPage } from '../../lib/wire/types';
import type { WebhookEndpointCreated } from '../../lib/wire/types';
import { SIGNATURE_HEADER, signPayload } from '../../lib/webhooks/signature';
import { sleep, waitFor } from '../../local/wait';
import {
  startWebhookReceiver,
  type Arrival,
  type WebhookReceiver,
} from '../../local/webhook-receiver';
import { e2eStack } from '../support/api-client';
import {
  call,
  deposit,
  expectError,
  openFundedAccount,
  signInAll,
  waitForStatement,
  withdraw,
  type LedgerEntry,
  type User,
} from './fixtures';

jest.setTimeout(120_000);

/** Committed movement → a receiver's 2xx: sequencer + outbox poll + queue poll + the POST. */
const PIPELINE_MS = 10_000;
/** How long after its publication GET /events serves an event (EVENT_FEED_SETTLE_SECONDS). */
const SETTLE_MS = 5_000;
/** The first retry's delay locally (WEBHOOK_RETRY_BASE_SECONDS=2). */
const RETRY_BASE_MS = 2_000;

let tokens: Record<User, string>;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  tokens = await signInAll();
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

const isDelivered = (a: Arrival): boolean => a.verified && a.status >= 200 && a.status < 300;

/** What the stack's own receiver (an operator's endpoint for every event) has received. */
async function stackArrivals(): Promise<Arrival[]> {
  const res = await fetch(`${e2eStack().receiverUrl}/received`);
  return ((await res.json()) as { arrivals: Arrival[] }).arrivals;
}

/** Every event `query` selects, page after page, up to the feed's current end. */
async function allEvents(user: User, query: string): Promise<Event[]> {
  const events: Event[] = [];
  let after: string | undefined;
  for (;;) {
    const cursor = after === undefined ? '' : `&after=${after}`;
    const res = await call<EventPage>('GET', `/events?limit=100&${query}${cursor}`, {
      token: tokens[user],
    });
    if (res.status !== 200)
      throw new Error(`GET /events: ${res.status} ${JSON.stringify(res.body)}`);
    events.push(...res.body.events);
    if (res.body.events.length === 0 || res.body.nextCursor === after) return events;
    after = res.body.nextCursor;
  }
}

async function allAttempts(user: User, endpointId: string): Promise<DeliveryAttempt[]> {
  const attempts: DeliveryAttempt[] = [];
  let cursor: string | null = null;
  do {
    const page: string = cursor === null ? '' : `&cursor=${cursor}`;
    const res = await call<DeliveryAttemptPage>(
      'GET',
      `/webhook-endpoints/${endpointId}/attempts?limit=100${page}`,
      { token: tokens[user] },
    );
    if (res.status !== 200) throw new Error(`attempts: ${res.status} ${JSON.stringify(res.body)}`);
    attempts.push(...res.body.attempts);
    cursor = res.body.nextCursor;
  } while (cursor !== null);
  return attempts;
}

/** A receiver in this process, with the endpoint alice registers for it on `accountId`. */
async function aliceReceiver(accountId: string): Promise<{
  receiver: WebhookReceiver;
  endpoint: WebhookEndpointCreated;
}> {
  const secrets: string[] = [];
  const receiver = await startWebhookReceiver({ port: 0, secrets: () => secrets, log: () => {} });
  receivers.push(receiver);
  const created = await call<WebhookEndpointCreated>('POST', '/webhook-endpoints', {
    token: tokens.alice,
    body: { url: receiver.url, eventTypes: ['movement.committed'], accountId },
  });
  expect(created.status).toBe(201);
  secrets.push(created.body.secret);
  // From its 201 on, every event committed reaches it (openapi.yaml, registerWebhookEndpoint).
  return { receiver, endpoint: created.body };
}

const deliveredIds = (receiver: WebhookReceiver): string[] =>
  receiver
    .received()
    .filter(isDelivered)
    .map((a) => a.id ?? '?');

it("delivers a committed withdrawal to the stack's receiver, signed, within 10 s", async () => {
  const account = await openFundedAccount(tokens.ops, tokens.alice, 10_000);
  const { transaction } = (await withdraw(tokens.alice, account.accountId, 2_500)).body;

  const arrival = await waitFor(
    'the withdrawal at the stack receiver, verified and answered 2xx',
    stackArrivals,
    (arrivals) =>
      arrivals.some(
        (a) => isDelivered(a) && a.body.includes(`"transactionId":"${transaction.transactionId}"`),
      ),
    { timeoutMs: PIPELINE_MS, intervalMs: 200 },
  ).then((arrivals) =>
    arrivals.find((a) => a.body.includes(`"transactionId":"${transaction.transactionId}"`)),
  );
  const line = (await waitForStatement(tokens.alice, account.accountId, 2)).find(
    (e) => e.transactionId === transaction.transactionId,
  ) as LedgerEntry;
  const id = `movement.committed:${account.accountId}:${line.sequence}`;
  expect(arrival?.id).toBe(id);

  // The feed serves it SETTLE_MS after its publication, which was before its delivery.
  const listed = await waitFor(
    `${id} in alice's GET /events`,
    () => allEvents('alice', `accountId=${account.accountId}&type=movement.committed`),
    (events) => events.some((e) => e.id === id),
    { timeoutMs: SETTLE_MS + 2_000, intervalMs: 250 },
  );
  const event = listed.find((e) => e.id === id);
  expect(event).toEqual({
    id,
    type: 'movement.committed',
    createdAt: line.postedAt,
    accountId: account.accountId,
    sequence: line.sequence,
    data: line,
  });
  expect(JSON.parse(arrival?.body ?? '')).toEqual(event);
  expect((await allEvents('bob', 'type=movement.committed')).map((e) => e.id)).not.toContain(id);
});

it('a receiver that is down for a while then comes back gets every event, each id at least once and nothing else', async () => {
  const account = await openFundedAccount(tokens.ops, tokens.alice, 0);
  const { receiver, endpoint } = await aliceReceiver(account.accountId);
  receiver.setDown(true);
  const downAt = Date.now();
  for (let i = 0; i < 5; i++) {
    await deposit(tokens.ops, account.accountId, 1_000);
    await withdraw(tokens.alice, account.accountId, 300);
  }
  // Down until every movement's delivery has failed at least once, and for 6 s at least.
  const failedIds = async () => {
    const attempts = await allAttempts('alice', endpoint.id);
    return [...new Set(attempts.filter((a) => a.outcome === 'failed').map((a) => a.eventId))];
  };
  await waitFor(
    'a failed attempt for each of the 10 movements',
    failedIds,
    (ids) => ids.length === 10,
    {
      timeoutMs: PIPELINE_MS,
      intervalMs: 250,
    },
  );
  await sleep(Math.max(0, downAt + 6_000 - Date.now()));
  const downMs = Date.now() - downAt;
  receiver.setDown(false);

  // A delivery failing since t0 was last tried at most downMs after t0, so its next attempt
  // comes at most downMs + RETRY_BASE_MS after the receiver is back; then the queue poll + POST.
  const expected = await waitFor(
    "the account's 10 movement events in GET /events",
    () => allEvents('alice', `accountId=${account.accountId}&type=movement.committed`),
    (events) => events.length === 10,
    { timeoutMs: SETTLE_MS + 2_000, intervalMs: 250 },
  ).then((events) => events.map((e) => e.id).sort());
  await waitFor(
    'every event delivered once the receiver is back',
    () => new Set(deliveredIds(receiver)).size === expected.length,
    { timeoutMs: downMs + RETRY_BASE_MS + PIPELINE_MS, intervalMs: 200 },
  );
  expect([...new Set(deliveredIds(receiver))].sort()).toEqual(expected);
  // Nothing else: every arrival is one of these events, signed.
  const arrivals = receiver.received();
  expect(arrivals.filter((a) => !a.verified)).toEqual([]);
  expect(arrivals.filter((a) => !expected.includes(a.id ?? ''))).toEqual([]);

  // alice sees, per event, the failures while down, then the delivery.
  const attempts = await allAttempts('alice', endpoint.id);
  for (const id of expected) {
    const mine = attempts
      .filter((a) => a.eventId === id)
      .sort((a, b) => a.attemptedAt.localeCompare(b.attemptedAt));
    expect(mine[0]).toMatchObject({ outcome: 'failed', attempt: 1, error: expect.any(String) });
    expect(mine[0]?.nextAttemptAt).toEqual(expect.any(String));
    expect(mine.find((a) => a.outcome === 'delivered')).toMatchObject({
      endpointId: endpoint.id,
      eventType: 'movement.committed',
      attempt: mine.findIndex((a) => a.outcome === 'delivered') + 1,
    });
  }
});

describe('the receiver refuses a signature it cannot trust (400, listed as not verified)', () => {
  /** The stack endpoint's secret, as npm start saved it (local/webhooks.ts). */
  const stackSecret = (): string =>
    (
      JSON.parse(readFileSync(path.join(e2eStack().dataDir, 'receiver-endpoint.json'), 'utf8')) as {
        secret: string;
      }
    ).secret;
  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    [
      'forged (another secret)',
      () => `whsec_${randomBytes(32).toString('base64url')}`,
      0,
      'mismatch',
    ],
    ["stale (the endpoint's secret, 10 minutes old)", stackSecret, -600, 'stale'],
  ])('%s', async (_what, secret, skewSeconds, reason) => {
    const id = `movement.committed:forged-${randomUUID()}:1`;
    const body = JSON.stringify({ id, type: 'movement.committed' });
    const res = await fetch(`${e2eStack().receiverUrl}/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signPayload(secret(), body, now() + skewSeconds),
      },
      body,
    });
    expect(res.status).toBe(400);
    const listed = (await stackArrivals()).filter((a) => a.id === id);
    expect(listed).toEqual([expect.objectContaining({ verified: false, reason, status: 400 })]);
  });
});

it("isolation: bob reaches none of alice's events, endpoints or attempts (404)", async () => {
  const account = await openFundedAccount(tokens.ops, tokens.alice, 0);
  const { endpoint } = await aliceReceiver(account.accountId);
  const bob = { token: tokens.bob };
  const register = await call('POST', '/webhook-endpoints', {
    ...bob,
    body: {
      url: 'https://hooks.invalid/bob',
      eventTypes: ['movement.committed'],
      accountId: account.accountId,
    },
  });
  expectError(register, 404, 'ACCOUNT_NOT_FOUND');
  expectError(
    await call('GET', `/events?accountId=${account.accountId}`, bob),
    404,
    'ACCOUNT_NOT_FOUND',
  );
  for (const route of [
    `/webhook-endpoints/${endpoint.id}`,
    `/webhook-endpoints/${endpoint.id}/attempts`,
  ]) {
    expectError(await call('GET', route, bob), 404, 'WEBHOOK_ENDPOINT_NOT_FOUND');
  }
});

it('an operator redelivers an event alice already got (202): it arrives again; alice may not (403)', async () => {
  const account = await openFundedAccount(tokens.ops, tokens.alice, 0);
  const { receiver, endpoint } = await aliceReceiver(account.accountId);
  await deposit(tokens.ops, account.accountId, 1_000);
  const eventId = `movement.committed:${account.accountId}:1`;
  const arrivalsOf = () => deliveredIds(receiver).filter((id) => id === eventId).length;
  await waitFor(`${eventId} delivered`, () => arrivalsOf() === 1, {
    timeoutMs: PIPELINE_MS,
    intervalMs: 200,
  });

  const route = `/webhook-endpoints/${endpoint.id}/redeliveries`;
  expectError(
    await call('POST', route, { token: tokens.alice, body: { eventId } }),
    403,
    'FORBIDDEN',
  );
  const redelivery = await call('POST', route, { token: tokens.ops, body: { eventId } });
  expect({ status: redelivery.status, body: redelivery.body }).toEqual({
    status: 202,
    body: { endpointId: endpoint.id, eventId },
  });
  // Queued at once: the worker's poll and the POST.
  await waitFor(`${eventId} delivered a second time`, () => arrivalsOf() === 2, {
    timeoutMs: PIPELINE_MS,
    intervalMs: 200,
  });
  const delivered = (await allAttempts('alice', endpoint.id)).filter(
    (a) => a.eventId === eventId && a.outcome === 'delivered',
  );
  expect(delivered.map((a) => a.attempt)).toEqual([1, 1]);
});
