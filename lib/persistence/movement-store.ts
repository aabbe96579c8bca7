import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  TransientStoreError,
  type AccountCondition,
  type CancelledMovement,
  type CommittedMarker,
  type LimitWrite,
  type MovementStore,
  type MovementWrite,
  type PendingEntry,
  type ReversalWrite,
} from '../domain/ports';
import {
  chargedOf,
  detailsMarkOf,
  reversalDetailsOf,
  type LastMovement,
  type MovementType,
} from '../domain/types';
import { fromRaw, toAccount, toMarker } from './items';
import {
  accountKey,
  limitCounterKey,
  markerKey,
  movementDetailsKey,
  openPayoutIndexAttributes,
  payoutKey,
  pendingEntryKey,
  transactionRecordKey,
} from './keys';
import { guarded, throwIfTransient, translateError } from './store-errors';
import type { TableRef } from './table-ref';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Money movements and their idempotency markers. */
export function dynamoMovementStore(table: TableRef): MovementStore {
  const getMarker: MovementStore['getMarker'] = async (accountId, idempotencyKey) => {
    const result = await guarded(() =>
      table.db.send(
        new GetCommand({
          TableName: table.name,
          Key: markerKey(accountId, idempotencyKey),
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? toMarker(result.Item) : null;
  };

  return {
    getMarker,

    /**
     * ONE TransactWriteItems: the conditional update of every account the movement touches, their
     * pending entries, the payout record for a payout, and the marker, last. No read before it
     * and no version condition, so concurrent movements on one account never invalidate each
     * other; `version` is incremented unconditionally to record commit order.
     */
    async writeMovement(movement) {
      const items = movementItems(table, movement);
      try {
        await table.db.send(new TransactWriteCommand({ TransactItems: items }));
        return { committed: true };
      } catch (error) {
        if (error instanceof TransactionCanceledException) {
          const sides = movement.counterparty === undefined ? 1 : 2;
          return readCancellation(error.CancellationReasons ?? [], error, {
            counterparty: sides === 2 ? 1 : null,
            // Right after the accounts and their entries (movementItems' order).
            reversal: movement.reversal === undefined ? null : 2 * sides,
            limit:
              movement.limit === undefined
                ? null
                : 2 * sides + (movement.reversal === undefined ? 0 : 1),
            marker: items.length - 1,
          });
        }
        return translateError(error);
      }
    },

    async recordRefusal(marker, expiresAt) {
      try {
        await table.db.send(
          new PutCommand({
            TableName: table.name,
            Item: { ...markerKey(marker.accountId, marker.idempotencyKey), ...marker, expiresAt },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { recorded: true };
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          const existing = fromRaw(error.Item);
          if (existing) return { recorded: false, existing: toMarker(existing) };
          // The condition failed yet nothing came back: read it rather than guess.
          const read = await getMarker(marker.accountId, marker.idempotencyKey);
          if (read) return { recorded: false, existing: read };
          throw new TransientStoreError('conflict', { cause: error });
        }
        return translateError(error);
      }
    },
  };
}

/** One account's part in a movement: its condition, the type it sees, what its entry adds. */
interface Side {
  condition: AccountCondition;
  type: MovementType;
  details: Partial<PendingEntry>;
}

function sidesOf(movement: MovementWrite): Side[] {
  const { account, counterparty, payout, reversal } = movement;
  const mark = detailsMarkOf(movement.details ?? {});
  const own: Side = {
    condition: account,
    type: movement.type,
    details: {
      ...(counterparty ? { counterpartyAccountId: counterparty.accountId } : {}),
      ...(payout ? { status: 'PENDING' as const, destination: payout.destination } : {}),
      ...(movement.fee ? { fee: movement.fee } : {}),
      ...(reversal ? reversalDetails(reversal, reversal.reversedType) : {}),
      ...mark,
    },
  };
  if (counterparty === undefined) return [own];
  const other: Side = {
    condition: counterparty,
    type: counterparty.type,
    // The requester's Idempotency-Key is theirs: the other side knows the movement by id.
    details: {
      counterpartyAccountId: account.accountId,
      idempotencyKey: movement.transactionId,
      ...mark,
      ...(reversal?.counterpartyReversedType
        ? reversalDetails(reversal, reversal.counterpartyReversedType)
        : {}),
    },
  };
  return [own, other];
}

/** The reason stays on the reversed movement's record: the account item has no room for it. */
const reversalDetails = (reversal: ReversalWrite, reversedType: MovementType) =>
  reversalDetailsOf({
    reversalOf: reversal.reversalOf,
    reversedType,
    ...(reversal.negativeAllowed ? { negativeAllowed: true } : {}),
  });

/**
 * In this order, which `readCancellation` relies on: the account updates (the named account,
 * then the counterparty), the entries, the reversal's count on the reversed transaction's record,
 * the day's limit counter, the payout record, the details item, the marker last.
 */
function movementItems(table: TableRef, movement: MovementWrite): TransactItem[] {
  const sides = sidesOf(movement);
  const items: TransactItem[] = sides.map((side) =>
    accountUpdate(table, side.condition, movement, {
      transactionId: movement.transactionId,
      type: side.type,
      amount: movement.amount,
      idempotencyKey: movement.idempotencyKey,
      createdAt: movement.createdAt,
      ...side.details,
    }),
  );
  for (const side of sides) {
    items.push(pendingEntry(table, movement, side.condition.accountId, side.type, side.details));
  }
  if (movement.reversal !== undefined)
    items.push(reversalCount(table, movement, movement.reversal));
  if (movement.limit !== undefined) items.push(limitCounter(table, movement, movement.limit));
  if (movement.limitRelease !== undefined) {
    items.push(limitCounterRelease(table, movement.accountId, movement.limitRelease));
  }
  const payout = movement.payout;
  if (payout !== undefined) {
    items.push({
      Put: {
        TableName: table.name,
        Item: {
          ...payoutKey(movement.accountId, movement.transactionId),
          ...payout,
          ...openPayoutIndexAttributes(movement.transactionId, payout.holdExpiresAt),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
  }
  const details = detailsItem(movement);
  if (details !== null) items.push({ Put: { TableName: table.name, Item: details } });
  items.push(markerPut(table, movement));
  return items;
}

/**
 * A movement's description and metadata, when it has either: one item of its own, shared by a
 * transfer's two sides (the money path's other items carry only `hasDetails`). Written again
 * as it was by a retry of the same movement, so it needs no condition.
 */
function detailsItem(movement: MovementWrite): Record<string, unknown> | null {
  const { description, metadata } = movement.details ?? {};
  if (description === undefined && metadata === undefined) return null;
  return {
    ...movementDetailsKey(movement.transactionId),
    transactionId: movement.transactionId,
    ...(description !== undefined ? { description } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
  };
}

function pendingEntry(
  table: TableRef,
  movement: MovementWrite,
  accountId: string,
  type: MovementType,
  extra: Partial<PendingEntry>,
): TransactItem {
  return {
    Put: {
      TableName: table.name,
      Item: {
        ...pendingEntryKey(accountId, movement.transactionId),
        transactionId: movement.transactionId,
        accountId,
        type,
        amount: movement.amount,
        idempotencyKey: movement.idempotencyKey,
        createdAt: movement.createdAt,
        ...extra,
      } satisfies PendingEntry,
    },
  };
}

/**
 * The reversed movement's count of what its reversals took, created by the first of them:
 * concurrent reversals serialise on this one item, inside their transactions, and the one that
 * would take the total past the original is refused (the first one too: its amount against the
 * original's).
 */
function reversalCount(
  table: TableRef,
  movement: MovementWrite,
  reversal: ReversalWrite,
): TransactItem {
  return {
    Update: {
      TableName: table.name,
      Key: transactionRecordKey(reversal.reversalOf),
      UpdateExpression:
        'SET transactionId = :original, reversals = list_append(if_not_exists(reversals, :none), :this) ADD reversed :amount',
      ConditionExpression:
        '(attribute_not_exists(reversed) AND :amount <= :originalAmount) OR reversed <= :room',
      ExpressionAttributeValues: {
        ':original': reversal.reversalOf,
        ':none': [],
        ':this': [
          {
            transactionId: movement.transactionId,
            amount: movement.amount,
            reason: reversal.reason,
          },
        ],
        ':amount': movement.amount,
        ':originalAmount': reversal.originalAmount,
        ':room': reversal.originalAmount - movement.amount,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * The day's counter of what left the account: this movement's charge (amount and fee) is added
 * on condition that it is within the per-movement limit and that the day's total stays within
 * the daily one. The first movement of the day creates the counter (it has no total yet).
 */
function limitCounter(table: TableRef, movement: MovementWrite, limit: LimitWrite): TransactItem {
  const charged = chargedOf(movement);
  return {
    Update: {
      TableName: table.name,
      Key: limitCounterKey(movement.accountId, limit.day),
      UpdateExpression: 'SET expiresAt = if_not_exists(expiresAt, :expires) ADD used :charged',
      ConditionExpression:
        ':charged <= :perMovement AND ((attribute_not_exists(used) AND :charged <= :daily) OR used <= :room)',
      ExpressionAttributeValues: {
        ':charged': charged,
        ':perMovement': limit.perMovement,
        ':daily': limit.daily,
        ':room': limit.daily - charged,
        ':expires': counterExpiry(limit.day),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** Room given back to a day's counter (a void, a reversal): no condition, it never refuses. */
export function limitCounterRelease(
  table: TableRef,
  accountId: string,
  release: { day: string; amount: number },
): TransactItem {
  return {
    Update: {
      TableName: table.name,
      Key: limitCounterKey(accountId, release.day),
      UpdateExpression: 'SET expiresAt = if_not_exists(expiresAt, :expires) ADD used :minus',
      ExpressionAttributeValues: {
        ':minus': -release.amount,
        ':expires': counterExpiry(release.day),
      },
    },
  };
}

/** A day's counter is kept 40 days (TTL, seconds): long past any hold, and then deleted. */
const counterExpiry = (day: string): number =>
  Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + 40 * 86_400;

function markerPut(table: TableRef, movement: MovementWrite): TransactItem {
  const marker: CommittedMarker = {
    outcome: 'COMMITTED',
    accountId: movement.accountId,
    idempotencyKey: movement.idempotencyKey,
    requestHash: movement.requestHash,
    createdAt: movement.createdAt,
    transactionId: movement.transactionId,
    type: movement.type,
    amount: movement.amount,
    ...(movement.fee ? { fee: movement.fee } : {}),
    ...(movement.counterparty ? { counterpartyAccountId: movement.counterparty.accountId } : {}),
  };
  return {
    Put: {
      TableName: table.name,
      Item: {
        ...markerKey(movement.accountId, movement.idempotencyKey),
        ...marker,
        expiresAt: movement.expiresAt,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * The conditional update of one account, from its condition: a debit or hold needs the funds to
 * be available (and the account not frozen, when the type says so); a credit needs room under the
 * balance ceiling. A hold moves available to pending and leaves the posted balance and the
 * version alone, so it has no statement line until it is posted or voided.
 */
function accountUpdate(
  table: TableRef,
  condition: AccountCondition,
  movement: MovementWrite,
  last: LastMovement,
): TransactItem {
  const conditions = ['attribute_exists(pk)'];
  // The named account pays the fee with the amount; the other side of a transfer sees the amount.
  const charged = last.fee ? movement.amount + last.fee : movement.amount;
  const values: Record<string, unknown> = {
    ':amount': charged,
    ':now': movement.createdAt,
  };
  const SET = {
    credit:
      'SET balance = balance + :amount, available = available + :amount, version = version + :one, updatedAt = :now, lastMovement = :last',
    debit:
      'SET balance = balance - :amount, available = available - :amount, version = version + :one, updatedAt = :now, lastMovement = :last',
    hold: 'SET pending = pending + :amount, available = available - :amount, updatedAt = :now',
  } as const;
  if (condition.effect === 'credit') {
    conditions.push('balance <= :ceiling');
    values[':ceiling'] = Number.MAX_SAFE_INTEGER - charged;
  } else if (condition.allowNegative !== true) {
    conditions.push('available >= :amount');
  }
  if (condition.termsVersion !== undefined) {
    // Priced and limited with these terms: changed ones cancel, and the domain tries again.
    if (condition.termsVersion === 0) conditions.push('attribute_not_exists(termsVersion)');
    else conditions.push('termsVersion = :termsVersion');
    if (condition.termsVersion !== 0) values[':termsVersion'] = condition.termsVersion;
  }
  if (condition.frozenBlocks) {
    conditions.push('(attribute_not_exists(frozen) OR frozen = :false)');
    values[':false'] = false;
  }
  if (condition.requiredOwnerId !== undefined) {
    conditions.push('ownerId = :owner');
    values[':owner'] = condition.requiredOwnerId;
  }
  if (condition.effect !== 'hold') {
    values[':one'] = 1;
    values[':last'] = last;
  }
  if (condition.currency !== undefined) {
    conditions.push('currency = :currency');
    values[':currency'] = condition.currency;
  }
  return {
    Update: {
      TableName: table.name,
      Key: accountKey(condition.accountId),
      UpdateExpression: SET[condition.effect],
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * CancellationReasons come in TransactItems order: the account, the credited account of a
 * transfer (at `counterpartyIndex`), entries, and the marker last.
 */
function readCancellation(
  reasons: CancellationReason[],
  error: Error,
  index: {
    counterparty: number | null;
    reversal: number | null;
    limit: number | null;
    marker: number;
  },
): CancelledMovement {
  const failed = (at: number | null) =>
    at !== null && reasons[at]?.Code === 'ConditionalCheckFailed';
  const accountReason = reasons[0];
  const counterpartyReason = index.counterparty === null ? undefined : reasons[index.counterparty];
  const markerReason = reasons[index.marker];
  throwIfTransient(reasons, error);
  const accountRefused = failed(0);
  const counterpartyRefused = failed(index.counterparty);
  const markerExists = failed(index.marker);
  const reversalRefused = failed(index.reversal);
  const limitRefused = failed(index.limit);
  if (
    !accountRefused &&
    !counterpartyRefused &&
    !markerExists &&
    !reversalRefused &&
    !limitRefused
  ) {
    // No condition of ours failed: a cancellation we do not understand is a bug, not a refusal.
    throw error;
  }
  const accountItem = accountRefused ? fromRaw(accountReason?.Item) : null;
  const counterpartyItem = counterpartyRefused ? fromRaw(counterpartyReason?.Item) : null;
  const markerItem = markerExists ? fromRaw(markerReason?.Item) : null;
  return {
    committed: false,
    accountRefused,
    account: accountItem ? toAccount(accountItem) : null,
    counterpartyRefused,
    counterparty: counterpartyItem ? toAccount(counterpartyItem) : null,
    existingMarker: markerItem ? toMarker(markerItem) : null,
    ...(reversalRefused ? { reversalRefused: reversedSoFar(reasons[index.reversal ?? 0]) } : {}),
    ...(limitRefused
      ? { limitRefused: { used: Number(fromRaw(reasons[index.limit ?? 0]?.Item)?.used ?? 0) } }
      : {}),
  };
}

/** What the reversed movement's earlier reversals took, from its count as the write saw it. */
function reversedSoFar(reason: CancellationReason | undefined): { reversed: number } {
  // No count yet: this was the first reversal, and more than the original.
  return { reversed: Number(fromRaw(reason?.Item)?.reversed ?? 0) };
}
