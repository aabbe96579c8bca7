import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  localDynamoDbClient,
  startDynamoDbLocal,
  type DynamoDbLocalProcess,
} from '../../local/dynamodb-local';
import { assertPortFree, findFreePort } from '../../local/ports';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import {
  backfillAccountBalances,
  backfillTermsVersion,
  completeStatementFigures,
  ensureTable,
  tableDefinitionFromServerlessYml,
} from '../../local/table';
import { sleep, waitFor } from '../../local/wait';
import { createTestTable } from '../support/dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { statementLineKey } from '../../lib/persistence/keys';

/** Version of the item's new image, as the handler sees it (raw AttributeValues). */
const versionOf = (record: DynamoDBRecord): number => Number(record.dynamodb?.NewImage?.v?.N);
const pkOf = (record: DynamoDBRecord): string => record.dynamodb?.Keys?.pk?.S ?? '?';

async function bump(client: DynamoDBClient, tableName: string, pk: string): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { pk: { S: pk }, sk: { S: 'ACCOUNT' } },
      UpdateExpression: 'SET #v = if_not_exists(#v, :zero) + :one',
      ExpressionAttributeNames: { '#v': 'v' },
      ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' } },
    }),
  );
}

async function put(client: DynamoDBClient, tableName: string, pk: string, sk = 'ACCOUNT') {
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { pk: { S: pk }, sk: { S: sk }, v: { N: '0' } },
    }),
  );
}

/** A poller whose handler records every record it was given. */
function recordingPoller(
  opts: {
    endpoint: string;
    tableName: string;
    checkpointFile?: string;
    batchSize?: number;
    filter?: (record: DynamoDBRecord) => boolean;
    onBatch?: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  },
  seen: DynamoDBRecord[],
  errors: unknown[],
): StreamPoller {
  return startStreamPoller({
    endpoint: opts.endpoint,
    tableName: opts.tableName,
    checkpointFile: opts.checkpointFile,
    batchSize: opts.batchSize,
    filter: opts.filter,
    pollIntervalMs: 20,
    onError: (err) => errors.push(err),
    handler: async (event) => {
      const response = opts.onBatch ? await opts.onBatch(event) : undefined;
      const failedFrom = response?.batchItemFailures[0]?.itemIdentifier;
      for (const record of event.Records) {
        if (record.dynamodb?.SequenceNumber === failedFrom) break;
        seen.push(record);
      }
      return response;
    },
  });
}

