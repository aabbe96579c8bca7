import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import { AccountNotFoundError, ForbiddenError, ValidationError } from './errors';
import type { Account, Caller, LedgerEntry } from './types';
import type { LedgerStore, PendingEntry } from '../persistence/ledger-store';

export interface AccountDeps {
  store: LedgerStore;
  logger: Logger;
  newId: () => string;
  now: () => Date;
}

/** Pending entries shown at the top of the first page; more only while the sequencer lags. */
const MAX_PENDING_SHOWN = 100;

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
  deps: Pick<AccountDeps, 'store'>,
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

export interface HistoryPage {
  transactions: LedgerEntry[];
  nextCursor: string | null;
}

const cursorSchema = z.strictObject({
  before: z.number().check(z.int(), z.gte(1), z.lte(Number.MAX_SAFE_INTEGER)),
});

/** The cursor names a position in the statement; the account always comes from the path. */
export function encodeCursor(before: number): string {
  return Buffer.from(JSON.stringify({ before })).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new Error('not base64url');
    const parsed = cursorSchema.parse(
      JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')),
    );
    return parsed.before;
  } catch {
    throw new ValidationError('cursor is not one this API returned');
  }
}

/**
 * History newest first, in commit order. The first page starts with entries committed but not
 * yet sequenced (pending: no balanceAfter, unless it is the account's latest movement, whose
 * balance is the account's own), then the statement; later pages continue the statement.
 */
export async function listTransactions(
  deps: Pick<AccountDeps, 'store'>,
  caller: Caller,
  accountId: string,
  page: { limit: number; cursor?: string },
): Promise<HistoryPage> {
  const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const account = await accountFor(deps, caller, accountId);
  const lines = await deps.store.listStatement(accountId, page.limit, before);
  const shown = lines.slice(0, page.limit);
  const last = shown[shown.length - 1];
  const nextCursor =
    lines.length > page.limit && last?.sequence ? encodeCursor(last.sequence) : null;
  if (before !== undefined) return { transactions: shown, nextCursor };

  // The first page also shows what is committed but not yet in the statement. The statement is
  // read first: lines are written in sequence order and before their pending entry is retired,
  // so everything still pending now sits above the statement's top, and nothing shown here can
  // reappear on a later page. What was sequenced between the two reads is read back from above
  // the top, so nothing committed before this request is missed either.
  const top = shown[0]?.sequence ?? 0;
  const pending = await deps.store.listPending(accountId, MAX_PENDING_SHOWN);
  const sequencedSince =
    account.version > top
      ? await deps.store.listStatementAbove(accountId, top, MAX_PENDING_SHOWN)
      : [];
  const sequencedIds = new Set(sequencedSince.map((line) => line.transactionId));
  const pendingEntries = pending
    .filter((entry) => !sequencedIds.has(entry.transactionId))
    .map((entry) => pendingToEntry(entry, account))
    // The account's last movement is the newest commit; the others' order is not known yet.
    .sort(
      (a, b) =>
        (b.sequence ?? -1) - (a.sequence ?? -1) || b.transactionId.localeCompare(a.transactionId),
    );
  return { transactions: [...pendingEntries, ...sequencedSince, ...shown], nextCursor };
}

function pendingToEntry(entry: PendingEntry, account: Account): LedgerEntry {
  const isLast = account.lastMovement?.transactionId === entry.transactionId;
  return {
    transactionId: entry.transactionId,
    accountId: entry.accountId,
    type: entry.type,
    amount: entry.amount,
    currency: account.currency,
    balanceAfter: isLast ? account.balance : null,
    sequence: isLast ? account.version : null,
    idempotencyKey: entry.idempotencyKey,
    createdAt: entry.createdAt,
    status: entry.status ?? 'POSTED',
    ...(entry.counterpartyAccountId !== undefined
      ? { counterpartyAccountId: entry.counterpartyAccountId }
      : {}),
    ...(entry.destination !== undefined ? { destination: entry.destination } : {}),
  };
}
