import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DETAILS_BOUNDS } from '../../lib/domain/details';
import type { MovementWrite } from '../../lib/domain/ports';
import { detailsMarkOf, type Payout } from '../../lib/domain/types';
import { dynamoLedgerStore } from '../../lib/persistence/dynamodb-store';
import { itemSizeBytes } from '../../lib/persistence/item-size';
import {
  markerKey,
  pendingEntryKey,
  referenceIndexAttributes,
  statementLineKey,
} from '../../lib/persistence/keys';

const ddb = mockClient(DynamoDBDocumentClient);
const store = dynamoLedgerStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  'ledger',
);
afterEach(() => ddb.reset());

// The largest values the API accepts, so the sizes below are upper bounds.
const longestKey = '~'.repeat(255);
const longestOwner = 'o'.repeat(128);
const movement: MovementWrite = {
  transactionId: '01JTRANSACTION000000000000',
  accountId: '01JACCOUNT0000000000000000',
  type: 'WITHDRAWAL',
  amount: 1_000_000_000_000,
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
  const transfer: MovementWrite = {
    ...movement,
    type: 'TRANSFER_OUT',
    details,
    counterparty: {
      accountId: '01JCOUNTERPARTY00000000000',
      effect: 'credit',
      frozenBlocks: false,
      currency: 'USD',
      type: 'TRANSFER_IN',
    },
  };
  const payout: Payout = {
    transactionId: movement.transactionId,
    accountId: movement.accountId,
    amount: movement.amount,
    currency: 'USD',
    destination: longestDestination,
    status: 'PENDING',
    idempotencyKey: longestKey,
    createdAt: movement.createdAt,
    updatedAt: movement.createdAt,
    holdExpiresAt: movement.createdAt,
    attempts: 0,
    ...detailsMarkOf(details),
  };

  /** The items of one movement's transaction, as the adapter writes them. */
  async function itemsOf(write: MovementWrite) {
    ddb.on(TransactWriteCommand).resolves({});
    await store.writeMovement(write);
    return ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
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
      lastMovement: last,
    });

  it('keeps the largest possible account item under 1 KB, after any movement with its details at their bounds', async () => {
    const [own, other] = await itemsOf(transfer);
    ddb.reset();
    const [withdrawal] = await itemsOf({ ...movement, details });
    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
    await store.resolvePayout(payout, { status: 'POSTED', gatewayReference: 'g', at: 'now' });
    const [, posted] = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    const lasts = [own, other, withdrawal, posted].map(
      (item) => item?.Update?.ExpressionAttributeValues?.[':last'] as Record<string, unknown>,
    );
    // The posted payout's is the largest (its destination): 1,007 bytes, 921 without details.
    for (const last of lasts) {
      expect(last).toMatchObject({ reference: details.reference, hasDetails: true });
      expect(itemSizeBytes(accountItem(last))).toBeLessThan(1024);
    }
  });

  // With them the account item would take 1,896 bytes: 4 WCU a movement instead of 2.
  it('would not fit the description and metadata on the account item: they sit in an item of their own', async () => {
    const [, , , , detailsItem] = await itemsOf(transfer);
    const last = { ...posted(payout), ...details };
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
    const [, , ownEntry, otherEntry, , marker] = await itemsOf(transfer);
    ddb.reset();
    const [, holdEntry, payoutRecord] = await itemsOf({
      ...movement,
      type: 'PAYOUT',
      account: { ...movement.account, effect: 'hold' },
      details,
      payout,
    });
    const sizes = [ownEntry, otherEntry, holdEntry, payoutRecord].map((item) =>
      itemSizeBytes(marshall(item?.Put?.Item ?? {})),
    );
    const markerSize = itemSizeBytes(
      marshall({ ...marker?.Put?.Item, balanceAfter: Number.MAX_SAFE_INTEGER, sequence: 2 ** 40 }),
    );
    expect(holdEntry?.Put?.Item).toMatchObject({
      destination: longestDestination,
      hasDetails: true,
    });
    for (const size of [...sizes, markerSize]) expect(size).toBeLessThan(1024);
    expect(Math.min(...sizes)).toBeGreaterThan(255);
  });

  it('keeps the largest possible statement line under 1 KB, with its references index key', () => {
    const line = {
      ...statementLineKey(movement.accountId, 2 ** 40),
      transactionId: movement.transactionId,
      accountId: movement.accountId,
      type: 'PAYOUT',
      amount: movement.amount,
      currency: 'USD',
      balanceAfter: Number.MAX_SAFE_INTEGER,
      sequence: 2 ** 40,
      idempotencyKey: longestKey,
      createdAt: movement.createdAt,
      status: 'POSTED',
      destination: longestDestination,
      ...detailsMarkOf(details),
      sequencedAt: movement.createdAt,
    };
    const item = { ...line, ...referenceIndexAttributes(line) };
    expect(item.referenceKey).toBe(`${movement.accountId}#${details.reference}`);
    expect(itemSizeBytes(marshall(item))).toBeLessThan(1024);
  });
});

/** The last movement a payout's posting records, as payout-store.ts builds it. */
function posted(payout: Payout) {
  return {
    transactionId: payout.transactionId,
    type: 'PAYOUT',
    amount: payout.amount,
    idempotencyKey: payout.idempotencyKey,
    createdAt: payout.createdAt,
    status: 'POSTED',
    destination: payout.destination,
    ...detailsMarkOf(payout),
  };
}

describe('itemSizeBytes', () => {
  it('counts attribute names and UTF-8 value bytes', () => {
    expect(itemSizeBytes({ ab: { S: 'héllo' } })).toBe(2 + 6);
    expect(itemSizeBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(itemSizeBytes({ m: { M: { k: { S: 'v' } } } })).toBe(1 + 3 + (1 + 1 + 1));
  });
});
