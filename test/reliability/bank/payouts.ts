/**
 * Payouts in the bank run: the gateway's destinations (one per mode), waiting until every payout
 * of the run is settled, and the end-of-run checks that need the payouts' final states:
 * - every payout is POSTED or VOIDED (none left PENDING after the deadline);
 * - POSTED exactly when the gateway's record says the money was sent (executions = 1,
 *   SUCCEEDED), VOIDED exactly when it was not, no record with executions > 1, and no record
 *   the run's payouts do not account for;
 * - each ends as its destination's mode says (refuse → VOIDED; succeed, lose, timeout → POSTED:
 *   a lost or late answer is asked again, never guessed), with one PAYOUT line of that status;
 * - money is conserved: Σ balances = Σ committed deposits − Σ committed withdrawals − Σ POSTED
 *   payouts (transfers net to zero), Σ pending = 0 and Σ available = Σ balances once settled.
 * "Committed" is what the service answered; an operation never answered counts if its key is in
 * the history.
 */
import { balanceEffect } from '../../../lib/domain/types';
import type { LedgerEntry } from '../../../lib/wire/types';
import { sleep } from '../../../local/wait';
import type { RunContext } from './clients';
import { call, callUntil } from './http';
import type { DestinationMode, Operation, PayoutDestination, Violation } from './model';
import type { AccountState, VerifyResult } from './verify';

export const SETTLEMENT_INVARIANTS = {
  settled: 'every payout ends POSTED or VOIDED (none left PENDING)',
  gateway: 'a payout is POSTED exactly when the gateway sent it (executions = 1), never sent twice',
  mode: "each payout ends as its destination's mode says, with one PAYOUT line of that status",
  conserved:
    'money is conserved: Σ balances = Σ deposits − Σ withdrawals − Σ POSTED payouts (transfers net 0)',
} as const;

/** The run's destinations, weighted: most succeed, some are refused, some answers are lost or late. */
export function runDestinations(runId: string): Array<PayoutDestination & { weight: number }> {
  const weights: Record<DestinationMode, number> = {
    succeed: 0.4,
    refuse: 0.25,
    lose: 0.2,
    timeout: 0.15,
  };
  return (Object.keys(weights) as DestinationMode[]).map((mode) => ({
    name: `${runId}-${mode}`,
    mode,
    weight: weights[mode],
  }));
}

/** Sets each destination's mode on the gateway (its control API); again after a restart. */
export async function setDestinationModes(
  ctx: RunContext,
  destinations: PayoutDestination[],
): Promise<void> {
  for (const d of destinations) {
    await callUntil(
      `setting the gateway's mode of ${d.name} to ${d.mode}`,
      () =>
        call(ctx.gatewayUrl, 'PUT', `/_control/destinations/${encodeURIComponent(d.name)}`, {
          body: { mode: d.mode },
          timeoutMs: 10_000,
        }),
      (answer) => (answer.kind === 'response' && answer.status === 204 ? true : undefined),
    );
  }
}

/**
 * A payout of the run as GET /accounts/{id}/payouts/{transactionId} answers it, read field by
 * field rather than trusted as the contract's `Payout`: a status the contract does not know is
 * what the run is there to catch.
 */
export interface PayoutState {
  op: Operation;
  transactionId: string;
  status: string;
  amount?: number;
  destination?: string;
  attempts?: number;
  voidReason?: string | null;
  /** The hold's commit, and the last change (the resolution, once POSTED or VOIDED). */
  createdAt?: string;
  updatedAt?: string;
}

/** A record of the simulated gateway (GET /_control/payouts). */
export interface GatewayRecord {
  idempotencyKey: string;
  amount: number | null;
  destination: string | null;
  status: string;
  requests: number;
  executions: number;
  /** When the gateway first heard of the key. */
  createdAt?: string;
}

export interface Settlement {
  payouts: PayoutState[];
  /** Payouts still PENDING at the deadline. */
  left: PayoutState[];
  /** Payout operations that moved nothing (refused, key reused, or never committed). */
  notCommitted: number;
  waitedMs: number;
}

/**
 * The transactionId of every payout operation that committed: from its answer, or for one never
 * answered, from its account's history (by key).
 */
