import * as z from 'zod/mini';
import { accountFor } from './accounts';
import { StatementCatchingUpError, ValidationError } from './errors';
import { RECENT_PAGE, decodeCursor, encodeCursor, shownEntries, type HistoryDeps } from './history';
import { limitsInForce, type DailyLimits } from './limits';
import type { LineKind, MovementTotals, PlacedLine, StoredLine, TermsStore } from './ports';
import { LINE_KINDS, figuresBetween, hasFigures } from './statement-figures';
import type { Account, Caller, EntryStatus, LedgerEntry, MovementType } from './types';
import { monthBounds } from './months';

/**
 * Statements (docs/statements.md): the balance at an instant, monthly statements and the
 * history's filters. Each reads a few lines, never the lines between them: every line carries
 * its running figures (lib/domain/statement-figures.ts) and an index orders an account's lines by
 * (type, status, `postedAt`). The index trails the statement by about a second, so what it finds
 * is confirmed by strongly consistent reads of the statement itself.
 */
export interface StatementsDeps extends HistoryDeps {
  store: HistoryDeps['store'] & Pick<TermsStore, 'getLimits'>;
  limitDefaults: DailyLimits;
  now: () => Date;
}

/** Lines read at once after the one the index found, to confirm nothing later belongs before. */
const CONFIRM_PAGE = 4;

/** The posted balance at an instant: its last line's `balanceAfter` (0 before the first). */
export interface BalanceAt {
  accountId: string;
  currency: string;
  balance: number;
  at: string;
  sequence: number;
}

export async function balanceAt(
  deps: StatementsDeps,
  caller: Caller,
  accountId: string,
  at: string,
): Promise<BalanceAt> {
  const account = await accountFor(deps, caller, accountId);
  const answer = { accountId, currency: account.currency, at };
  if (at >= deps.now().toISOString()) {
    return { ...answer, balance: account.balance, sequence: account.version };
  }
  const line = await lastLineBefore(deps, account, justAfter(at), { settled: true });
  return { ...answer, balance: line?.balanceAfter ?? 0, sequence: line?.sequence ?? 0 };
}

/** The first instant after `at` (instants have milliseconds): lines at `at` come before it. */
const justAfter = (at: string): string => new Date(Date.parse(at) + 1).toISOString();

/**
 * The account's last line posted before `before`: the index's answer, confirmed by the statement
 * (the lines after it, strongly consistent). With `settled`, also every movement committed but
 * not yet placed must count after `before`, or the answer could change once it is placed:
 * StatementCatchingUpError (the sequencer places a movement within about a second).
 */
export async function lastLineBefore(
  deps: StatementsDeps,
  account: Account,
  before: string,
  options: { settled: boolean },
): Promise<PlacedLine | null> {
  const found = await deps.store.lastIndexedLineBefore(account.accountId, before, LINE_KINDS);
  const walked = await walkStatement(deps, account, found, before);
  if (walked.reachedTop || !options.settled) return walked.last;
  // Read after the statement: a movement placed between the two reads is found by a second walk.
  const pending = await deps.store.listPending(account.accountId, RECENT_PAGE + 1);
  const again = await walkStatement(deps, account, walked.last, before);
  const floor = again.last?.postedAt ?? '';
  const outcomeFloor = new Date(deps.now().getTime() - HELD_OUTCOME_MARGIN_MS).toISOString();
  const mayCountBefore = pending.some(
    (entry) =>
      !again.placed.has(entry.transactionId) &&
      earliestPostedAt(entry, floor, outcomeFloor) < before,
  );
  if (again.reachedTop || (!mayCountBefore && pending.length <= RECENT_PAGE)) return again.last;
  throw new StatementCatchingUpError();
}

/**
 * A held payout's line counts from its post or void, which has not happened yet: no earlier than
 * now, less this margin for the stamp the dispatcher takes before its transaction commits.
 */
const HELD_OUTCOME_MARGIN_MS = 5_000;

/**
 * The earliest a movement waiting for its line can count at: its stamp, or the line before it;
 * a payout still held, not before its outcome (so a hold of minutes does not hold statements up).
 */
function earliestPostedAt(
  entry: { createdAt: string; status?: string },
  floor: string,
  outcomeFloor: string,
): string {
  const stamped =
    entry.status === 'PENDING' && outcomeFloor > entry.createdAt ? outcomeFloor : entry.createdAt;
  return stamped > floor ? stamped : floor;
}

