import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { AccountStore, ControlStore } from '../domain/ports';
import type { ControlChange } from '../domain/types';
import { accountControlKey, accountKey, withdrawalSwitchKey } from './keys';
import { firstConditionFailed, guarded, translateError } from './store-errors';
import type { TableRef } from './table-ref';

/** An operator's change of an account, recorded beside it: what, who, when and why. */
export function controlRecordPut(
  table: TableRef,
  accountId: string,
  change: ControlChange & { id: string },
  action: string,
  detail: Record<string, unknown> = {},
) {
  return {
    Put: {
      TableName: table.name,
      Item: {
        ...accountControlKey(accountId, change.at, change.id),
        accountId,
        action,
        ...detail,
        by: change.by,
        at: change.at,
        reason: change.reason,
      },
    },
  };
}

/** Operator controls: an account's freeze (with its audit record) and the withdrawal switch. */
export function dynamoControlStore(
  table: TableRef,
  accounts: Pick<AccountStore, 'getAccount'>,
): ControlStore {
  return {
    /**
     * Freezes or unfreezes an account and records who, when and why, in one transaction. The
     * flag lives on the account item, inside every withdrawal's own condition, so it cannot
     * race: a withdrawal that commits after the freeze is impossible.
     */
    async setFrozen(accountId, frozen, change) {
      try {
        await table.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table.name,
                  Key: accountKey(accountId),
                  UpdateExpression: frozen
                    ? 'SET frozen = :frozen, frozenAtVersion = version'
                    : 'SET frozen = :frozen',
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeValues: { ':frozen': frozen },
                },
              },
              controlRecordPut(table, accountId, change, frozen ? 'FREEZE' : 'UNFREEZE'),
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

    async getWithdrawalControl() {
      const result = await guarded(() =>
        table.db.send(
          new GetCommand({ TableName: table.name, Key: withdrawalSwitchKey, ConsistentRead: true }),
        ),
      );
      const item = result.Item;
      if (!item) return { paused: false, changed: null };
      return {
        paused: item.paused === true,
        changed: { by: String(item.by), at: String(item.at), reason: String(item.reason) },
      };
    },

    async setWithdrawalControl(control) {
      await guarded(() =>
        table.db.send(
          new PutCommand({
            TableName: table.name,
            Item: { ...withdrawalSwitchKey, paused: control.paused, ...control.changed },
          }),
        ),
      );
    },
  };
}
