/**
 * Targeted probes: one request each, on an account of their own, with a fault aimed at that
 * request only (`bodyIncludes` its Idempotency-Key, which every item it writes carries), so a path the random phases reach by chance is
 * reached for certain and its answer judged exactly. Their operations are part of the run's
 * model, so the ledger checks cover them too.
 */
import { performance } from 'node:perf_hooks';
import type { FaultProxy, FaultRule } from '../fault-proxy';
import { execute, resolve, standaloneOperation, type RunContext } from './clients';
import { isDefinitive, type Attempt, type BankAccount, type Operation } from './model';

export interface ProbeResult {
  name: string;
  fault: string;
  expected: string;
  /** How many times the probe's fault was injected. */
  injected: number;
  observed: string;
  ok: boolean;
  /** A behaviour worth reporting that breaks no invariant of this run. */
  finding?: string;
}

export interface HangProbe {
  firstStatus: number | string;
  firstAnsweredAfterMs: number;
  /** Requests with the withheld request's ClientRequestToken while it hung: SDK retries. */
  sdkRetriesDuringHang: number;
  connectionClosedBy: string;
  connectionClosedAfterMs: number | null;
  upstreamStatus: number | null;
  finalOutcome: string;
  finalReplayed: boolean;
  conclusion: string;
}

const show = (a: Attempt | undefined): string => {
  if (a === undefined) return 'nothing';
  const what =
    a.kind === 'response'
      ? `${String(a.status)}${a.code !== undefined ? ` ${a.code}` : ''}${a.transactionId !== undefined ? ` ${a.transactionId}` : ''}`
      : a.kind;
  return `${what}${a.replayed ? ' (Idempotent-Replayed)' : ''}`;
};

/** Arms `rules` on the proxy, sends one operation, disarms, and resolves it with its key. */
async function withRules(
  setRules: (rules: FaultRule[]) => Promise<void>,
  rules: FaultRule[],
  ctx: RunContext,
  op: Operation,
): Promise<void> {
  await setRules(rules);
  try {
    await execute(ctx, op, {});
  } finally {
    await setRules([]);
  }
  if (op.outcome === 'unresolved') await resolve(ctx, op);
}

/** A probe: a withdrawal on the probes' account, a fault aimed at it, and what must come of it. */
interface Probe {
  name: string;
  fault: string;
  expected: string;
  /** The Idempotency-Key's suffix (after the run id), and the amount withdrawn. */
  key: string;
  amount: number;
  rules: (key: string) => FaultRule[];
  /** Judged once the probe's fault was injected at least once. */
  judge: (op: Operation) => { ok: boolean; finding?: string };
}

const PROBES: Probe[] = [
  // A refusal whose recording (PutItem) is answered but the answer lost: the SDK retries and
  // finds the marker it just wrote. The client asked once: it is not a replay.
  {
    name: 'refusal recorded, its response lost',
    fault: 'lost-response on the PutItem recording the refusal',
    expected: '409 INSUFFICIENT_FUNDS, not flagged as a replay (first request with the key)',
    key: 'probe-refusal',
    amount: 1_000_000_000,
    rules: (key) => [
      {
        id: 'probe-refusal',
        kind: 'lost-response',
        operations: ['PutItem'],
        bodyIncludes: key,
        limit: 1,
      },
    ],
    judge: (op) => {
      const first = op.attempts[0];
      return { ok: first?.code === 'INSUFFICIENT_FUNDS' && !first.replayed };
    },
  },
  // A withdrawal committed, its response lost (connection reset): the SDK retries the same
  // TransactWriteItems; the answer is the commit, once, not a replay.
  {
    name: 'withdrawal committed, its response lost',
    fault: 'lost-response (reset after commit) on TransactWriteItems',
    expected: '201, not flagged as a replay; one ledger entry (checked with the ledger)',
    key: 'probe-lost-commit',
    amount: 100,
    rules: (key) => [
      {
        id: 'probe-lost-commit',
        kind: 'lost-response',
        operations: ['TransactWriteItems'],
        bodyIncludes: key,
        limit: 1,
      },
    ],
    judge: (op) => {
      const first = op.attempts[0];
      return { ok: first?.cls === 'committed' && !first.replayed };
    },
  },
  // Committed, response lost, then every further attempt conflicts: the service answers
  // TRANSACTION_CONFLICT ("nothing was changed") though the money moved; the retry with the
  // key must find the commit (201, replayed) and the ledger must hold it once.
  {
    name: 'committed, response lost, then conflicts',
    fault: 'lost-response on the first TransactWriteItems, TransactionConflict on every later one',
    expected:
      'any answer; a retry with the key returns the commit (201 replayed); one ledger entry',
    key: 'probe-conflict-after-commit',
    amount: 200,
    rules: (key) => [
      {
        id: 'probe-cac-lost',
        kind: 'lost-response',
        operations: ['TransactWriteItems'],
        bodyIncludes: key,
        limit: 1,
      },
      { id: 'probe-cac-conflict', kind: 'conflict', bodyIncludes: key, limit: 4 },
    ],
    judge: (op) => {
      const final = op.attempts.find(isDefinitive);
      const conflictAnswered = op.attempts[0]?.code === 'TRANSACTION_CONFLICT';
      return {
        ok: final?.cls === 'committed',
        finding: conflictAnswered
          ? `409 TRANSACTION_CONFLICT can be answered for a withdrawal that committed: the first TransactWriteItems committed but its response was lost, the SDK's retry and the domain's 3 further attempts met TransactionConflict, and the client got 409 "The account was busy; nothing was changed…" — yet the money had moved (the retry with the same key got ${show(final)}). Money is safe (the key is honoured), but the message "nothing was changed" is not always true: say "may not have been applied; retry with the same Idempotency-Key".`
          : undefined,
      };
    },
  },
];

