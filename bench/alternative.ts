/**
 * Section 4, the usual alternative: the same withdrawal made idempotent the common way, with
 * Powertools Idempotency (`makeHandlerIdempotent` middy middleware + `DynamoDBPersistenceLayer`
 * on a table of its own, partition key `id`) around a transaction WITHOUT a marker: the
 * account's conditional update and a ledger entry. Everything else is ours, unchanged: the same
 * middy stack (lib/middleware/http.ts: logger, header normaliser, error mapping, token
 * verification, body validation), the same account conditions (balance, not frozen, owner),
 * the same response, one log line per outcome. Not modelled: the operators' pause switch (a
 * cached read, one per container every few seconds) and the EMF metrics of the domain.
 *
 * Its flow per new key: PutItem of an INPROGRESS record (conditional), the TransactWriteItems,
 * a consistent GetItem for the balance to answer with (TransactWriteItems returns no values),
 * then UpdateItem of the record to COMPLETED with the response. A replay is the failed
 * conditional PutItem, which returns the stored response. An insufficient-funds refusal is
 * returned as a 409 response (not thrown), so Powertools records it like a success and replays
 * it, as ours does; a thrown error deletes the record (DeleteItem), as Powertools does.
 */
import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { MiddlewareObj } from '@middy/core';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ulid } from 'ulid';
import { AccountNotFoundError, InsufficientFundsError } from '../lib/domain/errors';
import { accountIdOf, movementBody } from '../lib/http-schemas';
import { logger } from '../lib/logger';
import { httpHandler, idempotencyKeyOf, json } from '../lib/middleware/http';
import { accountKey } from '../lib/persistence/keys';
import type { LambdaHandler } from './handler';

const TTL_SECONDS = 30 * 86_400;

export function alternativeHandler(options: {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tableName: string;
  idempotencyTable: string;
}): LambdaHandler {
  const { doc, tableName } = options;
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.idempotencyTable,
    awsSdkV3Client: options.client,
  });
  const config = new IdempotencyConfig({
    // The key is scoped to the account, as ours; a different body with the same key is refused.
    eventKeyJmesPath: '[pathParameters.accountId, headers."idempotency-key"]',
    payloadValidationJmesPath: 'body',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: TTL_SECONDS,
  });

  const handler = httpHandler({ operation: 'withdrawal', body: movementBody }, async (request) => {
    const accountId = accountIdOf(request.pathParameters);
    const idempotencyKey = idempotencyKeyOf(request.headers);
    const amount = request.body.amount;
    const transactionId = ulid();
    const createdAt = new Date().toISOString();
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName,
                Key: accountKey(accountId),
                UpdateExpression:
                  'SET balance = balance - :amount, available = available - :amount, updatedAt = :now',
                ConditionExpression:
                  'attribute_exists(pk) AND available >= :amount AND (attribute_not_exists(frozen) OR frozen = :false) AND ownerId = :owner',
                ExpressionAttributeValues: {
                  ':amount': amount,
                  ':false': false,
                  ':now': createdAt,
                  ':owner': request.caller.userId,
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: {
                TableName: tableName,
                Item: {
                  pk: `ENTRY#${accountId}`,
                  sk: transactionId,
                  transactionId,
                  accountId,
                  type: 'WITHDRAWAL',
                  amount,
                  idempotencyKey,
                  createdAt,
                },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reason = error.CancellationReasons?.[0];
      const account = reason?.Item ? unmarshall(reason.Item) : null;
      if (
        reason?.Code !== 'ConditionalCheckFailed' ||
        account === null ||
        account.ownerId !== request.caller.userId
      ) {
        throw new AccountNotFoundError();
      }
      const refusal = new InsufficientFundsError();
      logger.info('withdrawal rejected', { accountId, code: refusal.code });
      return json(refusal.status, {
        error: { code: refusal.code, message: refusal.message, requestId: request.requestId },
      });
    }
    const read = await doc.send(
      new GetCommand({ TableName: tableName, Key: accountKey(accountId), ConsistentRead: true }),
    );
    const balance = Number(read.Item?.balance);
    const currency = String(read.Item?.currency);
    logger.info('withdrawal committed', { accountId, transactionId, amount, balance });
    return json(201, {
      transaction: {
        transactionId,
        accountId,
        type: 'WITHDRAWAL',
        amount,
        currency,
        balanceAfter: null,
        sequence: null,
        idempotencyKey,
        createdAt,
      },
      balance,
    });
  });
  // Added last: its `before` runs after authentication and validation, its `after` first.
  return handler.use(
    makeHandlerIdempotent({ persistenceStore, config }) as unknown as MiddlewareObj,
  ) as unknown as LambdaHandler;
}
