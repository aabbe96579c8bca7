import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DETAILS_BOUNDS } from '../../lib/domain/details';
import type { MovementWrite, StatementLine } from '../../lib/domain/ports';
import { detailsMarkOf, ledgerEntry, type LastMovement, type Payout } from '../../lib/domain/types';
import { dynamoLedgerStore } from '../../lib/persistence/dynamodb-store';
import { itemSizeBytes } from '../../lib/persistence/item-size';
import { markerKey, pendingEntryKey, statementLineKey } from '../../lib/persistence/keys';

const ddb = mockClient(DynamoDBDocumentClient);
const store = dynamoLedgerStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  'ledger',
);
afterEach(() => ddb.reset());

// The largest values the API accepts, so the sizes below are upper bounds. DynamoDB bills a
// number by its significant digits: 999,999,999,999 is the largest amount (10^12 bills 2 bytes),
// and a fee, flat (up to 10^12) plus a share of the amount (up to all of it), has up to 13.
const LARGEST_FEE = 1_999_999_999_999;
const longestKey = '~'.repeat(255);
const longestOwner = 'o'.repeat(128);
const movement: MovementWrite = {
  transactionId: '01JTRANSACTION000000000000',
  accountId: '01JACCOUNT0000000000000000',
  type: 'WITHDRAWAL',
  amount: 999_999_999_999,
  idempotencyKey: longestKey,
  requestHash: 'h'.repeat(43),
  createdAt: '2026-11-24T10:00:00.000Z',
  expiresAt: 1_800_000_000,
  account: {
    accountId: '01JACCOUNT0000000000000000',
    effect: 'debit',
    frozenBlocks: true,
    requiredOwnerId: longestOwner,
    currency: 'USD',
  },
};

async function transactItems() {
  ddb.on(TransactWriteCommand).resolves({});
  await store.writeMovement(movement);
  const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
  expect(items).toHaveLength(3);
  return items;
}

describe('key layout of a withdrawal', () => {
  it('puts the account item alone on its partition key, the ledger entry under its own, and the marker apart', async () => {
    const [account, entry, marker] = await transactItems();

    expect(account?.Update?.Key).toEqual({ pk: `ACCOUNT#${movement.accountId}`, sk: 'ACCOUNT' });
    expect(entry?.Put?.Item).toEqual(
      expect.objectContaining({
        pk: `PENDING#${movement.accountId}#0`,
        sk: movement.transactionId,
      }),
    );
    expect(marker?.Put?.Item?.pk).toMatch(
      new RegExp(`^MARKER#${movement.accountId}#[A-Za-z0-9_-]{43}$`),
    );
    const partitions = new Set([
      account?.Update?.Key?.pk,
      entry?.Put?.Item?.pk,
      marker?.Put?.Item?.pk,
    ]);
    expect(partitions.size).toBe(3);
  });

  it('spreads pending entries over two partition keys, apart from the statement', () => {
    const ids = Array.from(
      { length: 64 },
      (_, i) => `01JTRANSACTION0000000000${'0123456789ABCDEFGHJKMNPQRSTVWXYZ'[i % 32]}${i % 10}`,
    );
    const partitions = ids.map((id) => pendingEntryKey(movement.accountId, id).pk);
    expect(new Set(partitions)).toEqual(
      new Set([`PENDING#${movement.accountId}#0`, `PENDING#${movement.accountId}#1`]),
    );
    expect(statementLineKey(movement.accountId, 7)).toEqual({
      pk: `LEDGER#${movement.accountId}`,
      sk: 'L#000000000000007',
    });
  });

  it('spreads markers: each key of one account gets its own partition key', () => {
    const keys = Array.from(
      { length: 100 },
      (_, i) => markerKey(movement.accountId, `key-${i}`).pk,
    );
    expect(new Set(keys).size).toBe(100);
  });
});

