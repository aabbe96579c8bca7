import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  STATEMENT_CHUNK,
  TransientStoreError,
  type IndexedLinesQuery,
  type LineFigures,
  type PendingEntry,
  type PlacedLine,
  type StatementLine,
  type StoredLine,
  type StatementStore,
} from '../domain/ports';
import { retry } from '../domain/retry';
import type { MovementDetails } from '../domain/types';
import { toStatementLine } from './items';
import {
  HISTORY_INDEX,
  LINE_PREFIX,
  historyIndexAttributes,
  historyInstant,
  historyPartition,
  historyPosition,
  REFERENCES_INDEX,
  REFERENCE_INDEX_ATTRIBUTE,
  ledgerPartition,
  movementDetailsKey,
  pendingEntryKey,
  pendingPartitions,
  referenceIndexAttributes,
  referenceIndexKey,
  statementLineKey,
  transactionIndexAttributes,
} from './keys';
import { guarded } from './store-errors';
import { batchGetAll, queryAll, type TableRef } from './table-ref';

/**
 * The sequencer's writes in flight at once, per container (the client has 256 sockets). When
 * DynamoDB answers slowly (about 1.8 s a write under the bank run's 32 clients locally), the
 * lines per second are this over the write's latency: 40 gave 11 lines/s against 16 commits/s.
 */
const SEQUENCER_WRITES_IN_FLIGHT = 200;
/**
 * Tries of one sequencer write. Each of a chunk's 50 writes retries on its own: under a steady
 * fault rate, and once the SDK's retry quota is spent, a chunk retried as a whole would rarely
 * find all 50 lucky at once.
 */
const WRITE_ATTEMPTS = 8;
/** Lines a replay looks through for its movement's: one Query, about 9 RCU. */
const REPLAY_LOOKBACK = 100;

