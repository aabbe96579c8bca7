import {
  GatewayUnavailableError,
  TransientStoreError,
  type AccountStore,
  type Log,
  type PayoutGateway,
  type PayoutStore,
} from './ports';
import { retry, type Sleep } from './retry';
import { PayoutNotFoundError } from './errors';
import type { Caller, Payout } from './types';
import { accountFor } from './accounts';

/**
 * The second phase of a payout. The hold and the payout record were committed together (the
 * record is the outbox); from here the gateway is called with the transactionId as its
 * idempotency key, so however often a payout is dispatched, money leaves at most once. Its
 * answer decides: SUCCEEDED posts the hold, a definite REFUSED voids it, and an unknown outcome
 * (timeout, lost response, 5xx) changes nothing: the sweeper asks the gateway again by key,
 * never guesses.
 */
export interface PayoutDeps {
  store: PayoutStore & Pick<AccountStore, 'getAccount'>;
  gateway: PayoutGateway;
  logger: Log;
  now: () => Date;
  /** An open payout not heard of for this long is sent again (same key) by the sweeper. */
  retryAfterMs: number;
  sleep?: Sleep;
}

export type DispatchResult = 'POSTED' | 'VOIDED' | 'UNKNOWN' | 'ALREADY_RESOLVED';

const RESOLVE_ATTEMPTS = 4;

/** Sends one payout to the gateway and settles its hold by the answer. */
export async function dispatchPayout(deps: PayoutDeps, payout: Payout): Promise<DispatchResult> {
  if (payout.status !== 'PENDING') return 'ALREADY_RESOLVED';
  let outcome;
  try {
    outcome = await deps.gateway.send({
      idempotencyKey: payout.transactionId,
      amount: payout.amount,
      currency: payout.currency,
      destination: payout.destination,
    });
  } catch (error) {
    if (!(error instanceof GatewayUnavailableError)) throw error;
    return unknownOutcome(deps, payout, error);
  }
  return outcome.status === 'SUCCEEDED'
    ? settle(deps, payout, { status: 'POSTED', gatewayReference: outcome.reference })
    : settle(deps, payout, { status: 'VOIDED', voidReason: outcome.reason });
}

/**
 * The scheduled pass over unresolved payouts. A hold past its expiry is cancelled at the
 * gateway and voided, unless the gateway answers that it already paid (then it is posted); one
 * whose outcome is unknown, or that was never dispatched (a lost stream record), is sent again
 * by the same key. A gateway that cannot be reached leaves the hold as it is, for the next pass.
 */
export async function sweepPayouts(
  deps: PayoutDeps,
  options: { limitPerShard?: number } = {},
): Promise<Record<DispatchResult | 'WAITING', number>> {
  const counts = { POSTED: 0, VOIDED: 0, UNKNOWN: 0, ALREADY_RESOLVED: 0, WAITING: 0 };
  const open = await deps.store.listOpenPayouts(options.limitPerShard ?? 100);
  const now = deps.now().getTime();
  for (const listed of open) {
    // The index lags the table: act on the payout as it is now.
    const payout = await deps.store.getPayout(listed.accountId, listed.transactionId);
    if (payout === null || payout.status !== 'PENDING') {
      counts.ALREADY_RESOLVED += 1;
      continue;
    }
    let result: DispatchResult | 'WAITING';
    if (now >= Date.parse(payout.holdExpiresAt)) {
      result = await expire(deps, payout);
    } else if (now - Date.parse(payout.lastAttemptAt ?? payout.createdAt) >= deps.retryAfterMs) {
      result = await dispatchPayout(deps, payout);
    } else {
      result = 'WAITING';
    }
    counts[result] += 1;
  }
  return counts;
}

async function expire(deps: PayoutDeps, payout: Payout): Promise<DispatchResult> {
  let outcome;
  try {
    outcome = await deps.gateway.cancel(payout.transactionId);
  } catch (error) {
    if (!(error instanceof GatewayUnavailableError)) throw error;
    return unknownOutcome(deps, payout, error);
  }
  if (outcome.status === 'SUCCEEDED') {
    return settle(deps, payout, { status: 'POSTED', gatewayReference: outcome.reference });
  }
  return settle(deps, payout, {
    status: 'VOIDED',
    voidReason: outcome.status === 'CANCELLED' ? 'hold_expired' : outcome.reason,
  });
}

async function unknownOutcome(
  deps: PayoutDeps,
  payout: Payout,
  error: GatewayUnavailableError,
): Promise<DispatchResult> {
  await deps.store.recordPayoutAttempt(payout, deps.now().toISOString(), error.reason);
  deps.logger.warn('payout outcome unknown; the hold stays until the gateway answers', {
    accountId: payout.accountId,
    transactionId: payout.transactionId,
    reason: error.reason,
    attempts: payout.attempts + 1,
  });
  return 'UNKNOWN';
}

async function settle(
  deps: PayoutDeps,
  payout: Payout,
  resolution:
    | { status: 'POSTED'; gatewayReference: string }
    | { status: 'VOIDED'; voidReason: string },
): Promise<DispatchResult> {
  // A conflict with a movement on the same account: the resolution is idempotent, retry.
  const resolved = await retry(
    () => deps.store.resolvePayout(payout, { ...resolution, at: deps.now().toISOString() }),
    {
      attempts: RESOLVE_ATTEMPTS,
      baseMs: 25,
      capMs: 200,
      retryable: (error) => error instanceof TransientStoreError && error.kind === 'conflict',
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    },
  );
  if (!resolved) return 'ALREADY_RESOLVED';
  deps.logger.info(`payout ${resolution.status.toLowerCase()}`, {
    accountId: payout.accountId,
    transactionId: payout.transactionId,
    amount: payout.amount,
    destination: payout.destination,
    ...resolution,
  });
  return resolution.status;
}

/** A payout as its owner sees it; another customer's or unknown is "not found". */
export async function payoutFor(
  deps: { store: PayoutStore & Pick<AccountStore, 'getAccount'> },
  caller: Caller,
  accountId: string,
  transactionId: string,
): Promise<Payout> {
  await accountFor(deps, caller, accountId);
  const payout = await deps.store.getPayout(accountId, transactionId);
  if (payout === null) throw new PayoutNotFoundError();
  return payout;
}
