import { BatchGetCommand, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransientStoreError, type AccountStore, type HealthProbe } from '../domain/ports';
import { retry } from '../domain/retry';
import type { Account } from '../domain/types';
import { toAccount } from './items';
import { accountKey, ownerLinkKey, ownerLinkPrefix, ownerPartition } from './keys';
import { guarded } from './store-errors';
import { queryAll, type TableRef } from './table-ref';

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;

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
      const ids = links.map((item) => String(item.accountId));
      const accounts: Account[] = [];
      for (let i = 0; i < ids.length; i += BATCH_GET_KEYS) {
        accounts.push(...(await getAccounts(table, ids.slice(i, i + BATCH_GET_KEYS))));
      }
      return accounts.sort(
        (a, b) => a.createdAt.localeCompare(b.createdAt) || a.accountId.localeCompare(b.accountId),
      );
    },
  };
}

/** One BatchGetItem, asked again for the keys it left unprocessed under load, a few times. */
async function getAccounts(table: TableRef, ids: string[]): Promise<Account[]> {
  const accounts: Account[] = [];
  let keys: Record<string, unknown>[] = ids.map((id) => accountKey(id));
  const unprocessed = new TransientStoreError('throttled');
  await retry(
    async () => {
      const batch = await guarded(() =>
        table.db.send(
          new BatchGetCommand({
            RequestItems: { [table.name]: { Keys: keys, ConsistentRead: true } },
          }),
        ),
      );
      accounts.push(...(batch.Responses?.[table.name] ?? []).map(toAccount));
      keys = batch.UnprocessedKeys?.[table.name]?.Keys ?? [];
      if (keys.length > 0) throw unprocessed;
    },
    { attempts: 5, baseMs: 20, capMs: 320, retryable: (error) => error === unprocessed },
  );
  return accounts;
}
