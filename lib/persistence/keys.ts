import { createHash } from 'node:crypto';
import { isOtherSide, type MovementType } from '../domain/movement-types';
import type { HistoryPosition, LineKind } from '../domain/ports';
import type { EntryStatus } from '../domain/types';

/**
 * The table's key layout, and the only place key strings are built. Write units are what a hot
 * account spends per second, and one partition key takes at most 1,000 per second, so each
 * kind of item sits where its writes do not add up on one key:
 *
 * - The account item is alone on its partition key: 2 units per movement (transactional write
 *   of an item under 1 KB), the per-account ceiling of about 500 movements per second.
 * - Committed-but-unsequenced entries sit on two pending partition keys per account, chosen by
 *   the transaction id: 2 units to put (in the transaction) + 1 to delete (by the sequencer),
 *   1.5 per movement on each key.
 * - Statement lines, the account's ledger in commit order, sit under one partition key of
 *   their own, sorted by sequence: 1 unit per movement, and history is one bounded Query.
 * - Idempotency markers are spread: one partition key per (account, key), the key hashed so
 *   its length never grows the item.
 * - Owner links let a customer list their accounts with one strongly consistent Query.
 */
const ACCOUNT_SK = 'ACCOUNT';
const MARKER_SK = 'MARKER';
const SEQUENCE_DIGITS = 15;

export type Key = {
  pk: string;
  sk: string;
};

export const accountKey = (accountId: string): Key => ({
  pk: `ACCOUNT#${accountId}`,
  sk: ACCOUNT_SK,
});

export const ownerLinkKey = (ownerId: string, accountId: string): Key => ({
  pk: `OWNER#${ownerId}`,
  sk: `ACCOUNT#${accountId}`,
});
export const ownerPartition = (ownerId: string): string => `OWNER#${ownerId}`;
export const ownerLinkPrefix = 'ACCOUNT#';

export const ledgerPartition = (accountId: string): string => `LEDGER#${accountId}`;
export const LINE_PREFIX = 'L#';

/** Pending entries of an account are spread over this many partition keys. */
export const PENDING_SHARDS = 2;

export const pendingPartitions = (accountId: string): string[] =>
  Array.from({ length: PENDING_SHARDS }, (_, shard) => `PENDING#${accountId}#${shard}`);

export const pendingEntryKey = (accountId: string, transactionId: string): Key => {
  // A ULID ends in random characters: its last one spreads entries evenly over the shards.
  const shard = transactionId.charCodeAt(transactionId.length - 1) % PENDING_SHARDS;
  return { pk: `PENDING#${accountId}#${shard}`, sk: transactionId };
};

export const statementLineKey = (accountId: string, sequence: number): Key => ({
  pk: ledgerPartition(accountId),
  sk: `${LINE_PREFIX}${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`,
});

export const markerKey = (accountId: string, idempotencyKey: string): Key => ({
  pk: `MARKER#${accountId}#${createHash('sha256').update(idempotencyKey).digest('base64url')}`,
  sk: MARKER_SK,
});

/** Freeze and unfreeze records of an account, oldest first. */
export const accountControlKey = (accountId: string, at: string, id: string): Key => ({
  pk: `CONTROL#${accountId}`,
  sk: `${at}#${id}`,
});

/** An account's fee schedule and its last change (its version is on the account item too). */
export const feesKey = (accountId: string): Key => ({
  pk: `CONTROL#${accountId}`,
  sk: 'FEES',
});

/** An account's limits override and its last change (its version is on the account item too). */
export const limitsKey = (accountId: string): Key => ({
  pk: `CONTROL#${accountId}`,
  sk: 'LIMITS',
});

/**
 * What left an account on one day (its timezone's calendar day): the counter every limited
 * movement adds to inside its own transaction. One item per account and day, written only by
 * that account's outgoing movements: no hotter than the account item itself.
 */
export const limitCounterKey = (accountId: string, day: string): Key => ({
  pk: `LIMIT#${accountId}`,
  sk: day,
});

