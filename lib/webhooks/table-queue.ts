import { randomBytes } from 'node:crypto';
import {
  BatchWriteCommand,
  DeleteCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import type { DeliveryQueue, DeliveryRequest } from '../domain/event-ports';
import {
  DELIVERY_DEAD_LETTER_PARTITION,
  deliveryDeadLetterKey,
  deliveryQueueKey,
  deliveryQueuePartitions,
} from '../persistence/keys';
import type { Postpone } from './sqs-queue';

/**
 * The webhook delivery queue of the local stack (DynamoDB Local has no SQS): SQS's semantics in
 * the ledger table, so it survives a restart or a `kill -9` of the worker. At least once: a received
 * message is hidden for the visibility timeout, not removed; only `delete` (after the handler
 * succeeded) removes it, so a worker that dies mid-delivery leaves it to come back. A receive
 * claims a message by a conditional update (its visibility must have passed), so two workers
 * never hold one message at once. A message received `maxReceiveCount` times without being
 * deleted moves to the dead-letter partition with an error log, as SQS's redrive policy does.
 */

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  request: DeliveryRequest;
  /** 1 on the first receive. */
  receiveCount: number;
  /** Epoch milliseconds of the enqueue. */
  sentAt: number;
}

export interface LocalDeliveryQueue extends DeliveryQueue {
  /** Up to `max` visible messages, oldest first, that `accept` takes, each claimed for this caller. */
  receive(max: number, accept?: (request: DeliveryRequest) => boolean): Promise<ReceivedMessage[]>;
  /** Removes a message received with this handle (a stale handle removes nothing). */
  delete(receiptHandle: string): Promise<void>;
  /** ChangeMessageVisibility: the message is next visible `seconds` from now. */
  postpone: Postpone;
  /** Messages moved aside after too many receives. */
  deadLetters(): Promise<Array<{ messageId: string; body: string; receiveCount: number }>>;
  /** Called after every enqueue by this process (the poller wakes at once). */
  onEnqueue(listener: () => void): void;
}

export interface LocalDeliveryQueueOptions {
  db: DynamoDBDocumentClient;
  tableName: string;
  /** SQS's default visibility timeout for a received message: 60 s, as serverless.yml's queue. */
  visibilityTimeoutSeconds?: number;
  /** As the dead-letter queue's redrive policy: 30. */
  maxReceiveCount?: number;
  now?: () => number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

interface QueueItem {
  pk: string;
  sk: string;
  body: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  receipt?: string;
}

/** Items read per Query page, and at most per partition and receive. */
const PAGE = 100;
const SCAN_LIMIT = 5000;

const isConditionFailure = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'ConditionalCheckFailedException' ||
    error.name === 'TransactionCanceledException');

