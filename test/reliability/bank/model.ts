/**
 * The client-side model of a bank run: every operation the clients attempted, every HTTP
 * attempt of it and what came back, classified. The verifier compares it with the ledger.
 */
import type { MovementType } from '../../../lib/domain/types';
import type { LimitRefusal } from '../../../lib/wire/types';
import { errorOf, isRecord, type Exchange } from './http';

/** The movements on one account the clients ask for (the domain's types, narrowed). */
export type SingleAccountMovement = Extract<MovementType, 'WITHDRAWAL' | 'DEPOSIT'>;
/**
 * What a client asks for: a withdrawal or deposit on one account, a transfer from its account
 * to `toAccount`, or a payout from its account to a gateway `destination` (answered 202: the
 * funds are held, then posted or voided by the dispatcher from the gateway's answer).
 */
export type OperationType = SingleAccountMovement | 'TRANSFER' | 'PAYOUT';
export type Owner = 'alice' | 'bob';

/** The ledger entry type an operation writes on its own account. */
export const entryTypeOf = (type: OperationType): string =>
  type === 'TRANSFER' ? 'TRANSFER_OUT' : type;

/** The status of a definitive success: 202 for a payout (held), 201 for the rest. */
export const successStatusOf = (type: OperationType): number => (type === 'PAYOUT' ? 202 : 201);

/** The simulated gateway's modes the run sends payouts to (local/payout-gateway.ts). */
export type DestinationMode = 'succeed' | 'refuse' | 'lose' | 'timeout';

export interface PayoutDestination {
  name: string;
  mode: DestinationMode;
}

/**
 * `hot`: many clients at once. `dedicated`: one client, one request at a time, so the model
 * knows its balance exactly at every moment.
 */
export type AccountRole = 'hot' | 'dedicated';

export interface BankAccount {
  accountId: string;
  owner: Owner;
  role: AccountRole;
  label: string;
}

/**
 * - committed: 201 (202 for a payout: held), the money moved (`transactionId`);
 * - refused: a business refusal the service records under the key (replayed to every retry);
 * - key-reused: 422 IDEMPOTENCY_KEY_REUSED;
 * - indeterminate: no answer, or one that says "try again" (409 TRANSACTION_CONFLICT, 503, a
 *   gateway 5xx, a reset, a client-side timeout): the money may or may not have moved;
 * - unexpected: anything the contract does not give this request (a violation).
 */
export type AttemptClass = 'committed' | 'refused' | 'key-reused' | 'indeterminate' | 'unexpected';

export const RECORDED_REFUSALS = new Set([
  'INSUFFICIENT_FUNDS',
  'CURRENCY_MISMATCH',
  'BALANCE_LIMIT_EXCEEDED',
  'LIMIT_EXCEEDED',
]);
const TRANSIENT_CODES = new Set(['TRANSACTION_CONFLICT', 'SERVICE_UNAVAILABLE']);

export type AttemptRole = 'first' | 'concurrent' | 'retry' | 'replay' | 'final';

export interface Attempt {
  role: AttemptRole;
  cls: AttemptClass;
  sentAt: number;
  endedAt: number;
  kind: Exchange['kind'];
  status?: number;
  code?: string;
  requestId?: string;
  replayed: boolean;
  transactionId?: string;
  type?: string;
  amount?: number;
  /** The answer's `fee` (withdrawals and payouts). */
  fee?: number;
  createdAt?: string;
  balance?: number;
  /** balance − pending, when the answer carries it. */
  available?: number;
  pending?: number;
  /** Payouts: the payout's status in the answer. */
  payoutStatus?: string;
  balanceAfter?: number | null;
  sequence?: number | null;
  /** LIMIT_EXCEEDED: which limit refused, and how the account's day stood. */
  limit?: LimitRefusal;
  /** The raw body, kept for 201s (byte-for-byte replay checks). */
  text?: string;
  error?: string;
}

export type OperationOutcome = 'committed' | 'refused' | 'key-reused' | 'unresolved';

export interface Operation {
  id: number;
  client: number;
  account: BankAccount;
  type: OperationType;
  amount: number;
  key: string;
  /** What the account's fee schedule charges on top of `amount` (absent: none). */
  fee?: number;
  /** Transfers: the credited account. */
  toAccount?: BankAccount;
  /** Payouts: where the gateway sends the money, and that destination's mode. */
  destination?: PayoutDestination;
  /** This operation sends the key of operation `reuseOf` with another amount. */
  reuseOf?: number;
  phase: string;
  attempts: Attempt[];
  outcome: OperationOutcome;
  transactionId?: string;
  refusal?: { status: number; code: string; requestId: string };
  firstSentAt: number;
  /** When the first definitive answer arrived. */
  definitiveAt?: number;
  /** Dedicated accounts: the balance before this operation, exactly. */
  balanceBefore?: number;
}

