import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { EventStore, LedgerEvent, StoredEvent } from './domain/event-ports';
import {
  deriveEvents,
  positionOf,
  type EventSource,
  type EventViews,
  type SourceChange,
} from './domain/events';
import type { LedgerEntry, MovementDetails } from './domain/types';
import { accountView, entryView, payoutView } from './http-schemas';
import { logger } from './logger';
import { toAccount, toPayout, toStatementLine, toWithdrawalControl } from './persistence/items';
import { eventSourceOf } from './persistence/keys';

export interface EventPublisherDeps {
  events: EventStore;
  /** The owner of an account (owners never change: cache freely). */
  ownerOf(accountId: string): Promise<string | null>;
  /** Hands events to the webhook deliveries (lib/domain/deliveries.ts). */
  fanOut(events: StoredEvent[]): Promise<void>;
  now: () => Date;
  /** The description and metadata of the movements that have them, by transaction id. */
  details?(transactionIds: string[]): Promise<Map<string, MovementDetails>>;
}

/** The resources as the API shows them. */
export const apiViews: EventViews = {
  entry: entryView,
  payout: payoutView,
  account: accountView,
  withdrawals: (control) => ({ paused: control.paused, changed: control.changed }),
};

const ITEMS: { [S in EventSource]: (item: Record<string, unknown>) => SourceChange<S>['after'] } = {
  statementLine: toStatementLine,
  payout: toPayout,
  account: toAccount,
  withdrawalSwitch: toWithdrawalControl,
};

/** The changes events come from (serverless.yml's filters on dispatchPayouts say the same). */
const WANTED: { [S in EventSource]: (record: DynamoDBRecord) => boolean } = {
  statementLine: (record) => record.eventName === 'INSERT',
  payout: (record) => record.eventName !== 'REMOVE',
  // Opened, or ever frozen: only such an account's changes can be a freeze or an unfreeze.
  account: (record) =>
    record.eventName === 'INSERT' ||
    (record.eventName === 'MODIFY' && record.dynamodb?.NewImage?.frozen?.BOOL !== undefined),
  withdrawalSwitch: (record) => record.eventName !== 'REMOVE',
};

const sourceOf = (record: DynamoDBRecord): EventSource | null =>
  eventSourceOf({ pk: record.dynamodb?.Keys?.pk?.S, sk: record.dynamodb?.Keys?.sk?.S });

/** A record the publisher reads (new payouts among them: the dispatcher's too). */
export function isEventSource(record: DynamoDBRecord): boolean {
  const source = sourceOf(record);
  return source !== null && WANTED[source](record);
}

function changeOf(record: DynamoDBRecord): SourceChange | null {
  const source = sourceOf(record);
  if (source === null || !WANTED[source](record)) return null;
  const d = record.dynamodb ?? {};
  const image = (raw: unknown) =>
    raw === undefined ? null : ITEMS[source](unmarshall(raw as Record<string, AttributeValue>));
  return {
    source,
    before: image(d.OldImage),
    after: image(d.NewImage),
    changeId: d.SequenceNumber ?? '',
    changedAt: new Date((d.ApproximateCreationDateTime ?? 0) * 1000).toISOString(),
  } as SourceChange;
}

/** Events are written this many at a time, each position taken just before its write. */
/** Events per write: one transaction of the event store (putEvents: 50 events, 100 items). */
const CHUNK = 50;

type Derived = { record: DynamoDBRecord; event: LedgerEvent };

/**
 * The event publisher: derives the events of a batch of the table's stream (lib/domain/events.ts),
 * writes each once (a redelivered record finds its event written), then hands every one, new or
 * already written, to `fanOut`: a crash between the write and the fan-out loses no delivery. On
 * a failure it reports the earliest failed record; the batch resumes there.
 */
