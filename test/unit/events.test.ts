import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StoredEvent } from '../../lib/domain/event-ports';
import type { Account, LedgerEntry, Payout } from '../../lib/domain/types';
import { isEventSource, publishEventsHandler } from '../../lib/events-stream';
import { accountView, entryView, payoutView } from '../../lib/http-schemas';
import {
  accountKey,
  markerKey,
  openPayoutIndexAttributes,
  payoutKey,
  pendingEntryKey,
  accountControlKey,
  withdrawalSwitchKey,
} from '../../lib/persistence/keys';
import { statementLineItem } from '../../lib/persistence/statement-store';
import { readServerlessConfig } from '../../local/serverless-config';
import { memoryEventStore, type MemoryEventStore } from '../support/memory-event-store';

/**
 * The event table (lib/domain/events.ts) through the publisher (lib/events-stream.ts), fed
 * stream records of the table's real items: which changes are events, their ids, times and
 * data, and that a redelivered record makes no second event but is handed on again.
 */
const A = '01JACCOUNTAAAAAAAAAAAAAAAA';
const B = '01JACCOUNTBBBBBBBBBBBBBBBB';
const TXN = '01JTXN0000000000000000000A';
const T0 = '2026-03-01T10:00:00.000Z';
const T1 = '2026-03-01T10:00:01.000Z';
const T2 = '2026-03-01T10:05:00.000Z';

const account = (over: Partial<Account> = {}): Account => ({
  accountId: A,
  ownerId: 'user-alice',
  currency: 'USD',
  balance: 10_000,
  pending: 0,
  available: 10_000,
  version: 3,
  createdAt: T0,
  updatedAt: T1,
  ...over,
});

const line = (over: Partial<LedgerEntry> = {}): LedgerEntry & Record<string, unknown> => ({
  transactionId: TXN,
  accountId: A,
  type: 'WITHDRAWAL',
  amount: 500,
  fee: 25,
  currency: 'USD',
  balanceAfter: 9_475,
  sequence: 7,
  idempotencyKey: 'k-7',
  createdAt: T0,
  postedAt: T1,
  status: 'POSTED',
  ...over,
});

const payout = (over: Partial<Payout> = {}): Payout => ({
  transactionId: TXN,
  accountId: A,
  amount: 700,
  currency: 'USD',
  destination: 'acct-123',
  status: 'PENDING',
  idempotencyKey: 'p-1',
  createdAt: T0,
  updatedAt: T0,
  holdExpiresAt: T2,
  attempts: 0,
  ...over,
});

const lineItem = (l: LedgerEntry) =>
  statementLineItem(
    { ...l, sequence: l.sequence ?? 0, totalsAfter: {}, feesAfter: {} } as never,
    T1,
  );
const payoutItem = (p: Payout) => ({
  ...payoutKey(p.accountId, p.transactionId),
  ...p,
  ...(p.status === 'PENDING' ? openPayoutIndexAttributes(p.transactionId, p.holdExpiresAt) : {}),
});
const accountItem = (a: Account) => ({ ...accountKey(a.accountId), ...a });
const switchItem = (paused: boolean, at: string) => ({
  ...withdrawalSwitchKey,
  paused,
  by: 'ops',
  at,
  reason: 'incident',
});

let sequenceNumber = 100;
type Item = Record<string, unknown>;
function record(before: Item | null, after: Item | null): DynamoDBRecord {
  const item = (after ?? before) as Item;
  sequenceNumber += 1;
  return {
    eventName: before === null ? 'INSERT' : after === null ? 'REMOVE' : 'MODIFY',
    dynamodb: {
      Keys: marshall({ pk: item.pk, sk: item.sk }) as never,
      ...(before === null
        ? {}
        : { OldImage: marshall(before, { removeUndefinedValues: true }) as never }),
      ...(after === null
        ? {}
        : { NewImage: marshall(after, { removeUndefinedValues: true }) as never }),
      SequenceNumber: String(sequenceNumber),
      ApproximateCreationDateTime: Date.parse(T2) / 1000,
    },
  };
}

