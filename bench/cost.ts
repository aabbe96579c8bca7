/**
 * Section 5, cost per operation: DynamoDB round trips and billed units per committed
 * withdrawal, per replay (the same key again) and per refused withdrawal (insufficient funds),
 * for ours and for the usual alternative, counted by a middleware on each SDK client (see
 * lib/cost-meter.ts for the billing rules); ours also on an account with a fee schedule. The
 * sequencer's writes, which follow each committed withdrawal asynchronously, are counted apart,
 * from the real stream consumer, each withdrawal sequenced on its own (a chunk of one line).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { feeFor, type FeeSchedule } from '../lib/domain/fees';
import { dynamoLedgerStore } from '../lib/persistence/dynamodb-store';
import { withdrawalSwitchKey } from '../lib/persistence/keys';
import { sequencerHandler } from '../lib/sequencer-stream';
import { startStreamPoller } from '../local/stream-poller';
import { createFloorClient } from './floor';
import { invokeWithdrawal, type LambdaHandler } from './handler';
import {
  CostMeter,
  totals,
  type CostTotals,
  type MeteredCall,
  type MeteredItem,
} from './lib/cost-meter';
import { INDEX_KEYS, KEY_SCHEMAS, LEDGER_TABLE, createAccounts, type Dynamo } from './lib/env';
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

/** What the sequencer writes for one withdrawal, by purpose. */
export type SequencerPart = 'line' | 'pendingDelete' | 'indexes' | 'chunkTransaction' | 'other';

/** Written by the sequencer after each committed withdrawal (asynchronous), per withdrawal. */
export interface SequencerCost {
  withdrawals: number;
  commands: number;
  roundTrips: number;
  wcu: number;
  rcu: number;
  byCommand: Record<string, number>;
  /** WCU per withdrawal by purpose; `chunkTransaction` is the watermark and the system shards. */
  parts: Record<SequencerPart, number>;
  /** Every withdrawal's sequencing cost the same. */
  uniform: boolean;
  /** The first withdrawal's sequencing, item by item. */
  example: MeteredCall[];
}

export interface CostResult {
  ours: Record<CostCase, CaseCost>;
  alternative: Record<CostCase, CaseCost>;
  /** Ours on an account with a fee schedule, in the same container. */
  fee: {
    schedule: FeeSchedule;
    /** The fee each measured withdrawal was charged (checked on every answer). */
    charged: number;
    /** The first withdrawal from the account in a container that has not seen its schedule. */
    first: CaseCost;
    /** The ones after it: the container prices them from the schedule it learned. */
    committed: CaseCost;
  };
  /** Each committed withdrawal sequenced on its own: one chunk of one line. */
  sequencer: { noFee: SequencerCost; withFee: SequencerCost };
  /** The least a committed withdrawal can cost with its transaction's items: all in their first KB. */
  minimumCommitted: { roundTrips: number; wcu: number; rcu: number };
  failures: string[];
}

/** The "with fee" cases' schedule: a flat part and a percentage, like a card fee. */
const BENCH_FEES: FeeSchedule = { WITHDRAWAL: { flat: 25, bps: 100 } };

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
  const meter = new CostMeter(dynamo.setup, KEY_SCHEMAS, INDEX_KEYS);
  const failures: string[] = [];
  const amount = 100;

  async function measureCase(
    subject: Subject,
    label: string,
    accountId: string,
    keys: string[],
    expect: (response: APIGatewayProxyStructuredResultV2) => string | null,
    afterEach: () => Promise<void> = async () => {},
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
        await afterEach();
        step.tick();
      }
    } finally {
      detach();
      step.done();
    }
    // The pause switch's item exactly: an account's fee schedule (CONTROL#<account> / FEES) is a
    // read of the movement's own, counted.
    const switchKey = Object.values(withdrawalSwitchKey).join(' | ');
    const isSwitchRead = (call: MeteredCall): boolean =>
      call.command === 'GetItem' && call.items[0]?.key === switchKey;
    const switchReads = perOperation.flat().filter(isSwitchRead).length;
    const steady = perOperation.map((calls) => calls.filter((call) => !isSwitchRead(call)));
    const all = steady.map(totals);
    return {
      operations: keys.length,
      ...averages(all),
      sequence: (steady[0] ?? []).map((call) => call.command),
      uniform: allEqual(all),
      example: steady[0] ?? [],
      switchReads,
    };
  }

  const status =
    (expected: number, replayed: boolean, fee = 0) =>
    (response: APIGatewayProxyStructuredResultV2): string | null => {
      const headers = (response.headers ?? {}) as Record<string, unknown>;
      if (response.statusCode !== expected) {
        return `status ${response.statusCode} (expected ${expected}): ${String(response.body)}`;
      }
      if (replayed && headers['idempotent-replayed'] !== 'true') {
        return 'a replay without Idempotent-Replayed: true';
      }
      const charged = (JSON.parse(String(response.body)) as { fee?: number }).fee ?? 0;
      if (expected === 201 && charged !== fee) return `fee ${charged} (expected ${fee})`;
      return null;
    };

  const keys = (prefix: string): string[] =>
    Array.from({ length: operations }, (_, i) => `${prefix}-${i}`);
  const [ourAccount, feeAccount, ourPoorAccount, altAccount, altPoorAccount] = [
    ...(await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 2, 1_000_000_000)),
    ...(await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 1, 50)),
    ...(await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 1, 1_000_000_000)),
    ...(await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 1, 50)),
  ] as [string, string, string, string, string];
  // Set as an operator would; the handler's container has not seen it yet.
  await dynamoLedgerStore(dynamo.setupDoc, LEDGER_TABLE).setFees(feeAccount, BENCH_FEES, {
    id: 'bench-fees',
    by: 'bench',
    at: new Date().toISOString(),
    reason: 'bench: the cost of a withdrawal with a fee',
  });
  const fee = feeFor(BENCH_FEES.WITHDRAWAL, amount);

  // The sequencer runs after every committed withdrawal, so each is a chunk of its own.
  const sequencer = meteredSequencer(dynamo, failures);
  const sequencedNoFee: MeteredCall[][] = [];
  const sequencedWithFee: MeteredCall[][] = [];
  const sequenceInto = (into: MeteredCall[][]) => async () => {
    into.push(await sequencer.drain());
  };
  let ours: Record<CostCase, CaseCost>;
  let withFee: CostResult['fee'];
  try {
    const committed = await measureCase(
      options.ours,
      'ours: committed',
      ourAccount,
      keys('cost-ours'),
      status(201, false),
      sequenceInto(sequencedNoFee),
    );
    withFee = {
      schedule: BENCH_FEES,
      charged: fee,
      first: await measureCase(
        options.ours,
        'ours with a fee: first in the container',
        feeAccount,
        ['cost-fee-first'],
        status(201, false, fee),
        sequenceInto(sequencedWithFee),
      ),
      committed: await measureCase(
        options.ours,
        'ours with a fee: committed',
        feeAccount,
        keys('cost-fee'),
        status(201, false, fee),
        sequenceInto(sequencedWithFee),
      ),
    };
    ours = { committed } as Record<CostCase, CaseCost>;
  } finally {
    await sequencer.stop();
  }

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
    fee: withFee,
    sequencer: {
      noFee: sequencerCost(sequencedNoFee),
      withFee: sequencerCost(sequencedWithFee),
    },
    // One transaction of items each under 1 KB, one strongly consistent read under 4 KB.
    minimumCommitted: { roundTrips: 2, wcu: 2 * transactionItems, rcu: 1 },
    failures,
  };
}

