/**
 * Double entry in the bank run (issue 19): the hot accounts pay fees through the traffic, and once
 * its invariants are verified an operator reverses a sample of the committed movements over the
 * API, in part and in full, past the original and again under the same key. Then the audit proves
 * every transaction and the whole ledger sum to zero per currency.
 */
import type { FeeSchedule } from '../../../lib/domain/fees';
import type { ReversalResult } from '../../../lib/wire/types';
import type { RunContext } from './clients';
import { call, callUntil, errorOf, type Exchange } from './http';
import type { BankAccount, Operation, Violation } from './model';
import { fullHistory } from './reads';

/** Withdrawals and payouts from the hot accounts cost a fee. */
export const HOT_ACCOUNT_FEES: FeeSchedule = {
  WITHDRAWAL: { flat: 5, bps: 30 },
  PAYOUT: { flat: 10, bps: 10, max: 40 },
};

export const REVERSALS_INVARIANT =
  'reversals: never more than the original, replayed under their key, linked both ways in the history';

/** An operator sets the account's fee schedule (before the traffic; fixed for the run). */
export async function setFees(
  ctx: RunContext,
  account: BankAccount,
  schedule: FeeSchedule,
): Promise<void> {
  await callUntil(
    `PUT fees of ${account.label}`,
    () =>
      call(ctx.apiUrl, 'PUT', `/accounts/${account.accountId}/fees`, {
        token: ctx.users.ops.token,
        body: { ...schedule, reason: 'bank run pricing' },
      }),
    (answer) => (answer.status === 200 ? true : undefined),
  );
  ctx.feeSchedules.set(account.accountId, schedule);
}

export interface ReversalRun {
  /** Movements reversed (some in part, some in full), reversals committed, refusals by code. */
  originals: number;
  committed: number;
  answers: Record<string, number>;
  violations: Violation[];
  checks: number;
}

type Answer = { exchange: Exchange; code: string; result?: ReversalResult };

/** Sends one reversal until it gets a definitive answer (a conflict or a 503 is asked again). */
async function sendReversal(
  ctx: RunContext,
  transactionId: string,
  key: string,
  body: Record<string, unknown>,
): Promise<Answer> {
  return callUntil(
    `reversal ${key}`,
    () =>
      call(ctx.apiUrl, 'POST', `/transactions/${transactionId}/reversals`, {
        token: ctx.users.ops.token,
        body,
        headers: { 'idempotency-key': key },
      }),
    (exchange) => {
      if (exchange.status === 201) {
        return { exchange, code: '201', result: exchange.json as ReversalResult };
      }
      const code = errorOf(exchange.json)?.code;
      if (code === undefined || code === 'TRANSACTION_CONFLICT' || code === 'SERVICE_UNAVAILABLE')
        return undefined;
      return { exchange, code };
    },
  );
}

/** The movements an operator may reverse: committed during the traffic, payouts once posted. */
export function reversible(ops: Operation[], postedPayouts: Set<number>): Operation[] {
  return ops.filter(
    (op) =>
      op.outcome === 'committed' &&
      op.transactionId !== undefined &&
      op.phase !== 'setup' &&
      op.reuseOf === undefined &&
      (op.type !== 'PAYOUT' || postedPayouts.has(op.id)),
  );
}

/**
 * Reverses `count` of the candidates, spread over them: half of the amount first, then (every
 * other one) the rest, then 1 more, which must be refused; the first request is sent again under
 * its key and must be replayed. A reversal refused for funds is sent again with `allowNegative`.
 */
export async function reverseSample(
  ctx: RunContext,
  candidates: Operation[],
  count: number,
): Promise<ReversalRun & { reversedOf: Map<string, number> }> {
  const run: ReversalRun = { originals: 0, committed: 0, answers: {}, violations: [], checks: 0 };
  const reversedOf = new Map<string, number>();
  const step = Math.max(1, Math.floor(candidates.length / Math.max(1, count)));
  const picked = candidates.filter((_, i) => i % step === 0).slice(0, count);
  for (const [i, op] of picked.entries()) {
    run.originals += 1;
    reversedOf.set(op.transactionId ?? '', await reverseOne(ctx, op, i % 2 === 0, run));
  }
  return { ...run, reversedOf };
}

