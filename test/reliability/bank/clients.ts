/**
 * The bank run's clients. Each operation is sent like a careful real client sends it: one
 * Idempotency-Key per intended movement, retried with the same key until a definitive answer
 * (sometimes after giving up on a slow attempt, sometimes twice at once, sometimes replayed
 * once more after the answer), and now and then a key reused with another amount. Hot clients
 * also transfer among the hot accounts and request payouts to the gateway's destinations.
 */
import { performance } from 'node:perf_hooks';
import { retry } from '../../../lib/domain/retry';
import { sleep } from '../../../local/wait';
import { call, callUntil, type Exchange } from './http';
import { feeOf, type FeeSchedule } from '../../../lib/domain/fees';
import type { DailyLimits } from '../../../lib/domain/limits';
import type { MovementType } from '../../../lib/domain/types';
import {
  classify,
  entryTypeOf,
  isDefinitive,
  settle,
  successStatusOf,
  type Attempt,
  type AttemptRole,
  type BankAccount,
  type SingleAccountMovement,
  type Operation,
  type OperationType,
  type PayoutDestination,
  type Violation,
} from './model';
import type { DemoUser, Identity } from './stack';

export interface BalanceSample {
  accountId: string;
  sentAt: number;
  endedAt: number;
  balance: number;
  available?: number;
  pending?: number;
}

export interface RunContext {
  apiUrl: string;
  users: Record<DemoUser, Identity>;
  /** Closed (a promise) while the stack is down: new attempts wait for it. */
  gate: Promise<void> | null;
  ops: Operation[];
  violations: Violation[];
  samples: BalanceSample[];
  /** Operations handed out so far, and how many the run makes. */
  issued: number;
  total: number;
  phase: string;
  /** The last balance seen per account: clients aim amounts at it. */
  hints: Map<string, number>;
  httpRequests: number;
  /** Called with each operation's number as it is handed out (phase switches, the crash). */
  milestone: (n: number) => void;
  limits: { attemptsPerOp: number; opDeadlineMs: number; requestTimeoutMs: number };
  runId: string;
  /** The simulated payout gateway of the stack (changes when the stack restarts). */
  gatewayUrl: string;
  /** The fee schedules operators set before the traffic, per account; fixed for the run. */
  feeSchedules: Map<string, FeeSchedule>;
  /** The limits operators set before the traffic, per account (others: the defaults). */
  accountLimits: Map<string, DailyLimits>;
}

export type Random = () => number;

/** Invariants the clients check inline (the verifier names them the same). */
export const NON_NEGATIVE = 'no balance or available below zero, ever';
export const HOLDS = 'every balance read has pending ≥ 0 and available = balance − pending';

export const randomInt = (random: Random, min: number, max: number): number =>
  min + Math.floor(random() * (max - min + 1));

export async function passGate(ctx: RunContext): Promise<void> {
  while (ctx.gate !== null) await ctx.gate;
}

function violation(ctx: RunContext, v: Violation): void {
  ctx.violations.push(v);
}

/** The next operation number, or null when the run has issued them all. */
function take(ctx: RunContext): number | null {
  if (ctx.issued >= ctx.total) return null;
  ctx.issued += 1;
  ctx.milestone(ctx.issued);
  return ctx.issued;
}

export interface SendPlan {
  /** Give up on the first attempt after this many ms (a client-side timeout). */
  abortFirstAfterMs?: number;
  /** Send the first attempt twice at the same time. */
  concurrent?: boolean;
  /** After the definitive answer, send the same request once more. */
  replay?: boolean;
  /** Time limit of the first attempt (the hang probe waits longer). */
  firstTimeoutMs?: number;
}

function pathOf(op: Operation): string {
  switch (op.type) {
    case 'TRANSFER':
      return '/transfers';
    case 'PAYOUT':
      return `/accounts/${op.account.accountId}/payouts`;
    case 'WITHDRAWAL':
      return `/accounts/${op.account.accountId}/withdrawals`;
    case 'DEPOSIT':
      return `/accounts/${op.account.accountId}/deposits`;
  }
}

