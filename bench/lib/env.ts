import {
  CreateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import type { Account } from '../../lib/domain/types';
import { accountKey, ownerLinkKey } from '../../lib/persistence/keys';
import {
  localDynamoDbClient,
  startDynamoDbLocal,
  type DynamoDbLocalProcess,
} from '../../local/dynamodb-local';
import { findFreePort } from '../../local/ports';
import { ensureTable, tableSpecFromServerlessYml } from '../../local/table';

export const LEDGER_TABLE = 'bench-ledger';
/** Powertools Idempotency's own table (the usual alternative), partition key `id`. */
export const IDEMPOTENCY_TABLE = 'bench-idempotency';
export const IDEMPOTENCY_TTL_ATTRIBUTE = 'expiration';

/** Key attributes per table, for the cost meter's item lookups. */
export const KEY_SCHEMAS: Record<string, string[]> = {
  [LEDGER_TABLE]: ['pk', 'sk'],
  [IDEMPOTENCY_TABLE]: ['id'],
};

export interface Dynamo {
  process: DynamoDbLocalProcess;
  endpoint: string;
  /** For set-up and checks only; never timed. */
  setup: DynamoDBClient;
  setupDoc: DynamoDBDocumentClient;
}

/** Per table, the partition key attribute of each global secondary index (serverless.yml's). */
export const INDEX_KEYS: Record<string, string[]> = {
  [LEDGER_TABLE]: (
    tableSpecFromServerlessYml(LEDGER_TABLE).createTableInput.GlobalSecondaryIndexes ?? []
  ).flatMap((index) =>
    (index.KeySchema ?? [])
      .filter((key) => key.KeyType === 'HASH')
      .map((key) => key.AttributeName ?? ''),
  ),
};

/** One in-memory DynamoDB Local on a free port, the ledger table from serverless.yml, and Powertools' table. */
export async function startDynamo(): Promise<Dynamo> {
  const process = await startDynamoDbLocal({ port: await findFreePort() });
  const setup = localDynamoDbClient(process.endpoint);
  await ensureTable(setup, LEDGER_TABLE);
  await setup.send(
    new CreateTableCommand({
      TableName: IDEMPOTENCY_TABLE,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await setup.send(
    new UpdateTimeToLiveCommand({
      TableName: IDEMPOTENCY_TABLE,
      TimeToLiveSpecification: { AttributeName: IDEMPOTENCY_TTL_ATTRIBUTE, Enabled: true },
    }),
  );
  const setupDoc = DynamoDBDocumentClient.from(setup, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { process, endpoint: process.endpoint, setup, setupDoc };
}

/**
 * Accounts put straight into the table in the real layout (account item + owner link), funded,
 * with no movement yet: nothing for the sequencer to write.
 */
export async function createAccounts(
  doc: DynamoDBDocumentClient,
  tableName: string,
  ownerId: string,
  count: number,
  balance: number,
): Promise<string[]> {
  const now = new Date().toISOString();
  const ids = Array.from({ length: count }, () => ulid());
  const requests = ids.flatMap((accountId) => {
    const account: Account = {
      accountId,
      ownerId,
      currency: 'USD',
      balance,
      pending: 0,
      available: balance,
      version: 0,
      createdAt: now,
      updatedAt: now,
    };
    return [
      { PutRequest: { Item: { ...accountKey(accountId), ...account } } },
      { PutRequest: { Item: { ...ownerLinkKey(ownerId, accountId), accountId } } },
    ];
  });
  await batchWrite(doc, tableName, requests);
  return ids;
}

type WriteRequest = NonNullable<
  ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']
>[string][number];

/** BatchWriteItem in chunks of 25, `parallel` at a time, unprocessed items sent again. */
export async function batchWrite(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: WriteRequest[],
  options: { parallel?: number; onChunk?: (written: number) => void } = {},
): Promise<void> {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const chunk = chunks[next++];
      if (chunk === undefined) return;
      let pending = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt === 10) throw new Error('BatchWriteItem kept leaving items unprocessed');
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
        const result = await doc.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: pending } }),
        );
        pending = result.UnprocessedItems?.[tableName] ?? [];
      }
      options.onChunk?.(chunk.length);
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 4 }, () => worker()));
}

/**
 * The handlers log one JSON line per request (Powertools Logger, INFO as deployed) and flush
 * their metrics as EMF lines. Both are serialised as in Lambda, then dropped here instead of
 * flooding the terminal; counted. Warnings and errors still reach stdout.
 */
export function swallowHandlerLogs(): { lines(): number; restore(): void } {
  const original = process.stdout.write;
  let lines = 0;
  const write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === 'string' && /^\{"(level":"(INFO|DEBUG)"|_aws")/.test(chunk)) {
      lines += 1;
      const callback = rest.find((arg) => typeof arg === 'function') as
        | ((error?: Error | null) => void)
        | undefined;
      callback?.();
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  process.stdout.write = write as typeof process.stdout.write;
  return {
    lines: () => lines,
    restore: () => {
      process.stdout.write = original;
    },
  };
}
