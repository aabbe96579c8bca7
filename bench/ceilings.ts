/**
 * The ceilings that follow from the measured units (section 5) and the limits they meet: what one
 * DynamoDB partition key takes per second, the table's quota and the stage's throttles. Nothing
 * here is measured against AWS; every unit figure comes from the cost section.
 */
import { STATEMENT_CHUNK } from '../lib/domain/ports';
import { SYSTEM_SHARDS } from '../lib/persistence/keys';
import type { CostResult } from './cost';
import type { MeteredCall } from './lib/cost-meter';
import type { StageThrottles } from './lib/throttles';

/** Write units one partition key takes per second (DynamoDB). */
export const KEY_WCU_PER_SECOND = 1_000;
/** Write request units per second of an on-demand table: DynamoDB's default quota, raisable. */
export const TABLE_WRU_PER_SECOND = 40_000;
export const WITHDRAWAL_ROUTE = 'POST /accounts/{accountId}/withdrawals';

export interface Ceilings {
  /** The account item, alone on its key: every movement of the account writes it. */
  account: { wcuPerMovement: number; movementsPerSecond: number };
  /** The account's statement key: a line per movement, its posting watermark once per chunk. */
  statement: { lineWcu: number; watermarkWcu: number; chunkOfOne: number; fullChunks: number };
  /** One shard of one system account: its currencies share the key (the currency is the sort key). */
  systemShard: {
    itemWcu: number;
    chunksPerSecond: number;
    shards: number;
    /** Chunks of one line: movements per second for one system account. */
    worstCase: number;
    fullChunks: number;
  };
  /** The table's quota over the most a withdrawal writes, all in (a fee, a chunk of its own). */
  table: { wruPerSecond: number; wcuPerWithdrawal: number; withdrawalsPerSecond: number };
  /** The stage throttles: the withdrawal route, and the money routes together. */
  api: { withdrawalsPerSecond: number; movementsPerSecond: number; moneyRoutes: number };
  /** The lowest service-wide ceiling on movements, and what sets it. */
  serviceWide: { movementsPerSecond: number; bottleneck: string };
}

/** The most WCU an item whose key starts with `prefix` took, in the calls' transactions. */
function transactionItemWcu(calls: MeteredCall[], prefix: string, suffix = ''): number {
  const units = calls
    .filter((call) => call.command === 'TransactWriteItems')
    .flatMap((call) => call.items)
    .filter((item) => item.key.startsWith(prefix) && item.key.endsWith(suffix))
    .map((item) => item.wcu);
  return Math.max(0, ...units);
}

function measured(name: string, value: number): number {
  if (!(value > 0)) throw new Error(`ceilings: no measured ${name}`);
  return value;
}

export function ceilingsOf(cost: CostResult, throttles: StageThrottles): Ceilings {
  const { noFee, withFee } = cost.sequencer;
  const sequenced = [...noFee.example, ...withFee.example];
  const perKey = (wcu: number): number => Math.floor(KEY_WCU_PER_SECOND / wcu);

  const accountWcu = measured(
    'account item',
    transactionItemWcu([...cost.ours.committed.example, ...cost.fee.committed.example], 'ACCOUNT#'),
  );
  const lineWcu = measured('statement line', Math.max(noFee.parts.line, withFee.parts.line));
  const watermarkWcu = measured('watermark', transactionItemWcu(sequenced, 'LEDGER#', '| POSTED'));
  const shardWcu = measured('system shard', transactionItemWcu(sequenced, 'SYSTEM#'));
  const chunksPerSecond = perKey(shardWcu);

  const allIn = Math.max(cost.ours.committed.wcu + noFee.wcu, cost.fee.committed.wcu + withFee.wcu);
  const withdrawalsPerSecond = Math.floor(TABLE_WRU_PER_SECOND / allIn);
  const moneyRates = Object.values(throttles.routes);
  const api = {
    withdrawalsPerSecond: throttles.routes[WITHDRAWAL_ROUTE] ?? throttles.defaultRate,
    movementsPerSecond: moneyRates.reduce((sum, rate) => sum + rate, 0),
    moneyRoutes: moneyRates.length,
  };
  const systemWorst = chunksPerSecond * SYSTEM_SHARDS;
  const candidates: [string, number][] = [
    ['the stage throttles of the money routes (serverless.yml)', api.movementsPerSecond],
    ["the table's default write quota", withdrawalsPerSecond],
    ['one system account at chunks of one line', systemWorst],
  ];
  const [bottleneck, lowest] = candidates.reduce((a, b) => (b[1] < a[1] ? b : a));
  return {
    account: { wcuPerMovement: accountWcu, movementsPerSecond: perKey(accountWcu) },
    statement: {
      lineWcu,
      watermarkWcu,
      chunkOfOne: perKey(lineWcu + watermarkWcu),
      fullChunks: perKey(lineWcu + watermarkWcu / STATEMENT_CHUNK),
    },
    systemShard: {
      itemWcu: shardWcu,
      chunksPerSecond,
      shards: SYSTEM_SHARDS,
      worstCase: systemWorst,
      fullChunks: systemWorst * STATEMENT_CHUNK,
    },
    table: { wruPerSecond: TABLE_WRU_PER_SECOND, wcuPerWithdrawal: allIn, withdrawalsPerSecond },
    api,
    serviceWide: { movementsPerSecond: lowest, bottleneck },
  };
}
