import type { DynamoDBStreamEvent } from 'aws-lambda';
import { setAccountFrozen, setWithdrawalsPaused } from '../../lib/domain/controls';
import type { StoredEvent } from '../../lib/domain/event-ports';
import { requestPayout, transfer, withdraw } from '../../lib/domain/movements';
import { dispatchPayout } from '../../lib/domain/payouts';
import type { Account } from '../../lib/domain/types';
import { publishEventsHandler, isEventSource } from '../../lib/events-stream';
import { entryView } from '../../lib/http-schemas';
import { dynamoEventStore } from '../../lib/persistence/event-store';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import { waitFor } from '../../local/wait';
import {
  apiEvent,
  configureHandlers,
  invoke,
  startTestIssuer,
  type TestIssuer,
} from '../support/in-process';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';

/**
 * Events from real movements on DynamoDB Local: the sequencer and the event publisher each fed
 * from the table's stream by a poller, as `npm start` runs them, and GET /events read through its
 * real handler. The feed serves events once settled: EVENT_FEED_SETTLE_SECONDS=1 here.
 */
jest.setTimeout(120_000);

const alice = customer('alice');
const bob = customer('bob');
/** What the service promises: an event is in the feed within the settle time of its publishing. */
const FEED_BOUND_MS = 10_000;

let ledger: TestLedger;
let issuer: TestIssuer;
let publisher: StreamPoller | undefined;
let fannedOut: string[];
let eventsHandler: typeof import('../../handlers/events').handler;
let aliceAccount: Account;
let bobAccount: Account;
let key = 0;

const events = () => dynamoEventStore({ db: ledger.doc, name: ledger.tableName });

/** The publisher behind its own stream poller; without a checkpoint it reads the stream again. */
function startPublisher(): StreamPoller {
  const handle = publishEventsHandler(() => ({
    events: events(),
    ownerOf: async (accountId) => (await ledger.store.getAccount(accountId))?.ownerId ?? null,
    details: (ids) => ledger.store.readDetails(ids),
    fanOut: async (published) => {
      fannedOut.push(...published.map((event) => event.id));
    },
    now: () => new Date(),
  }));
  return startStreamPoller({
    endpoint: ledger.endpoint,
    tableName: ledger.tableName,
    handler: (event: DynamoDBStreamEvent) => handle(event),
    filter: isEventSource,
    pollIntervalMs: 50,
  });
}

/** Every item of a kind in the table: events (`EVENT#`) or account feed entries (`EVENTS#`). */
async function stored(prefix: 'EVENT#' | 'EVENTS#') {
  return (await ledger.items()).filter((item) => String(item.pk).startsWith(prefix));
}

/** Waits until the sequencer, then the publisher, have read everything committed so far. */
async function published(): Promise<StoredEvent[]> {
  await ledger.drain();
  await publisher?.drain(60_000);
  const items = await stored('EVENT#');
  return items.map(
    ({ pk: _pk, sk: _sk, feedKey: _k, feedAt: _a, expiresAt: _t, ...e }) => e as never,
  );
}

async function getEvents(token: string, query: Record<string, string> = {}) {
  return invoke(
    eventsHandler,
    apiEvent({
      method: 'GET',
      path: '/events',
      headers: { authorization: `Bearer ${token}` },
      ...(Object.keys(query).length > 0 ? { query } : {}),
    }),
  );
}

/** Every page of GET /events, following nextCursor until the feed has no more settled events. */
async function readFeed(token: string, query: Record<string, string> = {}) {
  const seen: { id: string; type: string; accountId: string | null }[] = [];
  let after: string | undefined;
  for (let request = 0; request < 100; request += 1) {
    const page = await getEvents(token, { ...query, limit: '3', ...(after ? { after } : {}) });
    expect(page.status).toBe(200);
    const body = page.body as { events: typeof seen; nextCursor: string };
    seen.push(...body.events);
    if (body.events.length === 0 && body.nextCursor === after) return seen;
    after = body.nextCursor;
  }
  throw new Error('the feed never came to an end');
}

