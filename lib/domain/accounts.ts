import { AccountNotFoundError, ForbiddenError } from './errors';
import type { Account, Caller } from './types';
import type { AccountStore, Log } from './ports';

export interface AccountDeps {
  store: AccountStore;
  logger: Log;
  newId: () => string;
  now: () => Date;
}

export async function openAccount(
  deps: AccountDeps,
  caller: Caller,
  request: { ownerId: string; currency: string },
): Promise<Account> {
  if (!caller.isOperator) throw new ForbiddenError();
  const now = deps.now().toISOString();
  const account: Account = {
    accountId: deps.newId(),
    ownerId: request.ownerId,
    currency: request.currency,
    balance: 0,
    pending: 0,
    available: 0,
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
  await deps.store.createAccount(account);
  deps.logger.info('account opened', {
    accountId: account.accountId,
    ownerId: account.ownerId,
    currency: account.currency,
    openedBy: caller.userId,
  });
  return account;
}

/**
 * The account, if the caller may see it. Another customer's account is reported exactly like
 * a missing one, so ids cannot be probed.
 */
export async function accountFor(
  deps: { store: Pick<AccountStore, 'getAccount'> },
  caller: Caller,
  accountId: string,
): Promise<Account> {
  const account = await deps.store.getAccount(accountId);
  if (account === null) throw new AccountNotFoundError();
  if (!caller.isOperator && account.ownerId !== caller.userId) throw new AccountNotFoundError();
  return account;
}

export const listAccounts = (
  deps: Pick<AccountDeps, 'store'>,
  caller: Caller,
): Promise<Account[]> => deps.store.listAccountsByOwner(caller.userId);
