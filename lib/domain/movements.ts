import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  AccountFrozenError,
  AccountNotFoundError,
  BalanceLimitExceededError,
  CurrencyMismatchError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  InsufficientFundsError,
  ReplayedRefusalError,
  ServiceUnavailableError,
  TransactionConflictError,
  ValidationError,
  WithdrawalsPausedError,
  type DomainError,
  type ErrorCode,
} from './errors';
import { MAX_BALANCE } from './money';
import type { Account, Caller, LedgerEntry, MovementType, Payout } from './types';
import type { MovementMetrics } from '../metrics';
import {
  TransientStoreError,
  type CancelledMovement,
  type LedgerStore,
  type Marker,
  type MovementWrite,
} from '../persistence/ledger-store';

export interface MovementDeps {
  store: LedgerStore;
  logger: Logger;
  newId: () => string;
  now: () => Date;
  idempotencyTtlSeconds: number;
  /** The operators' pause switch for withdrawals, read through its cache. */
  withdrawalSwitch: { isPaused(): Promise<boolean>; readonly cacheMs: number };
  metrics: MovementMetrics;
  /** Attempts of the transaction when DynamoDB reports a conflict (contention, not poverty). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface MovementRequest {
  caller: Caller;
  accountId: string;
  amount: number;
  currency?: string;
  idempotencyKey: string;
  requestId: string;
}

export interface TransferRequest extends MovementRequest {
  toAccountId: string;
}

export interface PayoutRequest extends MovementRequest {
  destination: string;
}

export interface MovementResult {
  transaction: LedgerEntry;
  /** The account's balances, read consistently after the commit. */
  balance: number;
  available: number;
  pending: number;
  /** Payouts: the payout record as it is now. */
  payout?: Payout;
  /** True when this answer comes from an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

type RequestedMovement = Exclude<MovementType, 'TRANSFER_IN'>;

const DEFAULT_ATTEMPTS = 4;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 200;

export const withdraw = (deps: MovementDeps, request: MovementRequest) =>
  moveMoney(deps, 'WITHDRAWAL', request);

export const deposit = (deps: MovementDeps, request: MovementRequest) =>
  moveMoney(deps, 'DEPOSIT', request);

/**
 * Moves money between two accounts of the same currency in one transaction: the source (the
 * caller's) is debited only if the amount is available, the destination credited.
 */
export async function transfer(
  deps: MovementDeps,
  request: TransferRequest,
): Promise<MovementResult> {
  if (request.toAccountId === request.accountId) {
    throw new ValidationError('toAccountId must differ from fromAccountId');
  }
  // The destination's currency never changes, so reading it first is safe; both account
  // updates then carry it in their conditions, so a mismatch cannot slip in between.
  const destination = await deps.store.getAccount(request.toAccountId);
  if (destination === null)
    throw new AccountNotFoundError('The destination account does not exist.');
  if (request.currency !== undefined && request.currency !== destination.currency) {
    throw new CurrencyMismatchError();
  }
  return moveMoney(deps, 'TRANSFER_OUT', request, { currency: destination.currency });
}

/**
 * The first phase of a payout: holds the amount (available → pending) and records the payout
 * for the dispatcher, in one transaction. The gateway is called after the commit, never inside.
 */
export function requestPayout(
  deps: MovementDeps & { payoutHoldSeconds: number },
  request: PayoutRequest,
): Promise<MovementResult> {
  return moveMoney(deps, 'PAYOUT', request, { holdSeconds: deps.payoutHoldSeconds });
}

/** The request's fingerprint: a key reused with anything else is refused, not replayed. */
export function requestHash(
  type: RequestedMovement,
  request: MovementRequest & { toAccountId?: string; destination?: string },
): string {
  const canonical = JSON.stringify([
    type,
    request.accountId,
    request.amount,
    request.currency ?? null,
    ...(request.toAccountId !== undefined ? [request.toAccountId] : []),
    ...(request.destination !== undefined ? [request.destination] : []),
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

async function moveMoney(
  deps: MovementDeps,
  type: RequestedMovement,
  request: MovementRequest & { toAccountId?: string; destination?: string },
  options: { currency?: string; holdSeconds?: number } = {},
): Promise<MovementResult> {
  if (type === 'DEPOSIT' && !request.caller.isOperator) throw new ForbiddenError();
  // Money leaving the service stops while operators pause withdrawals; transfers stay inside.
  if ((type === 'WITHDRAWAL' || type === 'PAYOUT') && (await deps.withdrawalSwitch.isPaused())) {
    throw new WithdrawalsPausedError(Math.max(1, Math.ceil(deps.withdrawalSwitch.cacheMs / 1000)));
  }

  const createdAt = deps.now();
  const transactionId = deps.newId();
  const currency = options.currency ?? request.currency;
  const movement: MovementWrite = {
    transactionId,
    accountId: request.accountId,
    type,
    amount: request.amount,
    currency,
    idempotencyKey: request.idempotencyKey,
    requestHash: requestHash(type, request),
    createdAt: createdAt.toISOString(),
    // Only the owner moves money out; operators credit any account.
    requiredOwnerId: type === 'DEPOSIT' ? undefined : request.caller.userId,
    expiresAt: Math.floor(createdAt.getTime() / 1000) + deps.idempotencyTtlSeconds,
    ...(request.toAccountId !== undefined ? { toAccountId: request.toAccountId } : {}),
  };
  if (type === 'PAYOUT') {
    const at = createdAt.toISOString();
    movement.payout = {
      transactionId,
      accountId: request.accountId,
      amount: request.amount,
      // The gateway needs it: the account's, when the client did not name it.
      currency: currency ?? (await currencyOf(deps, request.accountId)),
      destination: request.destination ?? '',
      status: 'PENDING',
      idempotencyKey: request.idempotencyKey,
      createdAt: at,
      updatedAt: at,
      holdExpiresAt: new Date(
        createdAt.getTime() + (options.holdSeconds ?? 0) * 1000,
      ).toISOString(),
      attempts: 0,
    };
  }
  const maxAttempts = deps.maxAttempts ?? DEFAULT_ATTEMPTS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  for (let attempt = 1; ; attempt++) {
    const answer = await attemptMovement(deps, movement, request);
    if (answer !== 'retry') return answer;
    deps.metrics.conflict(type, attempt >= maxAttempts);
    if (attempt >= maxAttempts) {
      // An earlier attempt may have committed with its answer lost in transit: then the key
      // holds its outcome, and "nothing changed" would be a lie.
      const marker = await deps.store.getMarker(movement.accountId, movement.idempotencyKey);
      if (marker) return answerFromMarker(deps, movement, request, marker);
      throw new TransactionConflictError();
    }
    // Full jitter, so writers that collided do not collide again in step.
    await sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
  }
}

/** An account's currency (it never changes); a foreign account is judged by the transaction. */
async function currencyOf(deps: MovementDeps, accountId: string): Promise<string> {
  const account = await deps.store.getAccount(accountId);
  if (account === null) throw new AccountNotFoundError();
  return account.currency;
}

/** One try of the transaction. Every retry reuses the same transaction id and marker. */
async function attemptMovement(
  deps: MovementDeps,
  movement: MovementWrite,
  request: MovementRequest,
): Promise<MovementResult | 'retry'> {
  let outcome;
  try {
    outcome = await deps.store.writeMovement(movement);
  } catch (error) {
    if (!(error instanceof TransientStoreError)) throw error;
    // Throttling and 5xx were already retried by the SDK; a conflict is ours to retry.
    if (error.kind !== 'conflict') throw new ServiceUnavailableError();
    return 'retry';
  }
  if (!outcome.committed) return resolveCancellation(deps, movement, request, outcome);
  const result = await resultOf(
    deps,
    movement.toAccountId === undefined
      ? movement
      : { ...movement, counterpartyAccountId: movement.toAccountId },
    false,
  );
  logOutcome(deps, 'committed', result, request);
  return result;
}

/**
 * Reads a cancelled transaction in a fixed order: existence and ownership first (so a marker
 * never reveals another user's account), then the key's recorded outcome, then the refusal.
 */
async function resolveCancellation(
  deps: MovementDeps,
  movement: MovementWrite,
  request: MovementRequest,
  cancelled: CancelledMovement,
): Promise<MovementResult | 'retry'> {
  const account = cancelled.account;
  if (cancelled.accountRefused) {
    if (account === null) throw new AccountNotFoundError();
    if (movement.requiredOwnerId !== undefined && account.ownerId !== movement.requiredOwnerId) {
      throw request.caller.isOperator
        ? new ForbiddenError('Only the account owner may withdraw.')
        : new AccountNotFoundError();
    }
  }
  if (cancelled.existingMarker) {
    return answerFromMarker(deps, movement, request, cancelled.existingMarker);
  }
  // An operator's freeze is not the request's outcome: it is not recorded, so a retry after
  // the unfreeze executes.
  if (movement.type !== 'DEPOSIT' && account?.frozen === true) throw new AccountFrozenError();

  let refusal = account ? businessRefusal(movement, account) : null;
  if (refusal === null && cancelled.counterpartyRefused) {
    if (cancelled.counterparty === null) {
      throw new AccountNotFoundError('The destination account does not exist.');
    }
    refusal = businessRefusal({ ...movement, type: 'DEPOSIT' }, cancelled.counterparty);
  }
  if (refusal === null) return 'retry'; // The condition failed on a state that no longer holds.

  const recorded = await deps.store.recordRefusal(
    {
      outcome: 'REFUSED',
      accountId: movement.accountId,
      idempotencyKey: movement.idempotencyKey,
      requestHash: movement.requestHash,
      createdAt: movement.createdAt,
      status: refusal.status,
      error: { code: refusal.code, message: refusal.message, requestId: request.requestId },
    },
    movement.expiresAt,
  );
  const existing = recorded.recorded ? null : recorded.existing;
  // Recorded, or recorded by this very request (the put committed, its answer was lost and the
  // SDK's retry found the marker): either way this is the first answer, not a replay.
  if (
    existing === null ||
    (existing.outcome === 'REFUSED' &&
      existing.requestHash === movement.requestHash &&
      existing.error.requestId === request.requestId)
  ) {
    deps.metrics.refused(movement.type, refusal.code);
    throw refusal;
  }
  // Another attempt with this key finished first: its outcome is the answer.
  return answerFromMarker(deps, movement, request, existing);
}

function businessRefusal(movement: MovementWrite, account: Account): DomainError | null {
  if (movement.currency !== undefined && account.currency !== movement.currency) {
    return new CurrencyMismatchError();
  }
  if (movement.type !== 'DEPOSIT' && account.available < movement.amount) {
    return new InsufficientFundsError();
  }
  if (movement.type === 'DEPOSIT' && account.balance + movement.amount > MAX_BALANCE) {
    return new BalanceLimitExceededError();
  }
  return null;
}

async function answerFromMarker(
  deps: MovementDeps,
  movement: MovementWrite,
  request: MovementRequest,
  marker: Marker,
): Promise<MovementResult> {
  if (marker.requestHash !== movement.requestHash) throw new IdempotencyKeyReusedError();
  if (marker.outcome === 'REFUSED') {
    deps.metrics.replayed(movement.type);
    deps.logger.info(`${OPERATION[movement.type]} replayed`, {
      accountId: movement.accountId,
      code: marker.error.code,
      requestId: request.requestId,
      originalRequestId: marker.error.requestId,
    });
    throw new ReplayedRefusalError(
      marker.error.code as ErrorCode,
      marker.status,
      marker.error.message,
      marker.error.requestId,
    );
  }
  // Our own earlier attempt committed and its answer was lost in transit: not a replay.
  const ownCommit = marker.transactionId === movement.transactionId;
  const result = await resultOf(deps, marker, !ownCommit);
  logOutcome(deps, ownCommit ? 'committed' : 'replayed', result, request);
  return result;
}

/**
 * Builds the answer for a committed movement from one consistent read of the account. Its
 * `balanceAfter` is exact: known when this movement is still the account's last one, or (a
 * replay) from its statement line among the newest; otherwise null (pending), never guessed.
 */
async function resultOf(
  deps: MovementDeps,
  committed: {
    transactionId: string;
    accountId: string;
    type: MovementType;
    amount: number;
    idempotencyKey: string;
    createdAt: string;
    balanceAfter?: number;
    sequence?: number;
    counterpartyAccountId?: string;
  },
  replayed: boolean,
): Promise<MovementResult> {
  const [account, payout] = await Promise.all([
    deps.store.getAccount(committed.accountId),
    committed.type === 'PAYOUT'
      ? deps.store.getPayout(committed.accountId, committed.transactionId)
      : Promise.resolve(null),
  ]);
  if (account === null) throw new Error(`Account ${committed.accountId} vanished after a commit`);
  const isLast = account.lastMovement?.transactionId === committed.transactionId;
  // A replay of an earlier movement: its place is in the statement, once the sequencer put it there.
  // (A fresh commit never looks: its line cannot be older than its answer, and two round trips
  // are the promise.)
  const line =
    replayed && committed.balanceAfter === undefined && !isLast
      ? await deps.store.findRecentLine(committed.accountId, committed.transactionId)
      : null;
  return {
    transaction: {
      transactionId: committed.transactionId,
      accountId: committed.accountId,
      type: committed.type,
      amount: committed.amount,
      currency: account.currency,
      balanceAfter:
        committed.balanceAfter ?? line?.balanceAfter ?? (isLast ? account.balance : null),
      sequence: committed.sequence ?? line?.sequence ?? (isLast ? account.version : null),
      idempotencyKey: committed.idempotencyKey,
      createdAt: committed.createdAt,
      status: payout?.status ?? 'POSTED',
      ...(committed.counterpartyAccountId !== undefined
        ? { counterpartyAccountId: committed.counterpartyAccountId }
        : {}),
      ...(payout ? { destination: payout.destination } : {}),
    },
    balance: account.balance,
    available: account.available,
    pending: account.pending,
    ...(payout ? { payout } : {}),
    replayed,
  };
}

/** What a log line calls each movement (a transfer is logged once, on its source). */
const OPERATION: Record<MovementType, string> = {
  WITHDRAWAL: 'withdrawal',
  DEPOSIT: 'deposit',
  TRANSFER_OUT: 'transfer',
  TRANSFER_IN: 'transfer',
  PAYOUT: 'payout',
};

/** One log line and one metric per outcome. */
function logOutcome(
  deps: Pick<MovementDeps, 'logger' | 'metrics'>,
  what: 'committed' | 'replayed',
  result: MovementResult,
  request: MovementRequest,
): void {
  const t = result.transaction;
  deps.metrics[what](t.type);
  deps.logger.info(`${OPERATION[t.type]} ${what}`, {
    accountId: t.accountId,
    transactionId: t.transactionId,
    amount: t.amount,
    balanceAfter: t.balanceAfter,
    balance: result.balance,
    requestId: request.requestId,
  });
}
