import { accountFor } from './accounts';
import { AccountNotFoundError, ForbiddenError, ValidationError } from './errors';
import type { AccountStore, Log, TermsStore } from './ports';
import type { Sleep } from './retry';
import { changeTerms } from './terms';
import { MAX_AMOUNT } from './money';
import type { Account, Caller, ControlChange, MinorUnits } from './types';

/**
 * Withdrawal limits per account (docs/limits.md): how much may leave it per calendar day in its
 * timezone, and per movement. Every outgoing movement (the rows marked `limited`) adds what it
 * charges (amount and fee) to a counter item per account and day inside its own transaction, on
 * condition that the total stays within the limit: no read first, as for the balance.
 */
export interface DailyLimits {
  /** Most that may leave the account in one day, fees included. */
  daily: MinorUnits;
  /** Most that one movement may charge, fee included. */
  perMovement: MinorUnits;
  /** IANA name; the day is a calendar day there. */
  timezone: string;
}

/** The configuration's defaults when it sets none: one movement's largest amount, in UTC. */
export const DEFAULT_LIMITS: DailyLimits = {
  daily: MAX_AMOUNT,
  perMovement: MAX_AMOUNT,
  timezone: 'UTC',
};

/** What an operator set on one account; the rest comes from configuration. */
export type LimitsOverride = Partial<DailyLimits>;

/** The limits an account has: the operator's override over the configured defaults. */
export const limitsInForce = (defaults: DailyLimits, override: LimitsOverride): DailyLimits => ({
  ...defaults,
  ...override,
});

/** The room a refusal reports: which limit, and how it stood. */
export interface LimitRefusal {
  kind: 'daily' | 'perMovement';
  limit: MinorUnits;
  used: MinorUnits;
  remaining: MinorUnits;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) an instant falls on in a timezone. */
export function dayOf(at: Date, timezone: string): string {
  let format = formatters.get(timezone);
  if (format === undefined) {
    // en-CA writes dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timezone, format);
  }
  return format.format(at);
}

/**
 * A timezone this runtime knows by its IANA name (e.g. `Europe/Paris`, `UTC`). A name starts
 * with a letter: newer runtimes also take offsets such as `+0200`, which are not names and do not
 * follow a place's clock changes.
 */
export function isTimezone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]{0,63}$/.test(name)) return false;
  try {
    dayOf(new Date(0), name);
    return true;
  } catch {
    return false;
  }
}

/** What a day's counter allows one more movement of `charged`, or why it refuses. */
export function limitRefusal(
  limits: Pick<DailyLimits, 'daily' | 'perMovement'>,
  used: MinorUnits,
  charged: MinorUnits,
): LimitRefusal | null {
  if (charged > limits.perMovement) {
    return {
      kind: 'perMovement',
      limit: limits.perMovement,
      used,
      remaining: Math.max(0, limits.daily - used),
    };
  }
  if (used + charged > limits.daily) {
    return {
      kind: 'daily',
      limit: limits.daily,
      used,
      remaining: Math.max(0, limits.daily - used),
    };
  }
  return null;
}

/** An account's limits and today's use, as its owner and operators see them. */
export interface LimitsStatus extends DailyLimits {
  accountId: string;
  /** Today, in the account's timezone. */
  day: string;
  usedToday: MinorUnits;
  remainingToday: MinorUnits;
}

/** The last change of an account's limits: who, when, why, and the limits before and after. */
export interface LimitsChange extends ControlChange {
  previous: DailyLimits;
  limits: DailyLimits;
}

export interface LimitsView extends LimitsStatus {
  /** The account's terms version the override was set at (0: never set, the defaults). */
  version: number;
  changed: LimitsChange | null;
}

export interface LimitsDeps {
  store: TermsStore & Pick<AccountStore, 'getAccount'>;
  limitDefaults: DailyLimits;
  logger: Log;
  newId: () => string;
  now: () => Date;
  sleep?: Sleep;
}

/** Today's use of an account's limits: one strongly consistent read of its counter. */
export async function limitsStatus(
  deps: Pick<LimitsDeps, 'store' | 'now'>,
  accountId: string,
  limits: DailyLimits,
): Promise<LimitsStatus> {
  const day = dayOf(deps.now(), limits.timezone);
  const usedToday = await deps.store.getLimitUsed(accountId, day);
  return {
    accountId,
    ...limits,
    day,
    usedToday,
    remainingToday: Math.max(0, limits.daily - usedToday),
  };
}

/** The account's limits, today's use and the last change, for its owner or an operator. */
export async function accountLimits(
  deps: Pick<LimitsDeps, 'store' | 'now' | 'limitDefaults'>,
  caller: Caller,
  accountId: string,
): Promise<LimitsView> {
  const [, stored] = await Promise.all([
    accountFor(deps, caller, accountId),
    deps.store.getLimits(accountId),
  ]);
  const limits = limitsInForce(deps.limitDefaults, stored?.limits ?? {});
  return {
    ...(await limitsStatus(deps, accountId, limits)),
    version: stored?.version ?? 0,
    changed: stored?.changed ?? null,
  };
}

/** The account (if the caller may see it) and its limits with today's use: the balance's answer. */
export async function balanceAndLimits(
  deps: Pick<LimitsDeps, 'store' | 'now' | 'limitDefaults'>,
  caller: Caller,
  accountId: string,
): Promise<{ account: Account; limits: LimitsStatus }> {
  const [account, stored] = await Promise.all([
    accountFor(deps, caller, accountId),
    deps.store.getLimits(accountId),
  ]);
  const limits = limitsInForce(deps.limitDefaults, stored?.limits ?? {});
  return { account, limits: await limitsStatus(deps, accountId, limits) };
}

/**
 * An operator changes an account's limits (the fields sent; the others stay as they are). It
 * takes effect on the next movement: the account's terms version moves, so a movement priced
 * with the old limits is cancelled and tried again with the new ones.
 */
export async function setAccountLimits(
  deps: LimitsDeps,
  caller: Caller,
  request: { accountId: string; limits: LimitsOverride; reason: string },
): Promise<LimitsView> {
  if (!caller.isOperator) throw new ForbiddenError();
  if (request.limits.timezone !== undefined && !isTimezone(request.limits.timezone)) {
    throw new ValidationError(`Unknown timezone: ${request.limits.timezone}.`);
  }
  const at = deps.now().toISOString();
  const id = deps.newId();
  const stored = await changeTerms(deps, async () => {
    const current = await deps.store.getLimits(request.accountId);
    const override = { ...current?.limits, ...request.limits };
    const change: LimitsChange = {
      by: caller.userId,
      at,
      reason: request.reason,
      previous: limitsInForce(deps.limitDefaults, current?.limits ?? {}),
      limits: limitsInForce(deps.limitDefaults, override),
    };
    return deps.store.setLimits(request.accountId, override, { id, ...change });
  });
  if (stored === null) throw new AccountNotFoundError();
  deps.logger.info('limits set', {
    accountId: request.accountId,
    by: caller.userId,
    reason: request.reason,
    version: stored.version,
    previous: stored.changed.previous,
    limits: stored.changed.limits,
  });
  const limits = limitsInForce(deps.limitDefaults, stored.limits);
  return {
    ...(await limitsStatus(deps, request.accountId, limits)),
    version: stored.version,
    changed: stored.changed,
  };
}
