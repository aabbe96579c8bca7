/**
 * The bank run's report: what it did and measured, every invariant with its checks and
 * violations, and the findings, as JSON (BankReport) and as text (formatReport).
 */
import type { AuditResult } from '../../../lib/audit/ledger-audit';
import { formatSystemAudit } from '../../../lib/audit/system-audit';
import { FAULT_KINDS, type FaultKind, type FaultProxyStats } from '../fault-proxy';
import type { RunContext } from './clients';
import type { FuzzResult } from './fuzz';
import { REVERSALS_INVARIANT, type ReversalRun } from './ledger-ops';
import { historyAround } from './history';
import type { Spread } from './lag';
import { LIMIT_INVARIANTS, type LimitsVerdict } from './limits';
import type { Operation, Violation } from './model';
import {
  SETTLEMENT_INVARIANTS,
  type MoneyTotals,
  type PayoutCounts,
  type Settlement,
} from './payouts';
import type { HangProbe, ProbeResult } from './probes';
import type { BankOptions } from './run';
import { INVARIANTS, type VerifyResult } from './verify';

/** The bound the sequencer promises: a movement's line within this long after the load stops. */
export const SEQUENCED_WITHIN_MS = 5_000;
export const SEQUENCER_INVARIANT = `sequencer: every movement of the load has its statement line ${SEQUENCED_WITHIN_MS / 1000} s after the load stops`;
const FUZZ_INVARIANT =
  'fuzz: no 5xx (a 503 STATEMENT_CATCHING_UP only where the statement is read), every refusal a contract 4xx naming the fault, every body as openapi.yaml documents, state unchanged';
const AUDIT_INVARIANT =
  'audit: every account adds up in the table (statement + pending, chain, markers)';
const DOUBLE_ENTRY_INVARIANT =
  'double entry: every transaction, and all accounts together, sum to zero per currency; each system account equals its postings';

/** What the report says about the options: all but the log. */
export type ReportedOptions = Omit<BankOptions, 'log'>;

export interface BankReport {
  label: string;
  seed: number;
  passed: boolean;
  startedAt: string;
  options: ReportedOptions;
  durationsMs: Record<string, number>;
  operations: {
    total: number;
    byOutcome: Record<string, number>;
    byType: Record<string, number>;
    refusals: Record<string, number>;
    keyReuses: number;
    clientAborts: number;
    concurrentDuplicates: number;
    replays: number;
    retriedOperations: number;
    unresolvedButCommitted: number;
  };
  accounts: { hot: number; dedicated: number };
  /** Transfers and payouts: outcomes, how payouts ended by destination mode, money totals. */
  movements: {
    transfers: { total: number; byOutcome: Record<string, number>; amountMoved: number };
    payouts: PayoutCounts & { total: number; byOutcome: Record<string, number> };
    settleSeconds: number;
    money: MoneyTotals;
  };
  http: { requests: number; answers: Record<string, number>; balanceSamples: number };
  faults: {
    injected: Record<FaultKind, number>;
    byOperation: Record<string, number>;
    lostAfterCommit: number;
    sdkRetriesAfterLostResponse: number;
    upstreamFailures: number;
    dynamodbRequests: number;
  };
  phases: Array<{
    label: string;
    seconds: number;
    operations: number;
    attempts: number;
    meanAttemptMs: number;
    answers: Record<string, number>;
  }>;
  /** The sequencer's backlog during the traffic, and how long it took to catch up after. */
  sequencer: {
    maxBacklog: number;
    maxBacklogAtSecond: number;
    catchUpSeconds: number;
    committedPerSecond: number;
    /** Commit to statement line, movements committed during the load (payouts aside). */
    lag: Spread;
    lagByPhase: Array<Spread & { label: string }>;
    /** Movements of the load still without their line SEQUENCED_WITHIN_MS after it stopped. */
    unplacedAfterLoad: number;
  };
  /** The payout dispatcher: from the hold's commit to the gateway, and to POSTED or VOIDED. */
  payoutLatency: { holdToDispatch: Spread; holdToSettled: Spread };
  crashRestarts: Array<{
    atOperation: number;
    killedDynamodbPid: number;
    killedApiPid: number;
    downMs: number;
  }>;
  hangProbe: HangProbe | null;
  probes: ProbeResult[];
  invariants: Record<string, { checks: number; violations: number }>;
  violationCount: number;
  violations: Violation[];
  /** The operations around each of the first violations (historyAround). */
  histories: Array<{ violation: Violation; operations: string[] }>;
  audit: Pick<
    AuditResult,
    'accounts' | 'statementLines' | 'pendingEntries' | 'markers' | 'ok' | 'system'
  > & {
    drifting: Array<{ accountId: string; problems: string[] }>;
  };
  fuzz: (Omit<FuzzResult, 'violations'> & { violations: number }) | null;
  /** The operator's reversals after the traffic (issue 19). */
  reversals: (Omit<ReversalRun, 'violations'> & { violations: number }) | null;
  /**
   * Withdrawal limits (issue 20): LIMIT_EXCEEDED answered, by kind; each account with limits of
   * its own at the end; checked once before the operator's reversals and once after them.
   */
  limits: {
    refused: LimitsVerdict['refused'];
    /** Room the operator's reversals of outgoing movements gave back the same day. */
    givenBack: number;
    accounts: LimitsVerdict['accounts'];
    checks: { beforeReversals: number; atEnd: number };
  } | null;
  findings: string[];
  reportFiles?: { json: string; text: string };
}

