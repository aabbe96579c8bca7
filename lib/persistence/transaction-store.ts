import { BatchGetCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type {
  Reversal,
  TransactionRecord,
  TransactionRecordView,
  TransactionStore,
} from '../domain/ports';
import { transactionRecordOf, type StartingLine } from '../domain/reversals';
import { TRANSACTIONS_INDEX, TRANSACTION_INDEX_ATTRIBUTE, transactionRecordKey } from './keys';
import { guarded } from './store-errors';
import type { TableRef } from './table-ref';

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;

/**
 * Posted movements by transaction id, for their reversals: the statement line that started one,
 * through the sparse `transactions` index (the sequencer writes nothing more for it), and the
 * count its reversals keep on an item of its own, which the first reversal's transaction creates
 * (`lib/persistence/movement-store.ts`).
 */
export function dynamoTransactionStore(table: TableRef): TransactionStore {
  return {
    /** One round trip: the index (eventually consistent) and the count (strongly) side by side. */
    async getTransaction(transactionId) {
      const [indexed, counted] = await Promise.all([
        guarded(() =>
          table.db.send(
            new QueryCommand({
              TableName: table.name,
              IndexName: TRANSACTIONS_INDEX,
              KeyConditionExpression: '#key = :id',
              ExpressionAttributeNames: { '#key': TRANSACTION_INDEX_ATTRIBUTE },
              ExpressionAttributeValues: { ':id': transactionId },
            }),
          ),
        ),
        guarded(() =>
          table.db.send(
            new GetCommand({
              TableName: table.name,
              Key: transactionRecordKey(transactionId),
              ConsistentRead: true,
            }),
          ),
        ),
      ]);
      // One line starts a movement; the latest, should a payout ever have had two.
      const line = (indexed.Items ?? []).sort((a, b) => Number(b.sequence) - Number(a.sequence))[0];
      const record = line ? transactionRecordOf(line as StartingLine) : legacyRecord(counted.Item);
      if (record === null) return null;
      return { ...record, ...countOf(counted.Item) };
    },

    async reversalsOf(transactionIds) {
      const found = new Map<string, Reversal[]>();
      const unique = [...new Set(transactionIds)];
      for (let start = 0; start < unique.length; start += BATCH_GET_KEYS) {
        for (const item of await batchGet(table, unique.slice(start, start + BATCH_GET_KEYS))) {
          const { reversals } = countOf(item);
          if (reversals.length > 0) found.set(String(item.transactionId), reversals);
        }
      }
      return found;
    },
  };
}

/**
 * Lines sequenced before the index existed are not in it; the sequencer of that time wrote their
 * movement's record (accounts, type, amount) on the count's item, and that still finds them.
 */
function legacyRecord(item: Record<string, unknown> | undefined): TransactionRecord | null {
  if (item?.accountId === undefined) return null;
  const { pk: _pk, sk: _sk, reversed: _count, reversals: _list, ...record } = item;
  return record as unknown as TransactionRecord;
}

function countOf(
  item: Record<string, unknown> | undefined,
): Omit<TransactionRecordView, keyof TransactionRecord> {
  return {
    reversed: Number(item?.reversed ?? 0),
    reversals: (item?.reversals as Reversal[] | undefined) ?? [],
  };
}

/** Strongly consistent, retrying the keys DynamoDB left unprocessed. */
async function batchGet(table: TableRef, ids: string[]): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let keys: Record<string, unknown>[] = ids.map(transactionRecordKey);
  while (keys.length > 0) {
    const pending = keys;
    const result = await guarded(() =>
      table.db.send(
        new BatchGetCommand({
          RequestItems: { [table.name]: { Keys: pending, ConsistentRead: true } },
        }),
      ),
    );
    items.push(...(result.Responses?.[table.name] ?? []));
    keys = result.UnprocessedKeys?.[table.name]?.Keys ?? [];
  }
  return items;
}