const movement = (accountId: string, amount: number, extra = {}) => ({
  caller: alice,
  accountId,
  amount,
  idempotencyKey: `events-${(key += 1)}`,
  requestId: 'test',
  ...extra,
});

beforeAll(async () => {
  ledger = await createTestLedger('events');
  issuer = await startTestIssuer();
  configureHandlers({
    tableName: ledger.tableName,
    endpoint: ledger.endpoint,
    issuer,
    env: { EVENT_FEED_SETTLE_SECONDS: '1' },
  });
  eventsHandler = (await import('../../handlers/events')).handler;
  fannedOut = [];
  publisher = startPublisher();

  const deps = ledger.deps;
  aliceAccount = await ledger.openAccount(alice, 10_000);
  bobAccount = await ledger.openAccount(bob, 0);
  await withdraw(deps, movement(aliceAccount.accountId, 1_000, { description: 'rent, March' }));
  await transfer(deps, {
    ...movement(aliceAccount.accountId, 500),
    toAccountId: bobAccount.accountId,
  });
  const held = await requestPayout(
    { ...deps, payoutHoldSeconds: 300 },
    { ...movement(aliceAccount.accountId, 700), destination: 'acct-1' },
  );
  const payout = await ledger.store.getPayout(
    aliceAccount.accountId,
    held.transaction.transactionId,
  );
  if (payout === null) throw new Error('no payout');
  await dispatchPayout(
    {
      store: ledger.store,
      gateway: {
        send: async () => ({ status: 'SUCCEEDED', reference: 'gw-1' }),
        cancel: async () => ({ status: 'CANCELLED' }),
      },
      logger: deps.logger,
      now: () => new Date(),
      retryAfterMs: 0,
    },
    payout,
  );
  const freeze = (frozen: boolean) =>
    setAccountFrozen(deps, operator, { accountId: aliceAccount.accountId, frozen, reason: 'r' });
  await freeze(true);
  await freeze(false);
  await freeze(true);
  await setWithdrawalsPaused(deps, operator, { paused: true, reason: 'incident' });
  await setWithdrawalsPaused(deps, operator, { paused: false, reason: 'resolved' });
});

afterAll(async () => {
  await publisher?.stop();
  await issuer?.stop();
  await ledger?.close();
});

describe('events from real movements', () => {
  it('are exactly the changes that committed, one event each, with the resource as the API shows it', async () => {
    const all = await published();
    const a = aliceAccount.accountId;
    const b = bobAccount.accountId;
    const summary = all.map((e) => [e.type, e.accountId, e.sequence]).sort();
    expect(summary).toEqual(
      [
        ['account.opened', a, null],
        ['account.opened', b, null],
        ['movement.committed', a, 1],
        ['movement.committed', a, 2],
        ['movement.committed', a, 3],
        ['movement.committed', b, 1],
        ['payout.held', a, null],
        ['payout.posted', a, null],
        ['account.frozen', a, null],
        ['account.unfrozen', a, null],
        ['account.frozen', a, null],
        ['withdrawals.paused', null, null],
        ['withdrawals.resumed', null, null],
      ].sort(),
    );
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);

    // Each movement's data is its statement line as the history shows it, details included.
    const lines = [...(await ledger.statement(a)), ...(await ledger.statement(b))];
    for (const event of all.filter((e) => e.type === 'movement.committed')) {
      const line = lines.find(
        (l) => l.accountId === event.accountId && l.sequence === event.sequence,
      );
      expect(line).toBeDefined();
      expect(event.data).toEqual({
        ...entryView(line as never),
        ...(line?.type === 'WITHDRAWAL' ? { description: 'rent, March' } : {}),
      });
      expect(event.createdAt).toBe(line?.postedAt);
    }
    expect(all.find((e) => e.type === 'payout.posted')?.data).toMatchObject({
      status: 'POSTED',
      gatewayReference: 'gw-1',
    });
    expect(all.filter((e) => e.accountId === a).every((e) => e.ownerId === alice.userId)).toBe(
      true,
    );
    // Each account's feed holds a copy of each of its events, and nothing else.
    expect((await stored('EVENTS#')).length).toBe(all.filter((e) => e.accountId !== null).length);
    expect([...new Set(fannedOut)].sort()).toEqual(all.map((e) => e.id).sort());
  });

  it('makes no second event when the stream is read again from its start', async () => {
    const before = await published();
    const feedItems = (await stored('EVENTS#')).length;
    fannedOut = [];
    // A publisher restarted without its checkpoint reads every record again (twice, here).
    await publisher?.stop();
    publisher = startPublisher();
    const again = startPublisher();
    await again.drain(60_000);
    await again.stop();
    const after = await published();
    expect(after).toEqual(before);
    expect((await stored('EVENTS#')).length).toBe(feedItems);
    // ...and hands every event on again: a crash before a fan-out loses no delivery.
    expect([...new Set(fannedOut)].sort()).toEqual(before.map((e) => e.id).sort());
  });
});

