import { ledgerEntry, type Account } from './types';
import {
  STATEMENT_CHUNK,
  TransientStoreError,
  type StatementLine,
  type StatementStore,
  type SystemLedgerStore,
} from './ports';
import { systemAmounts } from './postings';
import { figuresBefore, withFigures } from './statement-figures';
import { realSleep, retry, type Sleep } from './retry';

/**
 * What the sequencer writes: statement lines with their running figures (read from the line
 * before each chunk), and their postings to the system accounts.
 */
export type SequencerStore = Pick<
  StatementStore,
  'writeStatementLines' | 'readStatement' | 'listStatement' | 'setLineFigures'
> &
  Pick<SystemLedgerStore, 'applySystemPostings'>;

/** Tries of one chunk when DynamoDB throttles or fails transiently, before the batch is failed. */
const CHUNK_ATTEMPTS = 6;

/**
 * The statement line of the movement that caused one change of an account item, as its stream
 * delivers it. The new image carries the movement, the balance right after it and its place in
 * the commit order (`version`), so the line is exact without any read. Null for a change that
 * moved no money (an operator's flag, a payout's hold).
 */
export function lineOf(before: Account | null, after: Account | null): StatementLine | null {
  const movement = after?.lastMovement;
  if (!after || !movement || after.version < 1) return null;
  if (before && before.version === after.version) return null;
  return {
    ...ledgerEntry(movement, after, { balanceAfter: after.balance, sequence: after.version }),
    balanceAfter: after.balance,
    sequence: after.version,
    // The instant of this change (a payout's post or void, not its request).
    committedAt: after.updatedAt,
  };
}

/** One account change to sequence, with the caller's handle to report it failed. */
export interface AccountChange<Id> {
  id: Id;
  before: Account | null;
  after: Account | null;
}

/**
 * Writes the statement lines of a batch of account changes. Only an account's own lines need
 * their order, so accounts go in parallel and each account's lines go in chunks of up to
 * `STATEMENT_CHUNK` (a few round trips per chunk, not three per line), one chunk after the
 * other. Returns the first change of every account whose chunk failed: everything from there
 * must be delivered again (a rewrite of a line is harmless).
 */
export async function sequenceChanges<Id>(
  store: SequencerStore,
  changes: AccountChange<Id>[],
  now: () => Date,
  sleep: Sleep = realSleep,
): Promise<{ written: number; failed: Id[]; error?: unknown }> {
  const byAccount = new Map<string, { id: Id; line: StatementLine }[]>();
  for (const change of changes) {
    const line = lineOf(change.before, change.after);
    if (line === null) continue;
    const queue = byAccount.get(line.accountId) ?? [];
    queue.push({ id: change.id, line });
    byAccount.set(line.accountId, queue);
  }
  let written = 0;
  let error: unknown;
  const failed: Id[] = [];
  await Promise.all(
    [...byAccount.values()].map(async (queue) => {
      for (let start = 0; start < queue.length; start += STATEMENT_CHUNK) {
        const chunk = queue.slice(start, start + STATEMENT_CHUNK);
        try {
          await writeChunk(
            store,
            chunk.map((item) => item.line),
            now,
            sleep,
          );
          written += chunk.length;
        } catch (cause) {
          error ??= cause;
          if (chunk[0]) failed.push(chunk[0].id);
          return;
        }
      }
    }),
  );
  return { written, failed, ...(error === undefined ? {} : { error }) };
}

/**
 * One chunk, tried again here on a transient failure (throttling, a 5xx, a lost connection):
 * failing the batch instead would make the stream deliver it all again from this record, after
 * the consumer's backoff, and under a steady fault rate a large batch would rarely get through.
 */
async function writeChunk(
  store: SequencerStore,
  lines: StatementLine[],
  now: () => Date,
  sleep: Sleep,
): Promise<void> {
  // Side by side: the postings need the chunk's amounts, not its lines written, and a chunk of
  // one busy account waits for the slower of the two instead of both (bench section 9). Both
  // settle before a retry, so a retry never overlaps its own first try.
  const write = async () => {
    const first = lines.reduce((a, b) => (b.sequence < a.sequence ? b : a));
    const placed = withFigures(await figuresBefore(store, first), lines);
    const [written, posted] = await Promise.allSettled([
      store.writeStatementLines(placed, now().toISOString()),
      postToSystemAccounts(store, lines),
    ]);
    for (const outcome of [written, posted]) {
      if (outcome.status === 'rejected') throw outcome.reason;
    }
  };
  await retry(write, {
    attempts: CHUNK_ATTEMPTS,
    baseMs: 50,
    capMs: 1000,
    retryable: (error) => error instanceof TransientStoreError,
    sleep,
  });
}

/**
 * The chunk's postings to the system accounts, once and in order: the store refuses a chunk that
 * does not follow the account's watermark and says how far its lines were applied. Lines applied
 * already are dropped (a redelivered batch may cut its chunks elsewhere); lines past a gap wait
 * for the ones before them, which another shard of the stream may still deliver after a restart.
 * A chunk that posts nothing (a transfer's) still moves the watermark, so no gap stays open.
 */
async function postToSystemAccounts(
  store: Pick<SystemLedgerStore, 'applySystemPostings'>,
  chunk: StatementLine[],
): Promise<void> {
  let lines = [...chunk].sort((a, b) => a.sequence - b.sequence);
  for (;;) {
    const amounts = systemAmounts(lines);
    const first = lines[0];
    const last = lines[lines.length - 1];
    if (first === undefined || last === undefined) return;
    const result = await store.applySystemPostings({
      accountId: first.accountId,
      currency: first.currency,
      firstSequence: first.sequence,
      lastSequence: last.sequence,
      amounts,
    });
    if (result.applied) return;
    if (result.appliedThrough < first.sequence - 1) {
      // Earlier lines are not posted yet: this chunk is tried again after them.
      throw new TransientStoreError('conflict');
    }
    lines = lines.filter((line) => line.sequence > result.appliedThrough);
  }
}