let store: MemoryEventStore;
let fannedOut: StoredEvent[][];
let fanOutFails: boolean;
const clock = { now: new Date('2026-03-01T10:10:00.000Z') };

let handler: ReturnType<typeof publishEventsHandler>;
const publish = (...records: DynamoDBRecord[]) =>
  handler({ Records: records } as DynamoDBStreamEvent);
const newHandler = () =>
  publishEventsHandler(() => ({
    events: store,
    ownerOf: async (accountId) => (accountId === B ? 'user-bob' : 'user-alice'),
    fanOut: async (events) => {
      if (fanOutFails) throw new Error('queue down');
      fannedOut.push(events);
    },
    now: () => clock.now,
    details: async (ids) =>
      new Map(ids.map((id) => [id, { description: 'rent', metadata: { unit: '4B' } }])),
  }));

/** The events one change makes, as stored. */
async function eventsOf(before: Item | null, after: Item | null): Promise<StoredEvent[]> {
  const answer = await publish(record(before, after));
  expect(answer.batchItemFailures).toEqual([]);
  return store.all();
}

beforeEach(() => {
  store = memoryEventStore();
  fannedOut = [];
  fanOutFails = false;
  handler = newHandler();
});

describe('the events of committed changes', () => {
  it('a statement line is one movement.committed of its account, at its sequence and postedAt', async () => {
    const withdrawal = line();
    const [event, ...more] = await eventsOf(null, lineItem(withdrawal));
    expect(more).toEqual([]);
    expect(event).toEqual({
      id: `movement.committed:${A}:7`,
      type: 'movement.committed',
      createdAt: T1,
      accountId: A,
      sequence: 7,
      data: entryView(withdrawal),
      ownerId: 'user-alice',
      position: expect.stringMatching(/^2026-03-01T10:10:00\.\d{3}Z#movement\.committed:/),
    });
  });

  it("a transfer is one event per side, each on its own account's feed", async () => {
    const out = line({ type: 'TRANSFER_OUT', fee: undefined, counterpartyAccountId: B });
    const into = line({
      accountId: B,
      type: 'TRANSFER_IN',
      fee: undefined,
      counterpartyAccountId: A,
      sequence: 2,
    });
    await publish(record(null, lineItem(out)), record(null, lineItem(into)));
    expect(store.all().map((e) => [e.id, e.accountId, e.ownerId])).toEqual([
      [`movement.committed:${A}:7`, A, 'user-alice'],
      [`movement.committed:${B}:2`, B, 'user-bob'],
    ]);
  });

  it("shows a movement's description and metadata, kept apart from its line", async () => {
    const [event] = await eventsOf(null, lineItem(line({ hasDetails: true })));
    expect(event?.data).toMatchObject({ description: 'rent', metadata: { unit: '4B' } });
    expect(event?.data).not.toHaveProperty('hasDetails');
  });

  it("a payout's hold, post and void are its three events; its line and its attempts none", async () => {
    const held = payout();
    const tried = payout({ attempts: 1, lastAttemptAt: T1, lastError: 'timeout' });
    const posted = payout({ ...tried, status: 'POSTED', updatedAt: T2, gatewayReference: 'g-1' });
    expect(await eventsOf(null, payoutItem(held))).toMatchObject([
      { id: `payout.held:${TXN}`, createdAt: T0, accountId: A, data: payoutView(held) },
    ]);
    expect(await eventsOf(payoutItem(held), payoutItem(tried))).toHaveLength(1);
    expect(await eventsOf(payoutItem(tried), payoutItem(posted))).toMatchObject([
      { id: `payout.held:${TXN}` },
      { id: `payout.posted:${TXN}`, createdAt: T2, sequence: null, data: payoutView(posted) },
    ]);
    expect(await eventsOf(null, lineItem(line({ type: 'PAYOUT', fee: undefined })))).toHaveLength(
      2,
    );

    store = memoryEventStore();
    const voided = payout({ status: 'VOIDED', updatedAt: T2, voidReason: 'hold expired' });
    expect(await eventsOf(payoutItem(held), payoutItem(voided))).toMatchObject([
      { id: `payout.voided:${TXN}`, createdAt: T2, data: { status: 'VOIDED' } },
    ]);
  });

  it('an account is opened once; a freeze and an unfreeze are events, each freeze its own', async () => {
    const opened = account({ version: 0, balance: 0, available: 0 });
    expect(await eventsOf(null, accountItem(opened))).toMatchObject([
      { id: `account.opened:${A}`, createdAt: T0, data: accountView(opened) },
    ]);
    const funded = account();
    const frozen = account({ frozen: true, frozenAtVersion: 3 });
    const unfrozen = account({ frozen: false, frozenAtVersion: 3 });
    const movements = await eventsOf(accountItem(opened), accountItem(funded));
    expect(movements).toHaveLength(1);
    await eventsOf(accountItem(funded), accountItem(frozen));
    await eventsOf(accountItem(frozen), accountItem(unfrozen));
    // Frozen again at the same version: a second freeze, not the first one again.
    await eventsOf(accountItem(unfrozen), accountItem(frozen));
    const events = store.all();
    expect(events.map((e) => e.type)).toEqual([
      'account.opened',
      'account.frozen',
      'account.unfrozen',
      'account.frozen',
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(4);
    expect(events[1]).toMatchObject({ createdAt: T2, data: { frozen: true }, sequence: null });
  });

  it('the withdrawal switch: paused and resumed when it flips, nothing when it stays', async () => {
    const paused = switchItem(true, T1);
    expect(await eventsOf(null, paused)).toMatchObject([
      {
        id: `withdrawals.paused:${T1}`,
        accountId: null,
        ownerId: null,
        createdAt: T1,
        data: { paused: true, changed: { by: 'ops', at: T1, reason: 'incident' } },
      },
    ]);
    const resumed = switchItem(false, T2);
    await eventsOf(paused, resumed);
    await eventsOf(resumed, switchItem(false, '2026-03-01T11:00:00.000Z'));
    expect(store.all().map((e) => e.id)).toEqual([
      `withdrawals.paused:${T1}`,
      `withdrawals.resumed:${T2}`,
    ]);
    store = memoryEventStore();
    expect(await eventsOf(null, switchItem(false, T1))).toEqual([]);
  });

  it('no event for other items, removals, or a line completed later', async () => {
    const marker = { ...markerKey(A, 'k'), transactionId: TXN };
    const pending = { ...pendingEntryKey(A, TXN), ...line({ sequence: null }) };
    const freezeRecord = { ...accountControlKey(A, T1, TXN), action: 'FREEZE', by: 'ops' };
    const withdrawal = lineItem(line());
    const records = [
      record(null, marker),
      record(null, pending),
      record(null, freezeRecord),
      record(withdrawal, { ...withdrawal, reversedBy: [{ transactionId: 'x', amount: 1 }] }),
      record(pending, null),
    ];
    const answer = await publish(...records);
    expect(answer.batchItemFailures).toEqual([]);
    expect(store.all()).toEqual([]);
    expect(fannedOut).toEqual([]);
  });
});

describe('the publisher', () => {
  it('keeps one event per change however often the stream redelivers it, and hands it on each time', async () => {
    const batch = [record(null, lineItem(line())), record(null, payoutItem(payout()))];
    await publish(...batch);
    const first = store.all();
    clock.now = new Date(clock.now.getTime() + 60_000);
    await publish(...batch);
    expect(store.all()).toEqual(first);
    expect(fannedOut.map((events) => events.map((e) => e.id))).toEqual([
      first.map((e) => e.id),
      first.map((e) => e.id),
    ]);
  });

  it('places one batch in record order, one position after the other', async () => {
    const lines = [9, 10, 11].map((sequence) => record(null, lineItem(line({ sequence }))));
    await publish(...lines);
    expect(store.all().map((e) => e.sequence)).toEqual([9, 10, 11]);
  });

  it('resumes at the first record of the write that failed, none of whose events was written', async () => {
    const records = [
      record(null, lineItem(line({ sequence: 1 }))),
      record(null, { ...markerKey(A, 'k'), transactionId: TXN }),
      record(null, lineItem(line({ sequence: 2 }))),
      record(null, lineItem(line({ sequence: 3 }))),
    ];
    store.failPuts([`movement.committed:${A}:2`]);
    const answer = await publish(...records);
    expect(answer.batchItemFailures).toEqual([
      { itemIdentifier: records[0]?.dynamodb?.SequenceNumber },
    ]);
    expect(store.all()).toEqual([]);
    expect(fannedOut.flat()).toEqual([]);

    // Lambda hands the batch again from that record: every event exists once, all handed on.
    expect((await publish(...records)).batchItemFailures).toEqual([]);
    expect(store.all().map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(fannedOut.flat().map((e) => e.sequence)).toEqual([1, 2, 3]);
    // Read again (a redelivered batch): nothing new written, everything handed on again.
    fannedOut = [];
    expect((await publish(...records)).batchItemFailures).toEqual([]);
    expect(store.all().map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(fannedOut.flat().map((e) => e.sequence)).toEqual([1, 2, 3]);
  });

  it('a failed fan-out resumes at the first event of the batch: nothing is handed on less', async () => {
    const records = [
      record(null, { ...markerKey(A, 'k'), transactionId: TXN }),
      record(null, lineItem(line({ sequence: 1 }))),
      record(null, lineItem(line({ sequence: 2 }))),
    ];
    fanOutFails = true;
    const answer = await publish(...records);
    expect(answer.batchItemFailures).toEqual([
      { itemIdentifier: records[1]?.dynamodb?.SequenceNumber },
    ]);
    expect(store.all()).toHaveLength(2);
  });
});

describe("the publisher's stream filter", () => {
  type Pattern = Record<string, unknown>;
  /** Lambda's filter semantics, the part serverless.yml uses: value lists and prefixes. */
  const matches = (pattern: unknown, value: unknown): boolean => {
    if (Array.isArray(pattern)) {
      return pattern.some((p) =>
        typeof p === 'object' && p !== null && 'prefix' in p
          ? typeof value === 'string' && value.startsWith(String(p.prefix))
          : p === value,
      );
    }
    const object = (value ?? {}) as Record<string, unknown>;
    return Object.entries(pattern as Pattern).every(([key, sub]) => matches(sub, object[key]));
  };
  const fn = readServerlessConfig().functions.dispatchPayouts as {
    handler: string;
    events: { stream: { filterPatterns: Pattern[] } }[];
  };
  const patterns = fn.events[0]?.stream.filterPatterns ?? [];
  const passesAws = (r: DynamoDBRecord) => patterns.some((pattern) => matches(pattern, r));

  it("says what serverless.yml's filters on the outbox reader say, record for record", () => {
    const opened = accountItem(account({ version: 0 }));
    const funded = accountItem(account());
    const frozen = accountItem(account({ frozen: true, frozenAtVersion: 3 }));
    const records = [
      record(null, lineItem(line())),
      record(lineItem(line()), { ...lineItem(line()), reversedBy: [] }),
      record(null, payoutItem(payout())),
      record(payoutItem(payout()), payoutItem(payout({ status: 'POSTED' }))),
      record(null, opened),
      record(opened, funded),
      record(funded, frozen),
      record(frozen, { ...frozen, balance: 1 }),
      record(null, switchItem(true, T1)),
      record(switchItem(true, T1), switchItem(false, T2)),
      record(null, { ...markerKey(A, 'k'), transactionId: TXN }),
      record(null, { ...pendingEntryKey(A, TXN), ...line({ sequence: null }) }),
      record(lineItem(line()), null),
    ];
    expect(fn.handler).toBe('handlers/outbox.handler');
    expect(records.map(isEventSource)).toEqual(records.map(passesAws));
    expect(records.map(isEventSource)).toEqual([
      true,
      false,
      true,
      true,
      true,
      false,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
