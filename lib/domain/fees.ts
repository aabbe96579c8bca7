import { accountFor } from './accounts';
import { AccountNotFoundError, ForbiddenError } from './errors';
import type { AccountStore, Log, TermsStore } from './ports';
import type { Sleep } from './retry';
import { changeTerms } from './terms';
import { ruleOf, type FeeableMovement, type MovementType } from './movement-types';
import type { Caller, ControlChange, MinorUnits } from './types';

/**
 * A fee schedule per account (docs/double-entry.md): what a withdrawal or a payout costs on top of
 * its amount. It is one of the account's terms (lib/domain/terms.ts), whose version rides on the
 * account item, so the money path never reads it first: it guesses the version and the account's
 * condition checks the guess.
 */
export interface FeeRule {
  flat?: MinorUnits;
  /** Basis points of the amount (100 = 1%). */
  bps?: number;
  min?: MinorUnits;
  max?: MinorUnits;
}

export type FeeSchedule = Partial<Record<FeeableMovement, FeeRule>>;

/** The schedule as an operator sees it, with the last change. */
export interface FeeScheduleView {
  accountId: string;
  /** The account's terms version the schedule was set at (0: never set, no fee). */
  version: number;
  schedule: FeeSchedule;
  changed: ControlChange | null;
}

/** Basis points in a whole: a rule's `bps` is at most this. */
export const MAX_BPS = 10_000;

/** `flat + floor(amount × bps / 10000)`, raised to `min`, lowered to `max`; no rule: 0. */
export function feeFor(rule: FeeRule | undefined, amount: MinorUnits): MinorUnits {
  if (rule === undefined) return 0;
  // amount × bps reaches 10^16, past 2^53: the product is taken exactly, in BigInt.
  const share = Number((BigInt(amount) * BigInt(rule.bps ?? 0)) / BigInt(MAX_BPS));
  const raw = (rule.flat ?? 0) + share;
  const floored = Math.max(raw, rule.min ?? 0);
  return rule.max === undefined ? floored : Math.min(floored, rule.max);
}

/** The fee a movement of this type and amount costs under a schedule. */
export function feeOf(type: MovementType, amount: MinorUnits, schedule: FeeSchedule): MinorUnits {
  return ruleOf(type).feeable ? feeFor(schedule[type as FeeableMovement], amount) : 0;
}

export interface FeeDeps {
  store: TermsStore & Pick<AccountStore, 'getAccount'>;
  logger: Log;
  newId: () => string;
  now: () => Date;
  sleep?: Sleep;
}

/** The account's schedule and its last change, for its owner or an operator. */
export async function feeSchedule(
  deps: Pick<FeeDeps, 'store'>,
  caller: Caller,
  accountId: string,
): Promise<FeeScheduleView> {
  const [, fees] = await Promise.all([
    accountFor(deps, caller, accountId),
    deps.store.getFees(accountId),
  ]);
  return fees === null
    ? { accountId, version: 0, schedule: {}, changed: null }
    : { accountId, version: fees.version, schedule: fees.schedule, changed: fees.changed };
}

/** An operator replaces the account's schedule; it applies to every movement committed after. */
export async function setFeeSchedule(
  deps: FeeDeps,
  caller: Caller,
  request: { accountId: string; schedule: FeeSchedule; reason: string },
): Promise<FeeScheduleView> {
  if (!caller.isOperator) throw new ForbiddenError();
  const change = { by: caller.userId, at: deps.now().toISOString(), reason: request.reason };
  const id = deps.newId();
  const stored = await changeTerms(deps, () =>
    deps.store.setFees(request.accountId, request.schedule, { id, ...change }),
  );
  if (stored === null) throw new AccountNotFoundError();
  const view = {
    accountId: request.accountId,
    version: stored.version,
    schedule: stored.schedule,
    changed: stored.changed,
  };
  deps.logger.info('fees set', {
    accountId: request.accountId,
    by: caller.userId,
    reason: request.reason,
    version: view.version,
    fees: view.schedule,
  });
  return view;
}
