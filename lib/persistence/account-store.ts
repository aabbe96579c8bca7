import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AccountStore, HealthProbe } from '../domain/ports';
import type { Account } from '../domain/types';
import { toAccount } from './items';
import { accountKey, ownerLinkKey, ownerLinkPrefix, ownerPartition } from './keys';
import { guarded } from './store-errors';
import { batchGetAll, queryAll, type TableRef } from './table-ref';

/** Accounts and their owner links in DynamoDB. */
export function dynamoAccountStore(table: TableRef): AccountStore & HealthProbe {
  const getAccount = async (accountId: string): Promise<Account | null> => {
    const result = await guarded(() =>
      table.db.send(
        new GetCommand({ TableName: table.name, Key: accountKey(accountId), ConsistentRead: true }),
      ),
    );
    return result.Item ? toAccount(result.Item) : null;
  };

  return {
    getAccount,

    async ping() {
      await guarded(() =>
        table.db.send(
          new GetCommand({ TableName: table.name, Key: { pk: 'HEALTH', sk: 'HEALTH' } }),
        ),
      );
    },

    async createAccount(account) {
      // The id is new, so neither the account nor its owner link may exist.
      const put = (item: Record<string, unknown>) => ({
        Put: { TableName: table.name, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
      });
      await guarded(() =>
        table.db.send(
          new TransactWriteCommand({
            TransactItems: [
              put({ ...accountKey(account.accountId), ...account }),
              put({
                ...ownerLinkKey(account.ownerId, account.accountId),
                accountId: account.accountId,
              }),
            ],
          }),
        ),
      );
    },

    async listAccountsByOwner(ownerId) {
      const links = await queryAll(table, {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': ownerPartition(ownerId), ':prefix': ownerLinkPrefix },
      });
      const keys = links.map((item) => accountKey(String(item.accountId)));
      const accounts = (await batchGetAll(table, keys)).map(toAccount);
      return accounts.sort(
        (a, b) => a.createdAt.localeCompare(b.createdAt) || a.accountId.localeCompare(b.accountId),
      );
    },
  };
}