/** Reverses one movement as above; answers how much of it was reversed in the end. */
async function reverseOne(
  ctx: RunContext,
  op: Operation,
  inFull: boolean,
  run: ReversalRun,
): Promise<number> {
  const tx = op.transactionId ?? '';
  const key = (n: number) => `${ctx.runId}-reverse-${op.id}-${n}`;
  const check = (ok: boolean, detail: string) => {
    run.checks += 1;
    if (!ok) run.violations.push({ invariant: REVERSALS_INVARIANT, detail, operation: op.id });
  };
  const first = { amount: Math.max(1, Math.floor(op.amount / 2)), reason: 'bank run: partial' };
  const firstAnswer = await committedReversal(ctx, tx, key(1), first, run, check);
  let total = firstAnswer?.result.reversed.total ?? 0;
  if (firstAnswer !== undefined) {
    // The request that committed, sent again under its key: the same reversal, replayed.
    const replay = await sendReversal(ctx, tx, firstAnswer.key, firstAnswer.body);
    check(
      replay.code === '201' &&
        replay.exchange.headers?.['idempotent-replayed'] === 'true' &&
        replay.result?.transaction.transactionId === firstAnswer.result.transaction.transactionId,
      `the reversal under ${firstAnswer.key} sent again answered ${replay.code}, not its first 201`,
    );
  }
  if (inFull) {
    const rest = await committedReversal(
      ctx,
      tx,
      key(2),
      { reason: 'bank run: the rest' },
      run,
      check,
    );
    total = rest?.result.reversed.total ?? total;
    const left = rest?.result.reversed.remaining;
    check(left === undefined || left === 0, `the rest left ${String(left)}`);
    const over = await sendReversal(ctx, tx, key(3), { amount: 1, reason: 'bank run: past it' });
    tally(run, over.code);
    check(
      over.code === 'REVERSAL_EXCEEDS_ORIGINAL',
      `a reversal past the original answered ${over.code}`,
    );
  }
  check(total <= op.amount, `reversed ${total} of ${op.type} ${op.amount}`);
  return total;
}

/**
 * A reversal that must commit: refused for funds, it is sent again, under a key of its own,
 * allowing a negative balance. Answers the 201 with the key and body that got it.
 */
async function committedReversal(
  ctx: RunContext,
  transactionId: string,
  firstKey: string,
  firstBody: Record<string, unknown>,
  run: ReversalRun,
  check: (ok: boolean, detail: string) => void,
): Promise<{ result: ReversalResult; key: string; body: Record<string, unknown> } | undefined> {
  let [key, body] = [firstKey, firstBody];
  let answer = await sendReversal(ctx, transactionId, key, body);
  tally(run, answer.code);
  if (answer.code === 'INSUFFICIENT_FUNDS') {
    [key, body] = [`${firstKey}-negative`, { ...firstBody, allowNegative: true }];
    answer = await sendReversal(ctx, transactionId, key, body);
    tally(run, `${answer.code} (allowNegative)`);
    check(
      answer.code !== '201' || answer.result?.transaction.negativeAllowed === true,
      `a reversal allowed below zero does not say so (${key})`,
    );
  }
  check(answer.code === '201', `reversal ${key} of ${transactionId} answered ${answer.code}`);
  if (answer.code !== '201' || answer.result === undefined) return undefined;
  run.committed += 1;
  return { result: answer.result, key, body };
}

function tally(run: ReversalRun, code: string): void {
  run.answers[code] = (run.answers[code] ?? 0) + 1;
}

/** Once placed: each reversed movement lists its reversals, and they add up to what was reversed. */
export async function reversalLinks(
  ctx: RunContext,
  accounts: BankAccount[],
  reversedOf: Map<string, number>,
): Promise<{ violations: Violation[]; checks: number }> {
  const entries = (await Promise.all(accounts.map((a) => fullHistory(ctx, a.accountId)))).flat();
  const violations: Violation[] = [];
  for (const [tx, total] of reversedOf) {
    const original = entries.find((e) => e.transactionId === tx && e.reversalOf === undefined);
    const listed = original?.reversedBy ?? [];
    const reversals = new Set(
      entries.filter((e) => e.reversalOf === tx).map((e) => e.transactionId),
    );
    const linked = listed.reduce((sum, r) => sum + r.amount, 0);
    if (linked !== total || listed.some((r) => !reversals.has(r.transactionId))) {
      violations.push({
        invariant: REVERSALS_INVARIANT,
        detail: `${tx}: reversed ${total}; its history lists ${JSON.stringify(listed)}, reversal entries ${[...reversals].join(', ')}`,
      });
    }
  }
  return { violations, checks: reversedOf.size };
}
