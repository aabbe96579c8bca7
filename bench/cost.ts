/**
 * Section 5, cost per operation: DynamoDB round trips and billed units per committed
 * withdrawal, per replay (the same key again) and per refused withdrawal (insufficient funds),
 * for ours and for the usual alternative, counted by a middleware on each SDK client (see
 * lib/cost-meter.ts for the billing rules). The sequencer's writes, which follow each committed
 * withdrawal asynchronously, are counted apart, from the real stream consumer.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { dynamoLedgerStore } from '../lib/persistence/dynamodb-store';
import { sequencerHandler } from '../lib/sequencer-stream';
import { startStreamPoller } from '../local/stream-poller';
import { createFloorClient } from './floor';
import { invokeWithdrawal, type LambdaHandler } from './handler';
import { CostMeter, totals, type MeteredCall } from './lib/cost-meter';
import { KEY_SCHEMAS, LEDGER_TABLE, createAccounts, type Dynamo } from './lib/env';
import type { Progress } from './lib/progress';
import { round } from './lib/stats';

export type CostCase = 'committed' | 'replay' | 'refused';

export interface CaseCost {
  operations: number;
  /** HTTP attempts to DynamoDB per operation (SDK retries included). */
  roundTrips: number;
  commands: number;
  wcu: number;
  rcu: number;
  /** Commands of one operation, in order. */
  sequence: string[];
  /** Every operation cost the same. */
  uniform: boolean;
  /** The first operation's calls, item by item. */
  example: MeteredCall[];
  /**
   * Reads of the operators' pause switch seen during the case, kept out of the figures above:
   * the handler reads it once per container every PAUSE_SWITCH_CACHE_SECONDS (5 by default),
   * whatever the number of withdrawals.
   */
  switchReads: number;
}

export interface CostResult {
  ours: Record<CostCase, CaseCost>;
  alternative: Record<CostCase, CaseCost>;
  /** Written by the sequencer after each committed withdrawal (asynchronous). */
  sequencer: {
    withdrawals: number;
    commands: number;
    roundTrips: number;
    wcu: number;
    rcu: number;
    byCommand: Record<string, number>;
    example: MeteredCall[];
  };
  /** The least a committed withdrawal can cost with its transaction's items: all in their first KB. */
  minimumCommitted: { roundTrips: number; wcu: number; rcu: number };
  failures: string[];
}

interface Subject {
  handler: LambdaHandler;
  /** The SDK client (or a DocumentClient sharing its middleware stack) the handler sends with. */
  client: Pick<DynamoDBClient, 'middlewareStack'>;
}

