/**
 * Section 1, the floor: the raw SDK (DynamoDBClient + DocumentClient, no middy, no domain) making
 * exactly the DynamoDB calls of one withdrawal: the TransactWriteItems of LedgerStore.writeMovement
 * (same four items, same conditions: the account, its pending entry, the day's limit counter, the marker) and the strongly consistent GetItem of the account.
 * checkFloorFidelity compares both, command by command, before anything is measured.
 */
import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { MAX_AMOUNT } from '../lib/domain/money';
import { accountKey, limitCounterKey, markerKey, pendingEntryKey } from '../lib/persistence/keys';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/dynamodb-local';
import { captureCommands, shapeOf } from './lib/capture';
import type { Operation } from './lib/load';
import { invokeWithdrawal, type LambdaHandler } from './handler';

export interface FloorClient {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

/**
 * Configured as lib/persistence/dynamodb-client.ts configures the service's client (retries,
 * timeouts, DocumentClient options); checkFloorFidelity compares the resolved settings.
 */
export function createFloorClient(endpoint: string): FloorClient {
  const client = new DynamoDBClient({
    region: LOCAL_REGION,
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 1000,
      requestTimeout: 3000,
      throwOnRequestTimeout: true,
      httpAgent: { maxSockets: 256 },
      httpsAgent: { maxSockets: 256 },
    },
    endpoint,
    credentials: LOCAL_CREDENTIALS,
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, doc };
}

const TTL_SECONDS = 30 * 86_400;

/** One withdrawal's DynamoDB calls; returns the balance read after the commit. */
export async function floorWithdrawal(
  doc: DynamoDBDocumentClient,
  tableName: string,
  request: { accountId: string; ownerId: string; amount: number; idempotencyKey: string },
): Promise<number> {
  const transactionId = ulid();
  const now = new Date();
  const createdAt = now.toISOString();
  const requestHash = createHash('sha256')
    .update(JSON.stringify(['WITHDRAWAL', request.accountId, request.amount, null]))
    .digest('base64url');
  await doc.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: tableName,
            Key: accountKey(request.accountId),
            UpdateExpression:
              'SET balance = balance - :amount, available = available - :amount, version = version + :one, updatedAt = :now, lastMovement = :last',
            ConditionExpression:
              // An account without terms set: the withdrawal's guess is "never set".
              'attribute_exists(pk) AND available >= :amount AND attribute_not_exists(termsVersion) AND (attribute_not_exists(frozen) OR frozen = :false) AND ownerId = :owner',
            ExpressionAttributeValues: {
              ':amount': request.amount,
              ':one': 1,
              ':now': createdAt,
              ':last': {
                transactionId,
                type: 'WITHDRAWAL',
                amount: request.amount,
                idempotencyKey: request.idempotencyKey,
                createdAt,
              },
              ':false': false,
              ':owner': request.ownerId,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: tableName,
            Item: {
              ...pendingEntryKey(request.accountId, transactionId),
              transactionId,
              accountId: request.accountId,
              type: 'WITHDRAWAL',
              amount: request.amount,
              idempotencyKey: request.idempotencyKey,
              createdAt,
            },
          },
        },
        {
          // The day's limit counter (issue 20), under the configured defaults.
          Update: {
            TableName: tableName,
            Key: limitCounterKey(request.accountId, createdAt.slice(0, 10)),
            UpdateExpression:
              'SET expiresAt = if_not_exists(expiresAt, :expires) ADD used :charged',
            ConditionExpression:
              ':charged <= :perMovement AND ((attribute_not_exists(used) AND :charged <= :daily) OR used <= :room)',
            ExpressionAttributeValues: {
              ':charged': request.amount,
              ':perMovement': MAX_AMOUNT,
              ':daily': MAX_AMOUNT,
              ':room': MAX_AMOUNT - request.amount,
              ':expires':
                Math.floor(Date.parse(`${createdAt.slice(0, 10)}T00:00:00Z`) / 1000) + 40 * 86_400,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: tableName,
            Item: {
              ...markerKey(request.accountId, request.idempotencyKey),
              outcome: 'COMMITTED',
              accountId: request.accountId,
              idempotencyKey: request.idempotencyKey,
              requestHash,
              createdAt,
              transactionId,
              type: 'WITHDRAWAL',
              amount: request.amount,
              expiresAt: Math.floor(now.getTime() / 1000) + TTL_SECONDS,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
    }),
  );
  const read = await doc.send(
    new GetCommand({
      TableName: tableName,
      Key: accountKey(request.accountId),
      ConsistentRead: true,
    }),
  );
  const balance = read.Item?.balance;
  if (typeof balance !== 'number') throw new Error(`floor: account ${request.accountId} vanished`);
  return balance;
}

/** Worker `w` withdraws from accounts[w]: in-flight requests never share an account. */
export function floorOperation(
  doc: DynamoDBDocumentClient,
  tableName: string,
  ownerId: string,
  accounts: string[],
  label: string,
): Operation {
  let run = 0;
  return async (_index, worker) => {
    const accountId = accounts[worker];
    if (accountId === undefined) throw new Error(`no account for worker ${worker}`);
    await floorWithdrawal(doc, tableName, {
      accountId,
      ownerId,
      amount: 100,
      idempotencyKey: `${label}-${run++}`,
    });
  };
}

export interface Fidelity {
  identical: boolean;
  /** Lines of the handler's withdrawal the floor does not send, and the reverse. */
  onlyHandler: string[];
  onlyFloor: string[];
  /** Commands the handler sent for one steady-state withdrawal, e.g. TransactWriteItems, GetItem. */
  handlerCommands: string[];
}

/**
 * Sends one withdrawal through the handler and one through the floor, capturing what each
 * client sends, and compares their shapes (expressions, attributes and their types, key
 * layout, options). The handler's cached read of the operators' pause switch is left out: it is
 * one read per container every few seconds, not part of a withdrawal.
 */
export async function checkFloorFidelity(options: {
  handler: LambdaHandler;
  /** The handler's DocumentClient (its config and middleware stack are its SDK client's). */
  handlerClient: Pick<DynamoDBClient, 'middlewareStack' | 'config'>;
  floor: FloorClient;
  tableName: string;
  token: string;
  ownerId: string;
  handlerAccount: string;
  floorAccount: string;
}): Promise<Fidelity> {
  const isSwitchRead = (input: Record<string, unknown>): boolean =>
    (input.Key as { pk?: { S?: string } } | undefined)?.pk?.S === 'CONTROL';
  const handlerCapture = captureCommands(options.handlerClient);
  const floorCapture = captureCommands(options.floor.client);
  try {
    const response = await invokeWithdrawal(options.handler, {
      accountId: options.handlerAccount,
      token: options.token,
      idempotencyKey: 'fidelity-handler',
      amount: 100,
    });
    if (response.statusCode !== 201) {
      throw new Error(
        `fidelity check: the handler answered ${response.statusCode} ${String(response.body)}`,
      );
    }
    await floorWithdrawal(options.floor.doc, options.tableName, {
      accountId: options.floorAccount,
      ownerId: options.ownerId,
      amount: 100,
      idempotencyKey: 'fidelity-floor',
    });
    const handlerCommands = handlerCapture.take().filter((c) => !isSwitchRead(c.input));
    const handlerShape = [
      ...shapeOf(handlerCommands),
      ...(await clientSettings(options.handlerClient)),
    ];
    const floorShape = [
      ...shapeOf(floorCapture.take()),
      ...(await clientSettings(options.floor.doc)),
    ];
    const onlyHandler = handlerShape.filter((line) => !floorShape.includes(line));
    const onlyFloor = floorShape.filter((line) => !handlerShape.includes(line));
    return {
      identical: onlyHandler.length === 0 && onlyFloor.length === 0,
      onlyHandler,
      onlyFloor,
      handlerCommands: handlerCommands.map((c) => c.command),
    };
  } finally {
    handlerCapture.detach();
    floorCapture.detach();
  }
}

/** A client's resolved settings that bear on latency, one line each. */
async function clientSettings(client: Pick<DynamoDBClient, 'config'>): Promise<string[]> {
  const config = client.config as unknown as {
    maxAttempts: () => Promise<number>;
    region: () => Promise<string>;
    requestHandler?: { httpHandlerConfigs?: () => Record<string, unknown> };
    translateConfig?: unknown;
  };
  const http = config.requestHandler?.httpHandlerConfigs?.() ?? {};
  const agent = http.httpAgent as { keepAlive?: boolean; maxSockets?: number } | undefined;
  const settings: Record<string, unknown> = {
    maxAttempts: await config.maxAttempts(),
    region: await config.region(),
    connectionTimeout: http.connectionTimeout,
    requestTimeout: http.requestTimeout,
    socketTimeout: http.socketTimeout,
    throwOnRequestTimeout: http.throwOnRequestTimeout,
    keepAlive: agent?.keepAlive,
    maxSockets: agent?.maxSockets,
    documentClient: config.translateConfig,
  };
  return Object.entries(settings).map(([name, value]) => `client ${name}=${JSON.stringify(value)}`);
}