describe('item sizes on the money path (each under 1 KB, so each costs the minimum units)', () => {
  // The details at their bounds (lib/domain/details.ts), the description in 4-byte characters.
  const details = {
    reference: `~${' '.repeat(DETAILS_BOUNDS.referenceLength - 2)}~`,
    description: '\u{1F4B8}'.repeat(DETAILS_BOUNDS.descriptionLength),
    metadata: Object.fromEntries(
      Array.from({ length: DETAILS_BOUNDS.metadataEntries }, (_, i) => [
        `${i}`.padEnd(DETAILS_BOUNDS.metadataKeyLength, 'k'),
        '~'.repeat(DETAILS_BOUNDS.metadataValueLength),
      ]),
    ),
  };
  const longestDestination = 'd'.repeat(128);
  const counterparty = {
    accountId: '01JCOUNTERPARTY00000000000',
    effect: 'credit' as const,
    frozenBlocks: false,
    currency: 'USD',
  };
  const transfer: MovementWrite = {
    ...movement,
    type: 'TRANSFER_OUT',
    details,
    counterparty: { ...counterparty, type: 'TRANSFER_IN' },
  };
  const withdrawal: MovementWrite = { ...movement, fee: LARGEST_FEE, details };
  const payout: Payout = {
    transactionId: movement.transactionId,
    accountId: movement.accountId,
    amount: movement.amount,
    currency: 'USD',
    fee: LARGEST_FEE,
    destination: longestDestination,
    status: 'PENDING',
    idempotencyKey: longestKey,
    createdAt: movement.createdAt,
    updatedAt: movement.createdAt,
    holdExpiresAt: movement.createdAt,
    attempts: 0,
    ...detailsMarkOf(details),
  };
  const hold: MovementWrite = {
    ...movement,
    type: 'PAYOUT',
    fee: LARGEST_FEE,
    account: { ...movement.account, effect: 'hold' },
    details,
    payout,
  };
  // A reversal carries no details (its route takes none); the largest is a transfer's, which has
  // a counterparty on both sides, names the longest type it reverses and may go below zero.
  const reversal: MovementWrite = {
    ...movement,
    type: 'REVERSAL_IN',
    account: { ...movement.account, effect: 'credit', allowNegative: true },
    counterparty: { ...counterparty, effect: 'debit', allowNegative: true, type: 'REVERSAL_OUT' },
    reversal: {
      reversalOf: '01JREVERSED000000000000000',
      reversedType: 'TRANSFER_OUT',
      counterpartyReversedType: 'TRANSFER_IN',
      reason: 'r'.repeat(500),
      originalAmount: movement.amount,
      negativeAllowed: true,
    },
  };

  /** The items of one movement's transaction, as the adapter writes them. */
  async function itemsOf(write: MovementWrite) {
    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
    await store.writeMovement(write);
    return ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
  }

  /** Every `lastMovement` the adapters set: each side of each movement, and a posted payout. */
  async function lastMovements(): Promise<LastMovement[]> {
    const updates = [];
    for (const write of [transfer, withdrawal, reversal]) {
      const items = await itemsOf(write);
      updates.push(...items.filter((item) => item.Update?.Key?.sk === 'ACCOUNT'));
    }
    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
    await store.resolvePayout(payout, { status: 'POSTED', gatewayReference: 'g', at: 'now' });
    const [, posted] = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    updates.push(posted);
    return updates.map(
      (item) => item?.Update?.ExpressionAttributeValues?.[':last'] as LastMovement,
    );
  }

  /** An account item as it stands after an update setting `last`: every attribute at its largest. */
  const accountItem = (last: unknown) =>
    marshall({
      pk: `ACCOUNT#${movement.accountId}`,
      sk: 'ACCOUNT',
      accountId: movement.accountId,
      ownerId: longestOwner,
      currency: 'USD',
      balance: Number.MAX_SAFE_INTEGER,
      available: Number.MAX_SAFE_INTEGER,
      pending: Number.MAX_SAFE_INTEGER,
      version: Number.MAX_SAFE_INTEGER,
      createdAt: movement.createdAt,
      updatedAt: movement.createdAt,
      frozen: true,
      frozenAtVersion: Number.MAX_SAFE_INTEGER,
      termsVersion: Number.MAX_SAFE_INTEGER,
      lastMovement: last,
    });

  /**
   * The worst account item is a posted payout's. With a 64-character reference and no fees it was
   * 1,007 bytes; fees add 5 to the amount's worst (999,999,999,999 bills 7 bytes, 10^12 only 2),
   * 3 + 8 for `fee` and 10 + 9 for `feeVersion`: 1,043 with a 64-character reference, past 1 KB.
   * So the reference's bound is 36 (a UUID; ISO 20022's references are at most 35): 1,015 bytes.
   * Limits (issue 20) share the fees' version, renamed `termsVersion` (2 bytes more): 1,017,
   * 7 under 1 KB. A reversal's is smaller: its counterparty, what it reverses and
   * `negativeAllowed` weigh less than a destination, a reference, `hasDetails` and a fee.
   */
  it('keeps the largest possible account item under 1 KB, after any movement with its details at their bounds', async () => {
    const lasts = await lastMovements();
    const sizes = lasts.map((last) => itemSizeBytes(accountItem(last)));

    expect(lasts.map((last) => last.type)).toEqual([
      'TRANSFER_OUT',
      'TRANSFER_IN',
      'WITHDRAWAL',
      'REVERSAL_IN',
      'REVERSAL_OUT',
      'PAYOUT',
    ]);
    for (const last of [lasts[0], lasts[1], lasts[2], lasts[5]]) {
      expect(last).toMatchObject({ reference: details.reference, hasDetails: true });
    }
    expect(lasts[2]).toMatchObject({ fee: LARGEST_FEE });
    expect(lasts[5]).toMatchObject({ fee: LARGEST_FEE, destination: longestDestination });
    expect(lasts[3]).toMatchObject({
      counterpartyAccountId: counterparty.accountId,
      reversalOf: reversal.reversal?.reversalOf,
      reversedType: 'TRANSFER_OUT',
      negativeAllowed: true,
    });
    expect(Math.max(...sizes)).toBe(sizes[5]);
    expect(sizes[5]).toBe(1_017);
    for (const size of sizes) expect(size).toBeLessThan(1024);
  });

  // With them the account item would take about 1,900 bytes: 4 WCU a movement instead of 2.
  it('would not fit the description and metadata on the account item: they sit in an item of their own', async () => {
    // The posted payout's last movement, as the adapter sets it, with them too.
    const last = { ...(await lastMovements())[5], ...details };
    const [, , , , detailsItem] = await itemsOf(transfer);
    expect(itemSizeBytes(accountItem(last))).toBeGreaterThan(1024);
    expect(detailsItem?.Put?.Item).toEqual({
      pk: `DETAILS#${movement.transactionId}`,
      sk: 'DETAILS',
      transactionId: movement.transactionId,
      description: details.description,
      metadata: details.metadata,
    });
    expect(itemSizeBytes(marshall(detailsItem?.Put?.Item ?? {}))).toBeLessThan(1024);
  });

  it('keeps the largest possible pending ledger entries, payout record and marker under 1 KB', async () => {
    const [, , ownEntry, otherEntry] = await itemsOf(transfer);
    const [, withdrawalEntry, , withdrawalMarker] = await itemsOf(withdrawal);
    const [, holdEntry, payoutRecord, , holdMarker] = await itemsOf(hold);
    const [, , reversalEntry, otherReversalEntry] = await itemsOf(reversal);
    const puts = [ownEntry, otherEntry, withdrawalEntry, holdEntry, payoutRecord];
    const sizes = [...puts, reversalEntry, otherReversalEntry].map((item) =>
      itemSizeBytes(marshall(item?.Put?.Item ?? {})),
    );
    const markerSizes = [withdrawalMarker, holdMarker].map((marker) =>
      itemSizeBytes(
        marshall({
          ...marker?.Put?.Item,
          balanceAfter: Number.MAX_SAFE_INTEGER,
          sequence: 2 ** 40,
        }),
      ),
    );
    expect(holdEntry?.Put?.Item).toMatchObject({
      destination: longestDestination,
      fee: LARGEST_FEE,
      hasDetails: true,
    });
    expect(payoutRecord?.Put?.Item).toMatchObject({ fee: LARGEST_FEE, hasDetails: true });
    for (const marker of [withdrawalMarker, holdMarker]) {
      expect(marker?.Put?.Item).toMatchObject({ outcome: 'COMMITTED', fee: LARGEST_FEE });
    }
    expect(reversalEntry?.Put?.Item).toMatchObject({
      reversedType: 'TRANSFER_OUT',
      negativeAllowed: true,
    });
    for (const size of [...sizes, ...markerSizes]) expect(size).toBeLessThan(1024);
    expect(Math.min(...sizes)).toBeGreaterThan(255);
  });

  it('keeps the largest possible statement line under 1 KB, with its references index key', async () => {
    const place = { balanceAfter: Number.MAX_SAFE_INTEGER, sequence: 2 ** 40 };
    const lines = (await lastMovements()).map(
      (last): StatementLine => ({
        ...ledgerEntry(last, { accountId: movement.accountId, currency: 'USD' }, place),
        ...place,
      }),
    );
    ddb.reset();
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    await store.writeStatementLines(lines, movement.createdAt);
    const items = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item ?? {});

    expect(items).toHaveLength(6);
    expect(items[5]).toMatchObject({
      referenceKey: `${movement.accountId}#${details.reference}`,
      destination: longestDestination,
      fee: LARGEST_FEE,
    });
    for (const item of items) expect(itemSizeBytes(marshall(item))).toBeLessThan(1024);
  });
});

describe('itemSizeBytes', () => {
  it('counts attribute names and UTF-8 value bytes', () => {
    expect(itemSizeBytes({ ab: { S: 'héllo' } })).toBe(2 + 6);
    expect(itemSizeBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(itemSizeBytes({ m: { M: { k: { S: 'v' } } } })).toBe(1 + 3 + (1 + 1 + 1));
  });
});
