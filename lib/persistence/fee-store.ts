import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  TransientStoreError,
  type AccountStore,
  type FeeStore,
  type StoredFees,
} from '../domain/ports';
import { controlRecordPut } from './control-store';
import { accountKey, feesKey } from './keys';
import { guarded, translateError } from './store-errors';
import type { TableRef } from './table-ref';

/**
 * Fee schedules: the version on the account item, inside every withdrawal's own condition; the
 * schedule and its last change in an item of their own (`CONTROL#<account>` / `FEES`), so the
 * account item stays under 1 KB whatever the schedule. Every change also joins the account's
 * control records.
 */
export function dynamoFeeStore(
  table: TableRef,
  accounts: Pick<AccountStore, 'getAccount'>,
): FeeStore {
  const getFees: FeeStore['getFees'] = async (accountId) => {
    const result = await guarded(() =>
      table.db.send(
        new GetCommand({ TableName: table.name, Key: feesKey(accountId), ConsistentRead: true }),
      ),
    );
    const item = result.Item;
    if (item === undefined) return null;
    return {
      version: Number(item.version),
      schedule: item.schedule as StoredFees['schedule'],
      changed: { by: String(item.by), at: String(item.at), reason: String(item.reason) },
    };
  };

  return {
    getFees,

    /** The next version, on condition that the account is still at the one read. */
    async setFees(accountId, schedule, { id, ...changed }) {
      const account = await accounts.getAccount(accountId);
      if (account === null) return null;
      const current = account.feeVersion ?? 0;
      const stored: StoredFees = { version: current + 1, schedule, changed };
      try {
        await table.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table.name,
                  Key: accountKey(accountId),
                  UpdateExpression: 'SET feeVersion = :next',
                  ConditionExpression:
                    current === 0 ? 'attribute_not_exists(feeVersion)' : 'feeVersion = :current',
                  ExpressionAttributeValues: {
                    ':next': stored.version,
                    ...(current === 0 ? {} : { ':current': current }),
                  },
                },
              },
              {
                Put: {
                  TableName: table.name,
                  Item: { ...feesKey(accountId), version: stored.version, schedule, ...changed },
                },
              },
              controlRecordPut(table, accountId, { id, ...changed }, 'SET_FEES', {
                fees: schedule,
              }),
            ],
          }),
        );
      } catch (error) {
        // Another change got there first: the domain tries again on the version it made.
        if (error instanceof TransactionCanceledException) {
          throw new TransientStoreError('conflict', { cause: error });
        }
        return translateError(error);
      }
      return stored;
    },
  };
}