function bodyOf(op: Operation): Record<string, unknown> {
  if (op.type === 'TRANSFER') {
    return {
      fromAccountId: op.account.accountId,
      toAccountId: op.toAccount?.accountId ?? '',
      amount: op.amount,
    };
  }
  if (op.type === 'PAYOUT') return { amount: op.amount, destination: op.destination?.name ?? '' };
  return { amount: op.amount };
}

/** An operation as a violation names it. */
function describeOp(op: Operation): string {
  if (op.type === 'TRANSFER') return `TRANSFER ${op.amount} to ${op.toAccount?.label ?? '?'}`;
  if (op.type === 'PAYOUT') return `PAYOUT ${op.amount} to ${op.destination?.name ?? '?'}`;
  return `${op.type} ${op.amount}`;
}

async function attempt(
  ctx: RunContext,
  op: Operation,
  role: AttemptRole,
  timeoutMs: number,
): Promise<Attempt> {
  await passGate(ctx);
  // Only operators deposit; money leaves an account only at its owner's request.
  const user: DemoUser = op.type === 'DEPOSIT' ? 'ops' : op.account.owner;
  ctx.httpRequests += 1;
  const exchange: Exchange = await call(ctx.apiUrl, 'POST', pathOf(op), {
    token: ctx.users[user].token,
    body: bodyOf(op),
    headers: { 'idempotency-key': op.key },
    timeoutMs,
  });
  const result = classify(exchange, role, successStatusOf(op.type));
  op.attempts.push(result);
  if (result.cls === 'unexpected') {
    violation(ctx, {
      invariant: 'every answer is one the contract gives',
      detail:
        `${describeOp(op)} got ${result.status ?? result.kind} ${result.code ?? ''} ${result.text ?? result.error ?? ''}`.trim(),
      accountId: op.account.accountId,
      operation: op.id,
      key: op.key,
    });
  }
  if (result.cls === 'committed') {
    const below = [
      ['balance', result.balance],
      ['available', result.available],
      ['pending', result.pending],
    ].filter((pair): pair is [string, number] => typeof pair[1] === 'number' && pair[1] < 0);
    for (const [what, value] of below) {
      violation(ctx, {
        invariant: NON_NEGATIVE,
        detail: `${describeOp(op)} answered ${what} ${value}`,
        accountId: op.account.accountId,
        operation: op.id,
        key: op.key,
      });
    }
  }
  const hint = result.available ?? result.balance;
  if (hint !== undefined) ctx.hints.set(op.account.accountId, hint);
  return result;
}

/** Sends one operation until it has a definitive answer (or the limits are reached). */
export async function execute(ctx: RunContext, op: Operation, plan: SendPlan): Promise<void> {
  const timeout = ctx.limits.requestTimeoutMs;
  let deadline = Infinity; // from the first answer on: a hang probe's first attempt is long
  let first = true;
  const send = async (): Promise<Attempt | undefined> => {
    if (!first) return attempt(ctx, op, 'retry', timeout);
    first = false;
    const answer = await firstAttempt(ctx, op, plan);
    deadline = performance.now() + ctx.limits.opDeadlineMs;
    return answer;
  };
  const definitive = await untilDefinitive(send, {
    attempts: ctx.limits.attemptsPerOp,
    baseMs: 20,
    capMs: 1000,
    inTime: () => performance.now() <= deadline,
  });
  if (definitive !== undefined && plan.replay) await attempt(ctx, op, 'replay', timeout);
  settle(op);
}

/** The first send: alone (maybe given up early by the client), or twice at the same time. */
async function firstAttempt(
  ctx: RunContext,
  op: Operation,
  plan: SendPlan,
): Promise<Attempt | undefined> {
  const timeout = ctx.limits.requestTimeoutMs;
  if (!plan.concurrent) {
    return attempt(ctx, op, 'first', plan.abortFirstAfterMs ?? plan.firstTimeoutMs ?? timeout);
  }
  const pair = await Promise.all([
    attempt(ctx, op, 'first', timeout),
    attempt(ctx, op, 'concurrent', timeout),
  ]);
  return pair.find(isDefinitive);
}