/** Everything the run gathered, for the report. */
export interface RunRecord {
  options: ReportedOptions;
  startedAt: string;
  durations: Record<string, number>;
  ctx: RunContext;
  accounts: BankReport['accounts'];
  verdict: VerifyResult;
  settled: VerifyResult & { totals: MoneyTotals; counts: PayoutCounts };
  settlement: Settlement;
  /** Movements of the load still without their line SEQUENCED_WITHIN_MS after it stopped. */
  lateViolations: Violation[];
  late: number;
  faultStats: FaultProxyStats;
  phases: BankReport['phases'];
  sequencer: Omit<BankReport['sequencer'], 'unplacedAfterLoad' | 'committedPerSecond'>;
  payoutLatency: BankReport['payoutLatency'];
  crashRestarts: BankReport['crashRestarts'];
  hangProbe: HangProbe | null;
  probes: ProbeResult[];
  audit: AuditResult;
  fuzz: FuzzResult | null;
  reversals: ReversalRun | null;
  /** The limits invariants once the traffic was verified, and again after the reversals. */
  limits: { beforeReversals: LimitsVerdict; atEnd: LimitsVerdict } | null;
}

export function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** An attempt's answer as the report counts it: `409 INSUFFICIENT_FUNDS`, `aborted`... */
export const answerOf = (a: Operation['attempts'][number]): string =>
  a.kind === 'response' ? `${String(a.status)}${a.code ? ` ${a.code}` : ''}` : a.kind;

/** An operation's outcome, a refusal by its code. */
function outcomeOf(op: Operation): string {
  return op.outcome === 'refused' ? (op.refusal?.code ?? 'refused') : op.outcome;
}

function allViolations(r: RunRecord): Violation[] {
  return [
    ...r.ctx.violations,
    ...r.verdict.violations,
    ...r.settled.violations,
    ...r.lateViolations,
    ...(r.fuzz?.violations ?? []),
    ...(r.reversals?.violations ?? []),
    ...limitViolations(r),
  ];
}

/** Both checks of the limits, each violation saying which. */
function limitViolations(r: RunRecord): Violation[] {
  if (r.limits === null) return [];
  const { beforeReversals, atEnd } = r.limits;
  const when = (v: Violation, at: string): Violation => ({ ...v, detail: `${v.detail} (${at})` });
  return [
    ...beforeReversals.violations.map((v) => when(v, 'before the reversals')),
    ...atEnd.violations.map((v) => when(v, 'after the reversals')),
  ];
}

