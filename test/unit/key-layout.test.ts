import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { MovementWrite } from '../../lib/domain/ports';
import { dynamoLedgerStore } from '../../lib/persistence/dynamodb-store';
import { itemSizeBytes } from '../../lib/persistence/item-size';
import { markerKey, pendingEntryKey, statementLineKey } from '../../lib/persistence/keys';

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
  it('keeps the largest possible account item under 1 KB', async () => {
    const [account] = await transactItems();
    const values = account?.Update?.ExpressionAttributeValues ?? {};
    // The account as it stands after the update: its static attributes plus what the update sets.
    const item = {
      pk: `ACCOUNT#${movement.accountId}`,
      sk: 'ACCOUNT',
      accountId: movement.accountId,
      ownerId: longestOwner,
      balance: Number.MAX_SAFE_INTEGER,
      version: Number.MAX_SAFE_INTEGER,
      createdAt: movement.createdAt,
      updatedAt: values[':now'],
      lastMovement: values[':last'],
    };
    const size = itemSizeBytes(marshall(item));
    expect(size).toBeLessThan(1024);
  });

  it('keeps the largest possible pending ledger entry and marker under 1 KB', async () => {
    const [, entry, marker] = await transactItems();
    const entrySize = itemSizeBytes(marshall(entry?.Put?.Item ?? {}));
    const markerSize = itemSizeBytes(
      marshall({ ...marker?.Put?.Item, balanceAfter: Number.MAX_SAFE_INTEGER, sequence: 2 ** 40 }),
    );
    expect(entrySize).toBeGreaterThan(255);
    expect(entrySize).toBeLessThan(1024);
    expect(markerSize).toBeLessThan(1024);
  });

  it('keeps the largest possible statement line under 1 KB', () => {
    const line = {
      pk: `LEDGER#${movement.accountId}`,
      sk: 'L#000000000000001',
      transactionId: movement.transactionId,
      accountId: movement.accountId,
      type: 'WITHDRAWAL',
      amount: movement.amount,
      balanceAfter: Number.MAX_SAFE_INTEGER,
      sequence: 2 ** 40,
      idempotencyKey: longestKey,
      createdAt: movement.createdAt,
    };
    expect(itemSizeBytes(marshall(line))).toBeLessThan(1024);
  });
});

describe('itemSizeBytes', () => {
  it('counts attribute names and UTF-8 value bytes', () => {
    expect(itemSizeBytes({ ab: { S: 'héllo' } })).toBe(2 + 6);
    expect(itemSizeBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(itemSizeBytes({ m: { M: { k: { S: 'v' } } } })).toBe(1 + 3 + (1 + 1 + 1));
  });
});