export async function runProbes(
  ctx: RunContext,
  proxy: FaultProxy,
  account: BankAccount,
  setRules: (rules: FaultRule[]) => Promise<void>,
): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (const probe of PROBES) {
    const key = `${ctx.runId}-${probe.key}`;
    const op = standaloneOperation(ctx, account, 'WITHDRAWAL', probe.amount, key);
    op.phase = 'probe';
    const rules = probe.rules(op.key);
    await withRules(setRules, rules, ctx, op);
    const injected = rules.reduce(
      (sum, rule) => sum + (proxy.stats().injectedByRule[rule.id ?? ''] ?? 0),
      0,
    );
    const { ok, finding } = probe.judge(op);
    results.push({
      injected,
      name: probe.name,
      fault: probe.fault,
      expected: probe.expected,
      observed: op.attempts.map(show).join(' → '),
      ok: injected > 0 && ok,
      ...(finding === undefined ? {} : { finding }),
    });
  }
  return results;
}

/**
 * A response withheld after DynamoDB committed, the connection left open: does the service's
 * SDK time out and retry within the invocation? Runs alongside the traffic.
 */
export async function hangProbe(
  ctx: RunContext,
  proxy: FaultProxy,
  account: BankAccount,
  setRules: (rules: FaultRule[]) => Promise<void>,
): Promise<HangProbe> {
  const op = standaloneOperation(ctx, account, 'WITHDRAWAL', 1_000, `${ctx.runId}-hang-probe`);
  op.phase = 'hang-probe';
  await setRules([
    {
      id: 'hang-probe',
      kind: 'lost-response-hang',
      limit: 1,
      bodyIncludes: op.key,
      hangMs: 30_000,
    },
  ]);
  const known = new Set(proxy.lostResponses().keys());
  const sent = performance.now();
  try {
    await execute(ctx, op, { firstTimeoutMs: 45_000 });
  } finally {
    await setRules([]);
  }
  if (op.outcome === 'unresolved') await resolve(ctx, op);
  const first = op.attempts[0];
  const firstAnsweredAfterMs = Math.round((first?.endedAt ?? sent) - sent);
  const lost = [...proxy.lostResponses()].find(
    ([token, l]) => !known.has(token) && l.kind === 'lost-response-hang',
  )?.[1];
  const final = op.attempts.find(isDefinitive);
  const retried = lost?.retries ?? 0;
  const firstStatus = first?.code ?? first?.status ?? first?.kind ?? 'none';
  let conclusion: string;
  if (lost === undefined) conclusion = 'the hang was not injected (no matching TransactWriteItems)';
  else if (retried > 0) {
    conclusion = `the SDK retried the withheld TransactWriteItems ${retried} time(s): the service's client has a request timeout`;
  } else {
    conclusion = `DynamoDB committed (${lost.upstreamStatus}), the response never came, and the SDK never retried: it waited until ${lost.closedBy === 'client' ? `the invocation was killed by the Lambda timeout (connection closed after ${((lost.closedAfterMs ?? 0) / 1000).toFixed(1)} s)` : 'the proxy dropped the connection'}; the client got ${String(firstStatus)} after ${(firstAnsweredAfterMs / 1000).toFixed(1)} s`;
  }
  return {
    firstStatus,
    firstAnsweredAfterMs,
    sdkRetriesDuringHang: retried,
    connectionClosedBy: lost?.closedBy ?? 'n/a',
    connectionClosedAfterMs: lost?.closedAfterMs ?? null,
    upstreamStatus: lost?.upstreamStatus ?? null,
    finalOutcome: op.outcome,
    finalReplayed: final?.replayed ?? false,
    conclusion,
  };
}