/** The one switch that pauses every withdrawal; read through a short cache, never per request. */
export const withdrawalSwitchKey: Key = { pk: 'CONTROL', sk: 'WITHDRAWALS' };

/**
 * How far the gateway's feed of returned payouts was read, and the returns kept to be tried
 * again: one item, written by the returns reader only (once a minute at most, per page read).
 */
export const payoutReturnsKey: Key = { pk: 'CONTROL', sk: 'PAYOUT_RETURNS' };

/** A payout's record (the gateway instruction and its status), beside its account's others. */
export const payoutKey = (accountId: string, transactionId: string): Key => ({
  pk: `PAYOUT#${accountId}`,
  sk: transactionId,
});

export const isPayoutPartition = (pk: string | undefined): boolean =>
  pk !== undefined && pk.startsWith('PAYOUT#');

/**
 * The sparse global secondary index of unresolved payouts, read by the sweeper. An open payout
 * carries the two attributes below; resolving it removes them, and it leaves the index. The
 * partition attribute is spread over a few shards so a burst of payouts is not one hot key.
 */
export const OPEN_PAYOUTS_INDEX = 'open-payouts';
export const OPEN_PAYOUT_INDEX_ATTRIBUTES = ['openPayoutShard', 'openPayoutDue'] as const;
const OPEN_PAYOUT_SHARDS = 4;
export const openPayoutShards = (): string[] =>
  Array.from({ length: OPEN_PAYOUT_SHARDS }, (_, shard) => `OPEN#${shard}`);
export const openPayoutIndexAttributes = (
  transactionId: string,
  holdExpiresAt: string,
): { openPayoutShard: string; openPayoutDue: string } => ({
  openPayoutShard: `OPEN#${transactionId.charCodeAt(transactionId.length - 1) % OPEN_PAYOUT_SHARDS}`,
  openPayoutDue: `${holdExpiresAt}#${transactionId}`,
});

/**
 * A movement's description and metadata, in an item of their own written with the movement (only
 * when it has them): one partition key per movement, read by transaction id.
 */
export const movementDetailsKey = (transactionId: string): Key => ({
  pk: `DETAILS#${transactionId}`,
  sk: 'DETAILS',
});

/**
 * The sparse global secondary index of statement lines by (account, reference): only a line that
 * carries a reference has its partition attribute; its sort key is the line's own, so the index
 * lists an account's lines with one reference by sequence.
 */
export const REFERENCES_INDEX = 'references';
export const REFERENCE_INDEX_ATTRIBUTE = 'referenceKey';
export const referenceIndexKey = (accountId: string, reference: string): string =>
  `${accountId}#${reference}`;
export const referenceIndexAttributes = (line: {
  accountId: string;
  reference?: string;
}): { referenceKey?: string } =>
  line.reference === undefined
    ? {}
    : { [REFERENCE_INDEX_ATTRIBUTE]: referenceIndexKey(line.accountId, line.reference) };

/**
 * System accounts (double entry): each one's balance per currency is spread over shards, so no
 * single item takes every movement's write; the sequencer picks a shard per chunk it applies.
 */
export const SYSTEM_SHARDS = 16;
export const systemShardPartitions = (name: string): string[] =>
  Array.from({ length: SYSTEM_SHARDS }, (_, shard) => `SYSTEM#${name}#${shard}`);
export const systemShardKey = (name: string, currency: string, spreadBy: string): Key => ({
  pk: `SYSTEM#${name}#${createHash('sha256').update(spreadBy).digest().readUInt32BE(0) % SYSTEM_SHARDS}`,
  sk: currency,
});
/**
 * A reversed movement's count of what its reversals took, and their list, by transaction id
 * alone: created by the first reversal's own transaction, so only reversed movements have one.
 */
export const transactionRecordKey = (transactionId: string): Key => ({
  pk: `TXN#${transactionId}`,
  sk: 'TXN',
});