/** Every invariant the run judged: how often it was checked, how often it failed. */
function invariantTable(r: RunRecord, violations: Violation[]): BankReport['invariants'] {
  const invariants: BankReport['invariants'] = {};
  for (const name of Object.values(INVARIANTS))
    invariants[name] = { checks: r.verdict.checks[name] ?? 0, violations: 0 };
  for (const name of Object.values(SETTLEMENT_INVARIANTS))
    invariants[name] = { checks: r.settled.checks[name] ?? 0, violations: 0 };
  invariants[SEQUENCER_INVARIANT] = { checks: r.sequencer.lag.count, violations: 0 };
  for (const v of violations) {
    const entry = invariants[v.invariant] ?? { checks: 0, violations: 0 };
    entry.violations += 1;
    invariants[v.invariant] = entry;
  }
  if (r.fuzz !== null) {
    invariants[FUZZ_INVARIANT] = { checks: r.fuzz.requests, violations: r.fuzz.violations.length };
  }
  invariants[AUDIT_INVARIANT] = {
    checks: r.audit.accounts,
    violations: r.audit.drifting.length + r.audit.busy.length,
  };
  invariants[DOUBLE_ENTRY_INVARIANT] = {
    checks: r.audit.statementLines,
    violations: r.audit.system.problems.length + (r.audit.system.judged ? 0 : 1),
  };
  if (r.reversals !== null) {
    const entry = invariants[REVERSALS_INVARIANT] ?? { checks: 0, violations: 0 };
    invariants[REVERSALS_INVARIANT] = { ...entry, checks: r.reversals.checks };
  }
  if (r.limits !== null) {
    for (const name of Object.values(LIMIT_INVARIANTS)) {
      const entry = invariants[name] ?? { checks: 0, violations: 0 };
      const checks =
        (r.limits.beforeReversals.checks[name] ?? 0) + (r.limits.atEnd.checks[name] ?? 0);
      invariants[name] = { ...entry, checks };
    }
  }
  return invariants;
}

/** The operations of the traffic (the set-up's opening deposits aside). */
function operationCounts(r: RunRecord, counted: Operation[]): BankReport['operations'] {
  const attemptsWith = (role: string): number =>
    r.ctx.ops.reduce((n, op) => n + op.attempts.filter((a) => a.role === role).length, 0);
  return {
    total: counted.length,
    byOutcome: countBy(counted.map((op) => op.outcome)),
    byType: countBy(counted.map((op) => op.type)),
    refusals: countBy(
      counted.filter((op) => op.refusal !== undefined).map((op) => op.refusal?.code ?? ''),
    ),
    keyReuses: counted.filter((op) => op.reuseOf !== undefined).length,
    clientAborts: r.ctx.ops.reduce(
      (n, op) => n + op.attempts.filter((a) => a.kind === 'aborted').length,
      0,
    ),
    concurrentDuplicates: counted.filter((op) => op.attempts.some((a) => a.role === 'concurrent'))
      .length,
    replays: attemptsWith('replay'),
    retriedOperations: counted.filter((op) =>
      op.attempts.some((a) => a.role === 'retry' || a.role === 'final'),
    ).length,
    unresolvedButCommitted: r.verdict.unresolvedButCommitted,
  };
}

function movementCounts(r: RunRecord, counted: Operation[]): BankReport['movements'] {
  const transfers = counted.filter((op) => op.type === 'TRANSFER');
  const payouts = counted.filter((op) => op.type === 'PAYOUT');
  return {
    transfers: {
      total: transfers.length,
      byOutcome: countBy(transfers.map(outcomeOf)),
      amountMoved: r.settled.totals.transfers,
    },
    payouts: {
      total: payouts.length,
      byOutcome: countBy(payouts.map(outcomeOf)),
      ...r.settled.counts,
    },
    settleSeconds: Math.round(r.settlement.waitedMs / 100) / 10,
    money: r.settled.totals,
  };
}

function faultCounts(stats: FaultProxyStats): BankReport['faults'] {
  return {
    injected: stats.injected,
    byOperation: stats.injectedByOperation,
    lostAfterCommit: stats.lostAfterCommit,
    sdkRetriesAfterLostResponse: stats.retriesAfterLostResponse,
    upstreamFailures: stats.upstreamFailures,
    dynamodbRequests: Object.values(stats.requests).reduce((a, b) => a + b, 0),
  };
}

function findingsOf(r: RunRecord): string[] {
  const findings: string[] = [];
  for (const p of r.probes) if (p.finding !== undefined) findings.push(p.finding);
  const hang = r.hangProbe;
  if (hang !== null && hang.sdkRetriesDuringHang === 0 && hang.upstreamStatus === 200) {
    findings.push(
      `No request timeout on the service's DynamoDB client (lib/persistence/dynamodb-client.ts): when a response is lost after DynamoDB committed, the SDK never retries within the invocation — ${hang.conclusion}. The money is safe (the client's retry with the same key was answered ${hang.finalOutcome}${hang.finalReplayed ? ', replayed' : ''}), but the caller waits out the Lambda timeout and gets a gateway error. Suggested: requestHandler: new NodeHttpHandler({ connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true }) (or socketTimeout: 2000), so 3 attempts fit in the 10 s Lambda timeout.`,
    );
  }
  return findings;
}

