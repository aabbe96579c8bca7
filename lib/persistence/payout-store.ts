import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { PayoutResolution, PayoutStore } from '../domain/ports';
import { chargedOf, detailsMarkOf, type LastMovement, type Payout } from '../domain/types';
import { toPayout } from './items';
import {
  OPEN_PAYOUTS_INDEX,
  OPEN_PAYOUT_INDEX_ATTRIBUTES,
  accountKey,
  openPayoutShards,
  payoutKey,
  pendingEntryKey,
} from './keys';
import { firstConditionFailed, guarded, translateError } from './store-errors';
import { limitCounterRelease } from './movement-store';
import type { TableRef } from './table-ref';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Payout records (the outbox of the two-phase payout) and their resolution. */
export function dynamoPayoutStore(table: TableRef): PayoutStore {
  return {
    /**
     * Posts (the gateway sent the money) or voids (it definitely did not) a payout's hold, in one
     * transaction, from PENDING only: whatever the stream or the sweeper redelivers, a payout is
     * resolved at most once. Both bump the version, so each has its statement line; a void's
     * line leaves the balance as it was.
     */
    async resolvePayout(payout, resolution) {
      try {
        await table.db.send(
          new TransactWriteCommand({
            TransactItems: [
              payoutResolution(table, payout, resolution),
              accountRelease(table, payout, resolution),
              {
                // The hold's entry shows its outcome until the sequencer replaces it by the line.
                Update: {
                  TableName: table.name,
                  Key: pendingEntryKey(payout.accountId, payout.transactionId),
                  UpdateExpression: 'SET #status = :to',
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':to': resolution.status },
                },
              },
              // A void gives its hold's room back to the day the hold counted in.
              ...(resolution.status === 'VOIDED' && payout.limitDay !== undefined
                ? [
                    limitCounterRelease(table, payout.accountId, {
                      day: payout.limitDay,
                      amount: chargedOf(payout),
                    }),
                  ]
                : []),
            ],
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof TransactionCanceledException) {
          if (firstConditionFailed(error)) return false;
          // The account or the hold entry missing while the payout is PENDING: a broken invariant.
          throw error;
        }
        return translateError(error);
      }
    },

    async recordPayoutAttempt(payout, at, error) {
      try {
        await table.db.send(
          new UpdateCommand({
            TableName: table.name,
            Key: payoutKey(payout.accountId, payout.transactionId),
            UpdateExpression:
              'SET attempts = attempts + :one, lastAttemptAt = :at, lastError = :error',
            ConditionExpression: '#status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':at': at,
              ':error': error,
              ':pending': 'PENDING',
            },
          }),
        );
      } catch (e) {
        // Resolved meanwhile (by the sweeper or a redelivery): nothing left to record.
        if (!(e instanceof ConditionalCheckFailedException)) translateError(e);
      }
    },

    async getPayout(accountId, transactionId) {
      const result = await guarded(() =>
        table.db.send(
          new GetCommand({
            TableName: table.name,
            Key: payoutKey(accountId, transactionId),
            ConsistentRead: true,
          }),
        ),
      );
      return result.Item ? toPayout(result.Item) : null;
    },

    /**
     * From the sparse open-payouts index (an item leaves it when resolved). The index is
     * eventually consistent: every write that acts on what it lists is conditional on the payout
     * still being PENDING.
     */
    async listOpenPayouts(limitPerShard) {
      const shards = await Promise.all(
        openPayoutShards().map((shard) =>
          guarded(() =>
            table.db.send(
              new QueryCommand({
                TableName: table.name,
                IndexName: OPEN_PAYOUTS_INDEX,
                KeyConditionExpression: 'openPayoutShard = :shard',
                ExpressionAttributeValues: { ':shard': shard },
                Limit: limitPerShard,
              }),
            ),
          ),
        ),
      );
      return shards
        .flatMap((result) => result.Items ?? [])
        .map(toPayout)
        .sort((a, b) => a.holdExpiresAt.localeCompare(b.holdExpiresAt));
    },
  };
}

/** The payout record leaves PENDING (and the open-payouts index); only from PENDING. */
function payoutResolution(
  table: TableRef,
  payout: Payout,
  resolution: PayoutResolution,
): TransactItem {
  const posted = resolution.status === 'POSTED';
  return {
    Update: {
      TableName: table.name,
      Key: payoutKey(payout.accountId, payout.transactionId),
      UpdateExpression: `SET #status = :to, updatedAt = :at, ${posted ? 'gatewayReference' : 'voidReason'} = :detail REMOVE ${OPEN_PAYOUT_INDEX_ATTRIBUTES.join(', ')}`,
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':to': resolution.status,
        ':at': resolution.at,
        ':detail': posted ? resolution.gatewayReference : resolution.voidReason,
        ':pending': 'PENDING',
      },
    },
  };
}

/** Posting takes the held amount out of the balance; voiding makes it available again. */
function accountRelease(
  table: TableRef,
  payout: Payout,
  resolution: PayoutResolution,
): TransactItem {
  const last: LastMovement = {
    transactionId: payout.transactionId,
    type: 'PAYOUT',
    amount: payout.amount,
    ...(payout.fee ? { fee: payout.fee } : {}),
    idempotencyKey: payout.idempotencyKey,
    createdAt: payout.createdAt,
    status: resolution.status,
    destination: payout.destination,
    ...detailsMarkOf(payout),
  };
  return {
    Update: {
      TableName: table.name,
      Key: accountKey(payout.accountId),
      UpdateExpression:
        resolution.status === 'POSTED'
          ? 'SET balance = balance - :amount, pending = pending - :amount, version = version + :one, updatedAt = :at, lastMovement = :last'
          : 'SET pending = pending - :amount, available = available + :amount, version = version + :one, updatedAt = :at, lastMovement = :last',
      ConditionExpression: 'attribute_exists(pk) AND pending >= :amount',
      ExpressionAttributeValues: {
        // The hold was the amount and its fee: posting charges both, voiding frees both.
        ':amount': chargedOf(payout),
        ':one': 1,
        ':at': resolution.at,
        ':last': last,
      },
    },
  };
}