/**
 * The sparse global secondary index of statement lines by the transaction they start: only the
 * line of the side that started a movement carries its partition attribute (a transfer's
 * destination side is found through its source's), so a reversal finds the original by id. It
 * projects what a reversal needs of the line (serverless.yml), no more: +1 WCU per such line.
 */
export const TRANSACTIONS_INDEX = 'transactions';
export const TRANSACTION_INDEX_ATTRIBUTE = 'transactionKey';
export const transactionIndexAttributes = (line: {
  transactionId: string;
  type: MovementType;
  counterpartyAccountId?: string;
}): { transactionKey?: string } =>
  isOtherSide(line) ? {} : { [TRANSACTION_INDEX_ATTRIBUTE]: line.transactionId };

/**
 * The global secondary index of statement lines by (account, type, status) and `postedAt`: the
 * history's filters, balances at an instant and statements read it in O(page) whatever the
 * history's length (docs/statements.md). Lines without figures (written before them) are not in
 * it until completed. Projects every attribute: +1 WCU per line of up to 1 KB.
 */
export const HISTORY_INDEX = 'history';
export const HISTORY_INDEX_ATTRIBUTES = ['historyKey', 'historyAt'] as const;
export const historyPartition = (accountId: string, kind: LineKind): string =>
  `${accountId}#${kind.type}#${kind.status}`;
/** The index's order: `postedAt`, then `sequence` (both fixed width, so strings sort as they do). */
export const historyPosition = (at: HistoryPosition): string =>
  `${at.postedAt}#${String(at.sequence).padStart(SEQUENCE_DIGITS, '0')}`;
/** The first position of an instant: every line posted before it sorts below this. */
export const historyInstant = (instant: string): string => `${instant}#`;
export const historyIndexAttributes = (line: {
  accountId: string;
  type: MovementType;
  status: EntryStatus;
  sequence: number;
  postedAt?: string;
}): { historyKey?: string; historyAt?: string } =>
  line.postedAt === undefined
    ? {}
    : {
        historyKey: historyPartition(line.accountId, line),
        historyAt: historyPosition({ postedAt: line.postedAt, sequence: line.sequence }),
      };

/** How far an account's statement lines have been posted to the system accounts. */
export const postedWatermarkKey = (accountId: string): Key => ({
  pk: ledgerPartition(accountId),
  sk: 'POSTED',
});

/** Sort-key value of the account item; the stream consumer filters on it. */
export const ACCOUNT_SORT_KEY = ACCOUNT_SK;

/**
 * Which item a stream record is, for the event publisher (lib/events-stream.ts): a statement
 * line, a payout record, an account, or the withdrawal switch; null for every other item.
 */
export type EventSourceItem = 'statementLine' | 'payout' | 'account' | 'withdrawalSwitch';
export function eventSourceOf(key: { pk?: string; sk?: string }): EventSourceItem | null {
  const { pk = '', sk = '' } = key;
  if (pk.startsWith('LEDGER#') && sk.startsWith(LINE_PREFIX)) return 'statementLine';
  if (isPayoutPartition(pk)) return 'payout';
  if (pk.startsWith('ACCOUNT#') && sk === ACCOUNT_SK) return 'account';
  if (pk === withdrawalSwitchKey.pk && sk === withdrawalSwitchKey.sk) return 'withdrawalSwitch';
  return null;
}

/**
 * Events (docs/events.md). The event item, by id: written once (its put is conditional), read by
 * the delivery worker. It carries the keys of the `events` index, the service-wide feed: one
 * partition key per day and shard, so a day's events spread over 8 partitions (about 8,000 events
 * per second), sorted by position. An operator's feed merges the 8 shards of each day.
 */
export const eventKey = (eventId: string): Key => ({ pk: `EVENT#${eventId}`, sk: 'EVENT' });
export const EVENTS_INDEX = 'events';
export const EVENT_FEED_SHARDS = 8;
export const eventFeedPartition = (day: string, shard: number): string => `FEED#${day}#${shard}`;
export const eventFeedPartitions = (day: string): string[] =>
  Array.from({ length: EVENT_FEED_SHARDS }, (_, shard) => eventFeedPartition(day, shard));
