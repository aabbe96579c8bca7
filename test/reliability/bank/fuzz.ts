/**
 * Property-based fuzzing of every route of openapi.yaml through real HTTP (fast-check
 * generates, reproducibly from the seed; a raw-socket client sends exactly the bytes
 * generated). Each request is built from parts — method, path and path parameters, query,
 * Authorization (no token, bad tokens, a customer, another customer, an operator),
 * Content-Type, Idempotency-Key, body and its fields — each valid or not, and the expected
 * refusal codes follow from the invalid parts. Every route has a model (`fuzz/routes.ts`; a
 * route without one stops the run), and a request to a route that changes state always carries
 * at least one definitely invalid part, so none may succeed.
 *
 * Checked for every answer (`fuzz/check.ts`): no 5xx, but a 503 `STATEMENT_CATCHING_UP` (with
 * `Retry-After`) where the statement is read (a balance at an instant, a statement); a refusal is
 * a 4xx in the contract's error shape (`Error`) with a code the contract lists at that code's
 * status, one openapi.yaml documents for the route, naming a fault the request has, with a
 * request id, no internals, and `Cache-Control: no-store`; a valid read answers 200 with a body
 * its route documents; no state-changing request succeeds.
 * Around the whole run (`fuzz/state.ts`): no balance, hold, statement line, control, account or
 * owner link changed, except by what the service finished meanwhile for movements that existed
 * before the fuzz (statement lines, payouts posted or voided); recorded refusals may appear.
 */
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { sleep } from '../../../local/wait';
import type { Owner } from './model';
import { sendRaw, type RawResponse } from './raw-http';
import { checkAnswer, emulatorRefusal } from './fuzz/check';
import { loadContract } from './fuzz/contract';
import { fuzzCases } from './fuzz/routes';
import { compareSnapshots, snapshotState, type Snapshot, type StateComparison } from './fuzz/state';
import type { FuzzCase, FuzzResult, FuzzSetup } from './fuzz/types';

export type { FuzzCase, FuzzResult, FuzzSetup } from './fuzz/types';
export { checkAnswer, emulatorRefusal } from './fuzz/check';
export { fuzzCases, fuzzCasesByRoute, MODELLED_ROUTES, unmodelledRoutes } from './fuzz/routes';
export { compareSnapshots, snapshotState } from './fuzz/state';

export const STATE_INVARIANT =
  'no balance, hold, statement line or control changed by a refused request';

/**
 * A payout of each customer's account, and a transaction of it that is not a payout, from the
 * table as it was before the fuzz (the smallest ids, so a seed picks the same on the same table).
 */
export function readableTransactions(
  snapshot: Snapshot,
  accounts: Record<Owner, string>,
): { payouts: Record<Owner, string | null>; nonPayouts: Record<Owner, string | null> } {
  const pick = (accountId: string, payout: boolean): string | null => {
    const ids: string[] = [];
    for (const item of snapshot.values()) {
      const pk = String(item.pk);
      if (item.accountId !== accountId || typeof item.transactionId !== 'string') continue;
      if (
        payout
          ? pk.startsWith('PAYOUT#')
          : (pk.startsWith('LEDGER#') || pk.startsWith('PENDING#')) && item.type !== 'PAYOUT'
      ) {
        ids.push(item.transactionId);
      }
    }
    return ids.sort()[0] ?? null;
  };
  return {
    payouts: { alice: pick(accounts.alice, true), bob: pick(accounts.bob, true) },
    nonPayouts: { alice: pick(accounts.alice, false), bob: pick(accounts.bob, false) },
  };
}

export interface FuzzOptions {
  requests: number;
  seed: number;
  concurrency?: number;
  log?: (line: string) => void;
  /**
   * How long to wait for background work to explain what changed: default 10 s, the
   * sequencer's promise (a line within 5 s) with room for one more snapshot. Longer would hide
   * lag the bank run exists to catch.
   */
  settleMs?: number;
}

const emptyResult = (seed: number): FuzzResult => ({
  requests: 0,
  seed,
  byStatus: {},
  byCode: {},
  byRoute: {},
  violations: [],
  emulatorRefusals: {},
  slowOrFailed: 0,
  examples: [],
  stateUnchanged: true,
  background: { changes: 0, byKind: {}, waitedMs: 0, snapshots: 0 },
  durationMs: 0,
});

