import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Marker } from '../domain/ports';
import type { Account, LedgerEntry, Payout, WithdrawalControl } from '../domain/types';
import { OPEN_PAYOUT_INDEX_ATTRIBUTES } from './keys';

/** Items as the domain sees them: the table's keys and bookkeeping attributes left out. */

/** An item DynamoDB returned raw (a cancellation reason's), unmarshalled. */
export const fromRaw = (
  item: Record<string, AttributeValue> | undefined,
): Record<string, unknown> | null => (item ? unmarshall(item) : null);

export function toAccount(item: Record<string, unknown>): Account {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as Account;
}

export function toMarker(item: Record<string, unknown>): Marker {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, ...rest } = item;
  return rest as unknown as Marker;
}

export function toStatementLine(item: Record<string, unknown>): LedgerEntry {
  // `sequencedAt` is the sequencer's own timestamp (its lag is measured from it), not contract.
  // `referenceKey`, `transactionKey`, `historyKey` and `historyAt` are the indexes', not the line's.
  const {
    pk: _pk,
    sk: _sk,
    sequencedAt: _at,
    referenceKey: _ref,
    transactionKey: _tx,
    historyKey: _kind,
    historyAt: _position,
    ...rest
  } = item;
  return rest as unknown as LedgerEntry;
}

export function toPayout(item: Record<string, unknown>): Payout {
  const { pk: _pk, sk: _sk, ...rest } = item;
  for (const attribute of OPEN_PAYOUT_INDEX_ATTRIBUTES) delete rest[attribute];
  return rest as unknown as Payout;
}

/** The withdrawal switch's item as the API shows it: paused or not, and its last change. */
export function toWithdrawalControl(item: Record<string, unknown>): WithdrawalControl {
  return {
    paused: item.paused === true,
    changed:
      item.at === undefined
        ? null
        : { by: String(item.by), at: String(item.at), reason: String(item.reason) },
  };
}