function auditSummary(audit: AuditResult): BankReport['audit'] {
  return {
    accounts: audit.accounts,
    statementLines: audit.statementLines,
    pendingEntries: audit.pendingEntries,
    markers: audit.markers,
    ok: audit.ok,
    system: audit.system,
    drifting: audit.drifting.map((a) => ({
      accountId: a.accountId,
      problems: a.problems.slice(0, 20),
    })),
  };
}

function limitsSummary(r: RunRecord): BankReport['limits'] {
  if (r.limits === null) return null;
  const { beforeReversals, atEnd } = r.limits;
  const total = (v: LimitsVerdict) => Object.values(v.checks).reduce((a, b) => a + b, 0);
  return {
    refused: atEnd.refused,
    givenBack: atEnd.givenBack,
    accounts: atEnd.accounts,
    checks: { beforeReversals: total(beforeReversals), atEnd: total(atEnd) },
  };
}

export function buildReport(r: RunRecord): BankReport {
  const violations = allViolations(r);
  const counted = r.ctx.ops.filter((op) => op.phase !== 'setup');
  const committed = counted.filter((op) => op.outcome === 'committed').length;
  const trafficSeconds = Math.max(1, (r.durations.traffic ?? 1) / 1000);
  return {
    label: r.options.label,
    seed: r.options.seed,
    passed: violations.length === 0 && r.audit.ok && r.audit.busy.length === 0,
    startedAt: r.startedAt,
    options: r.options,
    durationsMs: r.durations,
    operations: operationCounts(r, counted),
    accounts: r.accounts,
    movements: movementCounts(r, counted),
    http: {
      requests: r.ctx.httpRequests,
      answers: countBy(r.ctx.ops.flatMap((op) => op.attempts.map(answerOf))),
      balanceSamples: r.ctx.samples.length,
    },
    faults: faultCounts(r.faultStats),
    phases: r.phases,
    sequencer: {
      ...r.sequencer,
      unplacedAfterLoad: r.late,
      committedPerSecond: Math.round((committed / trafficSeconds) * 10) / 10,
    },
    payoutLatency: r.payoutLatency,
    crashRestarts: r.crashRestarts,
    hangProbe: r.hangProbe,
    probes: r.probes,
    invariants: invariantTable(r, violations),
    violationCount: violations.length,
    violations: violations.slice(0, 200),
    histories: violations.slice(0, 5).map((violation) => ({
      violation,
      operations: historyAround(r.ctx.ops, violation),
    })),
    audit: auditSummary(r.audit),
    fuzz: r.fuzz === null ? null : { ...r.fuzz, violations: r.fuzz.violations.length },
    reversals:
      r.reversals === null ? null : { ...r.reversals, violations: r.reversals.violations.length },
    limits: limitsSummary(r),
    findings: findingsOf(r),
  };
}

export function formatReport(r: BankReport): string {
  const lines = [
    `Bank run "${r.label}" (seed ${r.seed}): ${r.passed ? 'PASSED' : `FAILED — ${r.violationCount} violation(s)`}`,
    ...trafficLines(r),
    ...timingLines(r),
    ...probeLines(r),
    ...verdictLines(r),
  ];
  for (const finding of r.findings) lines.push(`  FINDING: ${finding}`);
  lines.push(
    `  durations    ${Object.entries(r.durationsMs)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
      .join(', ')}`,
  );
  if (r.reportFiles) lines.push(`  report       ${r.reportFiles.json}`);
  return `${lines.join('\n')}\n`;
}

