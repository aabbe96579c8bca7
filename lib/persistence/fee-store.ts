import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { AccountStore, FeeStore } from '../domain/ports';
import { accountControlKey, accountKey, feeChangeKey } from './keys';
import { firstConditionFailed, guarded, translateError } from './store-errors';
import type { TableRef } from './table-ref';

/**
 * Fee schedules: on the account item, beside the balance, so every withdrawal's own condition
 * checks the version it was priced with. The last change is an item of its own (its reason may
 * be 500 characters, which the account item's 1 KB budget has no room for), and every change
 * also joins the account's control records.
 */
export function dynamoFeeStore(
  table: TableRef,
  accounts: Pick<AccountStore, 'getAccount'>,
): FeeStore {
  return {
    async setFees(accountId, schedule, change) {
      const { id, ...changed } = change;
      try {
        await table.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table.name,
                  Key: accountKey(accountId),
                  UpdateExpression:
                    'SET fees = :fees, feeVersion = if_not_exists(feeVersion, :zero) + :one',
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeValues: { ':fees': schedule, ':zero': 0, ':one': 1 },
                },
              },
              { Put: { TableName: table.name, Item: { ...feeChangeKey(accountId), ...changed } } },
              {
                Put: {
                  TableName: table.name,
                  Item: {
                    ...accountControlKey(accountId, change.at, id),
                    accountId,
                    action: 'SET_FEES',
                    fees: schedule,
                    ...changed,
                  },
                },
              },
            ],
          }),
        );
      } catch (error) {
        if (error instanceof TransactionCanceledException && firstConditionFailed(error)) {
          return null;
        }
        return translateError(error);
      }
      return accounts.getAccount(accountId);
    },

    async lastFeeChange(accountId) {
      const result = await guarded(() =>
        table.db.send(
          new GetCommand({
            TableName: table.name,
            Key: feeChangeKey(accountId),
            ConsistentRead: true,
          }),
        ),
      );
      const item = result.Item;
      return item
        ? { by: String(item.by), at: String(item.at), reason: String(item.reason) }
        : null;
    },
  };
}