describe('DynamoDB Local (shared in-memory instance)', () => {
  const pollers: StreamPoller[] = [];
  const clients: DynamoDBClient[] = [];
  const tempDirs: string[] = [];

  /** Each test gets its own table (and so its own stream). */
  const freshTable = async (name: string) => {
    const table = await createTestTable(`ddblocal-${name}`);
    clients.push(table.client);
    return table;
  };

  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.stop()));
  });

  afterAll(() => {
    for (const c of clients) c.destroy();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  const tempDir = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'poller-test-'));
    tempDirs.push(dir);
    return dir;
  };

  test('an older table (data kept by an earlier npm start) gets the open-payouts, references, transactions, history and events indexes, its accounts available = balance, a fee version carried on as the terms version, and its statement lines their running figures', async () => {
    // A DynamoDB Local of its own, as npm start's is: on the shared one, busy with the other
    // suites, an index added to a table stayed CREATING past 180 s twice in CI.
    const own = await startDynamoDbLocal({ port: await findFreePort() });
    const client = localDynamoDbClient(own.endpoint);
    const tableName = 'upgrade';
    try {
      await upgradeOlderTable(client, tableName);
    } finally {
      client.destroy();
      await own.stop();
    }
  }, 800_000); // four indexes built on a table with data, each within 180 s

  /** The older shape, no index and an account without available/pending, then npm start's upgrade. */
  async function upgradeOlderTable(client: DynamoDBClient, tableName: string): Promise<void> {
    const { GlobalSecondaryIndexes: _index, ...older } =
      tableDefinitionFromServerlessYml(tableName);
    await client.send(
      new CreateTableCommand({
        ...older,
        AttributeDefinitions: older.AttributeDefinitions?.filter((a) =>
          ['pk', 'sk'].includes(a.AttributeName ?? ''),
        ),
      }),
    );
    const key = { pk: { S: 'ACCOUNT#01JOLDACCOUNT0000000000000' }, sk: { S: 'ACCOUNT' } };
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...key, balance: { N: '4200' }, version: { N: '3' } },
      }),
    );

    // A fee schedule set before fees and limits shared one version.
    const priced = { pk: { S: 'ACCOUNT#01JOLDPRICED00000000000000' }, sk: { S: 'ACCOUNT' } };
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          ...priced,
          balance: { N: '10' },
          available: { N: '10' },
          pending: { N: '0' },
          version: { N: '1' },
          feeVersion: { N: '3' },
        },
      }),
    );

    // Its three statement lines, written before lines had running figures.
    for (const sequence of [1, 2, 3]) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: marshall({
            ...statementLineKey('01JOLDACCOUNT0000000000000', sequence),
            transactionId: `01JOLDTX${String(sequence).padStart(18, '0')}`,
            accountId: '01JOLDACCOUNT0000000000000',
            type: 'DEPOSIT',
            amount: 1400,
            currency: 'USD',
            balanceAfter: 1400 * sequence,
            sequence,
            idempotencyKey: `old-${sequence}`,
            createdAt: `2025-06-0${sequence}T10:00:00.000Z`,
            status: 'POSTED',
          }),
        }),
      );
    }

    await ensureTable(client, tableName);
    expect(await completeStatementFigures(client, tableName)).toBe(1);
    expect(await completeStatementFigures(client, tableName)).toBe(0);
    const third = (
      await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: marshall(statementLineKey('01JOLDACCOUNT0000000000000', 3)),
        }),
      )
    ).Item;
    expect(third).toMatchObject({
      postedAt: { S: '2025-06-03T10:00:00.000Z' },
      totalsAfter: { M: { DEPOSIT: { N: '4200' } } },
      historyKey: { S: '01JOLDACCOUNT0000000000000#DEPOSIT#POSTED' },
    });
    expect(await backfillAccountBalances(client, tableName)).toBe(1);
    expect(await backfillAccountBalances(client, tableName)).toBe(0);
    expect(await backfillTermsVersion(client, tableName)).toBe(1);
    expect(await backfillTermsVersion(client, tableName)).toBe(0);
    const repriced = (await client.send(new GetItemCommand({ TableName: tableName, Key: priced })))
      .Item;
    expect(repriced?.termsVersion).toEqual({ N: '3' });
    expect(repriced?.feeVersion).toBeUndefined();

    const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    expect(table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus]).sort()).toEqual([
      ['events', 'ACTIVE'],
      ['history', 'ACTIVE'],
      ['open-payouts', 'ACTIVE'],
      ['references', 'ACTIVE'],
      ['transactions', 'ACTIVE'],
    ]);
    const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: key }))).Item;
    expect(item).toMatchObject({
      balance: { N: '4200' },
      available: { N: '4200' },
      pending: { N: '0' },
    });
  }

  test('the table from serverless.yml has pk/sk keys, the open-payouts, references, transactions, history and events indexes, a NEW_AND_OLD_IMAGES stream and TTL', async () => {
    const { client, tableName } = await freshTable('definition');
    const definition = tableDefinitionFromServerlessYml('anything');
    expect(definition).toEqual({
      TableName: 'anything',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'openPayoutShard', AttributeType: 'S' },
        { AttributeName: 'openPayoutDue', AttributeType: 'S' },
        { AttributeName: 'referenceKey', AttributeType: 'S' },
        { AttributeName: 'transactionKey', AttributeType: 'S' },
        { AttributeName: 'historyKey', AttributeType: 'S' },
        { AttributeName: 'historyAt', AttributeType: 'S' },
        { AttributeName: 'feedKey', AttributeType: 'S' },
        { AttributeName: 'feedAt', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'open-payouts',
          KeySchema: [
            { AttributeName: 'openPayoutShard', KeyType: 'HASH' },
            { AttributeName: 'openPayoutDue', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'references',
          KeySchema: [
            { AttributeName: 'referenceKey', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'transactions',
          KeySchema: [{ AttributeName: 'transactionKey', KeyType: 'HASH' }],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: [
              'transactionId',
              'accountId',
              'type',
              'amount',
              'currency',
              'status',
              'counterpartyAccountId',
              'sequence',
              'createdAt',
            ],
          },
        },
        {
          IndexName: 'history',
          KeySchema: [
            { AttributeName: 'historyKey', KeyType: 'HASH' },
            { AttributeName: 'historyAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'events',
          KeySchema: [
            { AttributeName: 'feedKey', KeyType: 'HASH' },
            { AttributeName: 'feedAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });

    const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    expect(table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table?.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    expect(table?.LatestStreamArn).toMatch(/\/stream\//);
    expect(table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus]).sort()).toEqual([
      ['events', 'ACTIVE'],
      ['history', 'ACTIVE'],
      ['open-payouts', 'ACTIVE'],
      ['references', 'ACTIVE'],
      ['transactions', 'ACTIVE'],
    ]);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expiresAt',
    });
    // Idempotent, also when called concurrently.
    const again = await Promise.all([
      ensureTable(client, tableName),
      ensureTable(client, tableName),
    ]);
    expect(again.map((r) => r.created)).toEqual([false, false]);
    expect(again[0]?.streamArn).toBe(table?.LatestStreamArn);
  });

  test('a port in use is refused with the variable name', async () => {
    const { endpoint } = await freshTable('port');
    const port = Number(new URL(endpoint).port);
    await expect(assertPortFree(port, 'DYNAMODB_PORT')).rejects.toThrow(
      `Port ${port} is already in use (DYNAMODB_PORT)`,
    );
    await expect(startDynamoDbLocal({ port })).rejects.toThrow(
      `Port ${port} is already in use (DYNAMODB_PORT)`,
    );
  });

  test('delivers the MODIFY records of one item updated 200 times concurrently, in order, once each', async () => {
    const { client, tableName, endpoint } = await freshTable('ordering');
    const pk = 'ordering';
    await put(client, tableName, pk);
    const seen: DynamoDBRecord[] = [];
    const errors: unknown[] = [];
    const poller = recordingPoller(
      { endpoint, tableName, filter: (r) => pkOf(r) === pk },
      seen,
      errors,
    );
    pollers.push(poller);

    // Enough sockets for all 200 at once (the default 50 queues the rest and warns).
    const burst = new DynamoDBClient({
      endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      requestHandler: { httpAgent: { maxSockets: 200 } },
    });
    clients.push(burst);
    await Promise.all(Array.from({ length: 200 }, () => bump(burst, tableName, pk)));
    await poller.drain(20_000);

    const modifies = seen.filter((r) => r.eventName === 'MODIFY');
    expect(modifies.map(versionOf)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(seen.filter((r) => r.eventName === 'INSERT').map(versionOf)).toEqual([0]);
    expect(errors).toEqual([]);

    // The Lambda record shape the sequencer handler relies on.
    const first = modifies[0];
    expect(first).toMatchObject({
      eventName: 'MODIFY',
      eventSource: 'aws:dynamodb',
      eventID: expect.any(String),
      dynamodb: {
        Keys: { pk: { S: pk }, sk: { S: 'ACCOUNT' } },
        NewImage: { pk: { S: pk }, sk: { S: 'ACCOUNT' }, v: { N: '1' } },
        OldImage: { pk: { S: pk }, sk: { S: 'ACCOUNT' }, v: { N: '0' } },
        SequenceNumber: expect.stringMatching(/^\d+$/),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
    const created = first?.dynamodb?.ApproximateCreationDateTime ?? 0;
    expect(Math.abs(created - Date.now() / 1000)).toBeLessThan(120); // epoch seconds
  }, 60_000);

  test('a handler that throws is retried with the same batch; nothing is lost or skipped', async () => {
    const { client, tableName, endpoint } = await freshTable('retry');
    const pk = 'retry';
    const seen: DynamoDBRecord[] = [];
    const errors: unknown[] = [];
    let calls = 0;
    const poller = recordingPoller(
      {
        endpoint,
        tableName,
        filter: (r) => pkOf(r) === pk,
        onBatch: async () => {
          calls += 1;
          if (calls === 1) throw new Error('boom once');
        },
      },
      seen,
      errors,
    );
    pollers.push(poller);
    await put(client, tableName, pk);
    await bump(client, tableName, pk);
    await waitFor('the first record', () => seen.length >= 1);
    await bump(client, tableName, pk);
    await poller.drain();

    // Only the handler's own failure is expected (a busy machine may add transient read errors).
    expect(errors.filter((e) => e instanceof Error && e.message === 'boom once')).toHaveLength(1);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(seen.map((r) => `${r.eventName}:${versionOf(r)}`)).toEqual([
      'INSERT:0',
      'MODIFY:1',
      'MODIFY:2',
    ]);
  }, 30_000);

  test('batchItemFailures: resumes from the first failed record', async () => {
    const { client, tableName, endpoint } = await freshTable('partial');
    const pk = 'partial';
    await put(client, tableName, pk);
    for (let i = 0; i < 5; i += 1) await bump(client, tableName, pk);
    const seen: DynamoDBRecord[] = [];
    const errors: unknown[] = [];
    const batches: number[][] = [];
    let failedOnce = false;
    const poller = recordingPoller(
      {
        endpoint,
        tableName,
        filter: (r) => pkOf(r) === pk,
        onBatch: async (event) => {
          batches.push(event.Records.map(versionOf));
          const third = event.Records.find((r) => versionOf(r) === 3);
          if (!failedOnce && third !== undefined) {
            failedOnce = true;
            return {
              batchItemFailures: [{ itemIdentifier: third.dynamodb?.SequenceNumber ?? '' }],
            };
          }
          return { batchItemFailures: [] };
        },
      },
      seen,
      errors,
    );
    pollers.push(poller);
    await poller.drain();

    expect(seen.map(versionOf)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(batches).toEqual([
      [0, 1, 2, 3, 4, 5],
      [3, 4, 5],
    ]);
    expect(errors).toHaveLength(1);
  }, 30_000);

  test('a filter skips (and checkpoints past) records that do not match', async () => {
    const { client, tableName, endpoint } = await freshTable('filter');
    const prefix = 'filtered-';
    const checkpointFile = path.join(tempDir(), 'checkpoint.json');
    const seen: DynamoDBRecord[] = [];
    const poller = recordingPoller(
      {
        endpoint,
        tableName,
        checkpointFile,
        filter: (r) => pkOf(r).startsWith(prefix) && r.dynamodb?.Keys?.sk?.S === 'ACCOUNT',
      },
      seen,
      [],
    );
    pollers.push(poller);
    await put(client, tableName, `${prefix}1`, 'STATEMENT#1');
    await put(client, tableName, `${prefix}1`);
    await put(client, tableName, `${prefix}1`, 'STATEMENT#2');
    await poller.drain();
    expect(seen.map((r) => `${pkOf(r)}/${r.dynamodb?.Keys?.sk?.S}`)).toEqual([
      `${prefix}1/ACCOUNT`,
    ]);
    // The checkpoint is past the last (skipped) record of the table's stream.
    const checkpoint = JSON.parse(readFileSync(checkpointFile, 'utf8')) as {
      version: number;
      shards: Record<string, { sequenceNumber?: string }>;
    };
    expect(checkpoint.version).toBe(1);
    const [shard, ...others] = Object.values(checkpoint.shards);
    expect(others).toEqual([]);
    const handled = BigInt(seen[0]?.dynamodb?.SequenceNumber ?? 'x');
    expect(BigInt(shard?.sequenceNumber ?? '0')).toBeGreaterThan(handled);
  }, 30_000);

  test('a poller stopped mid-burst and restarted with the same checkpoint file neither loses nor repeats', async () => {
    const { client, tableName, endpoint } = await freshTable('resume');
    const pk = 'resume';
    const checkpointFile = path.join(tempDir(), 'nested', 'checkpoint.json');
    const filter = (r: DynamoDBRecord): boolean => pkOf(r) === pk;
    const seen: DynamoDBRecord[] = [];
    const errors: unknown[] = [];
    const slow = async (): Promise<void> => sleep(5);

    await put(client, tableName, pk);
    const first = recordingPoller(
      { endpoint, tableName, checkpointFile, batchSize: 7, filter, onBatch: slow },
      seen,
      errors,
    );
    const writes = (async () => {
      for (let i = 0; i < 300; i += 1) await bump(client, tableName, pk);
    })();
    await waitFor('40 records', () => seen.length >= 40);
    await first.stop(); // mid-burst: writes continue without a poller
    const seenByFirst = seen.length;
    await writes;
    expect(seenByFirst).toBeLessThan(301); // really stopped mid-burst

    const second = recordingPoller(
      { endpoint, tableName, checkpointFile, batchSize: 7, filter, onBatch: slow },
      seen,
      errors,
    );
    pollers.push(second);
    await second.drain(30_000);

    expect(seen.map(versionOf)).toEqual(Array.from({ length: 301 }, (_, i) => i));
    expect(errors).toEqual([]);
  }, 60_000);

  test('a recreated table (new stream ARN) is followed from its TRIM_HORIZON, with a warning', async () => {
    const { client, tableName, endpoint } = await freshTable('recreate');
    const checkpointFile = path.join(tempDir(), 'checkpoint.json');
    const seen: DynamoDBRecord[] = [];
    const errors: unknown[] = [];
    const poller = recordingPoller({ endpoint, tableName, checkpointFile }, seen, errors);
    pollers.push(poller);
    await put(client, tableName, 'old-table');
    await poller.drain();
    const before = await ensureTable(client, tableName);

    await client.send(new DeleteTableCommand({ TableName: tableName }));
    const after = await ensureTable(client, tableName);
    expect(after.streamArn).not.toBe(before.streamArn);
    await put(client, tableName, 'new-table');
    await waitFor('both records', () => seen.length === 2);
    await poller.drain();

    expect(seen.map(pkOf)).toEqual(['old-table', 'new-table']);
    expect(String(errors[errors.length - 1])).toMatch(/Stream changed from .* to .*TRIM_HORIZON/);
    const checkpoint = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { streamArn: string };
    expect(checkpoint.streamArn).toBe(after.streamArn);
  }, 30_000);
});

describe('DynamoDB Local restarted on the same -sharedDb -dbPath', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ddb-restart-'));
  const checkpointFile = path.join(dataDir, 'stream-checkpoint.json');
  const tableName = 'ledger-restart';
  let ddb: DynamoDbLocalProcess | undefined;
  const pollers: StreamPoller[] = [];

  afterAll(async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    await ddb?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const count = async (client: DynamoDBClient): Promise<number | undefined> =>
    (await client.send(new ScanCommand({ TableName: tableName, Select: 'COUNT' }))).Count;

  const describeStream = async (endpoint: string, streamArn: string) => {
    const streams = new DynamoDBStreamsClient({
      endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      return (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn })))
        .StreamDescription;
    } finally {
      streams.destroy();
    }
  };

  test('keeps items, the stream (same ARN, shard and sequence numbers) and lets a checkpointed poller resume', async () => {
    const port = await findFreePort();
    ddb = await startDynamoDbLocal({ port, dataDir });
    const endpoint = ddb.endpoint;
    let client = localDynamoDbClient(endpoint);
    const { streamArn } = await ensureTable(client, tableName);
    if (streamArn === undefined) throw new Error('no stream');
    const shardsBefore = (await describeStream(endpoint, streamArn))?.Shards;

    // Before the restart: 5 records processed and checkpointed ...
    for (let i = 0; i < 5; i += 1) await put(client, tableName, `before-${i}`);
    const seenBefore: DynamoDBRecord[] = [];
    const p1 = recordingPoller({ endpoint, tableName, checkpointFile }, seenBefore, []);
    await p1.drain();
    await p1.stop();
    expect(seenBefore.map(pkOf)).toEqual([0, 1, 2, 3, 4].map((i) => `before-${i}`));
    // ... and 3 more written but not yet processed.
    for (let i = 0; i < 3; i += 1) await put(client, tableName, `pending-${i}`);
    client.destroy();

    // Graceful restart (SIGTERM).
    await ddb.stop();
    ddb = await startDynamoDbLocal({ port, dataDir });
    client = localDynamoDbClient(endpoint);
    const item = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: 'pending-2' }, sk: { S: 'ACCOUNT' } },
      }),
    );
    expect(item.Item?.v).toEqual({ N: '0' });
    expect(await count(client)).toBe(8);
    const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    expect(table?.LatestStreamArn).toBe(streamArn); // same stream
    expect((await describeStream(endpoint, streamArn))?.Shards).toEqual(shardsBefore); // same open shard
    for (let i = 0; i < 2; i += 1) await put(client, tableName, `after-${i}`);

    // A poller with the pre-restart checkpoint gets exactly the records it had not processed.
    const seen: DynamoDBRecord[] = [];
    const errors: unknown[] = [];
    const p2 = recordingPoller({ endpoint, tableName, checkpointFile }, seen, errors);
    pollers.push(p2);
    await p2.drain();
    expect(seen.map(pkOf)).toEqual(['pending-0', 'pending-1', 'pending-2', 'after-0', 'after-1']);
    const seqs = [...seenBefore, ...seen].map((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0'));
    expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(seqs).size).toBe(seqs.length); // numbering continues, no reuse

    // SIGKILL while a poller keeps running: it reconnects and carries on from its checkpoint.
    client.destroy();
    process.kill(ddb.pid, 'SIGKILL');
    await ddb.stop();
    ddb = await startDynamoDbLocal({ port, dataDir });
    client = localDynamoDbClient(endpoint);
    await put(client, tableName, 'after-kill');
    await p2.drain(20_000);
    expect(seen.map(pkOf).slice(5)).toEqual(['after-kill']);
    const after = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    expect(after?.LatestStreamArn).toBe(streamArn);
    expect(await count(client)).toBe(11);
    client.destroy();
  }, 180_000);
});
