import { BatchGetCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  Reversal,
  TransactionRecord,
  TransactionRecordView,
  TransactionStore,
} from '../domain/ports';
import { transactionRecordKey } from './keys';
import { guarded } from './store-errors';
import type { TableRef } from './table-ref';

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;

/**
 * Posted movements by transaction id, written by the sequencer beside their statement lines (off
 * the money path: 1 WCU per movement it can reverse). A reversal's transaction counts itself on
 * the record (`lib/persistence/movement-store.ts`), so the record is also the reversals' cap.
 */
export function dynamoTransactionStore(table: TableRef): TransactionStore {
  return {
    async recordTransactions(records) {
      await Promise.all(
        records.map((record) => guarded(() => table.db.send(recordUpdate(table, record)))),
      );
    },

    async getTransaction(transactionId) {
      const result = await guarded(() =>
        table.db.send(
          new GetCommand({
            TableName: table.name,
            Key: transactionRecordKey(transactionId),
            ConsistentRead: true,
          }),
        ),
      );
      return result.Item ? toRecordView(result.Item) : null;
    },

    async reversalsOf(transactionIds) {
      const found = new Map<string, Reversal[]>();
      const unique = [...new Set(transactionIds)];
      for (let start = 0; start < unique.length; start += BATCH_GET_KEYS) {
        for (const item of await batchGet(table, unique.slice(start, start + BATCH_GET_KEYS))) {
          const view = toRecordView(item);
          if (view.reversals.length > 0) found.set(view.transactionId, view.reversals);
        }
      }
      return found;
    },
  };
}

/**
 * Sets what the line says and starts the reversals' count at 0 if it has none: a redelivered line
 * changes nothing. The count always exists, so a reversal's cap is one comparison, for the first
 * reversal as for the others.
 */
function recordUpdate(table: TableRef, record: TransactionRecord): UpdateCommand {
  const fields = Object.entries(record);
  const sets = fields.map((_, i) => `#f${i} = :v${i}`);
  return new UpdateCommand({
    TableName: table.name,
    Key: transactionRecordKey(record.transactionId),
    UpdateExpression: `SET ${[...sets, 'reversed = if_not_exists(reversed, :zero)'].join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name])),
    ExpressionAttributeValues: {
      ...Object.fromEntries(fields.map(([, value], i) => [`:v${i}`, value])),
      ':zero': 0,
    },
  });
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

function toRecordView(item: Record<string, unknown>): TransactionRecordView {
  const { pk: _pk, sk: _sk, reversed, reversals, ...record } = item;
  return {
    ...(record as unknown as TransactionRecord),
    reversed: Number(reversed ?? 0),
    reversals: (reversals as Reversal[] | undefined) ?? [],
  };
}
