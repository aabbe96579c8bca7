import type { FeeSchedule } from './fees';
import type { LimitsOverride } from './limits';
import { TransientStoreError } from './ports';
import { retry, type Sleep } from './retry';

/**
 * An account's terms: its fee schedule and its limits override, under one version that rides on
 * the account item (`termsVersion`) and that every fee-charging or limited movement's condition
 * checks. So the money path never reads them first: it guesses from what this container last
 * saw, and a wrong guess costs one cancelled transaction (which returns the account with the
 * version in force) and one read of the terms. One version, not one per kind: the account item
 * has 9 bytes left under 1 KB (test/unit/key-layout.test.ts).
 */
export interface AccountTerms {
  /** 0: never set. */
  version: number;
  fees: FeeSchedule;
  limits: LimitsOverride;
}

export const NO_TERMS: AccountTerms = { version: 0, fees: {}, limits: {} };

/** The terms this container last saw, per account. Bounded: the oldest entry goes first. */
export class TermsCache {
  private readonly seen = new Map<string, AccountTerms>();

  constructor(private readonly maxAccounts = 10_000) {}

  get(accountId: string): AccountTerms {
    return this.seen.get(accountId) ?? NO_TERMS;
  }

  /** Remembers an account's terms as read. */
  learn(accountId: string, terms: AccountTerms): void {
    this.seen.delete(accountId);
    if (this.seen.size >= this.maxAccounts) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(accountId, terms);
  }
}

/**
 * An operator's change of an account's terms (its fees, its limits): like a freeze, a change on an
 * account being drained races its movements for the account item, so a conflict is tried again.
 */
export const changeTerms = <T>(deps: { sleep?: Sleep }, change: () => Promise<T>): Promise<T> =>
  retry(change, {
    attempts: 6,
    baseMs: 20,
    capMs: 1280,
    retryable: (error) => error instanceof TransientStoreError && error.kind === 'conflict',
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