/** Pending entries (committed, not yet placed) and statement lines (placed, with balances). */
export function dynamoStatementStore(table: TableRef): StatementStore {
  const inFlight = limiter(SEQUENCER_WRITES_IN_FLIGHT);
  const persistently = (write: () => Promise<unknown>) =>
    inFlight(() =>
      retry(() => guarded(write), {
        attempts: WRITE_ATTEMPTS,
        baseMs: 20,
        capMs: 500,
        retryable: (error) => error instanceof TransientStoreError,
      }),
    );

  return {
    async listPending(accountId, limit, beforeTransactionId) {
      const shards = await Promise.all(
        pendingPartitions(accountId).map((pk) =>
          guarded(() =>
            table.db.send(
              new QueryCommand({
                TableName: table.name,
                KeyConditionExpression:
                  beforeTransactionId === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :before',
                ExpressionAttributeValues: {
                  ':pk': pk,
                  ...(beforeTransactionId === undefined ? {} : { ':before': beforeTransactionId }),
                },
                ConsistentRead: true,
                ScanIndexForward: false,
                Limit: limit,
              }),
            ),
          ),
        ),
      );
      return shards
        .flatMap((result) => result.Items ?? [])
        .map(({ pk: _pk, sk: _sk, ...rest }) => rest as PendingEntry)
        .sort((a, b) => b.transactionId.localeCompare(a.transactionId))
        .slice(0, limit);
    },

    async listStatement(accountId, limit, beforeSequence) {
      if (beforeSequence !== undefined && beforeSequence <= 1) return [];
      // One more than asked, to know whether another page exists.
      return queryLines(table, accountId, {
        ...(beforeSequence === undefined ? {} : { through: beforeSequence - 1 }),
        newestFirst: true,
        limit: limit + 1,
      });
    },

    /** As many reads as it takes (a Query answers at most 1 MB). */
    async listStatementAbove(accountId, afterSequence) {
      const items = await queryAll(table, {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lower AND :upper',
        ExpressionAttributeValues: {
          ':pk': ledgerPartition(accountId),
          ':lower': statementLineKey(accountId, Math.max(0, afterSequence) + 1).sk,
          ':upper': `${LINE_PREFIX}~`,
        },
        ScanIndexForward: false,
      });
      return items.map(toStatementLine);
    },

    /**
     * Single-item writes side by side, two round trips per chunk. (Not BatchWriteItem: DynamoDB
     * Local takes its one write lock once per item of a batch, so under load a batch of 25 waits
     * 25 turns where 25 requests wait one.) The lines are confirmed before any entry is retired,
     * so a reader never finds a movement in neither place, and only this chunk's movements can
     * be in both. Idempotent: a redelivered chunk writes the same lines again and deletes
     * nothing new.
     */
    async writeStatementLines(lines, sequencedAt) {
      if (lines.length > STATEMENT_CHUNK)
        throw new Error(`at most ${STATEMENT_CHUNK} lines at once`);
      const each = (write: (line: StatementLine) => Promise<unknown>) =>
        Promise.all(lines.map((line) => persistently(() => write(line))));
      await each((line) =>
        table.db.send(
          new PutCommand({ TableName: table.name, Item: statementLineItem(line, sequencedAt) }),
        ),
      );
      await each((line) =>
        table.db.send(
          new DeleteCommand({
            TableName: table.name,
            Key: pendingEntryKey(line.accountId, line.transactionId),
          }),
        ),
      );
    },

    async readStatement(accountId, fromSequence, limit, throughSequence) {
      if (throughSequence !== undefined && throughSequence < fromSequence) return [];
      return queryLines(table, accountId, {
        from: Math.max(1, fromSequence),
        ...(throughSequence === undefined ? {} : { through: throughSequence }),
        newestFirst: false,
        limit,
      });
    },

    /** Adds the figures with one UpdateItem per line, side by side (once per older line). */
    async setLineFigures(lines) {
      await Promise.all(
        lines.map((line) =>
          persistently(() =>
            table.db.send(
              new UpdateCommand({
                TableName: table.name,
                Key: statementLineKey(line.accountId, line.sequence),
                UpdateExpression:
                  'SET postedAt = :postedAt, totalsAfter = :totals, feesAfter = :fees, historyKey = :key, historyAt = :at',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeValues: {
                  ':postedAt': line.postedAt,
                  ':totals': line.totalsAfter,
                  ':fees': line.feesAfter,
                  ':key': historyPartition(line.accountId, line),
                  ':at': historyPosition(line),
                },
              }),
            ),
          ),
        ),
      );
    },

    /** One Query per kind, side by side, each for its newest line before the instant. */
    async lastIndexedLineBefore(accountId, before, kinds) {
      const found = await Promise.all(
        kinds.map((kind) =>
          queryHistory(table, {
            KeyConditionExpression: '#key = :key AND #at < :before',
            ExpressionAttributeValues: {
              ':key': historyPartition(accountId, kind),
              ':before': historyInstant(before),
            },
            ScanIndexForward: false,
            Limit: 1,
          }),
        ),
      );
      return newestOf(found.flat());
    },

    /** One Query per kind, side by side, merged in the index's order. */
    async listIndexedLines(accountId, query) {
      const { lower, upper } = historyRange(query);
      if (lower > upper) return [];
      const pages = await Promise.all(
        query.kinds.map((kind) =>
          queryHistory(table, {
            KeyConditionExpression: '#key = :key AND #at BETWEEN :lower AND :upper',
            ExpressionAttributeValues: {
              ':key': historyPartition(accountId, kind),
              ':lower': lower,
              ':upper': upper,
            },
            ScanIndexForward: !query.newestFirst,
            Limit: query.limit + 1,
          }),
        ),
      );
      const order = query.newestFirst ? -1 : 1;
      return pages
        .flat()
        .sort((a, b) => order * historyPosition(a).localeCompare(historyPosition(b)))
        .slice(0, query.limit + 1);
    },

    async findRecentLine(accountId, transactionId) {
      const result = await guarded(() =>
        table.db.send(
          new QueryCommand({
            TableName: table.name,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :line)',
            FilterExpression: 'transactionId = :tx',
            ExpressionAttributeValues: {
              ':pk': ledgerPartition(accountId),
              ':line': LINE_PREFIX,
              ':tx': transactionId,
            },
            ConsistentRead: true,
            ScanIndexForward: false,
            Limit: REPLAY_LOOKBACK,
          }),
        ),
      );
      const item = result.Items?.[0];
      return item ? toStatementLine(item) : null;
    },

    /** One Query of the sparse references index (eventually consistent, as every GSI). */
    async listStatementByReference(accountId, reference, limit, beforeSequence) {
      const below = beforeSequence === undefined ? '' : ' AND sk < :before';
      const result = await guarded(() =>
        table.db.send(
          new QueryCommand({
            TableName: table.name,
            IndexName: REFERENCES_INDEX,
            KeyConditionExpression: `#key = :key${below}`,
            ExpressionAttributeNames: { '#key': REFERENCE_INDEX_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':key': referenceIndexKey(accountId, reference),
              ...(beforeSequence === undefined
                ? {}
                : { ':before': statementLineKey(accountId, beforeSequence).sk }),
            },
            ScanIndexForward: false,
            Limit: limit + 1,
          }),
        ),
      );
      return (result.Items ?? []).map(toStatementLine);
    },

    async readDetails(transactionIds) {
      const keys = [...new Set(transactionIds)].map(movementDetailsKey);
      const details = new Map<string, MovementDetails>();
      for (const item of await batchGetAll(table, keys)) {
        const { description, metadata } = item as MovementDetails;
        details.set(String(item.transactionId), {
          ...(description !== undefined ? { description } : {}),
          ...(metadata !== undefined ? { metadata } : {}),
        });
      }
      return details;
    },
  };
}

