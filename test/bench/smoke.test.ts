import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Ceilings } from '../../bench/ceilings';
import type { CostResult } from '../../bench/cost';
import type { ScaleResult } from '../../bench/scale';
import { SYSTEM_SHARDS } from '../../lib/persistence/keys';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

/**
 * `npm run bench:smoke` in CI proves the bench works end to end. Timing ratios are reported,
 * never asserted here (the machines are noisy); what is asserted is what does not depend on
 * speed: the run completes, every headline number is there, and the counted facts hold.
 */
describe('npm run bench:smoke', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('completes and writes results.json, REPORT.md and latency.svg with every headline number', async () => {
    await run(process.execPath, ['scripts/run.js', 'bench/run.ts', '--smoke', '--out', out], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
    for (const file of ['results.json', 'REPORT.md', 'latency.svg']) {
      expect(existsSync(path.join(out, file))).toBe(true);
    }
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Record<
      string,
      unknown
    > & {
      sections: {
        hotAccount: { successes: number; attempted: number; correct: boolean };
        cost: CostResult;
        ceilings: Ceilings;
        scale: ScaleResult;
      };
      targets: Array<{ section: string; met: boolean }>;
    };
    for (const field of [
      'p50Ratio',
      'throughputRatio',
      'roundTripsPerWithdrawal',
      'withdrawBundleKB',
      'initRatio',
      'alternativeRoundTripsPerWithdrawal',
    ]) {
      expect(Number.isFinite(results[field])).toBe(true);
      expect(results[field] as number).toBeGreaterThan(0);
    }
    // Counted, not timed: one transaction and one consistent read per committed withdrawal.
    expect(results.roundTripsPerWithdrawal).toBe(2);
    expect(results.alternativeRoundTripsPerWithdrawal as number).toBeGreaterThan(2);
    // A fee keeps the two round trips once the container has seen the schedule; the first costs a
    // cancelled transaction and one read of the schedule more. With a fee, the chunk transaction
    // posts to one more system shard.
    const { cost, ceilings } = results.sections;
    expect(cost.fee.committed.roundTrips).toBe(2);
    expect(cost.fee.first.roundTrips).toBe(4);
    expect(cost.sequencer.withFee.parts.chunkTransaction).toBeGreaterThan(
      cost.sequencer.noFee.parts.chunkTransaction,
    );
    // The line's entry in the transactions index (a reversal finds the movement by it) is billed.
    expect(cost.sequencer.noFee.parts.indexes).toBeGreaterThan(0);
    expect(ceilings.systemShard.worstCase).toBe(
      ceilings.systemShard.chunksPerSecond * SYSTEM_SHARDS,
    );
    expect(ceilings.serviceWide.movementsPerSecond).toBeLessThanOrEqual(
      ceilings.systemShard.worstCase,
    );
    // 64 concurrent withdrawals on one funded account all commit, and the balance agrees.
    expect(results.sections.hotAccount).toMatchObject({
      successes: 64,
      attempted: 64,
      correct: true,
    });
    // Issue 21: a filtered page and a balance at an instant read the same (metered round trips and
    // read units) on the longest history as on the shortest.
    const sizes = results.sections.scale.sizes;
    const [shortest, longest] = [sizes[0], sizes[sizes.length - 1]];
    expect(longest?.entries).toBeGreaterThan(shortest?.entries ?? Infinity);
    for (const kind of ['filtered', 'asOf'] as const) {
      expect(longest?.cost[kind]).toEqual(shortest?.cost[kind]);
      expect(shortest?.cost[kind].uniform).toBe(true);
    }
    expect(results.sections.scale.failures).toEqual([]);
    expect(readFileSync(path.join(out, 'latency.svg'), 'utf8')).toContain('<svg');
  });
});