/**
 * The real stream consumer, fed from the table's stream as in AWS, with a metered client of its
 * own. `drain` sequences everything committed so far and returns what that cost.
 */
function meteredSequencer(dynamo: Dynamo, failures: string[]) {
  const meter = new CostMeter(dynamo.setup, KEY_SCHEMAS, INDEX_KEYS);
  const client = createFloorClient(dynamo.endpoint);
  const detach = meter.attach(client.client);
  const poller = startStreamPoller({
    endpoint: dynamo.endpoint,
    tableName: LEDGER_TABLE,
    handler: sequencerHandler(() => dynamoLedgerStore(client.doc, LEDGER_TABLE)),
    filter: (record) => record.dynamodb?.Keys?.sk?.S === 'ACCOUNT',
    pollIntervalMs: 20,
    onError: (error) => failures.push(`sequencer: ${String(error)}`),
  });
  return {
    async drain(): Promise<MeteredCall[]> {
      await poller.drain(120_000);
      return meter.take();
    },
    async stop(): Promise<void> {
      await poller.stop();
      detach();
      client.client.destroy();
    },
  };
}

/** The sequencer's item writes by purpose, from their keys (lib/persistence/keys.ts). */
function partOf(call: MeteredCall, item: MeteredItem): SequencerPart {
  if (call.command === 'TransactWriteItems') return 'chunkTransaction';
  if (item.key.startsWith('LEDGER#') && item.key.includes('| L#')) return 'line';
  if (item.key.startsWith('PENDING#')) return 'pendingDelete';
  return 'other';
}

function sequencerCost(perWithdrawal: MeteredCall[][]): SequencerCost {
  const all = perWithdrawal.map(totals);
  const parts: Record<SequencerPart, number> = {
    line: 0,
    pendingDelete: 0,
    indexes: 0,
    chunkTransaction: 0,
    other: 0,
  };
  for (const call of perWithdrawal.flat()) {
    for (const item of call.items) {
      parts[partOf(call, item)] += item.wcu - item.indexWcu;
      parts.indexes += item.indexWcu;
    }
  }
  const per = (value: number): number => round(value / Math.max(1, all.length), 3);
  const byCommand: Record<string, number> = {};
  for (const t of all) {
    for (const [name, count] of Object.entries(t.byCommand)) {
      byCommand[name] = (byCommand[name] ?? 0) + count;
    }
  }
  return {
    withdrawals: all.length,
    ...averages(all),
    byCommand: Object.fromEntries(Object.entries(byCommand).map(([k, v]) => [k, per(v)])),
    parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, per(v)])) as Record<
      SequencerPart,
      number
    >,
    uniform: allEqual(all),
    example: perWithdrawal[0] ?? [],
  };
}

/** Means per operation, to 3 decimals. */
function averages(all: CostTotals[]): Pick<CaseCost, 'roundTrips' | 'commands' | 'wcu' | 'rcu'> {
  const mean = (pick: (t: CostTotals) => number): number =>
    round(all.reduce((s, t) => s + pick(t), 0) / Math.max(1, all.length), 3);
  return {
    roundTrips: mean((t) => t.attempts),
    commands: mean((t) => t.commands),
    wcu: mean((t) => t.wcu),
    rcu: mean((t) => t.rcu),
  };
}

function allEqual(all: CostTotals[]): boolean {
  const first = all[0];
  return all.every(
    (t) =>
      t.attempts === first?.attempts &&
      t.commands === first.commands &&
      t.wcu === first.wcu &&
      t.rcu === first.rcu,
  );
}