/** What the traffic did: operations, movements, money, HTTP, faults, crashes. */
function trafficLines(r: BankReport): string[] {
  const kinds = FAULT_KINDS.map((k) => `${k} ${r.faults.injected[k]}`).join(', ');
  return [
    `  operations   ${r.operations.total} from ${r.options.clients} clients (${r.options.dedicatedClients ?? 0} alone on their account) on ${r.accounts.hot} hot + ${r.accounts.dedicated} dedicated accounts`,
    `               outcomes ${fmt(r.operations.byOutcome)}; ${fmt(r.operations.byType)}; refusals ${fmt(r.operations.refusals)}`,
    `               key reused with another amount ${r.operations.keyReuses}, client-side aborts ${r.operations.clientAborts}, concurrent duplicates ${r.operations.concurrentDuplicates}, replays ${r.operations.replays}, operations retried ${r.operations.retriedOperations} (${r.operations.unresolvedButCommitted} committed though never answered)`,
    `  transfers    ${r.movements.transfers.total} among the hot accounts: ${fmt(r.movements.transfers.byOutcome)}; ${r.movements.transfers.amountMoved} moved`,
    `  payouts      ${r.movements.payouts.total} requested: ${fmt(r.movements.payouts.byOutcome)}; ${r.movements.payouts.committed} held → POSTED ${r.movements.payouts.posted}, VOIDED ${r.movements.payouts.voided}, left PENDING ${r.movements.payouts.left} (settled ${r.movements.settleSeconds.toFixed(1)} s after the traffic)`,
    `               by destination mode: ${Object.entries(r.movements.payouts.byMode)
      .map(([mode, c]) => `${mode} (${fmt(c)})`)
      .join('; ')}`,
    `               gateway: ${r.movements.payouts.gateway.records} records, ${r.movements.payouts.gateway.executed} executed, ${r.movements.payouts.gateway.requests} requests, max executions per key ${r.movements.payouts.gateway.maxExecutions}`,
    `  money        Σ balances ${r.movements.money.balances} = opening ${r.movements.money.opening} + deposits ${r.movements.money.deposits} − withdrawals ${r.movements.money.withdrawals} − POSTED payouts ${r.movements.money.postedPayouts} = ${r.movements.money.expected}${r.movements.money.balances === r.movements.money.expected ? '' : ' — MISMATCH'}; Σ pending ${r.movements.money.pending}, Σ available ${r.movements.money.available}`,
    `  http         ${r.http.requests} requests, ${r.http.balanceSamples} balance samples; answers ${fmt(r.http.answers)}`,
    `  faults       ${kinds}`,
    `               lost after DynamoDB committed ${r.faults.lostAfterCommit} (SDK retries seen ${r.faults.sdkRetriesAfterLostResponse}); ${r.faults.dynamodbRequests} DynamoDB requests through the proxy`,
    `  crashes      ${r.crashRestarts.length === 0 ? 'none' : r.crashRestarts.map((c) => `kill -9 DynamoDB Local (${c.killedDynamodbPid}) + API (${c.killedApiPid}) at operation ${c.atOperation}, back in ${(c.downMs / 1000).toFixed(1)} s`).join('; ')}`,
  ];
}

/** How long the phases took, and the sequencer and dispatcher behind them. */
function timingLines(r: BankReport): string[] {
  const lines: string[] = [];
  for (const p of r.phases) {
    lines.push(
      `  phase        ${p.label.padEnd(22)} ${String(p.operations).padStart(5)} ops in ${p.seconds.toFixed(1).padStart(6)} s, ${p.attempts} attempts (mean ${p.meanAttemptMs} ms): ${fmt(p.answers)}`,
    );
  }
  lines.push(
    `  sequencer    backlog up to ${r.sequencer.maxBacklog} committed-but-unsequenced entries (at ${r.sequencer.maxBacklogAtSecond} s), caught up ${r.sequencer.catchUpSeconds} s after the traffic; ${r.sequencer.committedPerSecond} movements/s committed`,
    `               commit → statement line during the load: ${fmtSpread(r.sequencer.lag)}; without a line ${SEQUENCED_WITHIN_MS / 1000} s after the load: ${r.sequencer.unplacedAfterLoad}`,
    ...r.sequencer.lagByPhase.map(
      (p) => `               lag in phase ${p.label.padEnd(22)} ${fmtSpread(p)}`,
    ),
    `  dispatcher   hold → gateway ${fmtSpread(r.payoutLatency.holdToDispatch)}; hold → POSTED/VOIDED ${fmtSpread(r.payoutLatency.holdToSettled)}`,
  );
  return lines;
}