async function payoutIds(
  ctx: RunContext,
  ops: Operation[],
  history: (accountId: string) => Promise<LedgerEntry[]>,
): Promise<Array<{ op: Operation; transactionId: string }>> {
  const out: Array<{ op: Operation; transactionId: string }> = [];
  const cache = new Map<string, LedgerEntry[]>();
  for (const op of ops) {
    if (op.type !== 'PAYOUT' || op.reuseOf !== undefined) continue;
    if (op.outcome === 'committed' && op.transactionId !== undefined) {
      out.push({ op, transactionId: op.transactionId });
    } else if (op.outcome === 'unresolved') {
      const id = op.account.accountId;
      const entries = cache.get(id) ?? (await history(id));
      cache.set(id, entries);
      const entry = entries.find((e) => e.type === 'PAYOUT' && e.idempotencyKey === op.key);
      if (entry !== undefined) out.push({ op, transactionId: entry.transactionId });
    }
  }
  return out;
}

async function readPayout(
  ctx: RunContext,
  op: Operation,
  transactionId: string,
): Promise<PayoutState | null> {
  const answer = await call(
    ctx.apiUrl,
    'GET',
    `/accounts/${op.account.accountId}/payouts/${transactionId}`,
    { token: ctx.users.ops.token, timeoutMs: ctx.limits.requestTimeoutMs },
  );
  if (answer.kind !== 'response' || answer.status !== 200) return null;
  const body = answer.json as Record<string, unknown> | undefined;
  if (body === undefined || typeof body.status !== 'string') return null;
  return {
    op,
    transactionId,
    status: body.status,
    amount: typeof body.amount === 'number' ? body.amount : undefined,
    destination: typeof body.destination === 'string' ? body.destination : undefined,
    attempts: typeof body.attempts === 'number' ? body.attempts : undefined,
    voidReason: typeof body.voidReason === 'string' ? body.voidReason : null,
    createdAt: typeof body.createdAt === 'string' ? body.createdAt : undefined,
    updatedAt: typeof body.updatedAt === 'string' ? body.updatedAt : undefined,
  };
}

/** Polls every committed payout of the run until none is PENDING, or the deadline. */
export async function waitPayoutsSettled(
  ctx: RunContext,
  ops: Operation[],
  history: (accountId: string) => Promise<LedgerEntry[]>,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<Settlement> {
  const started = Date.now();
  const ids = await payoutIds(ctx, ops, history);
  const notCommitted =
    ops.filter((op) => op.type === 'PAYOUT' && op.reuseOf === undefined).length - ids.length;
  const latest = new Map<string, PayoutState>();
  let open = ids;
  let lastLog = 0;
  while (open.length > 0) {
    const still: typeof open = [];
    for (const p of open) {
      const state = await readPayout(ctx, p.op, p.transactionId);
      if (state !== null) latest.set(p.transactionId, state);
      if (state === null || state.status === 'PENDING') still.push(p);
    }
    open = still;
    if (open.length === 0 || Date.now() - started > timeoutMs) break;
    if (Date.now() - lastLog > 10_000) {
      log(`  ${open.length} payouts still PENDING; waiting for the gateway's answers...`);
      lastLog = Date.now();
    }
    await sleep(1_000);
  }
  const payouts = ids.map(
    (p) => latest.get(p.transactionId) ?? { op: p.op, transactionId: p.transactionId, status: '?' },
  );
  return {
    payouts,
    left: payouts.filter((p) => p.status !== 'POSTED' && p.status !== 'VOIDED'),
    notCommitted,
    waitedMs: Date.now() - started,
  };
}

/** Every record of the simulated gateway. */
export async function gatewayRecords(ctx: RunContext): Promise<GatewayRecord[]> {
  return callUntil(
    `reading the gateway's records from ${ctx.gatewayUrl}`,
    () => call(ctx.gatewayUrl, 'GET', '/_control/payouts', { timeoutMs: 30_000 }),
    (answer) =>
      answer.kind === 'response' && answer.status === 200 && Array.isArray(answer.json)
        ? (answer.json as unknown[]).filter(isGatewayRecord)
        : undefined,
  );
}

function isGatewayRecord(value: unknown): value is GatewayRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.idempotencyKey === 'string' &&
    typeof r.status === 'string' &&
    typeof r.requests === 'number' &&
    typeof r.executions === 'number'
  );
}

