/**
 * The reliability tools checked against the real DynamoDB Local: the fault proxy's fabricated
 * errors are parsed by the SDK (with the service's own client configuration) and mapped by the
 * service's store as DynamoDB's would be; a lost response commits once; the audit finds drift
 * it is shown.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ulid } from 'ulid';
import { createDocumentClient } from '../../lib/persistence/dynamodb-client';
import { TransientStoreError, LedgerStore } from '../../lib/persistence/ledger-store';
import { pendingEntryKey, statementLineKey } from '../../lib/persistence/keys';
import {
  findFreePort,
  localDynamoDbClient,
  startDynamoDbLocal,
  type DynamoDbLocalProcess,
} from '../../scripts/lib/dynamodb-local';
import { ensureTable } from '../../scripts/lib/table';
import {
  CONTROL_PREFIX,
  remoteStats,
  setRemotePlan,
  startFaultProxy,
  type FaultProxy,
} from '../../scripts/lib/fault-proxy';
import { auditLedger } from '../../scripts/lib/bank/audit';
import { createTestLedger, customer, type TestLedger } from '../support/ledger';

const TABLE = 'reliability-tools';
let dynamo: DynamoDbLocalProcess;
let proxy: FaultProxy;
let ledger: TestLedger;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: await findFreePort() });
  proxy = await startFaultProxy({ target: dynamo.endpoint, seed: 1 });
  const client = localDynamoDbClient(dynamo.endpoint);
  await ensureTable(client, TABLE);
  client.destroy();
  ledger = await createTestLedger('tools', { endpoint: dynamo.endpoint, tableName: TABLE });
});

afterAll(async () => {
  await ledger?.close();
  await proxy?.stop();
  await dynamo?.stop();
});

beforeEach(() => {
  proxy.setPlan(null);
  proxy.resetStats();
});

/** The service's own client (maxAttempts 3, no request timeout), through the proxy. */
const serviceClient = () => createDocumentClient({ region: 'us-east-1', endpoint: proxy.endpoint });

