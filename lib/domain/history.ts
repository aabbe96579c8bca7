import * as z from 'zod/mini';
import { accountFor } from './accounts';
import { ValidationError } from './errors';
import {
  ledgerEntry,
  type Account,
  type Caller,
  type LedgerEntry,
  type MovementDetails,
} from './types';
import {
  STATEMENT_CHUNK,
  type AccountStore,
  type LineFigures,
  type PendingEntry,
  type StatementStore,
  type TransactionStore,
} from './ports';

type StoredEntry = LedgerEntry & Partial<Pick<LineFigures, 'totalsAfter' | 'feesAfter'>>;

/** What reading a history needs: the account (for access) and its statement. */
export interface HistoryDeps {
  store: Pick<AccountStore, 'getAccount'> & StatementStore & Pick<TransactionStore, 'reversalsOf'>;
}

/**
 * An account's history, newest first, listing every committed movement exactly once however far
 * the sequencer lags:
 *
 * - The **recent part** first: movements not yet in the statement when the listing began
 *   (pending entries) and those the sequencer placed above the statement's top since, at most
 *   `RECENT_PAGE` per page: pages split them by transaction id, and within a page the waiting
 *   movements come first, then the placed lines by sequence. A later page names the top it
 *   started from, so a movement sequenced between two pages is found among the lines above that
 *   top instead of among the pending entries, and shown once.
 * - Then the **statement** from that top down, `limit` lines per page, by sequence.
 *
 * While there are at most `RECENT_PAGE` recent movements (the sequencer keeping up), the first
 * page shows all of them on top of `limit` statement lines.
 */
export const RECENT_PAGE = 100;

export interface HistoryPage {
  transactions: LedgerEntry[];
  nextCursor: string | null;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const position = z.union([
  z.strictObject({ before: z.number().check(z.int(), z.gte(1), z.lte(Number.MAX_SAFE_INTEGER)) }),
  z.strictObject({
    pendingBefore: z.string().check(z.regex(ULID)),
    top: z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER)),
  }),
]);
type Position = z.infer<typeof position>;

/** The cursor names a position in the history; the account always comes from the path. */
export function encodeCursor(at: Position | number): string {
  const value = typeof at === 'number' ? { before: at } : at;
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  try {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new Error('not base64url');
    return position.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ValidationError('cursor is not one this API returned');
  }
}

export async function listTransactions(
  deps: HistoryDeps,
  caller: Caller,
  accountId: string,
  page: { limit: number; cursor?: string },
): Promise<HistoryPage> {
  const found = await historyPage(deps, caller, accountId, page);
  return { ...found, transactions: await shownEntries(deps, found.transactions) };
}

/**
 * The entries as the history shows them: with their description and metadata, and with their
 * reversal links. Each sits apart from the entries (docs/double-entry.md), so two reads, in
 * parallel: the details items of the entries that have them, and the reversal records.
 */
export async function shownEntries(
  deps: HistoryDeps,
  entries: LedgerEntry[],
): Promise<LedgerEntry[]> {
  const [details, linked] = await Promise.all([
    detailsOfEntries(deps, entries),
    withReversals(deps, entries),
  ]);
  // The running figures are the statement's own (lib/domain/statement-figures.ts), not the entry's.
  return linked.map((line) => {
    const { hasDetails: _mark, totalsAfter: _t, feesAfter: _f, ...entry } = line as StoredEntry;
    return { ...entry, ...details.get(entry.transactionId) };
  });
}

/** The description and metadata of the entries that have them: none read when no entry has. */
async function detailsOfEntries(
  deps: HistoryDeps,
  entries: LedgerEntry[],
): Promise<Map<string, MovementDetails>> {
  const ids = entries.filter((entry) => entry.hasDetails === true).map((e) => e.transactionId);
  return ids.length > 0 ? deps.store.readDetails(ids) : new Map<string, MovementDetails>();
}

/**
 * Links reversals both ways: a movement lists its reversals, a reversal shows its reason. Both
 * live on the reversed movement's record: one batch read per page, for the posted movements of
 * the page and the movements its reversals reverse.
 */
async function withReversals(deps: HistoryDeps, entries: LedgerEntry[]): Promise<LedgerEntry[]> {
  const ids = entries.flatMap((entry) => {
    if (entry.reversalOf !== undefined) return [entry.reversalOf];
    return entry.sequence === null ? [] : [entry.transactionId];
  });
  if (ids.length === 0) return entries;
  const reversals = await deps.store.reversalsOf(ids);
  return entries.map((entry) => {
    if (entry.reversalOf !== undefined) {
      const own = reversals
        .get(entry.reversalOf)
        ?.find((r) => r.transactionId === entry.transactionId);
      return own === undefined ? entry : { ...entry, reason: own.reason };
    }
    const of = reversals.get(entry.transactionId);
    if (of === undefined || entry.sequence === null) return entry;
    return {
      ...entry,
      reversedBy: of.map(({ transactionId, amount }) => ({ transactionId, amount })),
    };
  });
}

async function historyPage(
  deps: HistoryDeps,
  caller: Caller,
  accountId: string,
  page: { limit: number; cursor?: string },
): Promise<HistoryPage> {
  const at = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  if (at !== undefined && 'before' in at) {
    await accountFor(deps, caller, accountId);
    return statementPage(deps, accountId, page.limit, at.before);
  }
  const top = at?.top ?? settledTop(await deps.store.listStatement(accountId, STATEMENT_CHUNK));
  const recent = await recentPart(deps, { caller, accountId }, top, at?.pendingBefore);
  if (recent.next !== null) return { transactions: recent.entries, nextCursor: recent.next };
  const statement = await statementPage(deps, accountId, page.limit, top + 1);
  return { ...statement, transactions: [...recent.entries, ...statement.transactions] };
}

