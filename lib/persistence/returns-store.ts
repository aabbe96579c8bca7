import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ReturnsStore, WaitingReturn } from '../domain/ports';
import { payoutReturnsKey } from './keys';
import { guarded, translateError } from './store-errors';
import type { TableRef } from './table-ref';

/**
 * The returns reader's progress (lib/domain/returns.ts) on one item, replaced whole by each save
 * on condition of the version it read: two overlapping passes never undo each other. Its size is
 * bounded by the waiting returns it keeps (at most about 200 of under 1 KB each).
 */
export function dynamoReturnsStore(table: TableRef): ReturnsStore {
  return {
    async getReturnsProgress() {
      const result = await guarded(() =>
        table.db.send(
          new GetCommand({ TableName: table.name, Key: payoutReturnsKey, ConsistentRead: true }),
        ),
      );
      const item = result.Item;
      if (item === undefined) return { waiting: [], version: 0 };
      return {
        ...(typeof item.cursor === 'string' ? { cursor: item.cursor } : {}),
        waiting: (item.waiting ?? []) as WaitingReturn[],
        version: Number(item.version),
      };
    },

    async saveReturnsProgress(progress) {
      const first = progress.version === 0;
      try {
        await table.db.send(
          new PutCommand({
            TableName: table.name,
            Item: {
              ...payoutReturnsKey,
              ...(progress.cursor !== undefined ? { cursor: progress.cursor } : {}),
              waiting: progress.waiting,
              version: progress.version + 1,
            },
            ConditionExpression: first ? 'attribute_not_exists(pk)' : 'version = :read',
            ...(first ? {} : { ExpressionAttributeValues: { ':read': progress.version } }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        return translateError(error);
      }
    },
  };
}
