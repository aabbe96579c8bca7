import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../domain/errors';
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
  webhookOwnerKey,
  webhookOwnerPartition,
  webhookScopeKey,
  webhookScopePartition,
} from './keys';
import { guarded, throwIfTransient, translateError } from './store-errors';
import { batchGetAll, queryAll, type TableRef } from './table-ref';

/** Attempts are kept as long as events: 30 days. */
const ATTEMPT_TTL_SECONDS = 30 * 24 * 3600;

function toEndpoint(item: Record<string, unknown>): WebhookEndpoint {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as WebhookEndpoint;
}

function toAttempt(item: Record<string, unknown>): DeliveryAttempt {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, ...rest } = item;
  return rest as unknown as DeliveryAttempt;
}

/** The attempts cursor: the sort key of the last attempt shown, base64url, opaque to clients. */
const ATTEMPT_SORT_KEY = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[^#]+#\d{6}$/;
export const encodeAttemptCursor = (sk: string): string => Buffer.from(sk).toString('base64url');
export function decodeAttemptCursor(cursor: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ATTEMPT_SORT_KEY.test(sk) || encodeAttemptCursor(sk) !== cursor)
    throw new ValidationError('cursor is not one this service gave');
  return sk;
}

/** Webhook endpoints, their scope and owner links, and their delivery attempts. */
export function dynamoWebhookStore(table: TableRef): WebhookStore {
  const transact = (items: NonNullable<TransactWriteCommandInput['TransactItems']>) =>
    guarded(() => table.db.send(new TransactWriteCommand({ TransactItems: items })));

  const getEndpoint = async (id: string): Promise<WebhookEndpoint | undefined> => {
    const result = await guarded(() =>
      table.db.send(
        new GetCommand({
          TableName: table.name,
          Key: webhookEndpointKey(id),
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? toEndpoint(result.Item) : undefined;
  };

  return {
    getEndpoint,

    async createEndpoint(endpoint) {
      // The id is new: none of the three items may exist.
      const put = (key: { pk: string; sk: string }, item: Record<string, unknown>) => ({
        Put: {
          TableName: table.name,
          Item: { ...key, ...item },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
      await transact([
        put(webhookEndpointKey(endpoint.id), { ...endpoint }),
        put(webhookScopeKey(scopeOf(endpoint), endpoint.id), { ...endpoint }),
        put(webhookOwnerKey(endpoint.ownerId, endpoint.id), { id: endpoint.id }),
      ]);
    },

    async listEndpointsByOwner(ownerId) {
      const links = await queryAll(table, {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': webhookOwnerPartition(ownerId) },
      });
      const keys = links.map((link) => webhookEndpointKey(String(link.id)));
      return (await batchGetAll(table, keys)).map(toEndpoint);
    },

    async deleteEndpoint(endpoint) {
      const remove = (key: { pk: string; sk: string }) => ({
        Delete: { TableName: table.name, Key: key },
      });
      await transact([
        remove(webhookEndpointKey(endpoint.id)),
        remove(webhookScopeKey(scopeOf(endpoint), endpoint.id)),
        remove(webhookOwnerKey(endpoint.ownerId, endpoint.id)),
      ]);
    },

    async endpointsForScopes(scopes) {
      const found = await Promise.all(
        scopes.map((scope) =>
          queryAll(table, {
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': webhookScopePartition(scope) },
          }),
        ),
      );
      return found.flat().map(toEndpoint);
    },

    async disableEndpoint(id, reason, at) {
      const endpoint = await getEndpoint(id);
      if (endpoint === undefined || endpoint.status === 'disabled') return;
      // Both from enabled only, and neither recreated if deleted meanwhile.
      const disable = (key: { pk: string; sk: string }) => ({
        Update: {
          TableName: table.name,
          Key: key,
          UpdateExpression: 'SET #status = :disabled, disabledAt = :at, disabledReason = :reason',
          ConditionExpression: 'attribute_exists(pk) AND #status = :enabled',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':disabled': 'disabled',
            ':enabled': 'enabled',
            ':at': at,
            ':reason': reason,
          },
        },
      });
      try {
        await table.db.send(
          new TransactWriteCommand({
            TransactItems: [
              disable(webhookEndpointKey(id)),
              disable(webhookScopeKey(scopeOf(endpoint), id)),
            ],
          }),
        );
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) return translateError(error);
        // Disabled or deleted meanwhile: nothing left to do.
        throwIfTransient(error.CancellationReasons ?? [], error);
      }
    },

    async recordAttempt(attempt) {
      const expiresAt = Math.floor(Date.parse(attempt.attemptedAt) / 1000) + ATTEMPT_TTL_SECONDS;
      await guarded(() =>
        table.db.send(
          new PutCommand({
            TableName: table.name,
            Item: { ...attemptKey(attempt), ...attempt, expiresAt },
          }),
        ),
      );
    },

    /**
     * Newest first across the shards: each shard's newest `limit + 1` below the cursor, merged;
     * the page is the first `limit`, and the cursor its last sort key. An attempt item is well
     * under 1 KB, so a shard's page never stops early at Query's 1 MB.
     */
    async listAttempts(endpointId, page) {
      const before = page.cursor === undefined ? undefined : decodeAttemptCursor(page.cursor);
      const shards = await Promise.all(
        attemptPartitions(endpointId).map((pk) =>
          guarded(() =>
            table.db.send(
              new QueryCommand({
                TableName: table.name,
                KeyConditionExpression:
                  before === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :before',
                ExpressionAttributeValues: {
                  ':pk': pk,
                  ...(before === undefined ? {} : { ':before': before }),
                },
                ScanIndexForward: false,
                ConsistentRead: true,
                Limit: page.limit + 1,
              }),
            ),
          ),
        ),
      );
      const merged = shards
        .flatMap((result) => result.Items ?? [])
        .sort((a, b) => String(b.sk).localeCompare(String(a.sk)));
      const shown = merged.slice(0, page.limit);
      const last = shown[shown.length - 1];
      return {
        attempts: shown.map(toAttempt),
        ...(merged.length > page.limit && last !== undefined
          ? { nextCursor: encodeAttemptCursor(String(last.sk)) }
          : {}),
      };
    },
  };
}
