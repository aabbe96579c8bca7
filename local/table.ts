import {
  CreateTableCommand,
  UpdateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type AttributeValue,
  ScanCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { completeStatement } from '../lib/domain/statement-figures';
import { dynamoLedgerStore } from '../lib/persistence/dynamodb-store';
import { serverlessResource, serverlessYmlPath } from './serverless-config';
import { waitFor, type WaitOptions } from './wait';

/**
 * The ledger table is declared once, in serverless.yml (resources.Resources.LedgerTable). Local
 * tooling derives its CreateTable input from there so the emulator's table cannot drift from AWS's.
 */

export const TABLE_LOGICAL_ID = 'LedgerTable';

const keySchema = z.array(
  z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) }).strict(),
);
const projection = z
  .object({
    ProjectionType: z.enum(['ALL', 'KEYS_ONLY', 'INCLUDE']).optional(),
    NonKeyAttributes: z.array(z.string()).optional(),
  })
  .strict();
const throughput = z
  .object({
    ReadCapacityUnits: z.coerce.number().int(),
    WriteCapacityUnits: z.coerce.number().int(),
  })
  .strict();

/** The LedgerTable properties we translate; anything else is named in an error, not dropped silently. */
const tableProperties = z
  .object({
    TableName: z.unknown().optional(),
    BillingMode: z.enum(['PAY_PER_REQUEST', 'PROVISIONED']).optional(),
    ProvisionedThroughput: throughput.optional(),
    AttributeDefinitions: z.array(
      z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) }).strict(),
    ),
    KeySchema: keySchema,
    GlobalSecondaryIndexes: z
      .array(
        z
          .object({
            IndexName: z.string(),
            KeySchema: keySchema,
            Projection: projection,
            ProvisionedThroughput: throughput.optional(),
          })
          .strict(),
      )
      .optional(),
    LocalSecondaryIndexes: z
      .array(
        z.object({ IndexName: z.string(), KeySchema: keySchema, Projection: projection }).strict(),
      )
      .optional(),
    StreamSpecification: z
      .object({
        StreamViewType: z.enum(['NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY']),
      })
      .strict()
      .optional(),
    TimeToLiveSpecification: z
      .object({ AttributeName: z.string(), Enabled: z.union([z.boolean(), z.string()]) })
      .strict()
      .optional(),
    // Accepted by CloudFormation, not by DynamoDB Local's CreateTable (or irrelevant locally).
    PointInTimeRecoverySpecification: z.unknown().optional(),
    SSESpecification: z.unknown().optional(),
    DeletionProtectionEnabled: z.unknown().optional(),
    Tags: z.unknown().optional(),
    TableClass: z.unknown().optional(),
    ContributorInsightsSpecification: z.unknown().optional(),
  })
  .strict();

export interface TableSpec {
  createTableInput: CreateTableCommandInput;
  /** The TTL attribute if serverless.yml enables TTL, else undefined. */
  ttlAttributeName: string | undefined;
}

export function tableSpecFromServerlessYml(
  tableName: string,
  opts: { file?: string; logicalId?: string } = {},
): TableSpec {
  const file = opts.file ?? serverlessYmlPath();
  const logicalId = opts.logicalId ?? TABLE_LOGICAL_ID;
  const resource = serverlessResource(logicalId, 'AWS::DynamoDB::Table', file);
  const parsed = tableProperties.safeParse(resource.Properties);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`${file}: unsupported ${logicalId}.Properties: ${problems}`);
  }
  const p = parsed.data;
  const input: CreateTableCommandInput = {
    TableName: tableName,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    BillingMode: p.BillingMode ?? 'PROVISIONED',
  };
  if (p.ProvisionedThroughput !== undefined) input.ProvisionedThroughput = p.ProvisionedThroughput;
  if (p.GlobalSecondaryIndexes !== undefined)
    input.GlobalSecondaryIndexes = p.GlobalSecondaryIndexes;
  if (p.LocalSecondaryIndexes !== undefined) input.LocalSecondaryIndexes = p.LocalSecondaryIndexes;
  if (p.StreamSpecification !== undefined) {
    input.StreamSpecification = {
      StreamEnabled: true,
      StreamViewType: p.StreamSpecification.StreamViewType,
    };
  }
  const ttl = p.TimeToLiveSpecification;
  const ttlEnabled = ttl !== undefined && (ttl.Enabled === true || ttl.Enabled === 'true');
  return { createTableInput: input, ttlAttributeName: ttlEnabled ? ttl.AttributeName : undefined };
}

/** CreateTable input for `tableName` from serverless.yml's LedgerTable. */
export function tableDefinitionFromServerlessYml(tableName: string): CreateTableCommandInput {
  return tableSpecFromServerlessYml(tableName).createTableInput;
}

const errorName = (err: unknown): string | undefined =>
  err instanceof Error ? err.name : undefined;