export function publishEventsHandler(deps: () => EventPublisherDeps, views: EventViews = apiViews) {
  let lastStamp = 0;
  // Strictly increasing per container: one account's events keep their order in the feed.
  const stamp = (now: Date) => new Date((lastStamp = Math.max(now.getTime(), lastStamp + 1)));

  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const started = Date.now();
    const d = deps();
    let derived: Derived[];
    try {
      derived = await deriveAll(d, event.Records, views);
    } catch (error) {
      logger.error('events not derived', { error: error as Error });
      return failedFrom(event.Records[0]);
    }
    const { published, failedAt, error } = await publish(d, derived, stamp);
    const outcome = await fanOut(d, published);
    // A failed fan-out is retried from the batch's first event: the writes find them written.
    const earliest = outcome === 'failed' ? derived[0]?.record : failedAt;
    const log = earliest === undefined ? logger.info : logger.error;
    log.call(logger, 'events published', {
      records: event.Records.length,
      events: derived.length,
      created: published.filter((p) => p.outcome === 'created').length,
      existing: published.filter((p) => p.outcome === 'exists').length,
      failed: earliest !== undefined,
      durationMs: Date.now() - started,
      ...(error === undefined ? {} : { error: error as Error }),
    });
    return earliest === undefined ? { batchItemFailures: [] } : failedFrom(earliest);
  };
}

const failedFrom = (record: DynamoDBRecord | undefined): DynamoDBBatchResponse => ({
  batchItemFailures:
    record === undefined ? [] : [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }],
});

async function deriveAll(
  d: EventPublisherDeps,
  records: DynamoDBRecord[],
  views: EventViews,
): Promise<Derived[]> {
  const changes = records.map((record) => ({ record, change: changeOf(record) }));
  const lines = changes.flatMap(({ change }) =>
    change?.source === 'statementLine' && (change.after as LedgerEntry | null)?.hasDetails
      ? [change.after as LedgerEntry]
      : [],
  );
  const details =
    lines.length > 0 && d.details !== undefined
      ? await d.details(lines.map((line) => line.transactionId))
      : new Map<string, MovementDetails>();
  return changes.flatMap(({ record, change }) => {
    if (change === null) return [];
    const shown =
      change.source === 'statementLine' && change.after !== null
        ? { ...change, after: withDetails(change.after as LedgerEntry, details) }
        : change;
    return deriveEvents(shown, views).map((ledgerEvent) => ({ record, event: ledgerEvent }));
  });
}

function withDetails(line: LedgerEntry, details: Map<string, MovementDetails>): LedgerEntry {
  const { hasDetails: _mark, ...rest } = line;
  return { ...rest, ...details.get(line.transactionId) };
}

type Published = { event: StoredEvent; outcome: 'created' | 'exists' };

/**
 * Writes the events in order, a chunk at a time, each chunk one transaction (putEvents); stops at
 * the first chunk that fails, none of whose events was written: the batch resumes at its first
 * record.
 */
async function publish(
  d: EventPublisherDeps,
  derived: Derived[],
  stamp: (now: Date) => Date,
): Promise<{ published: Published[]; failedAt?: DynamoDBRecord; error?: unknown }> {
  const published: Published[] = [];
  for (let start = 0; start < derived.length; start += CHUNK) {
    const chunk = derived.slice(start, start + CHUNK);
    try {
      const owners = await Promise.all(
        chunk.map(({ event }) => (event.accountId === null ? null : d.ownerOf(event.accountId))),
      );
      const stored = chunk.map(({ event }, i) => ({
        ...event,
        position: positionOf(stamp(d.now()), event.id),
        ownerId: owners[i] ?? null,
      }));
      const outcomes = await d.events.putEvents(stored);
      published.push(...stored.map((event, i) => ({ event, outcome: outcomes[i] ?? 'created' })));
    } catch (error) {
      return { published, failedAt: chunk[0]?.record, error };
    }
  }
  return { published };
}

async function fanOut(d: EventPublisherDeps, published: Published[]): Promise<'ok' | 'failed'> {
  if (published.length === 0) return 'ok';
  try {
    await d.fanOut(published.map((p) => p.event));
    return 'ok';
  } catch (error) {
    logger.error('event fan-out failed', { error: error as Error, events: published.length });
    return 'failed';
  }
}