export const eventIndexAttributes = (event: {
  id: string;
  position: string;
}): { feedKey: string; feedAt: string } => ({
  feedKey: eventFeedPartition(
    event.position.slice(0, 10),
    createHash('sha256').update(event.id).digest().readUInt32BE(0) % EVENT_FEED_SHARDS,
  ),
  feedAt: event.position,
});

/** An account's feed: a copy of each of its events under one key, sorted by position. */
export const accountEventsPartition = (accountId: string): string => `EVENTS#${accountId}`;
export const accountEventKey = (accountId: string, position: string): Key => ({
  pk: accountEventsPartition(accountId),
  sk: position,
});

/**
 * Webhook endpoints (docs/events.md). The endpoint item, read by id; a copy under the scope it
 * listens on (`ALL`, `ACCOUNT#<id>` or `OWNER#<id>`), so the publisher finds an event's endpoints
 * with one Query per scope; and a link under its owner, for their list. All three are written
 * and deleted together.
 */
export const webhookEndpointKey = (id: string): Key => ({ pk: `WEBHOOK#${id}`, sk: 'ENDPOINT' });
export const webhookScopePartition = (scope: string): string => `WEBHOOKS#${scope}`;
export const webhookScopeKey = (scope: string, id: string): Key => ({
  pk: webhookScopePartition(scope),
  sk: id,
});
export const webhookOwnerPartition = (ownerId: string): string => `WEBHOOK_OWNER#${ownerId}`;
export const webhookOwnerKey = (ownerId: string, id: string): Key => ({
  pk: webhookOwnerPartition(ownerId),
  sk: id,
});

/**
 * Delivery attempts of an endpoint, newest last in each of a few partitions chosen by the event
 * id: a busy endpoint's attempts do not all land on one key. Sorted by time, then event, then
 * attempt number (fixed width, so strings sort as numbers do).
 */
export const ATTEMPT_SHARDS = 4;
export const attemptPartitions = (endpointId: string): string[] =>
  Array.from({ length: ATTEMPT_SHARDS }, (_, shard) => `ATTEMPTS#${endpointId}#${shard}`);
export const attemptKey = (attempt: {
  endpointId: string;
  eventId: string;
  attemptedAt: string;
  attempt: number;
}): Key => {
  const shard =
    createHash('sha256').update(attempt.eventId).digest().readUInt32BE(0) % ATTEMPT_SHARDS;
  return {
    pk: `ATTEMPTS#${attempt.endpointId}#${shard}`,
    sk: `${attempt.attemptedAt}#${attempt.eventId}#${String(attempt.attempt).padStart(6, '0')}`,
  };
};

/**
 * Local only (npm start, local/delivery-queue.ts): the webhook delivery queue, emulating SQS in
 * the ledger table. A message sits on one of a few partition keys chosen by its id (a ULID, so
 * each partition lists its messages oldest first); a message received too often moves to the
 * dead-letter partition, as SQS's redrive policy moves it to the dead-letter queue.
 */
export const DELIVERY_QUEUE_SHARDS = 2;
export const deliveryQueuePartitions = (): string[] =>
  Array.from({ length: DELIVERY_QUEUE_SHARDS }, (_, shard) => `QUEUE#${shard}`);
export const deliveryQueueKey = (messageId: string): Key => ({
  pk: `QUEUE#${messageId.charCodeAt(messageId.length - 1) % DELIVERY_QUEUE_SHARDS}`,
  sk: messageId,
});
export const DELIVERY_DEAD_LETTER_PARTITION = 'QUEUE_DEAD';
export const deliveryDeadLetterKey = (messageId: string): Key => ({
  pk: DELIVERY_DEAD_LETTER_PARTITION,
  sk: messageId,
});