export async function measureCost(options: {
  dynamo: Dynamo;
  ours: Subject;
  alternative: Subject;
  token: string;
  ownerId: string;
  operations: number;
  progress: Progress;
}): Promise<CostResult> {
  const { dynamo, token, ownerId, operations, progress } = options;
  const meter = new CostMeter(dynamo.setup, KEY_SCHEMAS);
  const failures: string[] = [];
  const amount = 100;

  async function measureCase(
    subject: Subject,
    label: string,
    accountId: string,
    keys: string[],
    expect: (response: APIGatewayProxyStructuredResultV2) => string | null,
  ): Promise<CaseCost> {
    const detach = meter.attach(subject.client);
    meter.take();
    const perOperation: MeteredCall[][] = [];
    const step = progress.step(label, keys.length);
    try {
      for (const key of keys) {
        const response = await invokeWithdrawal(subject.handler, {
          accountId,
          token,
          idempotencyKey: key,
          amount,
        });
        const problem = expect(response);
        if (problem) failures.push(`${label}: ${problem}`);
        perOperation.push(meter.take());
        step.tick();
      }
    } finally {
      detach();
      step.done();
    }
    const isSwitchRead = (call: MeteredCall): boolean =>
      call.command === 'GetItem' && call.items[0]?.key.startsWith('CONTROL') === true;
    const switchReads = perOperation.flat().filter(isSwitchRead).length;
    const steady = perOperation.map((calls) => calls.filter((call) => !isSwitchRead(call)));
    const all = steady.map(totals);
    const first = all[0];
    const sum = (pick: (t: (typeof all)[number]) => number): number =>
      round(all.reduce((s, t) => s + pick(t), 0) / all.length, 3);
    return {
      operations: keys.length,
      roundTrips: sum((t) => t.attempts),
      commands: sum((t) => t.commands),
      wcu: sum((t) => t.wcu),
      rcu: sum((t) => t.rcu),
      sequence: (steady[0] ?? []).map((call) => call.command),
      uniform: all.every(
        (t) =>
          t.attempts === first?.attempts &&
          t.commands === first.commands &&
          t.wcu === first.wcu &&
          t.rcu === first.rcu,
      ),
      example: steady[0] ?? [],
      switchReads,
    };
  }

  const status =
    (expected: number, replayed: boolean) =>
    (response: APIGatewayProxyStructuredResultV2): string | null => {
      const headers = (response.headers ?? {}) as Record<string, unknown>;
      if (response.statusCode !== expected) {
        return `status ${response.statusCode} (expected ${expected}): ${String(response.body)}`;
      }
      if (replayed && headers['idempotent-replayed'] !== 'true') {
        return 'a replay without Idempotent-Replayed: true';
      }
      return null;
    };

  const keys = (prefix: string): string[] =>
    Array.from({ length: operations }, (_, i) => `${prefix}-${i}`);
  const [ourAccount, ourPoorAccount, altAccount, altPoorAccount] = [
    ...(await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 1, 1_000_000_000)),
    ...(await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 1, 50)),
    ...(await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 1, 1_000_000_000)),
    ...(await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 1, 50)),
  ] as [string, string, string, string];

  const ours = {
    committed: await measureCase(
      options.ours,
      'ours: committed',
      ourAccount,
      keys('cost-ours'),
      status(201, false),
    ),
  } as Record<CostCase, CaseCost>;

  // The sequencer, fed from the table's stream as in AWS, with a metered client of its own.
  const sequencerClient = createFloorClient(dynamo.endpoint);
  const detachSequencer = meter.attach(sequencerClient.client);
  meter.take();
  const poller = startStreamPoller({
    endpoint: dynamo.endpoint,
    tableName: LEDGER_TABLE,
    handler: sequencerHandler(() => dynamoLedgerStore(sequencerClient.doc, LEDGER_TABLE)),
    filter: (record) => record.dynamodb?.Keys?.sk?.S === 'ACCOUNT',
    pollIntervalMs: 50,
    onError: (error) => failures.push(`sequencer: ${String(error)}`),
  });
  const step = progress.step('sequencer: statement lines', operations);
  try {
    await poller.drain(120_000);
  } finally {
    await poller.stop();
    detachSequencer();
    sequencerClient.client.destroy();
    step.tick(operations);
    step.done();
  }
  const sequencerCalls = meter.take();
  const sequencerTotals = totals(sequencerCalls);
  const per = (value: number): number => round(value / operations, 3);

  ours.replay = await measureCase(
    options.ours,
    'ours: replay',
    ourAccount,
    keys('cost-ours'),
    status(201, true),
  );
  ours.refused = await measureCase(
    options.ours,
    'ours: refused',
    ourPoorAccount,
    keys('cost-ours-refused'),
    status(409, false),
  );
  const alternative = {
    committed: await measureCase(
      options.alternative,
      'alternative: committed',
      altAccount,
      keys('cost-alt'),
      status(201, false),
    ),
  } as Record<CostCase, CaseCost>;
  alternative.replay = await measureCase(
    options.alternative,
    'alternative: replay',
    altAccount,
    keys('cost-alt'),
    // Powertools replays the stored response as it was: no replay header.
    status(201, false),
  );
  alternative.refused = await measureCase(
    options.alternative,
    'alternative: refused',
    altPoorAccount,
    keys('cost-alt-refused'),
    status(409, false),
  );

  const transaction = ours.committed.example.find((call) => call.command === 'TransactWriteItems');
  const transactionItems = transaction?.items.length ?? 3;
  return {
    ours,
    alternative,
    sequencer: {
      withdrawals: operations,
      commands: per(sequencerTotals.commands),
      roundTrips: per(sequencerTotals.attempts),
      wcu: per(sequencerTotals.wcu),
      rcu: per(sequencerTotals.rcu),
      byCommand: Object.fromEntries(
        Object.entries(sequencerTotals.byCommand).map(([name, count]) => [name, per(count)]),
      ),
      example: sequencerCalls.slice(0, 2),
    },
    // One transaction of items each under 1 KB, one strongly consistent read under 4 KB.
    minimumCommitted: { roundTrips: 2, wcu: 2 * transactionItems, rcu: 1 },
    failures,
  };
}