const tally = (counts: Record<string, number>, key: string | number): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Sends one case as raw bytes; slow is not wrong (a loaded machine): one more try, longer. */
async function sendCase(
  target: { host: string; port: number },
  c: FuzzCase,
  result: FuzzResult,
): Promise<RawResponse | Error> {
  const attempt = (timeoutMs: number): Promise<RawResponse | Error> =>
    sendRaw(target.host, target.port, c.request, timeoutMs).catch((error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
    );
  const first = await attempt(30_000);
  if (!(first instanceof Error)) return first;
  result.slowOrFailed += 1;
  return attempt(90_000);
}

/** Counts an answer (status, code, route, emulator refusals), keeping a few as examples. */
function recordAnswer(result: FuzzResult, c: FuzzCase, index: number, response: RawResponse) {
  tally(result.byStatus, response.status);
  const emulator = emulatorRefusal(response);
  if (emulator !== null) tally(result.emulatorRefusals, emulator);
  const code = (response.json as { error?: { code?: unknown } } | undefined)?.error?.code;
  if (typeof code === 'string') tally(result.byCode, code);
  if (result.examples.length < 40 && index % 25 === 0) {
    const example = typeof code === 'string' ? code : undefined;
    result.examples.push({ label: c.label, status: response.status, code: example });
  }
}

/**
 * fast-check generates the requests (reproducibly from the seed); a pool sends them, and every
 * answer is recorded rather than stopping at the first failure, so the report lists all.
 */
async function sendAll(
  setup: FuzzSetup,
  cases: FuzzCase[],
  options: FuzzOptions,
  result: FuzzResult,
): Promise<void> {
  const url = new URL(setup.apiUrl);
  const target = {
    host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
    port: Number(url.port),
  };
  const contract = loadContract();
  // The service's error table, and the codes openapi.yaml documents (the same statuses).
  const codes = new Map([...contract.codes, ...setup.codes]);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < cases.length; index = next++) {
      const c = cases[index];
      if (c === undefined) continue;
      const response = await sendCase(target, c, result);
      result.requests += 1;
      tally(result.byRoute, c.route ?? '(no such route)');
      if (!(response instanceof Error)) recordAnswer(result, c, index, response);
      for (const v of checkAnswer(c, response, codes, contract)) {
        const detail = `${v.detail} (fuzz case #${index}, seed ${options.seed})`;
        result.violations.push({ ...v, detail });
      }
      if (result.requests % 250 === 0) {
        options.log?.(`  fuzz: ${result.requests}/${options.requests} requests`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, () => worker()));
}

/**
 * The state compared again while what differs waits on work still under way (a statement
 * line not yet written for a payout resolved meanwhile), up to settleMs.
 */
async function compareState(
  setup: FuzzSetup,
  before: Snapshot,
  options: FuzzOptions,
  result: FuzzResult,
): Promise<StateComparison> {
  const settleMs = options.settleMs ?? 10_000;
  const waitStarted = performance.now();
  for (;;) {
    const after = await snapshotState(setup.dynamodb, setup.tableName);
    result.background.snapshots += 1;
    const comparison = compareSnapshots(before, after);
    const waited = performance.now() - waitStarted;
    if (
      comparison.awaiting.length === 0 ||
      comparison.unexplained.length > 0 ||
      waited > settleMs
    ) {
      result.background.waitedMs = Math.round(performance.now() - waitStarted);
      return comparison;
    }
    if (result.background.snapshots === 1) {
      options.log?.(
        `  fuzz: ${comparison.awaiting.length} changes wait on the sequencer, comparing again`,
      );
    }
    await sleep(1_000);
  }
}

/** What background work explained, and every change it did not as a violation. */
function recordState(result: FuzzResult, comparison: StateComparison): void {
  result.background.byKind = comparison.explained;
  result.background.changes = Object.entries(comparison.explained)
    .filter(([what]) => what !== 'refusals recorded')
    .reduce((sum, [, n]) => sum + n, 0);
  const waited = Math.round(result.background.waitedMs / 1000);
  const unexplained = [
    ...comparison.unexplained,
    ...comparison.awaiting.map((line) => `${line} (still unexplained after ${waited} s)`),
  ];
  result.stateUnchanged = unexplained.length === 0;
  for (const line of unexplained.slice(0, 50)) {
    result.violations.push({ invariant: STATE_INVARIANT, detail: line });
  }
  if (unexplained.length > 50) {
    result.violations.push({
      invariant: STATE_INVARIANT,
      detail: `... and ${unexplained.length - 50} more changes`,
    });
  }
}

export async function runFuzz(setup: FuzzSetup, options: FuzzOptions): Promise<FuzzResult> {
  const started = performance.now();
  const before = await snapshotState(setup.dynamodb, setup.tableName);
  const readable = readableTransactions(before, setup.accounts);
  const arbitrary = await fuzzCases({
    ...setup,
    payouts: setup.payouts ?? readable.payouts,
    nonPayouts: setup.nonPayouts ?? readable.nonPayouts,
  });
  const result = emptyResult(options.seed);
  const cases = fc.sample(arbitrary, { numRuns: options.requests, seed: options.seed });
  await sendAll(setup, cases, options, result);
  recordState(result, await compareState(setup, before, options, result));
  result.durationMs = Math.round(performance.now() - started);
  return result;
}