async function describe(
  client: DynamoDBClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

export interface EnsureTableResult {
  created: boolean;
  tableArn: string | undefined;
  streamArn: string | undefined;
}

/** How long one index added to an existing table may take to become ACTIVE. */
const INDEX_TIMEOUT_MS = 180_000;

/**
 * Creates the table from serverless.yml if it does not exist (idempotent, also under concurrent
 * callers), waits until it is ACTIVE, then enables TTL as serverless.yml declares it.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  opts: { timeoutMs?: number; indexTimeoutMs?: number } = {},
): Promise<EnsureTableResult> {
  const spec = tableSpecFromServerlessYml(tableName);
  const wait = { timeoutMs: opts.timeoutMs ?? 30_000 };
  const created = await createIfMissing(client, spec.createTableInput);
  const table = await waitFor(
    `table ${tableName} ACTIVE`,
    () => describe(client, tableName),
    (described) => described?.TableStatus === 'ACTIVE',
    wait,
  );
  // An index added to a table that has data is built from it: slower than a table, and on a
  // busy machine DynamoDB Local took more than 30 s for the first of three (CI).
  await addMissingIndexes(client, spec.createTableInput, table, {
    timeoutMs: opts.indexTimeoutMs ?? INDEX_TIMEOUT_MS,
  });
  if (spec.ttlAttributeName !== undefined) {
    await enableTtl(client, tableName, spec.ttlAttributeName);
  }
  return { created, tableArn: table?.TableArn, streamArn: table?.LatestStreamArn };
}

async function createIfMissing(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
): Promise<boolean> {
  if ((await describe(client, input.TableName ?? '')) !== undefined) return false;
  try {
    await client.send(new CreateTableCommand(input));
    return true;
  } catch (err) {
    if (errorName(err) !== 'ResourceInUseException') throw err;
    return false; // a concurrent caller created it first
  }
}

/** A table made before an index was declared (data kept on disk by an older npm start) gets it. */
async function addMissingIndexes(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
  table: TableDescription | undefined,
  wait: WaitOptions,
): Promise<void> {
  const tableName = input.TableName ?? '';
  const existing = new Set((table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    if (existing.has(index.IndexName)) continue;
    try {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: input.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
    } catch (err) {
      if (!(errorName(err) === 'ValidationException' && /already exists/i.test(String(err)))) {
        throw err;
      }
    }
    await waitFor(
      `index ${String(index.IndexName)} ACTIVE`,
      async () => {
        const described = await describe(client, tableName);
        const status = described?.GlobalSecondaryIndexes?.find(
          (i) => i.IndexName === index.IndexName,
        )?.IndexStatus;
        return status === 'ACTIVE';
      },
      { ...wait, intervalMs: 100 },
    );
  }
}

async function enableTtl(
  client: DynamoDBClient,
  tableName: string,
  attributeName: string,
): Promise<void> {
  const current = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = current.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attributeName, Enabled: true },
      }),
    );
  } catch (err) {
    // A concurrent caller enabled it first.
    const alreadyOn =
      errorName(err) === 'ValidationException' &&
      err instanceof Error &&
      /already enabled/i.test(err.message);
    if (!alreadyOn) throw err;
  }
}

/**
 * Accounts written before balances had `available` and `pending` (data kept on disk by an
 * older npm start) get them: available = balance, nothing pending. Conditional, so it never
 * overwrites an account that has them.
 */
export const backfillAccountBalances = (client: DynamoDBClient, tableName: string) =>
  backfillAccounts(client, tableName, {
    missing: 'available',
    update: 'SET available = balance, pending = :zero',
    values: { ':zero': { N: '0' } },
  });

/**
 * Accounts whose fee schedule was set before fees and limits shared one version (`feeVersion`,
 * data kept on disk by an older npm start) carry it on as `termsVersion`, so their schedule is
 * still charged. Its item keeps the version it was set at.
 */
export const backfillTermsVersion = (client: DynamoDBClient, tableName: string) =>
  backfillAccounts(client, tableName, {
    missing: 'termsVersion',
    present: 'feeVersion',
    update: 'SET termsVersion = feeVersion REMOVE feeVersion',
  });

/** Updates every account item that lacks `missing` (and has `present`), each conditionally. */
async function backfillAccounts(
  client: DynamoDBClient,
  tableName: string,
  change: {
    missing: string;
    present?: string;
    update: string;
    values?: Record<string, AttributeValue>;
  },
): Promise<number> {
  const lacking = `attribute_not_exists(${change.missing})${
    change.present ? ` AND attribute_exists(${change.present})` : ''
  }`;
  let updated = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: `sk = :account AND ${lacking}`,
        ExpressionAttributeValues: { ':account': { S: 'ACCOUNT' } },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey: start,
      }),
    );
    for (const key of page.Items ?? []) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: change.update,
            ConditionExpression: `attribute_exists(pk) AND ${lacking}`,
            ...(change.values ? { ExpressionAttributeValues: change.values } : {}),
          }),
        );
        updated += 1;
      } catch (err) {
        if (errorName(err) !== 'ConditionalCheckFailedException') throw err;
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return updated;
}

/**
 * Statement lines kept on disk by an older npm start (before running figures) get their figures
 * and history index keys, account by account (lib/domain/statement-figures.ts). Returns how many
 * accounts needed it.
 */
export async function completeStatementFigures(
  client: DynamoDBClient,
  tableName: string,
): Promise<number> {
  const store = dynamoLedgerStore(
    DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tableName,
  );
  let completed = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'sk = :account AND version > :zero',
        ExpressionAttributeValues: { ':account': { S: 'ACCOUNT' }, ':zero': { N: '0' } },
        ProjectionExpression: 'pk, version',
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const accountId = item.pk?.S?.replace(/^ACCOUNT#/, '');
      const version = Number(item.version?.N ?? 0);
      if (accountId !== undefined && (await completeStatement(store, accountId, version))) {
        completed += 1;
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return completed;
}