const counterTransaction = (id: string) =>
  new TransactWriteCommand({
    TransactItems: [
      {
        Update: {
          TableName: TABLE,
          Key: { pk: `COUNTER#${id}`, sk: 'C' },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
      {
        Put: {
          TableName: TABLE,
          Item: { pk: `ONCE#${id}`, sk: 'O' },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ],
  });

async function counter(id: string): Promise<number | undefined> {
  const out = await ledger.doc.send(
    new GetCommand({
      TableName: TABLE,
      Key: { pk: `COUNTER#${id}`, sk: 'C' },
      ConsistentRead: true,
    }),
  );
  return out.Item?.n as number | undefined;
}

describe('fault proxy', () => {
  it('fabricates a TransactionCanceledException with one TransactionConflict reason per item, which the store reads as a conflict', async () => {
    proxy.setPlan({ rules: [{ kind: 'conflict' }] });
    const doc = serviceClient();
    const error = await doc.send(counterTransaction(ulid())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const cancelled = error as TransactionCanceledException;
    expect(cancelled.CancellationReasons?.map((r) => r.Code)).toEqual([
      'TransactionConflict',
      'None',
    ]);
    expect(cancelled.$metadata.httpStatusCode).toBe(400);
    expect(cancelled.$metadata.attempts).toBe(1); // not retried by the SDK: the domain's job

    const store = new LedgerStore(doc, TABLE);
    const account = await ledger.openAccount(customer('alice'), 1_000);
    const write = await store
      .writeMovement({
        transactionId: ulid(),
        accountId: account.accountId,
        type: 'WITHDRAWAL',
        amount: 10,
        idempotencyKey: 'k-conflict',
        requestHash: 'h',
        createdAt: new Date().toISOString(),
        requiredOwnerId: account.ownerId,
        expiresAt: 2_000_000_000,
      })
      .catch((e: unknown) => e);
    expect(write).toBeInstanceOf(TransientStoreError);
    expect((write as TransientStoreError).kind).toBe('conflict');
    expect(proxy.stats().injected.conflict).toBe(2);
    doc.destroy();
  });

  it.each([
    ['throttling', 'ThrottlingException', 'throttled'],
    ['provisioned-throughput', 'ProvisionedThroughputExceededException', 'throttled'],
    ['server-error', 'InternalServerError', 'unavailable'],
  ] as const)(
    '%s: the SDK recognises %s, retries it, and the store maps it to %s',
    async (kind, name, mapped) => {
      const doc = serviceClient();
      // Once: the SDK's retry gets through and the write commits exactly once.
      proxy.setPlan({ rules: [{ kind, limit: 1 }] });
      const id = ulid();
      const out = await doc.send(counterTransaction(id));
      expect(out.$metadata.attempts).toBe(2);
      expect(await counter(id)).toBe(1);
      // Always: the SDK gives up after its 3 attempts; the store says what kind of failure.
      proxy.setPlan({ rules: [{ kind }] });
      const error = await doc.send(counterTransaction(ulid())).catch((e: unknown) => e);
      expect((error as Error).name).toBe(name);
      expect((error as { $metadata: { attempts: number } }).$metadata.attempts).toBe(3);
      const stored = await new LedgerStore(doc, TABLE).getAccount('X').catch((e: unknown) => e);
      expect(stored).toBeInstanceOf(TransientStoreError);
      expect((stored as TransientStoreError).kind).toBe(mapped);
      doc.destroy();
    },
  );

  it('reset-before: the connection is reset before DynamoDB sees the request; the SDK retries', async () => {
    proxy.setPlan({ rules: [{ kind: 'reset-before', limit: 1 }] });
    const doc = serviceClient();
    const id = ulid();
    const out = await doc.send(counterTransaction(id));
    expect(out.$metadata.attempts).toBe(2);
    expect(await counter(id)).toBe(1);
    expect(proxy.stats().injected['reset-before']).toBe(1);
    doc.destroy();
  });

  it('lost-response: DynamoDB commits, the response is reset; the SDK retry (same ClientRequestToken) does not commit twice', async () => {
    proxy.setPlan({ rules: [{ kind: 'lost-response', limit: 1 }] });
    const doc = serviceClient();
    const id = ulid();
    await doc.send(counterTransaction(id));
    expect(await counter(id)).toBe(1);
    const stats = proxy.stats();
    expect(stats.lostAfterCommit).toBe(1);
    expect(stats.retriesAfterLostResponse).toBe(1);
    doc.destroy();
  });

  it('lost-response-hang: the answer never comes; the service client waits until the connection is dropped', async () => {
    proxy.setPlan({ rules: [{ kind: 'lost-response-hang', limit: 1, hangMs: 1500 }] });
    const doc = serviceClient();
    const id = ulid();
    const started = Date.now();
    await doc.send(counterTransaction(id));
    // No request timeout: the SDK only retried once the proxy dropped the connection.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(await counter(id)).toBe(1);
    const [lost] = [...proxy.lostResponses().values()];
    expect(lost).toMatchObject({
      kind: 'lost-response-hang',
      upstreamStatus: 200,
      closedBy: 'proxy',
      retries: 1,
    });
    doc.destroy();
  });

  it('latency: delays the request, then forwards it', async () => {
    proxy.setPlan({ rules: [{ kind: 'latency', latencyMs: 300 }] });
    const doc = serviceClient();
    const started = Date.now();
    await doc.send(counterTransaction(ulid()));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    doc.destroy();
  });

  it('is switched at run time over its HTTP control API, and refuses a malformed plan', async () => {
    await setRemotePlan(proxy.endpoint, {
      label: 'remote',
      rules: [{ kind: 'server-error', operations: ['GetItem'], limit: 1 }],
    });
    expect(proxy.currentPlan()?.label).toBe('remote');
    const doc = serviceClient();
    await new LedgerStore(doc, TABLE).getAccount('X');
    expect((await remoteStats(proxy.endpoint)).injectedByOperation['server-error GetItem']).toBe(1);
    const refused = await fetch(`${proxy.endpoint}${CONTROL_PREFIX}/plan`, {
      method: 'PUT',
      body: JSON.stringify({ rules: [{ kind: 'meteor' }] }),
    });
    expect(refused.status).toBe(400);
    await setRemotePlan(proxy.endpoint, null);
    expect(proxy.currentPlan()).toBeNull();
    doc.destroy();
  });
});

describe('audit', () => {
  it('passes a ledger that adds up, and reports each kind of drift it is shown', async () => {
    const alice = customer('alice');
    const account = await ledger.openAccount(alice, 5_000);
    const { withdraw } = await import('../../lib/domain/movements');
    for (let i = 0; i < 5; i++) {
      await withdraw(ledger.deps, {
        caller: alice,
        accountId: account.accountId,
        amount: 100 + i,
        idempotencyKey: `audit-${i}`,
        requestId: 'r',
      });
    }
    await ledger.drain();
    const client = localDynamoDbClient(dynamo.endpoint);
    try {
      const clean = await auditLedger(client, TABLE);
      expect(clean.drifting).toEqual([]);
      expect(clean.accounts).toBeGreaterThan(0);

      const problemsOf = async (): Promise<string[]> =>
        (await auditLedger(client, TABLE, { attempts: 1 })).drifting.find(
          (a) => a.accountId === account.accountId,
        )?.problems ?? [];

      // A statement line whose balanceAfter does not chain.
      const line3 = statementLineKey(account.accountId, 3);
      await ledger.doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: line3,
          UpdateExpression: 'SET balanceAfter = balanceAfter + :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
      expect((await problemsOf()).join('\n')).toMatch(/sequence 3: balanceAfter \d+, chained/);
      await ledger.doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: line3,
          UpdateExpression: 'SET balanceAfter = balanceAfter - :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );

      // A movement without its statement line: a gap, and a balance the ledger does not explain.
      const lines = await ledger.statement(account.accountId);
      const last = lines[0];
      if (last?.sequence == null) throw new Error('no statement');
      await ledger.doc.send(
        new DeleteCommand({ TableName: TABLE, Key: statementLineKey(account.accountId, 2) }),
      );
      const gap = (await problemsOf()).join('\n');
      expect(gap).toMatch(/has sequence 3 \(gap or repeat\)/);
      expect(gap).toMatch(/version \d+ ≠/);
      const second = lines.find((l) => l.sequence === 2);
      await ledger.doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { ...statementLineKey(account.accountId, 2), ...second },
        }),
      );

      // A pending entry for money that never moved: the balance no longer adds up.
      const ghostId = ulid();
      await ledger.doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: {
            ...pendingEntryKey(account.accountId, ghostId),
            transactionId: ghostId,
            accountId: account.accountId,
            type: 'WITHDRAWAL',
            amount: 7,
            idempotencyKey: 'ghost',
            createdAt: new Date().toISOString(),
          },
        }),
      );
      const ghost = (await problemsOf()).join('\n');
      expect(ghost).toMatch(/balance \d+ ≠ statement/);
      expect(ghost).toMatch(/has no idempotency marker/);
    } finally {
      client.destroy();
    }
  });
});
