/**
 * The bank run, reduced for CI but real: its own local stack behind the fault proxy, 2,000
 * operations from 16 clients with retries, client-side aborts, concurrent duplicates, replays
 * and reused keys; every fault kind (the response lost after DynamoDB committed included);
 * one kill -9 of DynamoDB Local and of the API mid-run with a restart on the same data; then
 * the invariants, the table audit and 1,000 fuzzed requests. The report is written to
 * test-artifacts/reliability/bank-ci-*.{json,txt}.
 *
 * RELIABILITY_SEED fixes the seed (default: random, printed in the report).
 */
import { FAULT_KINDS } from '../../scripts/lib/fault-proxy';
import { formatReport, runBank, type BankReport } from '../../scripts/lib/bank/run';

const seed = Number(process.env.RELIABILITY_SEED ?? Math.floor(Math.random() * 1_000_000));
let report: BankReport;

beforeAll(async () => {
  report = await runBank({
    label: 'ci',
    ops: 2_000,
    clients: 16,
    hotAccounts: 4,
    seed,
    faults: true,
    crash: true,
    hangProbe: true,
    fuzz: 1_000,
    log: () => undefined,
  });
  // The summary in the test output, whatever the outcome.
  process.stdout.write(`\n${formatReport(report)}`);
}, 900_000);

it('ran at full size: 2,000 operations from 16 clients, retried, aborted, duplicated, reused', () => {
  expect(report.operations.total).toBeGreaterThanOrEqual(2_000);
  expect(report.options.clients).toBe(16);
  expect(report.operations.retriedOperations).toBeGreaterThan(0);
  expect(report.operations.clientAborts).toBeGreaterThan(0);
  expect(report.operations.concurrentDuplicates).toBeGreaterThan(0);
  expect(report.operations.replays).toBeGreaterThan(0);
  expect(report.operations.keyReuses).toBeGreaterThan(0);
  expect(report.operations.refusals.INSUFFICIENT_FUNDS ?? 0).toBeGreaterThan(0);
});

it('injected every fault kind, the response lost after DynamoDB committed included', () => {
  const missing = FAULT_KINDS.filter((kind) => report.faults.injected[kind] < 1);
  expect(missing).toEqual([]);
  expect(report.faults.lostAfterCommit).toBeGreaterThan(0);
});

it('crashed (kill -9 of DynamoDB Local and of the API) and restarted on the same data once', () => {
  expect(report.crashRestarts).toHaveLength(1);
});

it('fuzzed 1,000 requests over every route', () => {
  expect(report.fuzz?.requests).toBeGreaterThanOrEqual(1_000);
  expect(report.fuzz?.stateUnchanged).toBe(true);
});

it('found no violation of any invariant, and the audit found no drift', () => {
  const failed = Object.entries(report.invariants)
    .filter(([, v]) => v.violations > 0)
    .map(([name, v]) => `${name}: ${v.violations}`);
  expect({ failed, first: report.violations.slice(0, 10) }).toEqual({ failed: [], first: [] });
  expect(report.audit.ok).toBe(true);
});