/** The probes of lost responses, the fuzz, the audit. */
function probeLines(r: BankReport): string[] {
  const lines: string[] = [];
  if (r.hangProbe !== null) {
    lines.push(
      `  lost-response hang probe: first answer ${String(r.hangProbe.firstStatus)} after ${(r.hangProbe.firstAnsweredAfterMs / 1000).toFixed(1)} s; SDK retries ${r.hangProbe.sdkRetriesDuringHang}; retry with the key: ${r.hangProbe.finalOutcome}${r.hangProbe.finalReplayed ? ' (replayed)' : ''}`,
    );
  }
  for (const p of r.probes) {
    lines.push(
      `  probe        ${p.ok ? 'ok  ' : 'FAIL'} ${p.name} [${p.fault}, injected ${p.injected}]: ${p.observed}`,
    );
  }
  if (r.fuzz !== null) {
    lines.push(
      `  fuzz         ${r.fuzz.requests} requests (seed ${r.fuzz.seed}), statuses ${fmt(r.fuzz.byStatus)}, violations ${r.fuzz.violations}, state unchanged: ${r.fuzz.stateUnchanged ? 'yes' : 'NO'}, slow (sent twice) ${r.fuzz.slowOrFailed}`,
    );
    lines.push(
      `               by route: ${fmt(r.fuzz.byRoute)}`,
      `               refused by serverless-offline's HTTP layer before the service (not held against it): ${fmt(r.fuzz.emulatorRefusals) || 'none'}`,
    );
  }
  lines.push(...limitLines(r));
  if (r.reversals !== null) {
    lines.push(
      `  reversals    ${r.reversals.committed} committed over ${r.reversals.originals} movements (some in part, some in full), answers ${fmt(r.reversals.answers)}, violations ${r.reversals.violations}`,
    );
  }
  lines.push(
    `  audit        ${r.audit.accounts} accounts, ${r.audit.statementLines} lines, ${r.audit.pendingEntries} pending, ${r.audit.markers} markers: ${r.audit.ok ? 'no drift' : `${r.audit.drifting.length} drifting`}`,
    `  system       ${formatSystemAudit(r.audit.system)}`,
  );
  return lines;
}

/** LIMIT_EXCEEDED answered, and each account with limits of its own. */
function limitLines(r: BankReport): string[] {
  if (r.limits === null) return [];
  const { refused, accounts, checks, givenBack } = r.limits;
  return [
    `  limits       LIMIT_EXCEEDED ${refused.daily + refused.perMovement}: daily ${refused.daily}, per movement ${refused.perMovement}; ${accounts.length} accounts with limits of their own; ${checks.beforeReversals} checks before the reversals, ${checks.atEnd} after (reversals gave back ${givenBack})`,
    ...accounts.map(
      (a) =>
        `               ${a.label.padEnd(8)} daily ${a.limits.daily}, per movement ${a.limits.perMovement}, ${a.limits.timezone}: refused daily ${a.refused.daily}, per movement ${a.refused.perMovement}; left it ${fmt(a.byDay) || 'nothing'}; used today (${a.day}) ${a.usedToday}`,
    ),
  ];
}

/** Every invariant's checks, the violations and the operations around them. */
function verdictLines(r: BankReport): string[] {
  const lines: string[] = [];
  lines.push('  invariants');
  for (const [name, v] of Object.entries(r.invariants)) {
    lines.push(
      `    ${v.violations === 0 ? 'ok  ' : 'FAIL'} ${name}: ${v.checks} checks, ${v.violations} violations`,
    );
  }
  if (r.violations.length > 0) {
    lines.push(`  violations (${r.violationCount}, first ${Math.min(30, r.violations.length)}):`);
    for (const v of r.violations.slice(0, 30)) {
      lines.push(
        `    - [${v.invariant}] ${v.detail}${v.accountId ? ` (account ${v.accountId}${v.key ? `, key ${v.key}` : ''})` : ''}`,
      );
    }
  }
  for (const { violation, operations } of r.histories) {
    if (operations.length === 0) continue;
    lines.push(`  history around [${violation.invariant}] ${violation.detail}:`);
    for (const line of operations) lines.push(`    ${line}`);
  }
  return lines;
}

function fmtSpread(s: Spread): string {
  return `p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms (n=${s.count})`;
}

function fmt(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
