import { accountFor } from './accounts';
import {
  RECENT_PAGE,
  decodeCursor,
  encodeCursor,
  pendingToEntry,
  shownEntries,
  type HistoryDeps,
  type HistoryPage,
} from './history';
import type { Caller, LedgerEntry } from './types';

/** The newest lines read besides the index, for those it may not list yet. */
const RECENT_LINES = 100;

/**
 * The account's movements that carry `reference`, newest first: on the first page those still
 * waiting for their statement line, then their lines by descending sequence, `limit` per page.
 *
 * The lines come from the sparse references index, which is eventually consistent (a line shows
 * up there a moment after the sequencer wrote it). So the first page also looks through the
 * account's newest pending entries and its newest lines, both read strongly consistent, in that
 * order: the sequencer writes a line before it retires the entry, so a movement between the two
 * is in one of them. A movement is listed from its commit on, unless more than `RECENT_PAGE`
 * movements wait for their lines (a stalled sequencer) or more than `RECENT_LINES` later lines
 * were placed before the index caught up: every read stays bounded.
 */
export async function listTransactionsByReference(
  deps: HistoryDeps,
  caller: Caller,
  accountId: string,
  reference: string,
  page: { limit: number; cursor?: string },
): Promise<HistoryPage> {
  const at = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  // Any cursor the history answered names a place in the statement: the lookup goes on below it.
  const before = at === undefined ? undefined : 'before' in at ? at.before : at.top + 1;
  const first = before === undefined;
  const pending = first ? await deps.store.listPending(accountId, RECENT_PAGE + 1) : [];
  const account = await accountFor(deps, caller, accountId);
  const [recent, indexed] = await Promise.all([
    first ? deps.store.listStatement(accountId, RECENT_LINES) : Promise.resolve([]),
    deps.store.listStatementByReference(accountId, reference, page.limit, before),
  ]);
  const lines = newestFirst([...recent.filter((line) => line.reference === reference), ...indexed]);
  const placed = new Set(lines.map((line) => line.transactionId));
  const waiting = pending
    .filter((entry) => entry.reference === reference && !placed.has(entry.transactionId))
    .map((entry) => pendingToEntry(entry, account));
  const shown = lines.slice(0, page.limit);
  const last = shown[shown.length - 1]?.sequence;
  return {
    transactions: await shownEntries(deps, [...waiting, ...shown]),
    nextCursor: lines.length > page.limit && last ? encodeCursor({ before: last }) : null,
  };
}

/** Each line once (the index and the newest lines may both have it), by descending sequence. */
function newestFirst(lines: LedgerEntry[]): LedgerEntry[] {
  const bySequence = new Map(lines.map((line) => [line.sequence ?? 0, line]));
  return [...bySequence.values()].sort((a, b) => (b.sequence ?? 0) - (a.sequence ?? 0));
}
