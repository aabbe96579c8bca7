import { AccountNotFoundError, ForbiddenError } from './errors';
import type { Account, Caller, WithdrawalControl } from './types';
import { TransientStoreError, type ControlStore, type Log } from './ports';
import { retry, type Sleep } from './retry';

const FREEZE_ATTEMPTS = 6;

export interface ControlDeps {
  store: ControlStore;
  logger: Log;
  newId: () => string;
  now: () => Date;
  /** The pause between a conflicting freeze's tries; injectable so tests run without waiting. */
  sleep?: Sleep;
}

function requireOperator(caller: Caller): void {
  if (!caller.isOperator) throw new ForbiddenError();
}

/** Incident control: stop withdrawals from one account (deposits still land). */
export async function setAccountFrozen(
  deps: ControlDeps,
  caller: Caller,
  request: { accountId: string; frozen: boolean; reason: string },
): Promise<Account> {
  requireOperator(caller);
  const change = {
    id: deps.newId(),
    by: caller.userId,
    at: deps.now().toISOString(),
    reason: request.reason,
  };
  // Freezing an account that is being drained races its withdrawals: a conflict is retried,
  // never reported as a failure of the freeze while retries remain.
  const account = await retry(
    () => deps.store.setFrozen(request.accountId, request.frozen, change),
    {
      attempts: FREEZE_ATTEMPTS,
      baseMs: 20,
      capMs: 1280,
      retryable: (error) => error instanceof TransientStoreError && error.kind === 'conflict',
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    },
  );
  if (account === null) throw new AccountNotFoundError();
  deps.logger.info(request.frozen ? 'account frozen' : 'account unfrozen', {
    accountId: request.accountId,
    by: caller.userId,
    reason: request.reason,
    atVersion: account.version,
  });
  return account;
}

/** Incident control: pause (or resume) every withdrawal, at run time, without a deploy. */
export async function setWithdrawalsPaused(
  deps: ControlDeps,
  caller: Caller,
  request: { paused: boolean; reason: string },
): Promise<WithdrawalControl> {
  requireOperator(caller);
  const control: WithdrawalControl = {
    paused: request.paused,
    changed: { by: caller.userId, at: deps.now().toISOString(), reason: request.reason },
  };
  await deps.store.setWithdrawalControl({
    paused: control.paused,
    changed: control.changed ?? { by: '', at: '', reason: '' },
  });
  deps.logger.info(request.paused ? 'withdrawals paused' : 'withdrawals resumed', {
    by: caller.userId,
    reason: request.reason,
  });
  return control;
}

export async function withdrawalControl(
  deps: Pick<ControlDeps, 'store'>,
  caller: Caller,
): Promise<WithdrawalControl> {
  requireOperator(caller);
  return deps.store.getWithdrawalControl();
}

/**
 * The pause switch as a withdrawal sees it: one consistent read per container every
 * `cacheMs`, never a read per request, and never a condition on one global item inside every
 * transaction (that item would become the hottest key in the table). A flip therefore takes
 * effect within `cacheMs` everywhere.
 */
export class WithdrawalSwitch {
  private cached: { paused: boolean; readAt: number } | undefined;
  private pending: Promise<boolean> | undefined;

  constructor(
    private readonly store: Pick<ControlStore, 'getWithdrawalControl'>,
    readonly cacheMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async isPaused(): Promise<boolean> {
    const now = this.clock();
    if (this.cached && now - this.cached.readAt < this.cacheMs) return this.cached.paused;
    // Concurrent requests in one container share one read.
    this.pending ??= this.store
      .getWithdrawalControl()
      .then((control) => {
        this.cached = { paused: control.paused, readAt: now };
        return control.paused;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