export interface MoneyTotals {
  opening: number;
  deposits: number;
  withdrawals: number;
  postedPayouts: number;
  transfers: number;
  expected: number;
  balances: number;
  pending: number;
  available: number;
}

export interface PayoutCounts {
  committed: number;
  notCommitted: number;
  posted: number;
  voided: number;
  left: number;
  byMode: Record<string, Record<string, number>>;
  gateway: { records: number; executed: number; requests: number; maxExecutions: number };
}

/** Checks, counted per invariant; a violation when one fails. */
function judge() {
  const violations: Violation[] = [];
  const checks: Record<string, number> = {};
  const check = (invariant: string, ok: boolean, v: Omit<Violation, 'invariant'>): void => {
    checks[invariant] = (checks[invariant] ?? 0) + 1;
    if (!ok) violations.push({ invariant, ...v });
  };
  return { violations, checks, check };
}
type Check = ReturnType<typeof judge>['check'];

const I = SETTLEMENT_INVARIANTS;

/** Settled; POSTED exactly when the gateway sent it; as its destination's mode says. */
function checkPayout(
  p: PayoutState,
  record: GatewayRecord | undefined,
  lines: LedgerEntry[],
  check: Check,
): void {
  const op = p.op;
  const where = { accountId: op.account.accountId, operation: op.id, key: op.key };
  const mode = op.destination?.mode ?? '?';
  const ended = p.status === 'POSTED' || p.status === 'VOIDED';
  check(I.settled, ended, {
    ...where,
    detail: `payout ${p.transactionId} of ${op.amount} to ${String(op.destination?.name)} is ${p.status} after the wait (gateway calls ${String(p.attempts)})`,
  });
  const sent = record !== undefined && record.executions === 1 && record.status === 'SUCCEEDED';
  if (ended) {
    check(I.gateway, (p.status === 'POSTED') === sent, {
      ...where,
      detail: `payout ${p.transactionId} is ${p.status}; the gateway's record: ${record === undefined ? 'none' : `${record.status}, executions ${record.executions}, requests ${record.requests}`}`,
    });
  }
  if (record !== undefined) {
    check(
      I.gateway,
      record.executions <= 1 &&
        (record.amount === null || record.amount === op.amount) &&
        (record.destination === null || record.destination === op.destination?.name),
      {
        ...where,
        detail: `the gateway's record of ${p.transactionId}: ${record.amount ?? '-'} to ${record.destination ?? '-'}, executions ${record.executions}; the payout: ${op.amount} to ${String(op.destination?.name)}`,
      },
    );
  }
  const expected = mode === 'refuse' ? 'VOIDED' : 'POSTED';
  const line = lines[0];
  check(
    I.mode,
    p.status === expected &&
      lines.length === 1 &&
      line?.type === 'PAYOUT' &&
      line.status === p.status &&
      line.amount === op.amount,
    {
      ...where,
      detail: `payout ${p.transactionId} of ${op.amount} to a "${mode}" destination is ${p.status} (expected ${expected}, void reason ${String(p.voidReason)}); its lines: ${lines.map((e) => `${e.type} ${e.amount} ${e.status}`).join(', ') || 'none'}`,
    },
  );
}

/** Every movement that moved money: answered, or unanswered but in its account's ledger. */
function moneyTotals(
  ops: Operation[],
  states: AccountState[],
  settlement: Settlement,
  entriesOf: Map<string, LedgerEntry[]>,
): MoneyTotals {
  const moved = (op: Operation): boolean => {
    if (op.reuseOf !== undefined) return false;
    if (op.outcome === 'committed') return true;
    if (op.outcome !== 'unresolved') return false;
    return (entriesOf.get(op.account.accountId) ?? []).some(
      (e) => e.idempotencyKey === op.key && e.type !== 'TRANSFER_IN',
    );
  };
  const sum = (list: Operation[]): number => list.reduce((n, op) => n + op.amount, 0);
  // What left the accounts: the amount and the fee the account's schedule charged with it.
  const charged = (list: Operation[]): number =>
    sum(list) + list.reduce((n, op) => n + (op.fee ?? 0), 0);
  const committed = ops.filter(moved);
  const deposits = committed.filter((op) => op.type === 'DEPOSIT');
  const posted = new Set(
    settlement.payouts.filter((p) => p.status === 'POSTED').map((p) => p.op.id),
  );
  const totals: MoneyTotals = {
    opening: sum(deposits.filter((op) => op.phase === 'setup')),
    deposits: sum(deposits.filter((op) => op.phase !== 'setup')),
    withdrawals: charged(committed.filter((op) => op.type === 'WITHDRAWAL')),
    postedPayouts: charged(committed.filter((op) => op.type === 'PAYOUT' && posted.has(op.id))),
    transfers: sum(committed.filter((op) => op.type === 'TRANSFER')),
    expected: 0,
    balances: states.reduce((n, s) => n + s.balance, 0),
    pending: states.reduce((n, s) => n + (s.pending ?? 0), 0),
    available: states.reduce((n, s) => n + (s.available ?? s.balance), 0),
  };
  totals.expected = totals.opening + totals.deposits - totals.withdrawals - totals.postedPayouts;
  return totals;
}

