import { AccountNotFoundError, ValidationError } from '../../lib/domain/errors';
import type { EventType, StoredEvent } from '../../lib/domain/event-ports';
import {
  listEvents,
  positionOfCursor,
  type EventFeedDeps,
  type EventQuery,
} from '../../lib/domain/event-feed';
import { positionOf } from '../../lib/domain/events';
import type { Account, Caller } from '../../lib/domain/types';
import { memoryEventStore, type MemoryEventStore } from '../support/memory-event-store';

/**
 * GET /events' feed (lib/domain/event-feed.ts) over the EventStore port: pages in a stable order
 * with no gap and no repeat, only settled positions, each caller only what they may read.
 */
const operator: Caller = { userId: 'ops', username: 'ops', isOperator: true };
const alice: Caller = { userId: 'user-alice', username: 'alice', isOperator: false };
const bob: Caller = { userId: 'user-bob', username: 'bob', isOperator: false };
const A1 = '01JACCOUNTA1AAAAAAAAAAAAAA';
const A2 = '01JACCOUNTA2AAAAAAAAAAAAAA';
const B1 = '01JACCOUNTB1BBBBBBBBBBBBBB';
const OWNERS: Record<string, string> = { [A1]: alice.userId, [A2]: alice.userId, [B1]: bob.userId };
const SETTLE_MS = 5_000;
const DAY_MS = 86_400_000;

let store: MemoryEventStore;
let clock: Date;
let deps: EventFeedDeps;
let serial = 0;

const accountOf = (accountId: string) => ({ accountId, ownerId: OWNERS[accountId] }) as Account;

beforeEach(() => {
  store = memoryEventStore();
  clock = new Date('2026-03-20T12:00:00.000Z');
  serial = 0;
  deps = {
    events: store,
    accounts: {
      getAccount: async (id) => (OWNERS[id] === undefined ? null : accountOf(id)),
      listAccountsByOwner: async (owner) =>
        Object.keys(OWNERS)
          .filter((id) => OWNERS[id] === owner)
          .map(accountOf),
    },
    now: () => clock,
    settleMs: SETTLE_MS,
  };
});

/** Publishes an event `agoMs` before now, as the publisher would place it. */
async function published(accountId: string | null, agoMs: number, type?: EventType) {
  serial += 1;
  const id = `${type ?? 'movement.committed'}:${accountId}:${serial}`;
  const event: StoredEvent = {
    id,
    type: type ?? (accountId === null ? 'withdrawals.paused' : 'movement.committed'),
    createdAt: clock.toISOString(),
    accountId,
    sequence: accountId === null ? null : serial,
    data: {},
    position: positionOf(new Date(clock.getTime() - agoMs), id),
    ownerId: accountId === null ? null : (OWNERS[accountId] ?? null),
  };
  await store.putEvent(event);
  return event;
}

