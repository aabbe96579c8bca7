import { DEFAULT_LIMITS } from '../../lib/domain/limits';
import { TermsCache } from '../../lib/domain/terms';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { ulid } from 'ulid';
import { noMetrics } from '../../lib/metrics';
import { openAccount } from '../../lib/domain/accounts';
import { WithdrawalSwitch } from '../../lib/domain/controls';
import { deposit } from '../../lib/domain/movements';
import type { LedgerStore } from '../../lib/domain/ports';
import type { ServiceDeps } from '../../lib/service';
import { balanceEffect, type Account, type Caller, type LedgerEntry } from '../../lib/domain/types';
import { dynamoLedgerStore } from '../../lib/persistence/dynamodb-store';
import { ledgerPartition, pendingPartitions } from '../../lib/persistence/keys';
import { sequencerHandler } from '../../lib/sequencer-stream';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import { createTestTable } from './dynamodb';

export const operator: Caller = { userId: 'ops-user', username: 'ops', isOperator: true };
export const customer = (name: string): Caller => ({
  userId: `user-${name}`,
  username: name,
  isOperator: false,
});

/** Counts what the service asks of DynamoDB: commands sent, and HTTP attempts including SDK retries. */
export interface CallCounts {
  commands: Record<string, number>;
  attempts: Record<string, number>;
  /** Failed attempts by command and error, so a retry is never invisible. */
  failures: Record<string, number>;
}

type KeyOf = { pk?: string | { S?: string } };
type TransactItemKeys = Partial<
  Record<'Put', { Item?: KeyOf }> & Record<'Update' | 'Delete' | 'ConditionCheck', { Key?: KeyOf }>
>;

function pkOf(item: TransactItemKeys): string | undefined {
  const pk =
    item.Put?.Item?.pk ??
    item.Update?.Key?.pk ??
    item.Delete?.Key?.pk ??
    item.ConditionCheck?.Key?.pk;
  return typeof pk === 'string' ? pk : pk?.S;
}

export function countCalls(client: DynamoDBClient): CallCounts {
  const counts: CallCounts = { commands: {}, attempts: {}, failures: {} };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.commands[name] = (counts.commands[name] ?? 0) + 1;
      // Reads also by the kind of item they read (the part of pk before '#').
      const pk = (args.input as { Key?: { pk?: string | { S?: string } } }).Key?.pk;
      const key = typeof pk === 'string' ? pk : pk?.S;
      if (name === 'GetItemCommand' && key) {
        const kind = `GetItemCommand ${key.split('#')[0]}`;
        counts.commands[kind] = (counts.commands[kind] ?? 0) + 1;
      }
      // Transactions by the kind of their first item: a movement's is its account's, the
      // sequencer's (system postings) its statement's watermark.
      const first = (args.input as { TransactItems?: TransactItemKeys[] }).TransactItems?.[0];
      const firstKey = first && pkOf(first);
      if (name === 'TransactWriteItemsCommand' && firstKey) {
        const kind = `TransactWriteItemsCommand ${firstKey.split('#')[0]}`;
        counts.commands[kind] = (counts.commands[kind] ?? 0) + 1;
      }
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.attempts[name] = (counts.attempts[name] ?? 0) + 1;
      try {
        return await next(args);
      } catch (error) {
        const kind = `${name} ${(error as Error).name}: ${String((error as Error).message).slice(0, 80)}`;
        counts.failures[kind] = (counts.failures[kind] ?? 0) + 1;
        throw error;
      }
    },
    { step: 'deserialize', name: 'countAttempts' },
  );
  return counts;
}