/** Σ balances as the movements say; each account's history sums to its balance; no hold left. */
function checkConservation(
  totals: MoneyTotals,
  states: AccountState[],
  settled: boolean,
  check: Check,
): void {
  check(I.conserved, totals.balances === totals.expected, {
    detail: `Σ balances ${totals.balances} ≠ opening ${totals.opening} + deposits ${totals.deposits} − withdrawals ${totals.withdrawals} − POSTED payouts ${totals.postedPayouts} = ${totals.expected} (difference ${totals.balances - totals.expected})`,
  });
  // Per account too, from the history: the ledger's own sum of its moves.
  for (const s of states) {
    const net = s.entries.reduce((n, e) => n + balanceEffect(e), 0);
    check(I.conserved, net === s.balance, {
      accountId: s.account.accountId,
      detail: `the history's posted entries sum to ${net}, the balance is ${s.balance}`,
    });
  }
  if (settled) {
    check(I.conserved, totals.pending === 0 && totals.available === totals.balances, {
      detail: `every payout settled, yet Σ pending ${totals.pending}, Σ available ${totals.available}, Σ balances ${totals.balances}`,
    });
  }
}

function payoutCounts(settlement: Settlement, gateway: GatewayRecord[]): PayoutCounts {
  const byMode: PayoutCounts['byMode'] = {};
  for (const p of settlement.payouts) {
    const mode = p.op.destination?.mode ?? '?';
    const counts = byMode[mode] ?? {};
    counts[p.status] = (counts[p.status] ?? 0) + 1;
    byMode[mode] = counts;
  }
  return {
    committed: settlement.payouts.length,
    notCommitted: settlement.notCommitted,
    posted: settlement.payouts.filter((p) => p.status === 'POSTED').length,
    voided: settlement.payouts.filter((p) => p.status === 'VOIDED').length,
    left: settlement.left.length,
    byMode,
    gateway: {
      records: gateway.length,
      executed: gateway.filter((r) => r.executions > 0).length,
      requests: gateway.reduce((n, r) => n + r.requests, 0),
      maxExecutions: gateway.reduce((n, r) => Math.max(n, r.executions), 0),
    },
  };
}

export function verifySettlement(
  ops: Operation[],
  states: AccountState[],
  settlement: Settlement,
  gateway: GatewayRecord[],
): VerifyResult & { totals: MoneyTotals; counts: PayoutCounts } {
  const { violations, checks, check } = judge();
  const entriesOf = new Map(states.map((s) => [s.account.accountId, s.entries]));
  const records = new Map(gateway.map((r) => [r.idempotencyKey, r]));
  for (const p of settlement.payouts) {
    const lines = (entriesOf.get(p.op.account.accountId) ?? []).filter(
      (e) => e.transactionId === p.transactionId,
    );
    checkPayout(p, records.get(p.transactionId), lines, check);
  }
  // Nothing sent that the run's payouts do not account for.
  const known = new Set(settlement.payouts.map((p) => p.transactionId));
  for (const record of gateway) {
    check(I.gateway, known.has(record.idempotencyKey) || record.executions === 0, {
      detail: `the gateway sent ${String(record.amount)} to ${String(record.destination)} under key ${record.idempotencyKey}, which is no committed payout of the run`,
    });
  }
  const totals = moneyTotals(ops, states, settlement, entriesOf);
  checkConservation(totals, states, settlement.left.length === 0, check);
  return {
    violations,
    checks,
    unresolvedButCommitted: 0,
    totals,
    counts: payoutCounts(settlement, gateway),
  };
}
