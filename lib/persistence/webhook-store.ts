import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  scopeOf,
  type DeliveryAttempt,
  type WebhookEndpoint,
  type WebhookStore,
} from '../domain/event-ports';
import {
  attemptKey,
  attemptPartitions,
  webhookEndpointKey,
  webhookScopeKey,
  webhookScopePartition,
} from './keys';
import { guarded } from './store-errors';
import { queryAll } from './table-ref';

const ATTEMPT_TTL_SECONDS = 30 * 86_400;

const strip = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...rest } = item;
  return rest as T;
};

/**
 * STAND-IN on helper C's branch only: what the delivery engine and its tests use of the webhook
 * store, on the design's keys (no owner links). Helper B's adapter replaces this file.
 */
export function dynamoWebhookStore(db: DynamoDBDocumentClient, tableName: string): WebhookStore {
  const table = { db, name: tableName };
  const unsupported = () => Promise.reject(new Error('not in the delivery branch stand-in'));
  const both = (e: WebhookEndpoint) => [
    webhookEndpointKey(e.id),
    webhookScopeKey(scopeOf(e), e.id),
  ];
  return {
    async createEndpoint(endpoint) {
      await guarded(() =>
        db.send(
          new TransactWriteCommand({
            TransactItems: both(endpoint).map((key) => ({
              Put: { TableName: tableName, Item: { ...key, ...endpoint } },
            })),
          }),
        ),
      );
    },
    async getEndpoint(id) {
      const { Item } = await guarded(() =>
        db.send(
          new GetCommand({
            TableName: tableName,
            Key: webhookEndpointKey(id),
            ConsistentRead: true,
          }),
        ),
      );
      return Item === undefined ? undefined : strip<WebhookEndpoint>(Item);
    },
    listEndpointsByOwner: unsupported,
    deleteEndpoint: unsupported,
    async endpointsForScopes(scopes) {
      const found = await Promise.all(
        scopes.map((scope) =>
          queryAll(table, {
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': webhookScopePartition(scope) },
          }),
        ),
      );
      return found.flat().map((item) => strip<WebhookEndpoint>(item));
    },
    async disableEndpoint(id, reason, at) {
      const endpoint = await this.getEndpoint(id);
      if (endpoint === undefined || endpoint.status === 'disabled') return;
      await guarded(() =>
        db.send(
          new TransactWriteCommand({
            TransactItems: both(endpoint).map((key) => ({
              Update: {
                TableName: tableName,
                Key: key,
                UpdateExpression:
                  'SET #status = :disabled, disabledAt = :at, disabledReason = :why',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':disabled': 'disabled', ':at': at, ':why': reason },
              },
            })),
          }),
        ),
      );
    },
    async recordAttempt(attempt) {
      const expiresAt = Math.floor(Date.parse(attempt.attemptedAt) / 1000) + ATTEMPT_TTL_SECONDS;
      await guarded(() =>
        db.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...attemptKey(attempt), ...attempt, expiresAt },
          }),
        ),
      );
    },
    async listAttempts(endpointId, page) {
      const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
      const shards = await Promise.all(
        attemptPartitions(endpointId).map((pk) =>
          queryAll(table, {
            KeyConditionExpression: before === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :before',
            ExpressionAttributeValues:
              before === undefined ? { ':pk': pk } : { ':pk': pk, ':before': before },
            ScanIndexForward: false,
          }),
        ),
      );
      const newest = shards.flat().sort((a, b) => (String(b.sk) < String(a.sk) ? -1 : 1));
      const items = newest.slice(0, page.limit);
      const last = items.at(-1);
      return {
        attempts: items.map((item) => strip<DeliveryAttempt>(item)),
        ...(newest.length > page.limit && last !== undefined
          ? { nextCursor: Buffer.from(String(last.sk)).toString('base64url') }
          : {}),
      };
    },
  };
}

const decodeCursor = (cursor: string): string => Buffer.from(cursor, 'base64url').toString('utf8');
