import { AccountNotFoundError, ValidationError } from './errors';
import type { EventStore, EventType, FeedRange, StoredEvent } from './event-ports';
import { EVENT_RETENTION_DAYS, endOfInstant, isPosition } from './events';
import type { AccountStore } from './ports';
import type { Caller } from './types';

/**
 * GET /events (docs/events.md): the feed of events in position order, an operator's of every
 * account (or one), a customer's of their own accounts. Only settled positions are served: a
 * position is taken just before its event is written, so once every write of an instant is done
 * (`settleMs` later) no event can appear before a cursor already given.
 */
export interface EventFeedDeps {
  events: Pick<EventStore, 'listAccountEvents' | 'listAllEvents'>;
  accounts: Pick<AccountStore, 'getAccount' | 'listAccountsByOwner'>;
  now: () => Date;
  settleMs: number;
}

export interface EventQuery {
  /** A `nextCursor` given before; none: from the start of retention. */
  after?: string;
  types?: EventType[];
  accountId?: string;
  limit: number;
}

export interface EventPage {
  events: StoredEvent[];
  /**
   * Always given: where the next request goes on, now or later (a consumer keeps polling). An
   * empty page whose cursor is the one sent: nothing more has settled yet.
   */
  nextCursor: string;
}

/**
 * A request reads at most this many days of the service-wide feed (an empty stretch ends at a
 * day's end); an account's feed is read in one Query, whatever its range.
 */
export const FEED_DAYS_PER_REQUEST = 7;
/** With a `type` filter, a request reads at most this many pages of the feed. */
const READS_PER_REQUEST = 5;
const DAY_MS = 86_400_000;

type FeedReader = (range: FeedRange) => Promise<StoredEvent[]>;

export async function listEvents(
  deps: EventFeedDeps,
  caller: Caller,
  query: EventQuery,
): Promise<EventPage> {
  const now = deps.now();
  const after = query.after === undefined ? retentionStart(now) : positionOfCursor(query.after);
  const { read, byDay } = await readerFor(deps, caller, query.accountId);
  const settled = endOfInstant(new Date(now.getTime() - deps.settleMs));
  const until = byDay ? [settled, walkEnd(after)].sort()[0] : settled;
  if (until === undefined || until <= after) return { events: [], nextCursor: cursorOf(after) };
  const range = { after, until, limit: query.limit };
  const { events, last } = await readMatching(read, range, query.types, until !== settled);
  return { events, nextCursor: cursorOf(last) };
}

/**
 * Whose events the caller may read: an operator any account's, a customer only their own. An
 * account's feed is one Query whatever the range; the service-wide one costs 8 per day read.
 */
async function readerFor(
  deps: EventFeedDeps,
  caller: Caller,
  accountId: string | undefined,
): Promise<{ read: FeedReader; byDay: boolean }> {
  const one =
    (id: string): FeedReader =>
    (range) =>
      deps.events.listAccountEvents(id, range);
  if (caller.isOperator) {
    if (accountId === undefined) {
      return { read: (range) => deps.events.listAllEvents(range), byDay: true };
    }
    if ((await deps.accounts.getAccount(accountId)) === null) throw new AccountNotFoundError();
    return { read: one(accountId), byDay: false };
  }
  const owned = (await deps.accounts.listAccountsByOwner(caller.userId)).map((a) => a.accountId);
  if (accountId !== undefined) {
    // Another customer's account is answered like an unknown one: nothing tells it exists.
    if (!owned.includes(accountId)) throw new AccountNotFoundError();
    return { read: one(accountId), byDay: false };
  }
  const merged: FeedReader = async (range) => {
    const feeds = await Promise.all(owned.map((id) => one(id)(range)));
    return feeds
      .flat()
      .sort((a, b) => (a.position < b.position ? -1 : 1))
      .slice(0, range.limit);
  };
  return { read: merged, byDay: false };
}

/** Pages of the feed until `limit` events of the types asked for, or the range's end. */
async function readMatching(
  read: FeedReader,
  range: FeedRange & { after: string },
  types: EventType[] | undefined,
  bounded: boolean,
): Promise<{ events: StoredEvent[]; last: string }> {
  const found: StoredEvent[] = [];
  let last = range.after;
  for (let round = 0; round < READS_PER_REQUEST; round += 1) {
    const page = await read({ ...range, after: last });
    for (const event of page) {
      last = event.position;
      if (types === undefined || types.includes(event.type)) found.push(event);
      if (found.length === range.limit) return { events: found, last };
    }
    // The range's end: a walk goes on past it; the feed's settled end waits at its last event.
    if (page.length < range.limit) return { events: found, last: bounded ? range.until : last };
  }
  return { events: found, last };
}

/** The first position kept: the start of the day `EVENT_RETENTION_DAYS` ago. */
const retentionStart = (now: Date): string =>
  `${new Date(now.getTime() - EVENT_RETENTION_DAYS * DAY_MS).toISOString().slice(0, 10)}T00:00:00.000Z#`;

/** The end of the last day a request may read, starting from `after`'s day. */
function walkEnd(after: string): string {
  const lastDay = Date.parse(after.slice(0, 10)) + (FEED_DAYS_PER_REQUEST - 1) * DAY_MS;
  return endOfInstant(new Date(lastDay + DAY_MS - 1));
}

/** A cursor is the base64url of a position: opaque to clients, checked on the way back. */
export const cursorOf = (position: string): string =>
  Buffer.from(position, 'utf8').toString('base64url');

export function positionOfCursor(cursor: string): string {
  const position = /^[A-Za-z0-9_-]{1,400}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  if (!isPosition(position)) {
    throw new ValidationError('after must be a nextCursor from a previous GET /events');
  }
  return position;
}