/** No definitive answer yet: the same request is sent again, with the same key. */
class NoAnswer extends Error {}

/** `send` again with backoff until its answer is definitive; undefined when the tries ran out. */
async function untilDefinitive(
  send: () => Promise<Attempt | undefined>,
  options: { attempts: number; baseMs: number; capMs: number; inTime?: () => boolean },
): Promise<Attempt | undefined> {
  const once = async (): Promise<Attempt> => {
    const answer = await send();
    if (answer === undefined || !isDefinitive(answer)) throw new NoAnswer();
    return answer;
  };
  try {
    return await retry(once, {
      ...options,
      retryable: (error) => error instanceof NoAnswer && (options.inTime?.() ?? true),
    });
  } catch (error) {
    if (error instanceof NoAnswer) return undefined;
    throw error;
  }
}

/** One more try of an operation left without a definitive answer (faults off by then). */
export async function resolve(ctx: RunContext, op: Operation): Promise<void> {
  if (op.attempts.find(isDefinitive) === undefined) {
    const final = () => attempt(ctx, op, 'final', ctx.limits.requestTimeoutMs);
    await untilDefinitive(final, { attempts: 10, baseMs: 200, capMs: 2000 });
  }
  settle(op);
}

function newOperation(
  ctx: RunContext,
  client: number,
  account: BankAccount,
  type: OperationType,
  amount: number,
  key: string,
  reuseOf?: number,
  target: { toAccount?: BankAccount; destination?: PayoutDestination } = {},
): Operation {
  const schedule = ctx.feeSchedules.get(account.accountId);
  const fee =
    schedule === undefined ? 0 : feeOf(entryTypeOf(type) as MovementType, amount, schedule);
  const op: Operation = {
    id: ctx.ops.length + 1,
    client,
    account,
    type,
    amount,
    ...(fee > 0 ? { fee } : {}),
    key,
    ...target,
    reuseOf,
    phase: ctx.phase,
    attempts: [],
    outcome: 'unresolved',
    firstSentAt: performance.now(),
  };
  ctx.ops.push(op);
  return op;
}

export interface Behaviour {
  abort: number;
  concurrent: number;
  replay: number;
  reuse: number;
}

/**
 * The hot clients' share of transfers (among the hot accounts) and payouts (to the gateway's
 * destinations, picked by weight); the rest are withdrawals and deposits.
 */
export interface Mix {
  transfer: number;
  payout: number;
  destinations: Array<PayoutDestination & { weight: number }>;
}

function pickDestination(random: Random, mix: Mix): PayoutDestination | undefined {
  const total = mix.destinations.reduce((sum, d) => sum + d.weight, 0);
  let r = random() * total;
  for (const d of mix.destinations) {
    r -= d.weight;
    if (r < 0) return { name: d.name, mode: d.mode };
  }
  const last = mix.destinations[mix.destinations.length - 1];
  return last === undefined ? undefined : { name: last.name, mode: last.mode };
}

function sendPlan(random: Random, behaviour: Behaviour): SendPlan {
  const r = random();
  if (r < behaviour.concurrent) return { concurrent: true, replay: random() < behaviour.replay };
  if (r < behaviour.concurrent + behaviour.abort) {
    return { abortFirstAfterMs: randomInt(random, 2, 150), replay: random() < behaviour.replay };
  }
  return { replay: random() < behaviour.replay };
}

/** A reuse of an earlier key of this client with another amount: must be refused with 422. */
function reuseCandidate(ctx: RunContext, mine: Operation[], random: Random): Operation | null {
  const done = mine.filter(
    (op) => op.reuseOf === undefined && (op.outcome === 'committed' || op.outcome === 'refused'),
  );
  if (done.length === 0) return null;
  return done[Math.floor(random() * done.length)] ?? null;
}

