import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SYSTEM_SHARDS } from '../../lib/persistence/keys';
import { ceilingsOf, TABLE_WRU_PER_SECOND, WITHDRAWAL_ROUTE } from '../../bench/ceilings';
import type { CaseCost, CostResult, SequencerCost } from '../../bench/cost';
import type { MeteredCall, MeteredItem } from '../../bench/lib/cost-meter';
import { stageThrottles, type StageThrottles } from '../../bench/lib/throttles';

const item = (key: string, wcu: number): MeteredItem => ({
  table: 'ledger',
  key,
  action: 'Update',
  before: 100,
  after: 100,
  wcu,
  indexWcu: 0,
  rcu: 0,
});
const transaction = (...items: MeteredItem[]): MeteredCall => ({
  command: 'TransactWriteItems',
  attempts: 1,
  outcome: 'ok',
  wcu: items.reduce((sum, i) => sum + i.wcu, 0),
  rcu: 0,
  items,
});

/** A committed withdrawal whose account item took `accountWcu` in its transaction. */
function withdrawal(accountWcu: number): CaseCost {
  const call = transaction(item('ACCOUNT#a | ACCOUNT', accountWcu), item('MARKER#a#k | MARKER', 2));
  return {
    operations: 1,
    roundTrips: 2,
    commands: 2,
    wcu: call.wcu,
    rcu: 1,
    sequence: ['TransactWriteItems', 'GetItem'],
    uniform: true,
    example: [call],
    switchReads: 0,
  };
}

/** A withdrawal's sequencing: a 1 WCU line, and the chunk transaction on `shards` shard items. */
function sequenced(shardWcu: number, shards: number): SequencerCost {
  const shardItems = Array.from({ length: shards }, (_, i) =>
    item(`SYSTEM#s${i}#3 | USD`, shardWcu),
  );
  const chunk = transaction(item('LEDGER#a | POSTED', 2), ...shardItems);
  return {
    withdrawals: 1,
    roundTrips: 2,
    commands: 2,
    wcu: 1 + chunk.wcu,
    rcu: 0,
    byCommand: { PutItem: 1, TransactWriteItems: 1 },
    parts: {
      line: 1,
      pendingDelete: 0,
      indexes: 0,
      chunkTransaction: chunk.wcu,
      other: 0,
    },
    uniform: true,
    example: [chunk],
  };
}

function cost(units: { accountWcu?: number; shardWcu?: number } = {}): CostResult {
  const committed = withdrawal(units.accountWcu ?? 2);
  return {
    ours: { committed, replay: committed, refused: committed },
    alternative: { committed, replay: committed, refused: committed },
    fee: { schedule: {}, charged: 26, first: committed, committed },
    sequencer: {
      noFee: sequenced(units.shardWcu ?? 2, 1),
      withFee: sequenced(units.shardWcu ?? 2, 2),
    },
    minimumCommitted: { roundTrips: 2, wcu: 6, rcu: 1 },
    failures: [],
  };
}

const throttles = (rate: number): StageThrottles => ({
  defaultRate: 1000,
  routes: { [WITHDRAWAL_ROUTE]: rate, 'POST /transfers': rate },
});

describe('the ceilings derived from measured units', () => {
  it('gives an account 1,000 WCU/s over what its item takes per movement', () => {
    expect(ceilingsOf(cost({ accountWcu: 2 }), throttles(200)).account.movementsPerSecond).toBe(
      500,
    );
    expect(ceilingsOf(cost({ accountWcu: 4 }), throttles(200)).account.movementsPerSecond).toBe(
      250,
    );
  });

  it("gives a system account 1,000 WCU/s over its shard item's units, once per chunk, on every shard", () => {
    const shard = ceilingsOf(cost({ shardWcu: 4 }), throttles(200)).systemShard;
    expect(shard.chunksPerSecond).toBe(250);
    expect(shard.worstCase).toBe(250 * SYSTEM_SHARDS);
  });

  it("divides the table's write quota by the most a withdrawal writes, all in", () => {
    const measured = cost();
    const allIn = measured.fee.committed.wcu + measured.sequencer.withFee.wcu;
    expect(ceilingsOf(measured, throttles(200)).table).toMatchObject({
      wcuPerWithdrawal: allIn,
      withdrawalsPerSecond: Math.floor(TABLE_WRU_PER_SECOND / allIn),
    });
  });

  it('names the lowest service-wide ceiling as the bottleneck', () => {
    const throttled = ceilingsOf(cost(), throttles(200)).serviceWide;
    expect(throttled.movementsPerSecond).toBe(400);
    expect(throttled.bottleneck).toContain('stage throttles');
    const open = ceilingsOf(cost(), throttles(100_000));
    expect(open.serviceWide.movementsPerSecond).toBe(open.table.withdrawalsPerSecond);
    expect(open.serviceWide.bottleneck).toContain('table');
  });

  it('refuses to derive a ceiling from a unit it did not measure', () => {
    const measured = cost();
    measured.sequencer.noFee.example = [];
    measured.sequencer.withFee.example = [];
    expect(() => ceilingsOf(measured, throttles(200))).toThrow(/no measured watermark/);
  });
});

describe("the stage's throttles", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-throttles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads each route's rate through serverless.yml's self: and param: variables", () => {
    const file = path.join(dir, 'serverless.yml');
    writeFileSync(
      file,
      [
        'params:',
        '  default:',
        '    apiRateLimit: 900',
        '    moneyRateLimit: 150',
        'custom:',
        '  moneyThrottle:',
        '    ThrottlingRateLimit: ${param:moneyRateLimit}',
        'resources:',
        '  extensions:',
        '    HttpApiStage:',
        '      Properties:',
        '        DefaultRouteSettings:',
        '          ThrottlingRateLimit: ${param:apiRateLimit}',
        '        RouteSettings:',
        `          ${WITHDRAWAL_ROUTE}: \${self:custom.moneyThrottle}`,
        '',
      ].join('\n'),
    );
    expect(stageThrottles(file)).toEqual({ defaultRate: 900, routes: { [WITHDRAWAL_ROUTE]: 150 } });
  });
});