export function classify(exchange: Exchange, role: AttemptRole, successStatus = 201): Attempt {
  const attempt: Attempt = {
    role,
    cls: 'indeterminate',
    sentAt: exchange.sentAt,
    endedAt: exchange.endedAt,
    kind: exchange.kind,
    status: exchange.status,
    replayed: exchange.headers?.['idempotent-replayed'] === 'true',
    error: exchange.error,
  };
  if (exchange.kind !== 'response' || exchange.status === undefined) return attempt;
  const status = exchange.status;
  const body = exchange.json;
  if (status === successStatus && isRecord(body) && isRecord(body.transaction)) {
    const t = body.transaction;
    attempt.cls = 'committed';
    attempt.transactionId = typeof t.transactionId === 'string' ? t.transactionId : undefined;
    attempt.type = typeof t.type === 'string' ? t.type : undefined;
    attempt.amount = typeof t.amount === 'number' ? t.amount : undefined;
    attempt.fee = typeof body.fee === 'number' ? body.fee : undefined;
    attempt.createdAt = typeof t.createdAt === 'string' ? t.createdAt : undefined;
    attempt.balanceAfter = typeof t.balanceAfter === 'number' ? t.balanceAfter : null;
    attempt.sequence = typeof t.sequence === 'number' ? t.sequence : null;
    attempt.balance = typeof body.balance === 'number' ? body.balance : undefined;
    attempt.available = typeof body.available === 'number' ? body.available : undefined;
    attempt.pending = typeof body.pending === 'number' ? body.pending : undefined;
    if (isRecord(body.payout) && typeof body.payout.status === 'string')
      attempt.payoutStatus = body.payout.status;
    attempt.text = exchange.text;
    if (attempt.transactionId === undefined) attempt.cls = 'unexpected';
    return attempt;
  }
  // serverless-offline answers a Lambda that timed out or crashed with 200 and the Lambda
  // error (`errorType`, `errorMessage`, a stack trace); API Gateway answers 5xx: no answer.
  if (isRecord(body) && typeof body.errorType === 'string' && body.transaction === undefined) {
    attempt.cls = 'indeterminate';
    attempt.code = `GATEWAY ${body.errorType}`;
    return attempt;
  }
  const error = errorOf(body);
  attempt.code = error?.code;
  attempt.requestId = error?.requestId;
  const limit = limitOf(body);
  if (limit !== undefined) attempt.limit = limit;
  if (error !== undefined && RECORDED_REFUSALS.has(error.code)) attempt.cls = 'refused';
  else if (error?.code === 'IDEMPOTENCY_KEY_REUSED' && status === 422) attempt.cls = 'key-reused';
  else if (error !== undefined && TRANSIENT_CODES.has(error.code)) attempt.cls = 'indeterminate';
  // A gateway's own 5xx (the Lambda timed out or crashed): no answer from the service.
  else if (error === undefined && status >= 500) attempt.cls = 'indeterminate';
  else attempt.cls = 'unexpected';
  if (attempt.cls === 'unexpected') attempt.text = exchange.text?.slice(0, 500);
  return attempt;
}

/** A refusal's `error.limit`, read field by field: a malformed one is left out (and judged so). */
function limitOf(body: unknown): LimitRefusal | undefined {
  const error = isRecord(body) ? body.error : undefined;
  const limit = isRecord(error) ? error.limit : undefined;
  if (!isRecord(limit)) return undefined;
  const { kind, limit: most, used, remaining } = limit;
  if (kind !== 'daily' && kind !== 'perMovement') return undefined;
  if (typeof most !== 'number' || typeof used !== 'number' || typeof remaining !== 'number') {
    return undefined;
  }
  return { kind, limit: most, used, remaining };
}

export const isDefinitive = (attempt: Attempt): boolean =>
  attempt.cls === 'committed' || attempt.cls === 'refused' || attempt.cls === 'key-reused';

/** Sets the operation's outcome from its first definitive attempt. */
export function settle(op: Operation): void {
  const first = op.attempts.find(isDefinitive);
  if (first === undefined) {
    op.outcome = 'unresolved';
    return;
  }
  op.definitiveAt = first.endedAt;
  if (first.cls === 'committed') {
    op.outcome = 'committed';
    op.transactionId = first.transactionId;
  } else if (first.cls === 'refused') {
    op.outcome = 'refused';
    op.refusal = {
      status: first.status ?? 0,
      code: first.code ?? '',
      requestId: first.requestId ?? '',
    };
  } else {
    op.outcome = 'key-reused';
  }
}

/** A violation: which invariant, and enough detail to reproduce or look it up. */
export interface Violation {
  invariant: string;
  detail: string;
  accountId?: string;
  operation?: number;
  key?: string;
}
