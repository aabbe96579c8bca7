/**
 * Withdrawal limits in the bank run (issue 20). Before the traffic an operator sets limits on
 * some accounts (PUT /accounts/{id}/limits): a daily limit the run's withdrawals, payouts and
 * outgoing transfers from them reach, and a per-movement limit some of them exceed, so 409
 * LIMIT_EXCEEDED is answered during the run. Then, from the statement lines:
 *
 * - no day's outgoing total above its limit: per account and calendar day in its timezone, what
 *   left it (withdrawals, payouts not voided, outgoing transfers, each with its fee; less the
 *   reversals of those made the same day) is at most the daily limit, no movement took more than
 *   the per-movement limit, and the day's counter (GET .../limits `usedToday` for today, the
 *   table's counter items for every day) is that total;
 * - LIMIT_EXCEEDED only when the limit was reached: the refusal names the limit in force; a
 *   per-movement refusal is of more than that limit; a daily one is of more than what remained
 *   even if every outgoing movement of the account sent before its answer had counted that day,
 *   and the `used` it reports is no more than those could have added up to.
 *
 * Every outgoing movement of every account counts in its day's counter (an account without an
 * override has the configured defaults), so the totals are checked on all accounts.
 */
import { performance } from 'node:perf_hooks';
import {
  QueryCommand,
  type DynamoDBClient,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_LIMITS, dayOf, type DailyLimits } from '../../../lib/domain/limits';
import { MOVEMENT_TYPES, ruleOf } from '../../../lib/domain/movement-types';
import { limitCounterKey } from '../../../lib/persistence/keys';
import type { LedgerEntry, LimitRefusal } from '../../../lib/wire/types';
import type { RunContext } from './clients';
import { call, callUntil } from './http';
import type { BankAccount, Operation, Violation } from './model';

export const LIMIT_INVARIANTS = {
  within:
    "no day's outgoing total above its limit: per account and day, withdrawals, payouts not voided and outgoing transfers with their fees, less same-day reversals, ≤ the daily limit, each ≤ the per-movement limit, and the day's counter equals that total",
  refused:
    'LIMIT_EXCEEDED only when the limit was reached (the limit in force, more than remained of it)',
} as const;

/** Entry types that take money out of the account at its owner's request (MOVEMENT_RULES). */
const LIMITED = new Set<string>(MOVEMENT_TYPES.filter((type) => ruleOf(type).limited));

/** Room per hot-account operation: the limited hot accounts reach their day's limit early on. */
const HOT_DAILY_PER_OP = 270;
/** Room per operation of the run on the limited dedicated account (it has about 1/16 of them). */
const DEDICATED_DAILY_PER_OP = 7.5;

/**
 * The limits an operator sets before the traffic: every second hot account (so the others keep
 * the defaults) and the first dedicated one, each with a daily limit its traffic reaches well
 * before the end and a per-movement limit below the largest amounts the clients send. The days
 * are UTC's, New York's (a day that is not UTC's) and Kolkata's (a half-hour offset).
 */
export function limitsToSet(
  hot: BankAccount[],
  dedicated: BankAccount[],
  ops: number,
): Array<[BankAccount, DailyLimits]> {
  const out: Array<[BankAccount, DailyLimits]> = [];
  const hotDaily = Math.max(
    20_000,
    Math.round((HOT_DAILY_PER_OP * ops) / hot.length / 1000) * 1000,
  );
  hot.forEach((account, i) => {
    if (i % 2 === 0) return;
    const timezone = i % 4 === 3 ? 'America/New_York' : 'UTC';
    out.push([account, { daily: hotDaily, perMovement: 3_500, timezone }]);
  });
  const solo = dedicated[0];
  if (solo !== undefined) {
    const daily = Math.max(5_000, Math.round(DEDICATED_DAILY_PER_OP * ops));
    out.push([solo, { daily, perMovement: 2_500, timezone: 'Asia/Kolkata' }]);
  }
  return out;
}

