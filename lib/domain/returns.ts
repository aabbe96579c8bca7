import { DomainError, type ErrorCode } from './errors';
import {
  GatewayUnavailableError,
  type PayoutReturn,
  type PayoutReturnsFeed,
  type ReturnsPage,
  type ReturnsProgress,
  type ReturnsStore,
  type TransactionRecordView,
  type WaitingReturn,
} from './ports';
import { reverseTransaction, type ReversalDeps } from './reversals';
import type { Caller } from './types';

/**
 * Returned payouts (docs/double-entry.md): the gateway paid a payout, then reports in its feed
 * that the money came back. Each return reverses the posted payout as an operator's reversal
 * would: what is left of its amount goes back to the customer (REVERSAL_IN, a credit: it needs no
 * funds), the fee stays revenue, and the Idempotency-Key comes from the payout, so a return read
 * twice is reversed once. The feed's cursor is saved only after the returns it passes are
 * settled, or kept in the saved progress to be tried again: a return is never lost.
 */
export type ReturnDeps = ReversalDeps & {
  store: ReversalDeps['store'] & ReturnsStore;
  gateway: PayoutReturnsFeed;
  /** A return whose payout is still not found this long after it was first read is dropped. */
  returnWaitMs: number;
};

export type ReturnOutcome =
  | 'REVERSED'
  | 'ALREADY_REVERSED'
  /** Its payout is not posted yet (or not in the index yet): tried again next pass. */
  | 'WAITING'
  /** An error that may pass: tried again next pass. */
  | 'FAILED'
  /** Dropped: no posted movement has its id, `returnWaitMs` after it was first read. */
  | 'NOT_FOUND'
  /** Dropped: not a posted payout, or its reversal is refused for good. */
  | 'NOT_REVERSIBLE';

/** Who reverses a returned payout: the service itself, with an operator's right to reverse. */
export const RETURNS_CALLER: Caller = {
  userId: 'system:payout-returns',
  username: 'payout-returns',
  isOperator: true,
};

/** The reversal's Idempotency-Key: one per payout, whoever reads its return and how often. */
export const returnKeyOf = (transactionId: string): string => `return-${transactionId}`;

const DEFAULT_MAX_PAGES = 3;
/** Past this many waiting returns the feed is read no further (nothing lost: the cursor stays). */
export const MAX_WAITING = 100;
/** Of the gateway's words, what the reversal's reason (500 characters at most) keeps. */
const REASON_CHARS = 200;
const REFERENCE_CHARS = 255;

/** Refusals that mean the payout's reversal was already made, under this key or an operator's. */
const ALREADY_DONE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'REVERSAL_EXCEEDS_ORIGINAL',
  'IDEMPOTENCY_KEY_REUSED',
]);
/** Refusals that no retry changes. */
const NEVER: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NOT_REVERSIBLE',
  'BALANCE_LIMIT_EXCEEDED',
  'CURRENCY_MISMATCH',
  'ACCOUNT_NOT_FOUND',
]);

const LOG_LINES: Record<ReturnOutcome, ['info' | 'warn' | 'error', string]> = {
  REVERSED: ['info', 'returned payout reversed'],
  ALREADY_REVERSED: ['info', 'returned payout already reversed'],
  WAITING: ['info', 'returned payout not posted yet; tried again next pass'],
  FAILED: ['warn', 'returned payout not reversed this pass; tried again next pass'],
  NOT_FOUND: ['error', 'returned payout never found; dropped, an operator should look'],
  NOT_REVERSIBLE: ['error', 'returned payout cannot be reversed; dropped, an operator should look'],
};

export type ReturnCounts = Record<ReturnOutcome, number>;

/**
 * One pass: the returns kept waiting are tried again, then the feed is read from the saved
 * cursor, page by page, saving the cursor (and whatever must wait) after each page is settled.
 * A pass that finds another one saved first stops; every reversal it made is idempotent.
 */
export async function consumePayoutReturns(
  deps: ReturnDeps,
  options: { maxPages?: number } = {},
): Promise<ReturnCounts> {
  const counts: ReturnCounts = {
    REVERSED: 0,
    ALREADY_REVERSED: 0,
    WAITING: 0,
    FAILED: 0,
    NOT_FOUND: 0,
    NOT_REVERSIBLE: 0,
  };
  const stored = await deps.store.getReturnsProgress();
  const waiting = await settleAll(deps, stored.waiting, counts);
  const progress = await save(deps, stored, { ...stored, waiting });
  if (progress !== null)
    await readFeed(deps, progress, counts, options.maxPages ?? DEFAULT_MAX_PAGES);
  return counts;
}

/** Up to `maxPages` pages from the saved cursor, each saved once settled; stops at an empty one. */
async function readFeed(
  deps: ReturnDeps,
  from: ReturnsProgress,
  counts: ReturnCounts,
  maxPages: number,
): Promise<void> {
  let progress: ReturnsProgress | null = from;
  for (let read = 0; progress !== null && read < maxPages; read++) {
    if (progress.waiting.length >= MAX_WAITING) {
      deps.logger.warn('too many returned payouts waiting; the feed is read no further for now', {
        waiting: progress.waiting.length,
      });
      return;
    }
    const page = await readPage(deps, progress.cursor);
    if (page === null) return;
    const fresh = await settleAll(deps, page.returns.map(firstSeen(deps)), counts);
    progress = await save(deps, progress, {
      cursor: page.next,
      waiting: merged(progress.waiting, fresh),
      version: progress.version,
    });
    if (page.returns.length === 0) return;
  }
}