export function localDeliveryQueue(options: LocalDeliveryQueueOptions): LocalDeliveryQueue {
  const { db, tableName } = options;
  const visibilityMs = (options.visibilityTimeoutSeconds ?? 60) * 1000;
  const maxReceiveCount = options.maxReceiveCount ?? 30;
  const now = options.now ?? Date.now;
  const log =
    options.log ?? ((message, fields) => console.error(JSON.stringify({ message, ...fields })));
  const listeners: Array<() => void> = [];

  const handleOf = (item: { sk: string }, receipt: string) => `${item.sk}.${receipt}`;
  const parseHandle = (handle: string) => {
    const [messageId = '', receipt = ''] = handle.split('.');
    return { key: deliveryQueueKey(messageId), receipt };
  };

  /**
   * Visible messages of one partition, oldest first, page by page: a receive that refuses the
   * first ones (an endpoint already at its share, e.g. a slow one with a long backlog) reads on
   * to the others behind them, up to SCAN_LIMIT items a receive.
   */
  async function* visible(pk: string): AsyncGenerator<QueueItem> {
    let start: Record<string, unknown> | undefined;
    let scanned = 0;
    do {
      const out = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'visibleAt <= :now',
          ExpressionAttributeValues: { ':pk': pk, ':now': now() },
          ConsistentRead: true,
          Limit: PAGE,
          ExclusiveStartKey: start,
        }),
      );
      scanned += out.ScannedCount ?? 0;
      for (const item of out.Items ?? []) yield item as QueueItem;
      start = out.LastEvaluatedKey;
    } while (start !== undefined && scanned < SCAN_LIMIT);
  }
  /** Which partition the next receive reads first: each in turn, so none waits behind another. */
  let turn = 0;

  /** Takes the message if it is still visible; undefined when another receive took it first. */
  const claim = async (item: QueueItem): Promise<QueueItem | undefined> => {
    const receipt = randomBytes(8).toString('hex');
    const at = now();
    try {
      const out = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: item.pk, sk: item.sk },
          UpdateExpression: 'SET visibleAt = :until, receipt = :receipt ADD receiveCount :one',
          ConditionExpression: 'attribute_exists(pk) AND visibleAt <= :now',
          ExpressionAttributeValues: {
            ':until': at + visibilityMs,
            ':receipt': receipt,
            ':one': 1,
            ':now': at,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as QueueItem;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  };

  const deadLetter = async (item: QueueItem): Promise<void> => {
    try {
      await db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: tableName,
                Key: { pk: item.pk, sk: item.sk },
                ConditionExpression: 'receipt = :receipt',
                ExpressionAttributeValues: { ':receipt': item.receipt },
              },
            },
            {
              Put: {
                TableName: tableName,
                Item: { ...item, ...deliveryDeadLetterKey(item.sk), deadAt: now() },
              },
            },
          ],
        }),
      );
      log('webhook delivery message dead-lettered', {
        messageId: item.sk,
        receiveCount: item.receiveCount,
        body: item.body,
      });
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  };

  const received = (item: QueueItem): ReceivedMessage => ({
    messageId: item.sk,
    receiptHandle: handleOf(item, item.receipt ?? ''),
    body: item.body,
    request: JSON.parse(item.body) as DeliveryRequest,
    receiveCount: item.receiveCount,
    sentAt: item.sentAt,
  });

  return {
    async enqueue(requests) {
      const at = now();
      const items = requests.map((request) => {
        const messageId = ulid(at);
        return {
          ...deliveryQueueKey(messageId),
          body: JSON.stringify(request),
          sentAt: at,
          visibleAt: at,
          receiveCount: 0,
        };
      });
      for (let i = 0; i < items.length; i += 25)
        await putAll(db, tableName, items.slice(i, i + 25));
      for (const listener of listeners) listener();
    },

    async receive(max, accept = () => true) {
      const partitions = deliveryQueuePartitions();
      const first = turn++ % partitions.length;
      const taken: ReceivedMessage[] = [];
      for (const pk of [...partitions.slice(first), ...partitions.slice(0, first)]) {
        for await (const item of visible(pk)) {
          if (taken.length >= max) return taken;
          const message = received({ ...item, receipt: '' });
          if (!accept(message.request)) continue;
          const claimed = await claim(item);
          if (claimed === undefined) continue;
          if (claimed.receiveCount > maxReceiveCount) await deadLetter(claimed);
          else taken.push(received(claimed));
        }
      }
      return taken;
    },

    async delete(receiptHandle) {
      const { key, receipt } = parseHandle(receiptHandle);
      try {
        await db.send(
          new DeleteCommand({
            TableName: tableName,
            Key: key,
            ConditionExpression: 'receipt = :receipt',
            ExpressionAttributeValues: { ':receipt': receipt },
          }),
        );
      } catch (error) {
        // Received again by someone else since: theirs to finish (SQS's stale handle).
        if (!isConditionFailure(error)) throw error;
      }
    },

    async postpone(receiptHandle, seconds) {
      const { key, receipt } = parseHandle(receiptHandle);
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET visibleAt = :at',
          ConditionExpression: 'receipt = :receipt',
          ExpressionAttributeValues: {
            ':at': now() + Math.round(seconds * 1000),
            ':receipt': receipt,
          },
        }),
      );
    },

    async deadLetters() {
      const out = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': DELIVERY_DEAD_LETTER_PARTITION },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((item) => ({
        messageId: String(item.sk),
        body: String(item.body),
        receiveCount: Number(item.receiveCount),
      }));
    },

    onEnqueue(listener) {
      listeners.push(listener);
    },
  };
}

/** BatchWriteItem, sending again what DynamoDB left unprocessed. */
async function putAll(
  db: DynamoDBDocumentClient,
  tableName: string,
  items: Record<string, unknown>[],
): Promise<void> {
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; requests.length > 0; attempt += 1) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2000)));
    const out = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
    requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
  }
}