/** Every page from `after` on, following nextCursor until a page comes back empty. */
async function readOn(caller: Caller, query: Omit<EventQuery, 'limit'> = {}, limit = 3) {
  const seen: StoredEvent[] = [];
  let after = query.after;
  for (let request = 0; request < 50; request += 1) {
    const page = await listEvents(deps, caller, { ...query, limit, ...(after ? { after } : {}) });
    expect(page.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    seen.push(...page.events);
    if (page.events.length === 0 && after === page.nextCursor) return { seen, cursor: after };
    after = page.nextCursor;
  }
  throw new Error('the feed never came to an end');
}
const readAll = async (caller: Caller, query: Omit<EventQuery, 'limit'> = {}, limit = 3) =>
  (await readOn(caller, query, limit)).seen;

describe('the event feed', () => {
  it('pages every settled event once, in position order, whatever the page size', async () => {
    const events = [];
    for (let i = 0; i < 11; i += 1) events.push(await published(i % 2 ? A1 : B1, 60_000 - i));
    for (const limit of [1, 3, 10, 100]) {
      expect((await readAll(operator, {}, limit)).map((e) => e.id)).toEqual(
        events.map((e) => e.id),
      );
    }
  });

  it('serves an event once it has settled, and a cursor given before it still reaches it', async () => {
    for (const caller of [alice, operator]) {
      store = memoryEventStore();
      deps.events = store;
      await published(A1, 60_000);
      const fresh = await published(A1, 1_000);
      const first = await readOn(caller);
      expect(first.seen).toHaveLength(1);

      clock = new Date(clock.getTime() + SETTLE_MS);
      const next = await listEvents(deps, caller, { limit: 10, after: first.cursor });
      expect(next.events.map((e) => e.id)).toEqual([fresh.id]);
    }
  });

  it('gives a cursor on an empty page too, to poll with', async () => {
    const empty = await listEvents(deps, alice, { limit: 10 });
    expect(empty.events).toEqual([]);
    const caughtUp = await readOn(operator);
    expect(caughtUp.seen).toEqual([]);
    const later = await published(A2, 0);
    clock = new Date(clock.getTime() + SETTLE_MS);
    for (const [caller, after] of [
      [alice, empty.nextCursor],
      [operator, caughtUp.cursor],
    ] as const) {
      const page = await listEvents(deps, caller, { limit: 10, ...(after ? { after } : {}) });
      expect(page.events.map((e) => e.id)).toEqual([later.id]);
    }
  });

  it("reads at most 7 days of the service-wide feed per request, an account's feed at once", async () => {
    const old = await published(A1, 29 * DAY_MS);
    const recent = await published(A1, DAY_MS);
    const first = await listEvents(deps, operator, { limit: 10 });
    expect(first.events.map((e) => e.id)).toEqual([old.id]);
    // The 30 days of retention start on 2026-02-18: the first request read 7 of them.
    expect(positionOfCursor(first.nextCursor)).toBe('2026-02-24T23:59:59.999Z#~');
    expect((await readAll(operator)).map((e) => e.id)).toEqual([old.id, recent.id]);
    const own = await listEvents(deps, alice, { limit: 10 });
    expect(own.events.map((e) => e.id)).toEqual([old.id, recent.id]);
  });

  it('filters by type, going on past events of other types', async () => {
    const kept: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const type: EventType = i % 4 === 3 ? 'payout.posted' : 'movement.committed';
      const event = await published(A1, 60_000 - i, type);
      if (type === 'payout.posted') kept.push(event.id);
    }
    const page = await listEvents(deps, alice, { limit: 2, types: ['payout.posted'] });
    expect(page.events.map((e) => e.id)).toEqual(kept);
    expect((await readAll(operator, { types: ['payout.posted'] }, 1)).map((e) => e.id)).toEqual(
      kept,
    );
  });

  it("shows a customer their accounts' events only, merged in order; an operator one account's", async () => {
    const events = [
      await published(A1, 50_000),
      await published(B1, 40_000),
      await published(A2, 30_000),
      await published(null, 20_000),
      await published(A1, 10_000),
    ];
    const ids = (list: StoredEvent[]) => list.map((e) => e.id);
    const [a1, b1, a2, paused, a1Later] = events.map((e) => e.id);
    expect(ids(await readAll(alice, {}, 2))).toEqual([a1, a2, a1Later]);
    expect(ids(await readAll(alice, { accountId: A2 }))).toEqual([a2]);
    expect(ids(await readAll(bob))).toEqual([b1]);
    expect(ids(await readAll(operator, { accountId: B1 }))).toEqual([b1]);
    expect(ids(await readAll(operator))).toEqual([a1, b1, a2, paused, a1Later]);
  });

  it("answers another customer's account, or an unknown one, as not found", async () => {
    await expect(listEvents(deps, bob, { limit: 10, accountId: A1 })).rejects.toBeInstanceOf(
      AccountNotFoundError,
    );
    const unknown = '01JUNKNOWNUNKNOWNUNKNOWNUN';
    await expect(
      listEvents(deps, operator, { limit: 10, accountId: unknown }),
    ).rejects.toBeInstanceOf(AccountNotFoundError);
  });

  it('refuses a cursor it did not give', async () => {
    for (const after of [
      'nope!',
      Buffer.from('2026-03-01').toString('base64url'),
      'x'.repeat(500),
    ]) {
      await expect(listEvents(deps, operator, { limit: 10, after })).rejects.toBeInstanceOf(
        ValidationError,
      );
    }
  });
});
