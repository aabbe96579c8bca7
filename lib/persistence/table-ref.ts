import {
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
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
