import {
  BatchGetCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TransientStoreError } from '../domain/ports';
import { retry } from '../domain/retry';
import type { Key } from './keys';
import { guarded } from './store-errors';

/** The table every adapter writes to, and the container's one client for it. */
export interface TableRef {
  db: DynamoDBDocumentClient;
  name: string;
}

/** Every item a strongly consistent Query finds, page after page (one answers at most 1 MB). */
export async function queryAll(
  table: TableRef,
  query: Omit<QueryCommandInput, 'TableName' | 'ConsistentRead' | 'ExclusiveStartKey'>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await guarded(() =>
      table.db.send(
        new QueryCommand({
          ...query,
          TableName: table.name,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;

/**
 * The items under these keys that exist, strongly consistent: one BatchGetItem per 100 keys, each
 * asked again for the keys it left unprocessed under load, a few times.
 */
export async function batchGetAll(
  table: TableRef,
  keys: Key[],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
    items.push(...(await batchGet(table, keys.slice(i, i + BATCH_GET_KEYS))));
  }
  return items;
}

async function batchGet(table: TableRef, first: Key[]): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let keys: Record<string, unknown>[] = first;
  const unprocessed = new TransientStoreError('throttled');
  await retry(
    async () => {
      const batch = await guarded(() =>
        table.db.send(
          new BatchGetCommand({
            RequestItems: { [table.name]: { Keys: keys, ConsistentRead: true } },
          }),
        ),
      );
      items.push(...(batch.Responses?.[table.name] ?? []));
      keys = batch.UnprocessedKeys?.[table.name]?.Keys ?? [];
      if (keys.length > 0) throw unprocessed;
    },
    { attempts: 5, baseMs: 20, capMs: 320, retryable: (error) => error === unprocessed },
  );
  return items;
}