/**
 * A client of the hot accounts, concurrently with the others: random withdrawals (owner),
 * deposits (ops), transfers to another hot account and payouts (owner of the source).
 */
export async function hotClient(
  ctx: RunContext,
  client: number,
  accounts: BankAccount[],
  random: Random,
  behaviour: Behaviour,
  mix: Mix = { transfer: 0, payout: 0, destinations: [] },
): Promise<void> {
  const mine: Operation[] = [];
  for (let n = take(ctx); n !== null; n = take(ctx)) {
    const reuse = random() < behaviour.reuse ? reuseCandidate(ctx, mine, random) : null;
    if (reuse !== null) {
      const op = newOperation(
        ctx,
        client,
        reuse.account,
        reuse.type,
        reuse.amount + randomInt(random, 1, 500),
        reuse.key,
        reuse.id,
        { toAccount: reuse.toAccount, destination: reuse.destination },
      );
      mine.push(op);
      await execute(ctx, op, { replay: random() < 0.5 });
      continue;
    }
    const account = accounts[Math.floor(random() * accounts.length)];
    if (account === undefined) return;
    const hint = ctx.hints.get(account.accountId) ?? 0;
    const key = `${ctx.runId}-c${client}-${n}`;
    const kind = random();
    const others = accounts.filter((a) => a.accountId !== account.accountId);
    if (kind < mix.transfer && others.length > 0) {
      const toAccount = others[Math.floor(random() * others.length)];
      // Now and then aimed at (or past) what is available, so refusals happen too.
      const amount =
        random() < 0.2
          ? Math.max(1, Math.round(hint * (0.6 + random() * 0.8)))
          : randomInt(random, 1, 4_000);
      const op = newOperation(ctx, client, account, 'TRANSFER', amount, key, undefined, {
        toAccount,
      });
      mine.push(op);
      await execute(ctx, op, sendPlan(random, behaviour));
      continue;
    }
    if (kind < mix.transfer + mix.payout) {
      const destination = pickDestination(random, mix);
      if (destination !== undefined) {
        const amount =
          random() < 0.15
            ? Math.max(1, Math.round(hint * (0.6 + random() * 0.8)))
            : randomInt(random, 1, 2_500);
        const op = newOperation(ctx, client, account, 'PAYOUT', amount, key, undefined, {
          destination,
        });
        mine.push(op);
        await execute(ctx, op, sendPlan(random, behaviour));
        continue;
      }
    }
    const depositChance = hint < 5_000 ? 0.6 : 0.3;
    const type: SingleAccountMovement = random() < depositChance ? 'DEPOSIT' : 'WITHDRAWAL';
    let amount: number;
    if (type === 'DEPOSIT') amount = randomInt(random, 2_000, 15_000);
    else if (random() < 0.3) amount = Math.max(1, Math.round(hint * (0.6 + random() * 0.8)));
    else amount = randomInt(random, 1, 3_000);
    const op = newOperation(ctx, client, account, type, amount, key);
    mine.push(op);
    await execute(ctx, op, sendPlan(random, behaviour));
  }
}

/**
 * The only client of its account, one request at a time: the balance is known exactly, so
 * every answer is checked exactly — a refusal only when the balance was short, a success only
 * when it was not, the balance answered equal to the model's, and a read right after a
 * movement showing it (no stale read).
 */