/** An operator sets the account's limits (before the traffic; fixed for the run). */
export async function setLimits(
  ctx: RunContext,
  account: BankAccount,
  limits: DailyLimits,
): Promise<void> {
  await callUntil(
    `PUT limits of ${account.label}`,
    () =>
      call(ctx.apiUrl, 'PUT', `/accounts/${account.accountId}/limits`, {
        token: ctx.users.ops.token,
        body: { ...limits, reason: 'bank run: limits on' },
      }),
    (answer) => (answer.status === 200 ? true : undefined),
  );
  ctx.accountLimits.set(account.accountId, limits);
}

/** GET /accounts/{id}/limits as the run reads it at the end. */
export interface LimitsRead {
  daily: number;
  perMovement: number;
  timezone: string;
  day: string;
  usedToday: number;
}

export async function readLimits(ctx: RunContext, accountId: string): Promise<LimitsRead> {
  return callUntil(
    `GET limits of ${accountId}`,
    () => call(ctx.apiUrl, 'GET', `/accounts/${accountId}/limits`, { token: ctx.users.ops.token }),
    (answer) => (answer.status === 200 ? (answer.json as LimitsRead) : undefined),
    20,
  );
}

/** The table's counters of an account (`LIMIT#<account>`): what left it, by day. */
export async function limitCounters(
  client: DynamoDBClient,
  tableName: string,
  accountId: string,
): Promise<Map<string, number>> {
  const counters = new Map<string, number>();
  let start: QueryCommandOutput['LastEvaluatedKey'];
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: limitCounterKey(accountId, '').pk } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      counters.set(String(item.sk?.S), Number(item.used?.N ?? 0));
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return counters;
}

/** One account at the end: its statement, its limits as read, its counter items by day. */
export interface LimitsEvidence {
  account: BankAccount;
  entries: LedgerEntry[];
  read: LimitsRead;
  /** The table's counters (`LIMIT#<account>` / day → used); undefined: not read. */
  counters?: Map<string, number>;
}

const chargedOf = (e: Pick<LedgerEntry, 'amount' | 'fee'>): number => e.amount + (e.fee ?? 0);

/** What left the account per day in `timezone`, from its statement lines (see the file's top). */
export function outgoingByDay(entries: LedgerEntry[], timezone: string): Map<string, number> {
  return dayTotals(entries, timezone).byDay;
}

/** The days' totals, and how much of them same-day reversals gave back. */
function dayTotals(
  entries: LedgerEntry[],
  timezone: string,
): { byDay: Map<string, number>; givenBack: number } {
  let givenBack = 0;
  const byDay = new Map<string, number>();
  const add = (day: string, amount: number) => byDay.set(day, (byDay.get(day) ?? 0) + amount);
  const outgoing = new Map<string, LedgerEntry>();
  for (const e of entries) {
    if (!LIMITED.has(e.type)) continue;
    outgoing.set(e.transactionId, e);
    // A voided payout gave its room back: it left nothing.
    if (e.status !== 'VOIDED') add(dayOf(new Date(e.createdAt), timezone), chargedOf(e));
  }
  for (const e of entries) {
    const original = e.reversalOf === undefined ? undefined : outgoing.get(e.reversalOf);
    if (e.type !== 'REVERSAL_IN' || original === undefined) continue;
    const day = dayOf(new Date(original.createdAt), timezone);
    // Only a reversal the same day gives room back; an earlier day is over.
    if (dayOf(new Date(e.createdAt), timezone) !== day) continue;
    add(day, -e.amount);
    givenBack += e.amount;
  }
  return { byDay, givenBack };
}

type Check = (invariant: string, ok: boolean, violation: Omit<Violation, 'invariant'>) => void;

/** The limits the run set on the account, or the defaults. */
const limitsOf = (model: Map<string, DailyLimits>, accountId: string): DailyLimits =>
  model.get(accountId) ?? DEFAULT_LIMITS;

