import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { EventStore, FeedRange, StoredEvent } from '../domain/event-ports';
import { EVENT_RETENTION_DAYS } from '../domain/events';
import {
  EVENTS_INDEX,
  accountEventKey,
  accountEventsPartition,
  eventFeedPartitions,
  eventIndexAttributes,
  eventKey,
} from './keys';
import { guarded, translateError } from './store-errors';
import type { TableRef } from './table-ref';

const DAY_MS = 86_400_000;

/**
 * Events in DynamoDB (docs/events.md): the event item (by id, and in the `events` index, the
 * service-wide feed) and its account's feed item, written together in one transaction whose
 * condition is the event's id: each event exists once, and never without its feed entry.
 */
export function dynamoEventStore(table: TableRef): EventStore {
  return {
    async putEvent(event) {
      const [outcome] = await putEvents(table, [event]);
      return outcome ?? 'created';
    },

    putEvents: (events) => putEvents(table, events),

    async getEvent(id) {
      const result = await guarded(() =>
        table.db.send(
          new GetCommand({ TableName: table.name, Key: eventKey(id), ConsistentRead: true }),
        ),
      );
      return result.Item ? toEvent(result.Item) : undefined;
    },

    async listAccountEvents(accountId, range) {
      return queryFeed(
        table,
        {
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :until',
          ExpressionAttributeValues: {
            ':pk': accountEventsPartition(accountId),
            ':from': range.after ?? '0',
            ':until': range.until,
          },
          ConsistentRead: true,
        },
        range,
      );
    },

    /** Day by day from the range's start, each day's 8 shards merged, until `limit` are found. */
    async listAllEvents(range) {
      const found: StoredEvent[] = [];
      for (const day of daysOf(range)) {
        const shards = await Promise.all(
          eventFeedPartitions(day).map((feedKey) =>
            queryFeed(
              table,
              {
                IndexName: EVENTS_INDEX,
                KeyConditionExpression: 'feedKey = :key AND feedAt BETWEEN :from AND :until',
                ExpressionAttributeValues: {
                  ':key': feedKey,
                  ':from': range.after ?? '0',
                  ':until': range.until,
                },
              },
              { ...range, limit: range.limit - found.length },
            ),
          ),
        );
        found.push(
          ...shards
            .flat()
            .sort(byPosition)
            .slice(0, range.limit - found.length),
        );
        if (found.length >= range.limit) break;
      }
      return found;
    },
  };
}

const retention = () => EVENT_RETENTION_DAYS * 86_400;

/** Events per transaction: each is two items (the event and its account's feed entry), 100 at most. */
const EVENTS_PER_TRANSACTION = 50;

async function putEvents(
  table: TableRef,
  events: StoredEvent[],
): Promise<Array<'created' | 'exists'>> {
  const outcomes: Array<'created' | 'exists'> = [];
  for (let i = 0; i < events.length; i += EVENTS_PER_TRANSACTION) {
    outcomes.push(...(await putTogether(table, events.slice(i, i + EVENTS_PER_TRANSACTION))));
  }
  return outcomes;
}

/**
 * One transaction for the events; those whose id exists already (a redelivered record) are left
 * out and the rest written again, so each is written once and never without its feed entry.
 */
async function putTogether(
  table: TableRef,
  events: StoredEvent[],
): Promise<Array<'created' | 'exists'>> {
  const existing = new Set<number>();
  for (;;) {
    const puts = events.flatMap((event, index) =>
      existing.has(index) ? [] : itemsOf(event).map((put) => ({ index, put })),
    );
    if (puts.length === 0) break;
    try {
      await table.db.send(
        new TransactWriteCommand({
          TransactItems: puts.map(({ put }) => ({ Put: { TableName: table.name, ...put } })),
        }),
      );
      break;
    } catch (error) {
      const found = existingOf(error, puts);
      if (found.length === 0) return translateError(error);
      for (const index of found) existing.add(index);
    }
  }
  return events.map((_, index) => (existing.has(index) ? 'exists' : 'created'));
}

/** The event item (on the condition that its id is new) and, with an account, its feed item. */
function itemsOf(
  event: StoredEvent,
): Array<{ Item: Record<string, unknown>; ConditionExpression?: string }> {
  const expiresAt = Math.floor(Date.parse(event.position.slice(0, 24)) / 1000) + retention();
  const item = { ...eventKey(event.id), ...event, ...eventIndexAttributes(event), expiresAt };
  const own = { Item: item, ConditionExpression: 'attribute_not_exists(pk)' };
  if (event.accountId === null) return [own];
  return [
    own,
    { Item: { ...accountEventKey(event.accountId, event.position), ...event, expiresAt } },
  ];
}

/** The events a cancelled transaction found written already; none when it failed otherwise. */
function existingOf(error: unknown, puts: Array<{ index: number }>): number[] {
  if (!(error instanceof TransactionCanceledException)) return [];
  const reasons = error.CancellationReasons ?? [];
  const other = reasons.some((r) => r.Code !== 'None' && r.Code !== 'ConditionalCheckFailed');
  if (other) return [];
  return reasons
    .flatMap((r, k) => (r.Code === 'ConditionalCheckFailed' ? [puts[k]?.index ?? -1] : []))
    .filter((index) => index >= 0);
}

/**
 * One Query of a feed, in position order: BETWEEN is inclusive, so one more is read and the
 * position `after` itself dropped. An event is at most a few KB: a page of 101 is one response.
 */
async function queryFeed(
  table: TableRef,
  input: Pick<
    QueryCommandInput,
    'IndexName' | 'KeyConditionExpression' | 'ExpressionAttributeValues' | 'ConsistentRead'
  >,
  range: FeedRange,
): Promise<StoredEvent[]> {
  if (range.limit <= 0) return [];
  const result = await guarded(() =>
    table.db.send(new QueryCommand({ ...input, TableName: table.name, Limit: range.limit + 1 })),
  );
  return (result.Items ?? [])
    .map(toEvent)
    .filter((event) => event.position !== range.after)
    .slice(0, range.limit);
}

/** The days (UTC, `yyyy-mm-dd`) a range spans; without `after`, from the start of retention. */
function daysOf(range: FeedRange): string[] {
  const until = Date.parse(range.until.slice(0, 24));
  const from =
    range.after === undefined
      ? until - EVENT_RETENTION_DAYS * DAY_MS
      : Date.parse(range.after.slice(0, 10));
  const days: string[] = [];
  for (let day = Date.parse(new Date(from).toISOString().slice(0, 10)); day <= until; ) {
    days.push(new Date(day).toISOString().slice(0, 10));
    day += DAY_MS;
  }
  return days;
}

const byPosition = (a: StoredEvent, b: StoredEvent) =>
  a.position < b.position ? -1 : a.position > b.position ? 1 : 0;

function toEvent(item: Record<string, unknown>): StoredEvent {
  const {
    pk: _pk,
    sk: _sk,
    feedKey: _key,
    feedAt: _at,
    expiresAt: _ttl,
    ...event
  } = item as Record<string, unknown> & StoredEvent;
  return event as StoredEvent;
}
