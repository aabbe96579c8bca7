import { createHash } from 'node:crypto';
import {
  AccountFrozenError,
  AccountNotFoundError,
  BalanceLimitExceededError,
  CurrencyMismatchError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  InsufficientFundsError,
  ReplayedRefusalError,
  LimitExceededError,
  ReversalExceedsOriginalError,
  ServiceUnavailableError,
  TransactionConflictError,
  ValidationError,
  WithdrawalsPausedError,
  type DomainError,
} from './errors';
import { detailsFingerprint, detailsOf } from './details';
import { feeOf } from './fees';
import { dayOf, limitRefusal, limitsInForce, type DailyLimits } from './limits';
import type { TermsCache } from './terms';
import { MAX_BALANCE } from './money';
import { requestEffect, ruleOf, type RequestedMovement } from './movement-types';
import {
  TransientStoreError,
  type AccountCondition,
  type AccountStore,
  type CancelledMovement,
  type TermsStore,
  type Log,
  type Marker,
  type MovementMetrics,
  type MovementStore,
  type MovementWrite,
  type PayoutStore,
  type PendingEntry,
  type ReversalWrite,
  type StatementStore,
} from './ports';
import { retry, type Sleep } from './retry';
import {
  chargedOf,
  detailsMarkOf,
  type Account,
  type Caller,
  type LedgerEntry,
  type MovementDetails,
  type MovementType,
  type Payout,
} from './types';

export interface MovementDeps {
  store: MovementStore &
    Pick<AccountStore, 'getAccount'> &
    Pick<PayoutStore, 'getPayout'> &
    Pick<StatementStore, 'findRecentLine'> &
    Pick<TermsStore, 'getTerms'>;
  logger: Log;
  newId: () => string;
  now: () => Date;
  idempotencyTtlSeconds: number;
  /** The terms (fees, limits) this container last saw: a movement is priced and limited from
   * them, never after a read. */
  termsCache: TermsCache;
  /** The limits of an account whose operator set none (configuration). */
  limitDefaults: DailyLimits;
  /** The operators' pause switch for withdrawals, read through its cache. */
  withdrawalSwitch: { isPaused(): Promise<boolean>; readonly cacheMs: number };
  metrics: MovementMetrics;
  /** Attempts of the transaction when the store reports a conflict (contention, not poverty). */
  maxAttempts?: number;
  sleep?: Sleep;
}

/** The details (reference, description, metadata) are validated at the edge, with their bounds. */
export interface MovementRequest extends MovementDetails {
  caller: Caller;
  accountId: string;
  amount: number;
  currency?: string;
  idempotencyKey: string;
  requestId: string;
  /** The request's own fields, when the route's body is not the amount and currency alone. */
  fingerprint?: unknown[];
}

export interface TransferRequest extends MovementRequest {
  toAccountId: string;
}

export interface PayoutRequest extends MovementRequest {
  destination: string;
}