/** One strongly consistent Query of an account's statement lines, `from` through `through`. */
async function queryLines(
  table: TableRef,
  accountId: string,
  range: { from?: number; through?: number; newestFirst: boolean; limit: number },
): Promise<StoredLine[]> {
  const bound = (sequence: number | undefined, open: string) =>
    sequence === undefined ? open : statementLineKey(accountId, sequence).sk;
  const result = await guarded(() =>
    table.db.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lower AND :upper',
        ExpressionAttributeValues: {
          ':pk': ledgerPartition(accountId),
          ':lower': bound(range.from, LINE_PREFIX),
          ':upper': bound(range.through, `${LINE_PREFIX}~`),
        },
        ConsistentRead: true,
        ScanIndexForward: !range.newestFirst,
        Limit: range.limit,
      }),
    ),
  );
  return (result.Items ?? []).map(toStatementLine) as StoredLine[];
}

/** A statement line as the table keeps it: its key, the line, and the keys of its indexes. */
export function statementLineItem(
  line: StatementLine & Partial<LineFigures>,
  sequencedAt: string,
): Record<string, unknown> {
  return {
    ...statementLineKey(line.accountId, line.sequence),
    ...line,
    sequencedAt,
    ...referenceIndexAttributes(line),
    ...transactionIndexAttributes(line),
    ...historyIndexAttributes(line),
  };
}

/** One Query of the history index (eventually consistent, as every GSI), its lines. */
async function queryHistory(
  table: TableRef,
  input: Pick<
    QueryCommandInput,
    'KeyConditionExpression' | 'ExpressionAttributeValues' | 'ScanIndexForward' | 'Limit'
  >,
): Promise<PlacedLine[]> {
  const result = await guarded(() =>
    table.db.send(
      new QueryCommand({
        TableName: table.name,
        IndexName: HISTORY_INDEX,
        ExpressionAttributeNames: { '#key': 'historyKey', '#at': 'historyAt' },
        ...input,
      }),
    ),
  );
  return (result.Items ?? []).map(toStatementLine) as PlacedLine[];
}

const newestOf = (lines: PlacedLine[]): PlacedLine | null =>
  lines.reduce<PlacedLine | null>(
    (newest, line) =>
      newest === null || historyPosition(line) > historyPosition(newest) ? line : newest,
    null,
  );

/**
 * The index keys bounding a query, both included: `from` and `to` are instants (the first key of
 * an instant sorts below its lines), `after` a place already shown in the direction read.
 */
function historyRange(query: IndexedLinesQuery): { lower: string; upper: string } {
  let lower = query.from === undefined ? '0' : historyInstant(query.from);
  let upper = query.to === undefined ? '~' : historyInstant(query.to);
  const after = query.after;
  if (after !== undefined && query.newestFirst) {
    upper = minOf(upper, historyPosition({ ...after, sequence: after.sequence - 1 }));
  } else if (after !== undefined) {
    lower = maxOf(lower, historyPosition({ ...after, sequence: after.sequence + 1 }));
  }
  return { lower, upper };
}
const minOf = (a: string, b: string) => (a < b ? a : b);
const maxOf = (a: string, b: string) => (a > b ? a : b);

/** Runs at most `slots` tasks at once; the others wait their turn, in order. */
function limiter(slots: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= slots) await new Promise<void>((turn) => waiting.push(turn));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}
