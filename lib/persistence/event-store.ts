import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventStore, StoredEvent } from '../domain/event-ports';
import { eventKey } from './keys';
import { guarded } from './store-errors';

/**
 * STAND-IN on helper C's branch only: the part of the event store the delivery engine and its
 * tests use (put and get by id), on the design's keys. Helper A's adapter replaces this file.
 */
export function dynamoEventStore(db: DynamoDBDocumentClient, tableName: string): EventStore {
  const unsupported = () => Promise.reject(new Error('not in the delivery branch stand-in'));
  return {
    async putEvent(event: StoredEvent) {
      try {
        await guarded(() =>
          db.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...eventKey(event.id), ...event },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        );
        return 'created';
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') return 'exists';
        throw error;
      }
    },
    async getEvent(id) {
      const { Item } = await guarded(() =>
        db.send(new GetCommand({ TableName: tableName, Key: eventKey(id), ConsistentRead: true })),
      );
      if (Item === undefined) return undefined;
      const { pk: _pk, sk: _sk, ...event } = Item;
      return event as StoredEvent;
    },
    listAccountEvents: unsupported,
    listAllEvents: unsupported,
  };
}
