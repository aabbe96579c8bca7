import type { Account } from './types';
import type { LedgerStore } from '../persistence/ledger-store';

/**
 * Turns one change of an account item (as its stream delivers it) into the statement line of
 * the movement that caused it. The new image carries the movement, the balance right after it
 * and its place in the commit order (`version`), so the line is exact without any read, and
 * writing it again for a redelivered record changes nothing.
 */
export async function sequenceAccountChange(
  store: LedgerStore,
  before: Account | null,
  after: Account | null,
): Promise<'written' | 'skipped'> {
  const movement = after?.lastMovement;
  if (!after || !movement || after.version < 1) return 'skipped';
  // A change that did not move money (e.g. an operator's flag) has no line.
  if (before && before.version === after.version) return 'skipped';
  await store.writeStatementLine({
    transactionId: movement.transactionId,
    accountId: after.accountId,
    type: movement.type,
    amount: movement.amount,
    currency: after.currency,
    balanceAfter: after.balance,
    sequence: after.version,
    idempotencyKey: movement.idempotencyKey,
    createdAt: movement.createdAt,
    status: movement.status ?? 'POSTED',
    ...(movement.counterpartyAccountId !== undefined
      ? { counterpartyAccountId: movement.counterpartyAccountId }
      : {}),
    ...(movement.destination !== undefined ? { destination: movement.destination } : {}),
  });
  return 'written';
}