async function statementPage(
  deps: HistoryDeps,
  accountId: string,
  limit: number,
  before: number,
): Promise<HistoryPage> {
  const lines = await deps.store.listStatement(accountId, limit, before);
  const shown = lines.slice(0, limit);
  const last = shown[shown.length - 1];
  const nextCursor =
    lines.length > limit && last?.sequence ? encodeCursor({ before: last.sequence }) : null;
  return { transactions: shown, nextCursor };
}

/**
 * The statement's top below any gap: the sequencer confirms one chunk of an account's lines
 * before it writes the next, so a gap can only sit among the newest `STATEMENT_CHUNK` lines
 * (`newestFirst` holds one more than that when the statement is longer). Lines above the gap
 * count as recent, so the statement part never misses the line to come. When the read reached
 * the statement's first line, a gap can sit below its lowest line too (lines start at 1).
 */
function settledTop(newestFirst: LedgerEntry[]): number {
  let top = newestFirst[0]?.sequence ?? 0;
  let expected = top;
  for (const line of newestFirst) {
    const sequence = line.sequence ?? 0;
    if (sequence !== expected) top = sequence;
    expected = sequence - 1;
  }
  const readToTheStart = newestFirst.length <= STATEMENT_CHUNK;
  return readToTheStart && expected !== 0 ? 0 : top;
}

/**
 * The lines placed above `top` that follow it without a gap. The sequencer writes a chunk's
 * lines side by side and retires their pending entries only once all of them are written, so
 * lines past a gap belong to a chunk still being written: their movements are shown by their
 * pending entries, in their place among the waiting, never out of commit order.
 */
function placedRun(placed: LedgerEntry[], top: number): LedgerEntry[] {
  const above = placed
    .filter((line) => (line.sequence ?? 0) > top)
    .sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
  const run: LedgerEntry[] = [];
  for (const line of above) {
    if (line.sequence !== top + run.length + 1) break;
    run.push(line);
  }
  return run;
}

/**
 * One page of the recent part: pending entries below the cursor, read first, then every line
 * placed above `top - STATEMENT_CHUNK` (read second: the sequencer writes a line before it
 * retires the entry, so a movement leaving the pending entries between the reads is found
 * among the lines). Only the sequencer's current chunk can be in both places; those of its
 * lines at or below `top` belong to the statement part.
 */
async function recentPart(
  deps: HistoryDeps,
  reader: { caller: Caller; accountId: string },
  top: number,
  pendingBefore: string | undefined,
): Promise<{ entries: LedgerEntry[]; next: string | null }> {
  const pending = await deps.store.listPending(reader.accountId, RECENT_PAGE + 1, pendingBefore);
  // Read after the pending entries (and checked before anything is shown): the account's last
  // movement is then the newest of every entry listed, so it can lead the page.
  const account = await accountFor(deps, reader.caller, reader.accountId);
  const placed = await deps.store.listStatementAbove(
    account.accountId,
    Math.max(0, top - STATEMENT_CHUNK),
  );
  const below = (id: string) => pendingBefore === undefined || id < pendingBefore;
  const run = placedRun(placed, top);
  const lines = run.filter((line) => below(line.transactionId));
  const settled = placed.filter((line) => (line.sequence ?? 0) <= top);
  const placedIds = new Set([...settled, ...run].map((line) => line.transactionId));
  // More pending entries than one page: those below the last one read come on a later page.
  const floor =
    pending.length > RECENT_PAGE ? pending[pending.length - 1]?.transactionId : undefined;
  const waiting = pending
    .filter((entry) => !placedIds.has(entry.transactionId))
    .map((entry) => pendingToEntry(entry, account));
  // Which movements this page holds goes by transaction id, so pages never overlap ...
  const members = [...waiting, ...lines]
    .filter((entry) => floor === undefined || entry.transactionId >= floor)
    .sort((a, b) => b.transactionId.localeCompare(a.transactionId))
    .slice(0, RECENT_PAGE + 1);
  const shown = members.slice(0, RECENT_PAGE);
  const last = shown[shown.length - 1]?.transactionId;
  const before = members.length > RECENT_PAGE ? last : floor;
  // ... and within the page they come newest first: the account's last movement if it is still
  // waiting, the other waiting movements (commits later than any placed line), then the placed
  // lines by sequence.
  const waitingIds = new Set(waiting.map((entry) => entry.transactionId));
  const lastId = account.lastMovement?.transactionId;
  const rank = (entry: LedgerEntry) =>
    entry.transactionId === lastId && waitingIds.has(lastId)
      ? 0
      : waitingIds.has(entry.transactionId)
        ? 1
        : 2;
  shown.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (b.sequence ?? -1) - (a.sequence ?? -1) ||
      b.transactionId.localeCompare(a.transactionId),
  );
  return {
    entries: shown,
    next: before === undefined ? null : encodeCursor({ pendingBefore: before, top }),
  };
}

export function pendingToEntry(entry: PendingEntry, account: Account): LedgerEntry {
  // Only the account's last movement has a known place before the sequencer gives it one.
  const isLast = account.lastMovement?.transactionId === entry.transactionId;
  return ledgerEntry(entry, account, {
    balanceAfter: isLast ? account.balance : null,
    sequence: isLast ? account.version : null,
  });
}