describe('GET /events', () => {
  it("pages an operator's feed in a stable order, with no gap and no repeat", async () => {
    const all = await published();
    const token = await issuer.token({ sub: 'ops-user', groups: ['operators'] });
    const feed = await waitFor(
      `every event in the feed within ${FEED_BOUND_MS} ms`,
      () => readFeed(token),
      (seen) => seen.length >= all.length,
      { timeoutMs: FEED_BOUND_MS, intervalMs: 500 },
    );
    const byPosition = [...all].sort((x, y) => (x.position < y.position ? -1 : 1));
    expect(feed.map((e) => e.id)).toEqual(byPosition.map((e) => e.id));
    // Read again: the same order.
    expect((await readFeed(token)).map((e) => e.id)).toEqual(feed.map((e) => e.id));
    // One account's, in the same order.
    const aliceIds = (await readFeed(token, { accountId: aliceAccount.accountId })).map(
      (e) => e.id,
    );
    expect(aliceIds).toEqual(
      byPosition.filter((e) => e.accountId === aliceAccount.accountId).map((e) => e.id),
    );
  });

  it("shows a customer their own accounts' events only, and another's account as not found", async () => {
    const all = await published();
    const token = await issuer.token({ sub: alice.userId });
    const own = all.filter((e) => e.accountId === aliceAccount.accountId).map((e) => e.id);
    const feed = await waitFor(
      `alice's events in the feed within ${FEED_BOUND_MS} ms`,
      () => readFeed(token),
      (seen) => seen.length >= own.length,
      { timeoutMs: FEED_BOUND_MS, intervalMs: 500 },
    );
    expect(feed.map((e) => e.id).sort()).toEqual(own.sort());
    expect(feed.every((e) => e.accountId === aliceAccount.accountId)).toBe(true);

    const theirs = await getEvents(token, { accountId: bobAccount.accountId });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toMatchObject({ error: { code: 'ACCOUNT_NOT_FOUND' } });
    const typed = await readFeed(token, { type: 'payout.held,payout.posted' });
    expect(typed.map((e) => e.type).sort()).toEqual(['payout.held', 'payout.posted']);
  });

  it('refuses a cursor, a type or a limit it does not know', async () => {
    const token = await issuer.token({ sub: alice.userId });
    const queries: Record<string, string>[] = [
      { after: 'bm90LWEtY3Vyc29y' },
      { type: 'money.moved' },
      { limit: '0' },
    ];
    for (const query of queries) {
      const answer = await getEvents(token, query);
      expect({ query, status: answer.status, body: answer.body }).toMatchObject({
        query,
        status: 400,
        body: { error: { code: 'VALIDATION_ERROR' } },
      });
    }
  });
});