export interface TestLedger {
  tableName: string;
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  store: LedgerStore;
  deps: ServiceDeps;
  calls: CallCounts;
  /** Opens a USD account for `owner` and funds it with one operator deposit. */
  openAccount(owner: Caller, balance: number): Promise<Account>;
  /** Waits until the sequencer has written every statement line committed so far. */
  drain(): Promise<void>;
  /** A ledger without a sequencer: runs one until every line committed so far is written. */
  sequenceOnce(): Promise<void>;
  /** Every item of the table, straight from it (a strongly consistent scan). */
  items(): Promise<Record<string, unknown>[]>;
  /** Every statement line of the account, newest first, straight from the table. */
  statement(accountId: string): Promise<LedgerEntry[]>;
  /** Raw items of the account's ledger: pending entries, then statement lines. */
  ledgerItems(accountId: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/**
 * A table of its own on the shared DynamoDB Local, the real store and domain on top of it,
 * and the real sequencer fed from the table's stream, as `npm start` runs it.
 */
export async function createTestLedger(
  prefix: string,
  options: {
    sequencer?: boolean;
    endpoint?: string;
    tableName?: string;
    checkpointFile?: string;
  } = {},
): Promise<TestLedger> {
  const { tableName, client, endpoint } = await createTestTable(prefix, options);
  const calls = countCalls(client);
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = dynamoLedgerStore(doc, tableName);
  const deps: ServiceDeps = {
    store,
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    newId: ulid,
    now: () => new Date(),
    idempotencyTtlSeconds: 86_400,
    termsCache: new TermsCache(),
    limitDefaults: DEFAULT_LIMITS,
    // Read on every withdrawal in tests, so a flip is seen at once.
    withdrawalSwitch: new WithdrawalSwitch(store, 0),
    metrics: noMetrics,
    payoutHoldSeconds: 300,
  };
  const startSequencer = (pollIntervalMs: number, checkpointFile?: string): StreamPoller =>
    startStreamPoller({
      endpoint,
      tableName,
      handler: sequencerHandler(() => store),
      filter: (record) => record.dynamodb?.Keys?.sk?.S === 'ACCOUNT',
      pollIntervalMs,
      checkpointFile,
    });
  const poller =
    options.sequencer !== false ? startSequencer(50, options.checkpointFile) : undefined;
  const queryAll = async (pk: string, prefixOf: string) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: prefixOf ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
          ExpressionAttributeValues: prefixOf ? { ':pk': pk, ':prefix': prefixOf } : { ':pk': pk },
          ConsistentRead: true,
          ScanIndexForward: false,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  };
  return {
    tableName,
    endpoint,
    client,
    doc,
    store,
    deps,
    calls,
    async openAccount(owner, balance) {
      const account = await openAccount(deps, operator, { ownerId: owner.userId, currency: 'USD' });
      if (balance > 0) {
        await deposit(deps, {
          caller: operator,
          accountId: account.accountId,
          amount: balance,
          idempotencyKey: `opening-${account.accountId}`,
          requestId: 'test',
        });
      }
      const funded = await store.getAccount(account.accountId);
      if (!funded) throw new Error('account vanished');
      return funded;
    },
    async drain() {
      if (!poller) throw new Error('this test ledger has no sequencer');
      await poller.drain(60_000);
    },
    async sequenceOnce() {
      if (poller) throw new Error('this test ledger runs its sequencer all along');
      const once = startSequencer(20);
      try {
        await once.drain(30_000);
      } finally {
        await once.stop();
      }
    },
    async items() {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    async statement(accountId) {
      const items = await queryAll(ledgerPartition(accountId), 'L#');
      return items.map(({ pk: _pk, sk: _sk, ...line }) => line as unknown as LedgerEntry);
    },
    async ledgerItems(accountId) {
      const pending = await Promise.all(pendingPartitions(accountId).map((pk) => queryAll(pk, '')));
      return [...pending.flat(), ...(await queryAll(ledgerPartition(accountId), 'L#'))];
    },
    async close() {
      await poller?.stop();
      client.destroy();
    },
  };
}

/** Asserts the statement chains: each line is the previous balance plus or minus its amount. */
export function chainProblems(linesNewestFirst: LedgerEntry[], currentBalance: number): string[] {
  const problems: string[] = [];
  const lines = [...linesNewestFirst].reverse();
  let balance = 0;
  lines.forEach((line, index) => {
    if (line.sequence !== index + 1)
      problems.push(`line ${index} has sequence ${line.sequence}, expected ${index + 1}`);
    balance += balanceEffect(line);
    if (line.balanceAfter !== balance) {
      problems.push(
        `sequence ${line.sequence}: balanceAfter ${line.balanceAfter}, chained ${balance}`,
      );
    }
    if (balance < 0) problems.push(`sequence ${line.sequence}: balance below zero`);
  });
  if (balance !== currentBalance)
    problems.push(`statement ends at ${balance}, account holds ${currentBalance}`);
  return problems;
}