export async function dedicatedClient(
  ctx: RunContext,
  client: number,
  account: BankAccount,
  openingBalance: number,
  random: Random,
  behaviour: Behaviour,
): Promise<void> {
  const mine: Operation[] = [];
  let balance = openingBalance;
  const flag = (invariant: string, detail: string, op?: Operation): void =>
    violation(ctx, {
      invariant,
      detail,
      accountId: account.accountId,
      operation: op?.id,
      key: op?.key,
    });
  for (let n = take(ctx); n !== null; n = take(ctx)) {
    const reuse = random() < behaviour.reuse ? reuseCandidate(ctx, mine, random) : null;
    let op: Operation;
    let plan: SendPlan;
    if (reuse !== null) {
      op = newOperation(
        ctx,
        client,
        account,
        reuse.type,
        reuse.amount + randomInt(random, 1, 500),
        reuse.key,
        reuse.id,
      );
      plan = { replay: random() < 0.5 };
    } else {
      const deposit = balance < 3_000 && random() < 0.8;
      let amount: number;
      if (deposit) amount = randomInt(random, 5_000, 20_000);
      else {
        const r = random();
        if (r < 0.6) amount = randomInt(random, 1, Math.max(1, Math.min(balance, 4_000)));
        else if (r < 0.85) amount = balance + randomInt(random, 1, 3_000);
        else amount = Math.max(1, balance);
      }
      op = newOperation(
        ctx,
        client,
        account,
        deposit ? 'DEPOSIT' : 'WITHDRAWAL',
        amount,
        `${ctx.runId}-d${client}-${n}`,
      );
      plan = sendPlan(random, behaviour);
    }
    op.balanceBefore = balance;
    mine.push(op);
    await execute(ctx, op, plan);
    if (op.outcome === 'unresolved') await resolve(ctx, op);
    if (op.outcome === 'unresolved') {
      // The balance is no longer known exactly: this client stops (the verifier reports it).
      flag(
        'every operation gets a definitive answer',
        `no definitive answer after ${op.attempts.length} attempts`,
        op,
      );
      return;
    }
    balance = checkDedicated(op, balance, flag);
    await readBack(ctx, op, balance, flag);
  }
}

/** The exact checks of one operation on a dedicated account; returns the balance after it. */
function checkDedicated(
  op: Operation,
  before: number,
  flag: (invariant: string, detail: string, op?: Operation) => void,
): number {
  const first = op.attempts.find(isDefinitive);
  if (op.outcome === 'committed' && first !== undefined) {
    const after = op.type === 'DEPOSIT' ? before + op.amount : before - op.amount;
    if (op.type === 'WITHDRAWAL' && before < op.amount) {
      flag('no overdraft', `withdrawal of ${op.amount} accepted on a balance of ${before}`, op);
    }
    if (op.reuseOf !== undefined) return before; // flagged by the verifier; balance per ledger
    if (first.balance !== after) {
      flag(
        'the answer carries the committed balance',
        `201 says balance ${String(first.balance)}, the account holds ${after} (before ${before}, ${op.type} ${op.amount})`,
        op,
      );
    }
    if (first.balanceAfter !== null && first.balanceAfter !== after) {
      flag(
        'balanceAfter is exact',
        `201 says balanceAfter ${String(first.balanceAfter)}, expected ${after}`,
        op,
      );
    }
    // Nothing moved the account between the first answer and an immediate replay.
    const replays = op.attempts.filter((a) => a.role === 'replay' && a.cls === 'committed');
    for (const replay of replays) {
      if (first.role !== 'concurrent' && replay.text !== first.text) {
        flag(
          'a replay is byte-for-byte the first answer when nothing moved in between',
          `first ${String(first.text)} / replay ${String(replay.text)}`,
          op,
        );
      }
    }
    return after;
  }
  if (
    op.outcome === 'refused' &&
    op.refusal?.code === 'INSUFFICIENT_FUNDS' &&
    before >= op.amount
  ) {
    flag(
      'INSUFFICIENT_FUNDS only when the funds were not there',
      `withdrawal of ${op.amount} refused on a balance of exactly ${before} (sole client of the account)`,
      op,
    );
  }
  return before;
}