/**
 * From `last`, the statement's next lines while they were posted before `before`. Stops at the
 * first line posted later (then nothing after it counts: `postedAt` never decreases), at the
 * account's last movement (`reachedTop`), or where the statement ends for now.
 */
async function walkStatement(
  deps: StatementsDeps,
  account: Account,
  from: PlacedLine | null,
  before: string,
): Promise<{ last: PlacedLine | null; reachedTop: boolean; placed: Set<string> }> {
  let last = from;
  const placed = new Set<string>();
  for (;;) {
    const next = (last?.sequence ?? 0) + 1;
    if (next > account.version) return { last, reachedTop: true, placed };
    const lines = await deps.store.readStatement(account.accountId, next, CONFIRM_PAGE);
    for (const [offset, line] of lines.entries()) {
      if (line.sequence !== next + offset) return { last, reachedTop: false, placed };
      placed.add(line.transactionId);
      if (!hasFigures(line)) throw withoutFigures(account);
      if (line.postedAt >= before) return { last, reachedTop: true, placed };
      last = line;
    }
    if (lines.length < CONFIRM_PAGE) return { last, reachedTop: false, placed };
  }
}

/** Lines written before figures existed, not completed yet (docs/statements.md, "Upgrading"). */
function withoutFigures(account: Account): Error {
  return new StatementCatchingUpError(
    `The statement of account ${account.accountId} is being completed (lines written before running figures existed). Retry shortly.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Monthly statements

export interface Statement {
  accountId: string;
  currency: string;
  period: string;
  timezone: string;
  from: string;
  to: string;
  openingBalance: number;
  closingBalance: number;
  totals: MovementTotals;
  fees: number;
  count: number;
  transactions: LedgerEntry[];
  nextCursor: string | null;
}

/** Where the next page of a statement's lines starts: after this sequence. */
const statementCursor = z.strictObject({
  after: z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER)),
});

/**
 * A month's statement in the account's timezone: the balances before and after its lines, what
 * each type moved (the difference of two lines' running figures) and one page of its lines,
 * oldest first. A month not over yet is the statement so far.
 */
export async function monthlyStatement(
  deps: StatementsDeps,
  caller: Caller,
  accountId: string,
  period: string,
  page: { limit: number; cursor?: string },
): Promise<Statement> {
  const range = await statementRange(deps, caller, accountId, period);
  const after = page.cursor === undefined ? range.first - 1 : decodeAfter(page.cursor);
  const lines = await deps.store.readStatement(
    accountId,
    Math.max(after, range.first - 1) + 1,
    page.limit + 1,
    range.last,
  );
  const shown = lines.slice(0, page.limit);
  const lastShown = shown[shown.length - 1]?.sequence;
  const { account: _account, first: _first, last: _last, ...statement } = range;
  return {
    ...statement,
    transactions: await shownEntries(deps, shown),
    nextCursor:
      lines.length > page.limit && lastShown !== undefined ? encodeAfter(lastShown) : null,
  };
}

export interface StatementRange extends Omit<Statement, 'transactions' | 'nextCursor'> {
  account: Account;
  /** The month's lines by sequence: `first` through `last` (none when last < first). */
  first: number;
  last: number;
}

/** The month's boundaries, balances and totals: the two lines around it, found in the index. */
export async function statementRange(
  deps: StatementsDeps,
  caller: Caller,
  accountId: string,
  period: string,
): Promise<StatementRange> {
  const [account, stored] = await Promise.all([
    accountFor(deps, caller, accountId),
    deps.store.getLimits(accountId),
  ]);
  const { timezone } = limitsInForce(deps.limitDefaults, stored?.limits ?? {});
  const { from, to } = monthBounds(period, timezone);
  // A month not over is the statement so far: through now, every movement committed so far.
  const soFar = justAfter(deps.now().toISOString());
  const upTo = (instant: string) => (instant < soFar ? instant : soFar);
  const [opening, closing] = await Promise.all([
    lastLineBefore(deps, account, upTo(from), { settled: true }),
    lastLineBefore(deps, account, upTo(to), { settled: true }),
  ]);
  const first = (opening?.sequence ?? 0) + 1;
  const last = closing?.sequence ?? 0;
  return {
    account,
    accountId,
    currency: account.currency,
    period,
    timezone,
    from,
    to,
    openingBalance: opening?.balanceAfter ?? 0,
    closingBalance: closing?.balanceAfter ?? 0,
    ...figuresBetween(opening, closing),
    count: Math.max(0, last - first + 1),
    first,
    last,
  };
}

function encodeAfter(after: number): string {
  return Buffer.from(JSON.stringify({ after })).toString('base64url');
}

function decodeAfter(cursor: string): number {
  try {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new Error('not base64url');
    return statementCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')))
      .after;
  } catch {
    throw new ValidationError('cursor is not one this API returned');
  }
}

// ---------------------------------------------------------------------------------------------
// The history's filters

export interface HistoryFilter {
  /** Instants (UTC, milliseconds): `from` included, `to` excluded. */
  from?: string;
  to?: string;
  types?: MovementType[];
  statuses?: EntryStatus[];
  /** With the others: only the lines of the movements that carry it. */
  reference?: string;
}

export const isFiltered = (filter: HistoryFilter): boolean =>
  filter.from !== undefined ||
  filter.to !== undefined ||
  filter.types !== undefined ||
  filter.statuses !== undefined;

/** The index partitions a filter reads: the kinds of line it lets through. */
export function kindsOf(filter: HistoryFilter): LineKind[] {
  return LINE_KINDS.filter(
    (kind) =>
      (filter.types === undefined || filter.types.includes(kind.type)) &&
      (filter.statuses === undefined || filter.statuses.includes(kind.status)),
  );
}

const positionCursor = z.strictObject({
  postedAt: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)),
  sequence: z.number().check(z.int(), z.gte(1), z.lte(Number.MAX_SAFE_INTEGER)),
});

/**
 * One page of the lines a filter lets through, newest first (by `postedAt`, then sequence):
 * one Query per kind of line it lets through, each of at most `limit` + 1 lines, whatever the
 * history's length.
 */
export async function filteredHistory(
  deps: StatementsDeps,
  caller: Caller,
  accountId: string,
  filter: HistoryFilter,
  page: { limit: number; cursor?: string },
): Promise<{ transactions: LedgerEntry[]; nextCursor: string | null }> {
  await accountFor(deps, caller, accountId);
  if (filter.reference !== undefined) {
    return filteredByReference(deps, accountId, { ...filter, reference: filter.reference }, page);
  }
  const after = page.cursor === undefined ? undefined : decodePosition(page.cursor);
  const lines = await deps.store.listIndexedLines(accountId, {
    kinds: kindsOf(filter),
    ...filter,
    ...(after === undefined ? {} : { after }),
    newestFirst: true,
    limit: page.limit,
  });
  const shown = lines.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return {
    transactions: await shownEntries(deps, shown),
    nextCursor: lines.length > page.limit && last !== undefined ? encodePosition(last) : null,
  };
}

/** Lines of the references index read at once while filtering them. */
const REFERENCE_PAGE = 100;

/**
 * A reference's lines that the other filters let through: its lines from the references index
 * (newest first, by sequence, which is `postedAt` order too), filtered here. Reads grow with the
 * number of movements carrying the reference, not with the history's length.
 */
async function filteredByReference(
  deps: StatementsDeps,
  accountId: string,
  filter: HistoryFilter & { reference: string },
  page: { limit: number; cursor?: string },
): Promise<{ transactions: LedgerEntry[]; nextCursor: string | null }> {
  const at = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  let before = at === undefined ? undefined : 'before' in at ? at.before : at.top + 1;
  const lets = letsThrough(filter);
  const found: LedgerEntry[] = [];
  for (;;) {
    const lines = await deps.store.listStatementByReference(
      accountId,
      filter.reference,
      REFERENCE_PAGE,
      before,
    );
    const read = lines.slice(0, REFERENCE_PAGE);
    found.push(...read.filter((line) => lets(line as StoredLine)));
    before = read[read.length - 1]?.sequence ?? undefined;
    if (found.length > page.limit || lines.length <= REFERENCE_PAGE) break;
  }
  const shown = found.slice(0, page.limit);
  const last = shown[shown.length - 1]?.sequence;
  return {
    transactions: await shownEntries(deps, shown),
    nextCursor: found.length > page.limit && last ? encodeCursor({ before: last }) : null,
  };
}

/** Whether a line passes the filter's instants, types and statuses. */
function letsThrough(filter: HistoryFilter): (line: StoredLine) => boolean {
  const kinds = new Set(kindsOf(filter).map((kind) => `${kind.type}#${kind.status}`));
  return (line) =>
    hasFigures(line) &&
    kinds.has(`${line.type}#${line.status}`) &&
    (filter.from === undefined || line.postedAt >= filter.from) &&
    (filter.to === undefined || line.postedAt < filter.to);
}

// ---------------------------------------------------------------------------------------------
// Every line of a range, for the CSV export: a page at a time, so memory holds one page

/** Lines read per page of an export (DynamoDB answers at most 1 MB a Query: about 2,000 lines). */
const EXPORT_PAGE = 500;

/** A page of an export, and the cursor that asks for the lines after it. */
export interface ExportPage {
  entries: LedgerEntry[];
  resume: string;
}

/**
 * Every line of a month from `cursor` on (one this export returned), oldest first. The statement
 * is found before the first page is asked for, so a refusal comes before any line.
 */
export async function statementExport(
  deps: StatementsDeps,
  caller: Caller,
  accountId: string,
  period: string,
  cursor?: string,
): Promise<{ range: StatementRange; pages: AsyncIterable<ExportPage> }> {
  const range = await statementRange(deps, caller, accountId, period);
  const after = cursor === undefined ? range.first - 1 : decodeAfter(cursor);
  const first = Math.max(after + 1, range.first);
  return { range, pages: linesBetween(deps, accountId, first, range.last) };
}

async function* linesBetween(
  deps: StatementsDeps,
  accountId: string,
  first: number,
  last: number,
): AsyncGenerator<ExportPage> {
  for (let next = first; next <= last; ) {
    const lines = await deps.store.readStatement(accountId, next, EXPORT_PAGE, last);
    const end = lines[lines.length - 1];
    if (end === undefined) return;
    yield { entries: await shownEntries(deps, lines), resume: encodeAfter(end.sequence) };
    next = end.sequence + 1;
  }
}

/**
 * Every line a filter lets through from `cursor` on, newest first as the history lists them.
 * Instants alone are a range of the statement by sequence (its two ends found as a statement's
 * are); types, statuses or a reference go through the filtered history's pages.
 */
export async function historyExport(
  deps: StatementsDeps,
  caller: Caller,
  accountId: string,
  filter: HistoryFilter,
  cursor?: string,
): Promise<{ currency: string; pages: AsyncIterable<ExportPage> }> {
  const account = await accountFor(deps, caller, accountId);
  const byInstants =
    filter.types === undefined && filter.statuses === undefined && filter.reference === undefined;
  if (!byInstants) {
    return {
      currency: account.currency,
      pages: filteredPages(deps, caller, accountId, filter, cursor),
    };
  }
  const below = cursor === undefined ? undefined : decodePosition(cursor).sequence;
  const [opening, closing] = await Promise.all([
    filter.from === undefined
      ? null
      : lastLineBefore(deps, account, filter.from, { settled: false }),
    lastLineBefore(deps, account, filter.to ?? justAfter(deps.now().toISOString()), {
      settled: false,
    }),
  ]);
  const last = Math.min(closing?.sequence ?? 0, below === undefined ? Infinity : below - 1);
  return {
    currency: account.currency,
    pages: linesNewestFirst(deps, accountId, (opening?.sequence ?? 0) + 1, last),
  };
}

async function* linesNewestFirst(
  deps: StatementsDeps,
  accountId: string,
  first: number,
  last: number,
): AsyncGenerator<ExportPage> {
  for (let before = last + 1; before > first; ) {
    const lines = (await deps.store.listStatement(accountId, EXPORT_PAGE, before))
      .slice(0, EXPORT_PAGE)
      .filter((line) => (line.sequence ?? 0) >= first) as StoredLine[];
    const end = lines[lines.length - 1];
    if (end === undefined) return;
    yield { entries: await shownEntries(deps, lines), resume: encodePosition(end) };
    before = end.sequence;
  }
}

async function* filteredPages(
  deps: StatementsDeps,
  caller: Caller,
  accountId: string,
  filter: HistoryFilter,
  from: string | undefined,
): AsyncGenerator<ExportPage> {
  let cursor = from;
  for (;;) {
    const page = await filteredHistory(deps, caller, accountId, filter, {
      limit: EXPORT_PAGE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    if (page.nextCursor === null) {
      // The last page: nothing comes after it, so its cursor is never asked for.
      if (page.transactions.length > 0) yield { entries: page.transactions, resume: '' };
      return;
    }
    yield { entries: page.transactions, resume: page.nextCursor };
    cursor = page.nextCursor;
  }
}

const encodePosition = (line: { postedAt?: string; sequence: number }): string =>
  Buffer.from(JSON.stringify({ postedAt: line.postedAt ?? '', sequence: line.sequence })).toString(
    'base64url',
  );

function decodePosition(cursor: string): { postedAt: string; sequence: number } {
  try {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new Error('not base64url');
    return positionCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ValidationError('cursor is not one this API returned');
  }
}