/** Totals within the limits, each movement within the per-movement one, counters equal to totals. */
function checkAccount(
  e: LimitsEvidence,
  limits: DailyLimits,
  check: Check,
): ReturnType<typeof dayTotals> {
  const where = { accountId: e.account.accountId };
  const I = LIMIT_INVARIANTS.within;
  check(
    I,
    e.read.daily === limits.daily &&
      e.read.perMovement === limits.perMovement &&
      e.read.timezone === limits.timezone,
    {
      ...where,
      detail: `GET limits answers daily ${e.read.daily}, perMovement ${e.read.perMovement}, ${e.read.timezone}; the operator set ${limits.daily}, ${limits.perMovement}, ${limits.timezone}`,
    },
  );
  for (const entry of e.entries) {
    if (!LIMITED.has(entry.type)) continue;
    check(I, chargedOf(entry) <= limits.perMovement, {
      ...where,
      key: entry.idempotencyKey,
      detail: `${entry.type} ${entry.transactionId} took ${chargedOf(entry)} (fee ${entry.fee ?? 0}), the per-movement limit is ${limits.perMovement}`,
    });
  }
  const days = dayTotals(e.entries, limits.timezone);
  const totals = days.byDay;
  for (const [day, total] of totals) {
    check(I, total <= limits.daily, {
      ...where,
      detail: `${total} left the account on ${day} (${limits.timezone}), the daily limit is ${limits.daily}`,
    });
  }
  check(I, e.read.usedToday === (totals.get(e.read.day) ?? 0), {
    ...where,
    detail: `GET limits answers usedToday ${e.read.usedToday} on ${e.read.day}; the statement says ${totals.get(e.read.day) ?? 0} left the account that day`,
  });
  for (const [day, used] of e.counters ?? new Map<string, number>()) {
    check(I, used === (totals.get(day) ?? 0), {
      ...where,
      detail: `the counter of ${day} holds ${used}; the statement says ${totals.get(day) ?? 0} left the account that day`,
    });
  }
  for (const [day, total] of totals) {
    if (e.counters === undefined || e.counters.has(day) || total === 0) continue;
    check(I, false, { ...where, detail: `${total} left the account on ${day}, and no counter` });
  }
  return days;
}

/** The refusal's body: which limit, and how the day stood. */
function refusalOf(op: Operation): LimitRefusal | undefined {
  return op.attempts.find((a) => a.cls === 'refused' && a.code === 'LIMIT_EXCEEDED')?.limit;
}

/**
 * The most the account's counter may have held while a refusal was decided: every outgoing
 * movement of the account sent before the answer came back, on a day of the request's window,
 * counted and never given back (voided payouts included: they counted while held).
 */
function mostUsed(
  op: Operation,
  e: LimitsEvidence,
  ops: Map<string, Operation>,
  days: Set<string>,
  timezone: string,
): number {
  let most = 0;
  for (const entry of e.entries) {
    if (!LIMITED.has(entry.type) || entry.idempotencyKey === op.key) continue;
    if (!days.has(dayOf(new Date(entry.createdAt), timezone))) continue;
    const sender = ops.get(entry.idempotencyKey);
    // A movement no operation of the run sent may have counted at any time.
    if (sender === undefined || sender.firstSentAt < (op.definitiveAt ?? Infinity)) {
      most += chargedOf(entry);
    }
  }
  return most;
}