/** A balance read right after the movement (owner's token) must show it: no stale read. */
async function readBack(
  ctx: RunContext,
  op: Operation,
  expected: number,
  flag: (invariant: string, detail: string, op?: Operation) => void,
): Promise<void> {
  if (op.outcome === 'unresolved') return;
  const readBalance = async (): Promise<Exchange> => {
    await passGate(ctx);
    ctx.httpRequests += 1;
    return call(ctx.apiUrl, 'GET', `/accounts/${op.account.accountId}/balance`, {
      token: ctx.users[op.account.owner].token,
      timeoutMs: ctx.limits.requestTimeoutMs,
    });
  };
  const ok = (answer: Exchange) =>
    answer.kind === 'response' && answer.status === 200 ? answer : undefined;
  const read = await callUntil('a balance read back', readBalance, ok, 20).catch(() => undefined);
  if (read === undefined) return;
  const body = read.json as { balance?: unknown };
  if (body.balance !== expected) {
    flag(
      'a balance read right after a movement shows it (strongly consistent)',
      `GET balance answered ${String(body.balance)}, the account holds ${expected}`,
      op,
    );
  }
  if (read.headers?.['cache-control'] !== 'no-store') {
    flag(
      'money responses carry Cache-Control: no-store',
      `got ${String(read.headers?.['cache-control'])}`,
      op,
    );
  }
}

/** Reads the hot accounts' balances all along the run (operator's token). */
export async function sampler(
  ctx: RunContext,
  accounts: BankAccount[],
  random: Random,
  stop: () => boolean,
): Promise<void> {
  while (!stop()) {
    const account = accounts[Math.floor(random() * accounts.length)];
    if (account === undefined) return;
    await passGate(ctx);
    ctx.httpRequests += 1;
    const read = await call(ctx.apiUrl, 'GET', `/accounts/${account.accountId}/balance`, {
      token: ctx.users.ops.token,
      timeoutMs: ctx.limits.requestTimeoutMs,
    });
    if (read.kind === 'response' && read.status === 200) {
      const body = read.json as { balance?: unknown; available?: unknown; pending?: unknown };
      const { balance } = body;
      const available = typeof body.available === 'number' ? body.available : undefined;
      const pending = typeof body.pending === 'number' ? body.pending : undefined;
      if (typeof balance === 'number') {
        ctx.samples.push({
          accountId: account.accountId,
          sentAt: read.sentAt,
          endedAt: read.endedAt,
          balance,
          available,
          pending,
        });
        ctx.hints.set(account.accountId, available ?? balance);
        const answered = { balance, available, pending };
        for (const v of balanceReadViolations(account.accountId, answered, read.text)) {
          violation(ctx, v);
        }
      }
    }
    await sleep(randomInt(random, 100, 400));
  }
}

/**
 * The sampler's inline checks of one GET balance answer: no balance or available below zero,
 * and the holds add up (pending ≥ 0, available = balance − pending). `text` is the raw body,
 * quoted when available/pending are missing.
 */
export function balanceReadViolations(
  accountId: string,
  read: Pick<BalanceSample, 'balance' | 'available' | 'pending'>,
  text?: string,
): Violation[] {
  const violations: Violation[] = [];
  const flag = (invariant: string, detail: string): void => {
    violations.push({ invariant, detail, accountId });
  };
  const { balance, available, pending } = read;
  if (balance < 0) flag(NON_NEGATIVE, `GET balance answered balance ${balance}`);
  if (available === undefined || pending === undefined) {
    flag(HOLDS, `GET balance answered no available/pending: ${String(text)}`);
  } else {
    if (available < 0) flag(NON_NEGATIVE, `GET balance answered available ${available}`);
    if (pending < 0 || available !== balance - pending) {
      flag(
        HOLDS,
        `GET balance answered balance ${balance}, pending ${pending}, available ${available}`,
      );
    }
  }
  return violations;
}

/** Builds an operation outside the clients' loops (the hang probe, opening deposits). */
export function standaloneOperation(
  ctx: RunContext,
  account: BankAccount,
  type: SingleAccountMovement,
  amount: number,
  key: string,
): Operation {
  return newOperation(ctx, 0, account, type, amount, key);
}
