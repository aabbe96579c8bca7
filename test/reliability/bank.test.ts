import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FAULT_KINDS } from './fault-proxy';
import type { BankReport } from './bank/bank-report';

const ROOT = path.resolve(__dirname, '../..');

/**
 * The reduced bank run (`npm run check:bank`) on every `npm test`: a fresh local stack behind
 * the fault proxy, 2,000 withdrawals, deposits, transfers and payouts from 16 clients through
 * every fault kind (responses lost after commit included), one kill -9 of DynamoDB Local and
 * the API mid-run, 1,000 fuzzed requests, withdrawal limits on some accounts, then every
 * invariant and the table audit. A violated
 * invariant fails this test with the run's report: the violations and the operations around them.
 */
describe('the bank run (npm run check:bank)', () => {
  it(
    'holds every invariant through faults, a crash and fuzzing',
    async () => {
      const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          ['scripts/run.js', 'scripts/check-bank.ts'],
          { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 12 * 60_000 },
          (error, stdout, stderr) =>
            resolve({ code: child.exitCode ?? (error ? 1 : 0), output: `${stdout}\n${stderr}` }),
        );
      });
      const report = output.slice(output.indexOf('Bank run "'));
      if (code !== 0) throw new Error(`the bank run failed (exit ${code}):\n${report || output}`);
      expect(report).toMatch(/^Bank run "check" \(seed \d+\): PASSED/);
      // What makes this run worth its minutes: the load, every fault kind, the crash and the
      // fuzzer happened, and the stream consumers' lag was measured.
      const file = /report\s+(\S+\.json)/.exec(report)?.[1];
      const r = JSON.parse(readFileSync(file ?? '', 'utf8')) as BankReport;
      expect(r.operations.total).toBeGreaterThanOrEqual(2000);
      expect(r.options.clients).toBeGreaterThanOrEqual(16);
      expect(Object.keys(r.operations.byType).sort()).toEqual(
        ['DEPOSIT', 'PAYOUT', 'TRANSFER', 'WITHDRAWAL'].sort(),
      );
      for (const kind of FAULT_KINDS)
        expect([kind, r.faults.injected[kind]]).not.toEqual([kind, 0]);
      expect(r.faults.lostAfterCommit).toBeGreaterThan(0);
      expect(r.crashRestarts.length).toBeGreaterThanOrEqual(1);
      expect(r.fuzz?.requests).toBeGreaterThanOrEqual(1000);
      expect(r.sequencer.lag.count).toBeGreaterThan(0);
      expect(r.sequencer.unplacedAfterLoad).toBe(0);
      expect(r.payoutLatency.holdToDispatch.count).toBeGreaterThan(0);
      // Double entry: the system accounts hold exactly the postings of every line, USD moved.
      expect(r.audit.system).toMatchObject({ judged: true, problems: [] });
      expect(r.audit.system.balances.USD?.funding).toBeLessThan(0);
      // Fees were charged (revenue), an operator reversed movements, and all accounts sum to 0.
      expect(r.audit.system.balances.USD?.revenue).toBeGreaterThan(0);
      expect(r.reversals?.committed).toBeGreaterThan(0);
      expect(r.reversals?.answers.REVERSAL_EXCEEDS_ORIGINAL).toBeGreaterThan(0);
      // Limits on some accounts (issue 20): both limits refused movements, and no day's outgoing
      // total passed its limit, checked before the operator's reversals and after them.
      expect(r.limits?.refused.daily).toBeGreaterThan(0);
      expect(r.limits?.refused.perMovement).toBeGreaterThan(0);
      expect(r.limits?.checks.beforeReversals).toBeGreaterThan(0);
      expect(r.limits?.checks.atEnd).toBeGreaterThan(0);
      const usd = r.audit.system.totals.USD;
      expect(usd && usd.customers + usd.system).toBe(0);
      process.stderr.write(`${report.split('\n').slice(0, 3).join('\n')}\n`);
    },
    13 * 60_000,
  );
});
