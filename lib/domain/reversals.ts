import { ForbiddenError, NotReversibleError, TransactionNotFoundError } from './errors';
import { moveMoney, type MovementDeps, type MovementResult } from './movements';
import { isOtherSide, ruleOf, signOf, type RequestedMovement } from './movement-types';
import { dayOf, limitsInForce } from './limits';
import type { StatementLine, TermsStore, TransactionRecord, TransactionStore } from './ports';
import type { Caller, MovementType } from './types';

/**
 * Reversals (docs/double-entry.md): compensating postings that reference the original, in full or
 * in part. The original's statement line (found by its transaction id) says which accounts it
 * moved; the reversal is then one movement like any other, whose transaction also counts it on
 * the original's count item, on condition that the reversals' total stays within the original.
 */
export interface ReversalRequest {
  caller: Caller;
  transactionId: string;
  /** Absent: what is left to reverse. */
  amount?: number;
  reason: string;
  allowNegative?: boolean;
  idempotencyKey: string;
  requestId: string;
}

export interface ReversalResult extends MovementResult {
  reversed: { original: number; total: number; remaining: number };
}

export type ReversalDeps = MovementDeps & {
  store: MovementDeps['store'] &
    Pick<TransactionStore, 'getTransaction'> &
    Pick<TermsStore, 'getLimits'>;
};

export async function reverseTransaction(
  deps: ReversalDeps,
  request: ReversalRequest,
): Promise<ReversalResult> {
  if (!request.caller.isOperator) throw new ForbiddenError();
  const original = await deps.store.getTransaction(request.transactionId);
  if (original === null) throw new TransactionNotFoundError();
  if (!isReversible(original)) throw new NotReversibleError();
  // With nothing left, 1 is refused by the cap inside the transaction (and recorded), unless the
  // key's first attempt committed: then the marker answers.
  const amount = request.amount ?? Math.max(1, original.amount - original.reversed);
  const limitRelease = await roomGivenBack(deps, original, amount);
  const result = await moveMoney(
    deps,
    reversalTypeOf(original.type),
    {
      caller: request.caller,
      accountId: original.accountId,
      amount,
      idempotencyKey: request.idempotencyKey,
      requestId: request.requestId,
      // As sent: a default amount means "the rest" however much the rest is on a retry.
      fingerprint: [
        request.transactionId,
        request.amount ?? null,
        request.reason,
        request.allowNegative === true,
      ],
      ...(original.counterpartyAccountId !== undefined
        ? { toAccountId: original.counterpartyAccountId }
        : {}),
    },
    {
      currency: original.currency,
      ...(limitRelease ? { limitRelease } : {}),
      reversal: {
        reversalOf: original.transactionId,
        reversedType: original.type,
        ...(original.counterpartyType !== undefined
          ? { counterpartyReversedType: original.counterpartyType }
          : {}),
        reason: request.reason,
        originalAmount: original.amount,
        ...(request.allowNegative === true ? { negativeAllowed: true } : {}),
      },
    },
  );
  const now = await deps.store.getTransaction(request.transactionId);
  const total = now?.reversed ?? amount;
  return {
    ...result,
    transaction: {
      ...result.transaction,
      reversalOf: original.transactionId,
      reason: request.reason,
      ...(request.allowNegative === true ? { negativeAllowed: true } : {}),
    },
    reversed: { original: original.amount, total, remaining: original.amount - total },
  };
}

/**
 * A reversal of money the owner sent out today (in the account's timezone) gives that room back
 * to today's limit counter, in the reversal's own transaction. Of an earlier day's movement it
 * gives nothing: that day is over.
 */
async function roomGivenBack(
  deps: ReversalDeps,
  original: TransactionRecord,
  amount: number,
): Promise<{ day: string; amount: number } | null> {
  if (!ruleOf(original.type).limited || original.createdAt === undefined) return null;
  const stored = await deps.store.getLimits(original.accountId);
  const { timezone } = limitsInForce(deps.limitDefaults, stored?.limits ?? {});
  const day = dayOf(new Date(original.createdAt), timezone);
  return day === dayOf(deps.now(), timezone) ? { day, amount } : null;
}

/** A reversal gives back what the original took, or takes back what it gave. */
const reversalTypeOf = (type: MovementType): RequestedMovement =>
  signOf(type) < 0 ? 'REVERSAL_IN' : 'REVERSAL_OUT';

/** Posted movements are; a reversal and a voided payout are not. */
const isReversible = (record: TransactionRecord): boolean =>
  ruleOf(record.type).systemAccount !== 'reversed' && (record.status ?? 'POSTED') === 'POSTED';

/** What a reversal needs of the statement line that started a movement. */
export type StartingLine = Pick<
  StatementLine,
  | 'transactionId'
  | 'accountId'
  | 'type'
  | 'amount'
  | 'currency'
  | 'status'
  | 'counterpartyAccountId'
  | 'createdAt'
>;

/**
 * The record a statement line gives its movement, or null: only the side that started it (a
 * transfer's destination side is found through its source's).
 */
export function transactionRecordOf(line: StartingLine): TransactionRecord | null {
  const rule = ruleOf(line.type);
  if (isOtherSide(line)) return null;
  return {
    transactionId: line.transactionId,
    accountId: line.accountId,
    type: line.type,
    amount: line.amount,
    currency: line.currency,
    createdAt: line.createdAt,
    ...(line.status !== undefined && line.status !== 'POSTED' ? { status: line.status } : {}),
    ...(line.counterpartyAccountId !== undefined && rule.counterparty !== null
      ? { counterpartyAccountId: line.counterpartyAccountId, counterpartyType: rule.counterparty }
      : {}),
  };
}
