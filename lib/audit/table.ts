/** The audit's reads of the ledger table: strongly consistent, every page. */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { accountKey, ledgerPartition, pendingPartitions } from '../persistence/keys';

/** An item as the table holds it: the audit trusts none of its attributes. */
export type Item = Record<string, unknown>;

export const num = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN);
export const str = (value: unknown): string => (typeof value === 'string' ? value : '');

type Page = { Items?: Item[]; LastEvaluatedKey?: Item };

/**
 * Every item of a read, page after page. Errors stay the SDK's own (the persistence adapters'
 * queryAll turns them into the domain's): the audit reports them as they are.
 */
async function allPages(read: (start: Item | undefined) => Promise<Page>): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await read(start);
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Every item with this sort key (accounts, markers). */
export function scanAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  sk: string,
): Promise<Item[]> {
  return allPages((start) =>
    doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'sk = :sk',
        ExpressionAttributeValues: { ':sk': sk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    ),
  );
}

/** Every item of a partition, optionally under a sort-key prefix. */
export function queryAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  prefix?: string,
): Promise<Item[]> {
  return allPages((start) =>
    doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression:
          prefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues:
          prefix === undefined ? { ':pk': pk } : { ':pk': pk, ':prefix': prefix },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    ),
  );
}

/** An account's statement lines, and its pending entries (all its pending partitions). */
export async function ledgerOf(
  doc: DynamoDBDocumentClient,
  tableName: string,
  accountId: string,
): Promise<{ lines: Item[]; pending: Item[] }> {
  const lines = await queryAll(doc, tableName, ledgerPartition(accountId), 'L#');
  const pending = await Promise.all(
    pendingPartitions(accountId).map((pk) => queryAll(doc, tableName, pk)),
  );
  return { lines, pending: pending.flat() };
}

export async function getItem(
  doc: DynamoDBDocumentClient,
  tableName: string,
  key: Record<string, string>,
): Promise<Item | undefined> {
  return (await doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true })))
    .Item;
}

export const getAccount = (doc: DynamoDBDocumentClient, tableName: string, accountId: string) =>
  getItem(doc, tableName, accountKey(accountId));