/** Settles each return in turn; answers those to try again. One failing never stops the others. */
async function settleAll(
  deps: ReturnDeps,
  returns: WaitingReturn[],
  counts: ReturnCounts,
): Promise<WaitingReturn[]> {
  const kept: WaitingReturn[] = [];
  for (const returned of returns) {
    const outcome = await settleReturn(deps, returned);
    counts[outcome] += 1;
    if (outcome === 'WAITING' || outcome === 'FAILED') kept.push(returned);
  }
  return kept;
}

/** One return: its outcome, and one log line saying it. */
async function settleReturn(deps: ReturnDeps, returned: WaitingReturn): Promise<ReturnOutcome> {
  let settled: Settled;
  try {
    const original = await deps.store.getTransaction(returned.idempotencyKey);
    settled =
      original !== null
        ? await reverseReturned(deps, returned, original)
        : { outcome: waitedTooLong(deps, returned) ? 'NOT_FOUND' : 'WAITING' };
  } catch (error) {
    settled = { outcome: 'FAILED', detail: { error: errorOf(error) } };
  }
  const [level, message] = LOG_LINES[settled.outcome];
  deps.logger[level](message, {
    transactionId: returned.idempotencyKey,
    returnedAt: returned.returnedAt,
    returnReason: returned.reason,
    ...(returned.reference !== undefined ? { gatewayReference: returned.reference } : {}),
    firstSeenAt: returned.firstSeenAt,
    ...settled.detail,
  });
  return settled.outcome;
}

interface Settled {
  outcome: ReturnOutcome;
  detail?: Record<string, unknown>;
}

/** Reverses what is left of a posted payout, under the key its return always gets. */
async function reverseReturned(
  deps: ReturnDeps,
  returned: PayoutReturn,
  original: TransactionRecordView,
): Promise<Settled> {
  const of = { accountId: original.accountId, type: original.type, amount: original.amount };
  if (original.type !== 'PAYOUT' || (original.status ?? 'POSTED') !== 'POSTED') {
    return { outcome: 'NOT_REVERSIBLE', detail: { ...of, status: original.status ?? 'POSTED' } };
  }
  if (original.reversed >= original.amount) {
    return { outcome: 'ALREADY_REVERSED', detail: { ...of, reversed: original.reversed } };
  }
  const key = returnKeyOf(original.transactionId);
  try {
    const result = await reverseTransaction(deps, {
      caller: RETURNS_CALLER,
      transactionId: original.transactionId,
      reason: `returned by the gateway: ${returned.reason}`,
      idempotencyKey: key,
      requestId: key,
    });
    return {
      outcome: result.replayed ? 'ALREADY_REVERSED' : 'REVERSED',
      detail: {
        ...of,
        reversalId: result.transaction.transactionId,
        reversed: result.transaction.amount,
      },
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    if (ALREADY_DONE.has(error.code)) return { outcome: 'ALREADY_REVERSED', detail: of };
    if (NEVER.has(error.code))
      return { outcome: 'NOT_REVERSIBLE', detail: { ...of, code: error.code } };
    throw error;
  }
}

const waitedTooLong = (deps: ReturnDeps, returned: WaitingReturn): boolean =>
  deps.now().getTime() - Date.parse(returned.firstSeenAt) >= deps.returnWaitMs;

/** A page of the feed, or null (logged) when the gateway cannot answer now. */
async function readPage(deps: ReturnDeps, cursor: string | undefined): Promise<ReturnsPage | null> {
  try {
    return await deps.gateway.returns(cursor);
  } catch (error) {
    if (!(error instanceof GatewayUnavailableError)) throw error;
    deps.logger.warn('payout returns feed unavailable; read again next pass', {
      reason: error.reason,
    });
    return null;
  }
}

/** A return as kept: bounded, with when it was first read. */
const firstSeen =
  (deps: ReturnDeps) =>
  (returned: PayoutReturn): WaitingReturn => ({
    idempotencyKey: returned.idempotencyKey,
    ...(returned.reference !== undefined
      ? { reference: returned.reference.slice(0, REFERENCE_CHARS) }
      : {}),
    returnedAt: returned.returnedAt,
    reason: returned.reason.slice(0, REASON_CHARS),
    firstSeenAt: deps.now().toISOString(),
  });

/** The waiting returns and the fresh ones, each payout once (a re-read feed reports it again). */
function merged(waiting: WaitingReturn[], fresh: WaitingReturn[]): WaitingReturn[] {
  const known = new Set(waiting.map((returned) => returned.idempotencyKey));
  return [...waiting, ...fresh.filter((returned) => !known.has(returned.idempotencyKey))];
}

/**
 * Saves `next` over `current` when it differs, answering the progress as now stored; null when
 * another pass saved first (this one then stops).
 */
async function save(
  deps: ReturnDeps,
  current: ReturnsProgress,
  next: ReturnsProgress,
): Promise<ReturnsProgress | null> {
  const same =
    next.cursor === current.cursor &&
    JSON.stringify(next.waiting) === JSON.stringify(current.waiting);
  if (same) return current;
  const proposed = { ...next, version: current.version };
  if (!(await deps.store.saveReturnsProgress(proposed))) {
    deps.logger.info('another pass saved the payout returns progress first; this one stops');
    return null;
  }
  return { ...proposed, version: current.version + 1 };
}

const errorOf = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
