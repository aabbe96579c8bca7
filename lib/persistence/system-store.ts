import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  SYSTEM_ACCOUNTS,
  type SystemAccount,
  type SystemLedgerStore,
  type SystemPostings,
} from '../domain/ports';
import { postedWatermarkKey, systemShardKey, systemShardPartitions } from './keys';
import { firstConditionFailed, guarded, translateError } from './store-errors';
import type { TableRef } from './table-ref';

/**
 * System accounts' balances, kept by the sequencer: one transaction per chunk of an account's
 * lines moves the account's watermark and adds to one shard of each system account it touches
 * (docs/double-entry.md).
 */
export function dynamoSystemStore(table: TableRef): SystemLedgerStore {
  return {
    async applySystemPostings(postings) {
      try {
        await table.db.send(new TransactWriteCommand({ TransactItems: items(table, postings) }));
        return { applied: true };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException) || !firstConditionFailed(error)) {
          return translateError(error);
        }
      }
      return { applied: false, appliedThrough: await watermark(table, postings.accountId) };
    },

    async systemBalances() {
      const balances: Record<string, Partial<Record<SystemAccount, number>>> = {};
      const reads = SYSTEM_ACCOUNTS.flatMap((name) =>
        systemShardPartitions(name).map(async (pk) => {
          const result = await guarded(() =>
            table.db.send(
              new QueryCommand({
                TableName: table.name,
                KeyConditionExpression: 'pk = :pk',
                ExpressionAttributeValues: { ':pk': pk },
                ConsistentRead: true,
              }),
            ),
          );
          for (const item of result.Items ?? []) {
            const currency = String(item.sk);
            const of = (balances[currency] ??= {});
            of[name] = (of[name] ?? 0) + Number(item.balance ?? 0);
          }
        }),
      );
      await Promise.all(reads);
      return balances;
    },
  };
}

/**
 * The watermark's move first (its condition decides), then one ADD per system account. Lines are
 * applied in order, with no gap: a chunk follows the watermark exactly. (An account with no
 * watermark takes any chunk: its lines from before double entry are not posted.)
 */
function items(table: TableRef, postings: SystemPostings) {
  const spreadBy = `${postings.accountId}#${postings.firstSequence}`;
  const adds = Object.entries(postings.amounts)
    .filter(([, amount]) => amount !== undefined && amount !== 0)
    .map(([name, amount]) => ({
      Update: {
        TableName: table.name,
        Key: systemShardKey(name, postings.currency, spreadBy),
        UpdateExpression: 'ADD balance :amount',
        ExpressionAttributeValues: { ':amount': amount },
      },
    }));
  return [
    {
      Update: {
        TableName: table.name,
        Key: postedWatermarkKey(postings.accountId),
        UpdateExpression: 'SET appliedThrough = :last',
        ConditionExpression: 'attribute_not_exists(appliedThrough) OR appliedThrough = :previous',
        ExpressionAttributeValues: {
          ':previous': postings.firstSequence - 1,
          ':last': postings.lastSequence,
        },
      },
    },
    ...adds,
  ];
}

async function watermark(table: TableRef, accountId: string): Promise<number> {
  const result = await guarded(() =>
    table.db.send(
      new GetCommand({
        TableName: table.name,
        Key: postedWatermarkKey(accountId),
        ConsistentRead: true,
      }),
    ),
  );
  return Number(result.Item?.appliedThrough ?? 0);
}
