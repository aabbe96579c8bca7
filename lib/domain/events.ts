import type { EventType, LedgerEvent } from './event-ports';
import type { Account, LedgerEntry, Payout, WithdrawalControl } from './types';

/**
 * Which event each committed change is, in one table (docs/events.md): one row per event type,
 * naming the item it comes from, when a change of that item is the event, and how its id, time,
 * account, sequence and data are read from the item. An id is a function of the change alone,
 * so a redelivered stream record maps to the same event, and the store keeps it once.
 */

/** The items events come from, as the domain sees them (keys and index attributes left out). */
export interface EventSources {
  statementLine: LedgerEntry;
  payout: Payout;
  account: Account;
  withdrawalSwitch: WithdrawalControl;
}
export type EventSource = keyof EventSources;

/** One change of one item: its images before and after (null: absent), and the change's own mark. */
export interface SourceChange<S extends EventSource = EventSource> {
  source: S;
  before: EventSources[S] | null;
  after: EventSources[S] | null;
  /**
   * The change's id in the table's change log (the stream record's sequence number: the same on
   * every redelivery) and its approximate time, for changes whose item carries neither.
   */
  changeId: string;
  changedAt: string;
}

/** The resources as the API shows them (lib/http-schemas.ts), given by the wiring. */
export interface EventViews {
  entry(line: LedgerEntry): Record<string, unknown>;
  payout(payout: Payout): Record<string, unknown>;
  account(account: Account): Record<string, unknown>;
  withdrawals(control: WithdrawalControl): Record<string, unknown>;
}

interface EventRule<S extends EventSource> {
  source: S;
  /** Whether this change of the item is the event (`after` is the item as committed). */
  happened(before: EventSources[S] | null, after: EventSources[S]): boolean;
  /** What makes the id unique among the type's events (after `<type>:`). */
  key(after: EventSources[S], change: SourceChange<S>): string;
  accountId(after: EventSources[S]): string | null;
  sequence(after: EventSources[S]): number | null;
  createdAt(after: EventSources[S], change: SourceChange<S>): string;
  data(views: EventViews, after: EventSources[S]): Record<string, unknown>;
}

const payoutResolved = (status: Payout['status']): EventRule<'payout'> => ({
  source: 'payout',
  happened: (before, after) => before?.status === 'PENDING' && after.status === status,
  key: (p) => p.transactionId,
  accountId: (p) => p.accountId,
  sequence: () => null,
  createdAt: (p) => p.updatedAt,
  data: (views, p) => views.payout(p),
});

/** Freezes carry no time or counter of their own on the account: the change's are used. */
const frozenBecame = (frozen: boolean): EventRule<'account'> => ({
  source: 'account',
  happened: (before, after) =>
    before !== null && (before.frozen === true) !== frozen && (after.frozen === true) === frozen,
  key: (a, change) => `${a.accountId}:${change.changeId}`,
  accountId: (a) => a.accountId,
  sequence: () => null,
  createdAt: (_a, change) => change.changedAt,
  data: (views, a) => views.account(a),
});

const withdrawalsBecame = (paused: boolean): EventRule<'withdrawalSwitch'> => ({
  source: 'withdrawalSwitch',
  happened: (before, after) => (before?.paused ?? false) !== paused && after.paused === paused,
  key: (c, change) => c.changed?.at ?? change.changeId,
  accountId: () => null,
  sequence: () => null,
  createdAt: (c, change) => c.changed?.at ?? change.changedAt,
  data: (views, c) => views.withdrawals(c),
});

export const EVENT_RULES: { [T in EventType]: EventRule<EventSource> } = {
  // Each statement line of each account is one movement (a transfer: one per side). A payout's
  // line is its post or void, which the payout's own events report.
  'movement.committed': rule<'statementLine'>({
    source: 'statementLine',
    happened: (before, line) => before === null && line.type !== 'PAYOUT',
    key: (line) => `${line.accountId}:${line.sequence}`,
    accountId: (line) => line.accountId,
    sequence: (line) => line.sequence,
    createdAt: (line) => line.postedAt ?? line.createdAt,
    data: (views, line) => views.entry(line),
  }),
  'payout.held': rule<'payout'>({
    source: 'payout',
    happened: (before) => before === null,
    key: (p) => p.transactionId,
    accountId: (p) => p.accountId,
    sequence: () => null,
    createdAt: (p) => p.createdAt,
    data: (views, p) => views.payout(p),
  }),
  'payout.posted': rule(payoutResolved('POSTED')),
  'payout.voided': rule(payoutResolved('VOIDED')),
  'account.opened': rule<'account'>({
    source: 'account',
    happened: (before) => before === null,
    key: (a) => a.accountId,
    accountId: (a) => a.accountId,
    sequence: () => null,
    createdAt: (a) => a.createdAt,
    data: (views, a) => views.account(a),
  }),
  'account.frozen': rule(frozenBecame(true)),
  'account.unfrozen': rule(frozenBecame(false)),
  'withdrawals.paused': rule(withdrawalsBecame(true)),
  'withdrawals.resumed': rule(withdrawalsBecame(false)),
};

/** A row typed by its source, kept in the table beside rows of other sources. */
function rule<S extends EventSource>(row: EventRule<S>): EventRule<EventSource> {
  return row as unknown as EventRule<EventSource>;
}

const RULES = Object.entries(EVENT_RULES) as [EventType, EventRule<EventSource>][];

/** The events one committed change is: none for most changes, never more than one per type. */
export function deriveEvents(change: SourceChange, views: EventViews): LedgerEvent[] {
  const after = change.after;
  if (after === null) return [];
  return RULES.filter(
    ([, row]) => row.source === change.source && row.happened(change.before, after),
  ).map(([type, row]) => ({
    id: `${type}:${row.key(after, change)}`,
    type,
    createdAt: row.createdAt(after, change),
    accountId: row.accountId(after),
    sequence: row.sequence(after),
    data: row.data(views, after),
  }));
}

/**
 * Feed positions: `<ISO instant>#<id>`, so the feed sorts by the instant an event was published,
 * then by id. `~` sorts after every character of an id: `<instant>#~` follows every position of
 * that instant, and precedes every later one.
 */
/** Events are kept this long: the feed starts this many days ago (DynamoDB's TTL deletes them). */
export const EVENT_RETENTION_DAYS = 30;

export const positionOf = (at: Date, id: string): string => `${at.toISOString()}#${id}`;
export const endOfInstant = (at: Date): string => `${at.toISOString()}#~`;
const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[\x21-\x7E]{0,300}$/;
export const isPosition = (value: string): boolean =>
  POSITION.test(value) && Number.isFinite(Date.parse(value.slice(0, 24)));