export interface MovementResult {
  transaction: LedgerEntry;
  /** Charged on top of the amount (0: none). */
  fee: number;
  /** The account's balances, read consistently after the commit. */
  balance: number;
  available: number;
  pending: number;
  /** Payouts: the payout record as it is now. */
  payout?: Payout;
  /** True when this answer comes from an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

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
  if (request.fingerprint !== undefined) {
    const canonical = JSON.stringify([type, request.accountId, ...request.fingerprint]);
    return createHash('sha256').update(canonical).digest('base64url');
  }
  const canonical = JSON.stringify([
    type,
    request.accountId,
    request.amount,
    request.currency ?? null,
    ...(request.toAccountId !== undefined ? [request.toAccountId] : []),
    ...(request.destination !== undefined ? [request.destination] : []),
    ...detailsFingerprint(request),
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

/** What a type's route adds to the movement its rules describe. */
export interface MovementOptions {
  /** The account's currency, when the service knows it (a transfer's destination's). */
  currency?: string;
  holdSeconds?: number;
  reversal?: ReversalWrite;
  /** Room given back to a day's limit counter with this movement (a reversal's). */
  limitRelease?: { day: string; amount: number };
}

/** One movement of any type, as its row in MOVEMENT_RULES says: the money path's one entry. */
export async function moveMoney(
  deps: MovementDeps,
  type: RequestedMovement,
  request: MovementRequest & { toAccountId?: string; destination?: string },
  options: MovementOptions = {},
): Promise<MovementResult> {
  const rule = ruleOf(type);
  if (rule.initiator === 'operator' && !request.caller.isOperator) throw new ForbiddenError();
  if (rule.pausable && (await deps.withdrawalSwitch.isPaused())) {
    throw new WithdrawalsPausedError(Math.max(1, Math.ceil(deps.withdrawalSwitch.cacheMs / 1000)));
  }
  const movement = await movementWrite(deps, type, request, options);
  try {
    // Each attempt takes the terms last seen: a cancelled one may have taught newer ones.
    return await retry(() => attemptMovement(deps, onTerms(deps, movement), request), {
      attempts: deps.maxAttempts ?? DEFAULT_ATTEMPTS,
      baseMs: BACKOFF_BASE_MS,
      capMs: BACKOFF_CAP_MS,
      // Throttling and 5xx were already retried by the SDK; a conflict is ours to retry.
      retryable: (error) => error instanceof TransientStoreError && error.kind === 'conflict',
      onFailure: (_attempt, last) => deps.metrics.conflict(type, last),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    });
  } catch (error) {
    if (!(error instanceof TransientStoreError)) throw error;
    if (error.kind !== 'conflict') throw new ServiceUnavailableError();
    // An earlier attempt may have committed with its answer lost in transit: then the key
    // holds its outcome, and "nothing changed" would be a lie.
    const marker = await deps.store.getMarker(movement.accountId, movement.idempotencyKey);
    if (marker) return answerFromMarker(deps, movement, request, marker);
    throw new TransactionConflictError();
  }
}

/** The atomic write a request asks for, its conditions read from the type's rules. */
async function movementWrite(
  deps: MovementDeps,
  type: RequestedMovement,
  request: MovementRequest & { toAccountId?: string; destination?: string },
  options: MovementOptions,
): Promise<MovementWrite> {
  const rule = ruleOf(type);
  const createdAt = deps.now();
  const transactionId = deps.newId();
  const currency = options.currency ?? request.currency;
  const details = detailsOf(request);
  const condition = (accountId: string, of: MovementType): AccountCondition => ({
    accountId,
    effect: requestEffect(of),
    frozenBlocks: ruleOf(of).frozenBlocks,
    // Only the owner moves money out of their account; operators credit any account.
    ...(ruleOf(of).initiator === 'owner' ? { requiredOwnerId: request.caller.userId } : {}),
    ...(currency !== undefined ? { currency } : {}),
    // An operator's reversal may take the debited side below zero, when they said so.
    ...(options.reversal?.negativeAllowed && requestEffect(of) === 'debit'
      ? { allowNegative: true }
      : {}),
  });
  const movement: MovementWrite = {
    transactionId,
    accountId: request.accountId,
    type,
    amount: request.amount,
    idempotencyKey: request.idempotencyKey,
    requestHash: requestHash(type, request),
    createdAt: createdAt.toISOString(),
    expiresAt: Math.floor(createdAt.getTime() / 1000) + deps.idempotencyTtlSeconds,
    account: condition(request.accountId, type),
    ...(Object.keys(details).length > 0 ? { details } : {}),
  };
  if (rule.counterparty !== null && request.toAccountId !== undefined) {
    movement.counterparty = {
      ...condition(request.toAccountId, rule.counterparty),
      type: rule.counterparty,
    };
  }
  if (rule.holdsFirst) {
    movement.payout = await payoutRecord(deps, movement, request, options.holdSeconds ?? 0);
  }
  if (options.reversal !== undefined) movement.reversal = options.reversal;
  if (options.limitRelease !== undefined) movement.limitRelease = options.limitRelease;
  return movement;
}

/**
 * The movement on the account's terms as last seen: its fee priced with the schedule, its charge
 * held to the day's limits, and the terms version both came from in its condition.
 */
function onTerms(
  deps: Pick<MovementDeps, 'termsCache' | 'limitDefaults'>,
  movement: MovementWrite,
): MovementWrite {
  const rule = ruleOf(movement.type);
  if (!rule.feeable && !rule.limited) return movement;
  const terms = deps.termsCache.get(movement.accountId);
  const fee = feeOf(movement.type, movement.amount, terms.fees);
  const limits = limitsInForce(deps.limitDefaults, terms.limits);
  const limit = rule.limited
    ? {
        day: dayOf(new Date(movement.createdAt), limits.timezone),
        daily: limits.daily,
        perMovement: limits.perMovement,
      }
    : undefined;
  const { payout } = movement;
  return {
    ...movement,
    ...(fee > 0 ? { fee } : { fee: undefined }),
    account: { ...movement.account, termsVersion: terms.version },
    ...(limit ? { limit } : {}),
    ...(payout
      ? {
          payout: {
            ...payout,
            ...(fee > 0 ? { fee } : {}),
            ...(limit ? { limitDay: limit.day } : {}),
          },
        }
      : {}),
  };
}

/** The payout record committed with a payout's hold: the dispatcher's outbox. */
async function payoutRecord(
  deps: MovementDeps,
  movement: MovementWrite,
  request: MovementRequest & { destination?: string },
  holdSeconds: number,
): Promise<Payout> {
  const at = movement.createdAt;
  return {
    transactionId: movement.transactionId,
    accountId: movement.accountId,
    amount: movement.amount,
    // The gateway needs it: the account's, when the client did not name it.
    currency: movement.account.currency ?? (await currencyOf(deps, movement.accountId)),
    destination: request.destination ?? '',
    status: 'PENDING',
    idempotencyKey: movement.idempotencyKey,
    createdAt: at,
    updatedAt: at,
    holdExpiresAt: new Date(Date.parse(at) + holdSeconds * 1000).toISOString(),
    attempts: 0,
    ...detailsMarkOf(movement.details ?? {}),
  };
}

/** An account's currency (it never changes); a foreign account is judged by the transaction. */
async function currencyOf(deps: MovementDeps, accountId: string): Promise<string> {
  const account = await deps.store.getAccount(accountId);
  if (account === null) throw new AccountNotFoundError();
  return account.currency;
}

/**
 * One try of the transaction; every retry reuses the same transaction id and marker. A condition
 * that failed on a state that no longer holds is a conflict like any other: tried again.
 */
async function attemptMovement(
  deps: MovementDeps,
  movement: MovementWrite,
  request: MovementRequest,
): Promise<MovementResult> {
  const outcome = await deps.store.writeMovement(movement);
  if (!outcome.committed) {
    const answer = await resolveCancellation(deps, movement, request, outcome);
    if (answer === 'retry') throw new TransientStoreError('conflict');
    return answer;
  }
  const counterpartyAccountId = movement.counterparty?.accountId;
  const result = await resultOf(
    deps,
    counterpartyAccountId === undefined ? movement : { ...movement, counterpartyAccountId },
    false,
    movement.details,
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
    const owner = movement.account.requiredOwnerId;
    if (owner !== undefined && account.ownerId !== owner) {
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
  if (movement.account.frozenBlocks && account?.frozen === true) throw new AccountFrozenError();
  if (account !== null && staleTerms(movement, account)) {
    // Priced and limited again with the terms in force: read once, then known to this container.
    deps.termsCache.learn(movement.accountId, await deps.store.getTerms(movement.accountId));
    return 'retry';
  }

  let refusal: DomainError | null = cancelled.reversalRefused
    ? new ReversalExceedsOriginalError()
    : null;
  if (refusal === null && account !== null) {
    refusal = businessRefusal(movement.type, movement, account, chargedOf(movement));
  }
  const counterparty = movement.counterparty;
  if (refusal === null && cancelled.counterpartyRefused && counterparty !== undefined) {
    if (cancelled.counterparty === null) {
      throw new AccountNotFoundError('The destination account does not exist.');
    }
    refusal = businessRefusal(counterparty.type, movement, cancelled.counterparty, movement.amount);
  }
  if (refusal === null && cancelled.limitRefused && movement.limit !== undefined) {
    refusal = limitExceeded(movement, cancelled.limitRefused.used);
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
      error: {
        code: refusal.code,
        message: refusal.message,
        requestId: request.requestId,
        ...(refusal.limit ? { limit: refusal.limit } : {}),
      },
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

/** The movement was priced or limited with terms the account no longer has. */
const staleTerms = (movement: MovementWrite, account: Account): boolean =>
  movement.account.termsVersion !== undefined &&
  movement.account.termsVersion !== (account.termsVersion ?? 0);

/** The day's counter refused it: which limit, and how the day stood (null: it no longer does). */
function limitExceeded(movement: MovementWrite, used: number): LimitExceededError | null {
  if (movement.limit === undefined) return null;
  const refusal = limitRefusal(movement.limit, used, chargedOf(movement));
  return refusal === null ? null : new LimitExceededError(refusal);
}

/**
 * Which business rule refused the movement on this account's state, if one did. `charged` is
 * what the account's side takes: the amount, and the named account's fee.
 */
function businessRefusal(
  type: MovementType,
  movement: MovementWrite,
  account: Account,
  charged: number,
): DomainError | null {
  const currency = movement.account.currency;
  if (currency !== undefined && account.currency !== currency) return new CurrencyMismatchError();
  if (ruleOf(type).direction === 'out' && account.available < charged) {
    return new InsufficientFundsError();
  }
  if (ruleOf(type).direction === 'in' && account.balance + charged > MAX_BALANCE) {
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
    deps.logger.info(`${ruleOf(movement.type).operation} replayed`, {
      accountId: movement.accountId,
      code: marker.error.code,
      requestId: request.requestId,
      originalRequestId: marker.error.requestId,
    });
    throw new ReplayedRefusalError(
      marker.error.code,
      marker.status,
      marker.error.message,
      marker.error.requestId,
      marker.error.limit,
    );
  }
  // Our own earlier attempt committed and its answer was lost in transit: not a replay.
  const ownCommit = marker.transactionId === movement.transactionId;
  // The same fingerprint: the details are this request's own.
  const result = await resultOf(deps, marker, !ownCommit, movement.details);
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
  committed: Omit<PendingEntry, 'status' | 'destination'> & {
    balanceAfter?: number;
    sequence?: number;
  },
  replayed: boolean,
  details: MovementDetails = {},
): Promise<MovementResult> {
  const [account, payout] = await Promise.all([
    deps.store.getAccount(committed.accountId),
    ruleOf(committed.type).holdsFirst
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
      ...(committed.fee ? { fee: committed.fee } : {}),
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
      ...details,
    },
    fee: committed.fee ?? 0,
    balance: account.balance,
    available: account.available,
    pending: account.pending,
    ...(payout ? { payout } : {}),
    replayed,
  };
}

/** One log line and one metric per outcome. */
function logOutcome(
  deps: Pick<MovementDeps, 'logger' | 'metrics'>,
  what: 'committed' | 'replayed',
  result: MovementResult,
  request: MovementRequest,
): void {
  const t = result.transaction;
  deps.metrics[what](t.type);
  deps.logger.info(`${ruleOf(t.type).operation} ${what}`, {
    accountId: t.accountId,
    transactionId: t.transactionId,
    amount: t.amount,
    balanceAfter: t.balanceAfter,
    balance: result.balance,
    requestId: request.requestId,
  });
}