/** Each LIMIT_EXCEEDED: justified by the limit in force and what could have been used. */
function checkRefusals(
  accountOps: Operation[],
  e: LimitsEvidence,
  limits: DailyLimits,
  wallOf: (t: number) => number,
  check: Check,
): void {
  // The operation that sent each key (a reused key's later operation moved nothing).
  const ops = new Map(
    accountOps.filter((op) => op.reuseOf === undefined).map((op) => [op.key, op]),
  );
  for (const op of accountOps) {
    if (op.outcome !== 'refused' || op.refusal?.code !== 'LIMIT_EXCEEDED') continue;
    const where = { accountId: op.account.accountId, operation: op.id, key: op.key };
    const charged = op.amount + (op.fee ?? 0);
    const limit = refusalOf(op);
    const what = `${op.type} of ${op.amount} (charged ${charged}) refused: ${JSON.stringify(limit ?? null)}`;
    if (limit === undefined) {
      check(LIMIT_INVARIANTS.refused, false, { ...where, detail: `${what}, no limit said` });
      continue;
    }
    if (limit.kind === 'perMovement') {
      check(LIMIT_INVARIANTS.refused, limit.limit === limits.perMovement && charged > limit.limit, {
        ...where,
        detail: `${what}; the per-movement limit in force is ${limits.perMovement}`,
      });
      continue;
    }
    const days = new Set(
      [op.firstSentAt, op.definitiveAt ?? op.firstSentAt].map((t) =>
        dayOf(new Date(wallOf(t)), limits.timezone),
      ),
    );
    const most = mostUsed(op, e, ops, days, limits.timezone);
    check(
      LIMIT_INVARIANTS.refused,
      limit.limit === limits.daily &&
        charged <= limits.perMovement &&
        limit.used + charged > limit.limit &&
        limit.remaining === Math.max(0, limit.limit - limit.used) &&
        limit.used <= most,
      {
        ...where,
        detail: `${what}; the daily limit in force is ${limits.daily}, and at most ${most} could have left the account that day before the answer`,
      },
    );
  }
}

export interface LimitsVerdict {
  violations: Violation[];
  checks: Record<string, number>;
  /** Per account with limits of its own: what it was refused, and what left it per day. */
  accounts: Array<{
    label: string;
    accountId: string;
    limits: DailyLimits;
    refused: { daily: number; perMovement: number };
    byDay: Record<string, number>;
    day: string;
    usedToday: number;
  }>;
  refused: { daily: number; perMovement: number };
  /** Room same-day reversals of outgoing movements gave back, over every account. */
  givenBack: number;
}

/**
 * The limits invariants over every account (see the file's top). `wallOf` turns the clients'
 * clock (performance.now()) into the wall clock the service stamps days with.
 */
export function verifyLimits(
  ops: Operation[],
  evidence: LimitsEvidence[],
  model: Map<string, DailyLimits>,
  wallOf: (t: number) => number = (t) => performance.timeOrigin + t,
): LimitsVerdict {
  const violations: Violation[] = [];
  const checks: Record<string, number> = {};
  const check: Check = (invariant, ok, violation) => {
    checks[invariant] = (checks[invariant] ?? 0) + 1;
    if (!ok) violations.push({ invariant, ...violation });
  };
  const verdict: LimitsVerdict = {
    violations,
    checks,
    accounts: [],
    refused: { daily: 0, perMovement: 0 },
    givenBack: 0,
  };
  for (const e of evidence) {
    const limits = limitsOf(model, e.account.accountId);
    const own = ops.filter((op) => op.account.accountId === e.account.accountId);
    const { byDay, givenBack } = checkAccount(e, limits, check);
    verdict.givenBack += givenBack;
    checkRefusals(own, e, limits, wallOf, check);
    const refused = { daily: 0, perMovement: 0 };
    for (const op of own) {
      const kind = op.refusal?.code === 'LIMIT_EXCEEDED' ? refusalOf(op)?.kind : undefined;
      if (kind !== undefined) refused[kind] += 1;
    }
    verdict.refused.daily += refused.daily;
    verdict.refused.perMovement += refused.perMovement;
    if (!model.has(e.account.accountId)) continue;
    verdict.accounts.push({
      label: e.account.label,
      accountId: e.account.accountId,
      limits,
      refused,
      byDay: Object.fromEntries(byDay),
      day: e.read.day,
      usedToday: e.read.usedToday,
    });
  }
  return verdict;
}
