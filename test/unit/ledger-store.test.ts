import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { TransientStoreError, type MovementWrite } from '../../lib/domain/ports';
import { dynamoLedgerStore } from '../../lib/persistence/dynamodb-store';
import { accountKey, markerKey, pendingEntryKey } from '../../lib/persistence/keys';

const TABLE = 'ledger-test';
const ddb = mockClient(DynamoDBDocumentClient);
const store = dynamoLedgerStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  TABLE,
);

const withdrawal: MovementWrite = {
  transactionId: '01JTESTTRANSACTION00000000',
  accountId: '01JTESTACCOUNT000000000000',
  type: 'WITHDRAWAL',
  amount: 500,
  idempotencyKey: 'key-1',
  requestHash: 'hash-1',
  createdAt: '2026-11-24T10:00:00.000Z',
  expiresAt: 1_800_000_000,
  account: {
    accountId: '01JTESTACCOUNT000000000000',
    effect: 'debit',
    frozenBlocks: true,
    requiredOwnerId: 'user-alice',
  },
};

const account = {
  ...accountKey(withdrawal.accountId),
  accountId: withdrawal.accountId,
  ownerId: 'user-alice',
  currency: 'USD',
  balance: 100,
  version: 3,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
};

function cancelled(reasons: CancellationReason[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: reasons,
  });
}

afterEach(() => ddb.reset());

describe('LedgerStore.writeMovement', () => {
  it('sends one transaction: the conditional account update, the pending entry and the marker', async () => {
    ddb.on(TransactWriteCommand).resolves({});

    await expect(
      store.writeMovement({ ...withdrawal, account: { ...withdrawal.account, currency: 'USD' } }),
    ).resolves.toEqual({
      committed: true,
    });

    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: [
        {
          Update: {
            TableName: TABLE,
            Key: accountKey(withdrawal.accountId),
            UpdateExpression:
              'SET balance = balance - :amount, available = available - :amount, version = version + :one, updatedAt = :now, lastMovement = :last',
            ConditionExpression:
              'attribute_exists(pk) AND available >= :amount AND (attribute_not_exists(frozen) OR frozen = :false) AND ownerId = :owner AND currency = :currency',
            ExpressionAttributeValues: {
              ':amount': 500,
              ':false': false,
              ':one': 1,
              ':now': withdrawal.createdAt,
              ':currency': 'USD',
              ':owner': 'user-alice',
              ':last': {
                transactionId: withdrawal.transactionId,
                type: 'WITHDRAWAL',
                amount: 500,
                idempotencyKey: 'key-1',
                createdAt: withdrawal.createdAt,
              },
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: TABLE,
            Item: {
              ...pendingEntryKey(withdrawal.accountId, withdrawal.transactionId),
              transactionId: withdrawal.transactionId,
              accountId: withdrawal.accountId,
              type: 'WITHDRAWAL',
              amount: 500,
              idempotencyKey: 'key-1',
              createdAt: withdrawal.createdAt,
            },
          },
        },
        {
          Put: {
            TableName: TABLE,
            Item: {
              ...markerKey(withdrawal.accountId, 'key-1'),
              outcome: 'COMMITTED',
              accountId: withdrawal.accountId,
              idempotencyKey: 'key-1',
              requestHash: 'hash-1',
              createdAt: withdrawal.createdAt,
              transactionId: withdrawal.transactionId,
              type: 'WITHDRAWAL',
              amount: 500,
              expiresAt: 1_800_000_000,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
    });
  });

  it('guards a deposit against a balance above Number.MAX_SAFE_INTEGER instead of checking funds', async () => {
    ddb.on(TransactWriteCommand).resolves({});

    await store.writeMovement({
      ...withdrawal,
      type: 'DEPOSIT',
      account: { accountId: withdrawal.accountId, effect: 'credit', frozenBlocks: false },
    });

    const input = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input;
    const update = input?.TransactItems?.[0]?.Update;
    expect(update?.UpdateExpression).toContain(
      'SET balance = balance + :amount, available = available + :amount',
    );
    expect(update?.ConditionExpression).toBe('attribute_exists(pk) AND balance <= :ceiling');
    expect(update?.ExpressionAttributeValues?.[':ceiling']).toBe(Number.MAX_SAFE_INTEGER - 500);
  });

  it('reports a refused account condition with the account as it was', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled([
          { Code: 'ConditionalCheckFailed', Item: marshall(account) },
          { Code: 'None' },
          { Code: 'None' },
        ]),
      );

    const result = await store.writeMovement(withdrawal);

    expect(result).toEqual({
      committed: false,
      accountRefused: true,
      account: expect.objectContaining({
        accountId: withdrawal.accountId,
        balance: 100,
        ownerId: 'user-alice',
      }),
      counterpartyRefused: false,
      counterparty: null,
      existingMarker: null,
    });
  });

  it('reports a missing account as a refused condition with no account', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled([{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'None' }]));

    await expect(store.writeMovement(withdrawal)).resolves.toEqual({
      committed: false,
      accountRefused: true,
      account: null,
      counterpartyRefused: false,
      counterparty: null,
      existingMarker: null,
    });
  });

  it('reports an existing marker with its recorded outcome', async () => {
    const marker = {
      ...markerKey(withdrawal.accountId, 'key-1'),
      outcome: 'COMMITTED',
      accountId: withdrawal.accountId,
      idempotencyKey: 'key-1',
      requestHash: 'hash-1',
      createdAt: withdrawal.createdAt,
      transactionId: 'OTHER',
      type: 'WITHDRAWAL',
      amount: 500,
      expiresAt: 1,
    };
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled([
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshall(marker) },
        ]),
      );

    const result = await store.writeMovement(withdrawal);

    expect(result).toEqual({
      committed: false,
      accountRefused: false,
      account: null,
      counterpartyRefused: false,
      counterparty: null,
      existingMarker: expect.objectContaining({
        outcome: 'COMMITTED',
        transactionId: 'OTHER',
        requestHash: 'hash-1',
      }),
    });
  });

  it('reports both a refused account and an existing marker from one cancellation', async () => {
    const marker = {
      ...markerKey(withdrawal.accountId, 'key-1'),
      transactionId: 'FIRST',
      expiresAt: 1,
    };
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled([
          { Code: 'ConditionalCheckFailed', Item: marshall({ ...account, balance: 0 }) },
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshall(marker) },
        ]),
      );

    const result = await store.writeMovement(withdrawal);

    expect(result).toMatchObject({
      accountRefused: true,
      account: { balance: 0 },
      existingMarker: { transactionId: 'FIRST' },
    });
    expect(result).not.toHaveProperty('existingMarker.expiresAt');
  });

  it("reads a transfer's credited account from the second reason, and the marker from the last", async () => {
    const transfer: MovementWrite = {
      ...withdrawal,
      type: 'TRANSFER_OUT',
      counterparty: {
        accountId: '01JTESTCOUNTERPARTY0000000',
        effect: 'credit',
        frozenBlocks: false,
        type: 'TRANSFER_IN',
      },
    };
    const credited = { ...account, accountId: '01JTESTCOUNTERPARTY0000000', currency: 'EUR' };
    // The account, the counterparty, two pending entries, the marker.
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled([
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshall(credited) },
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'None' },
        ]),
      );

    await expect(store.writeMovement(transfer)).resolves.toEqual({
      committed: false,
      accountRefused: false,
      account: null,
      counterpartyRefused: true,
      counterparty: expect.objectContaining({ accountId: credited.accountId, currency: 'EUR' }),
      existingMarker: null,
    });
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems;
    expect(items).toHaveLength(5);
    expect(items?.[4]?.Put?.Item).toMatchObject({ outcome: 'COMMITTED' });
  });

  it.each([
    [
      'a TransactionConflict reason',
      'conflict',
      cancelled([{ Code: 'TransactionConflict' }, { Code: 'None' }, { Code: 'None' }]),
    ],
    [
      'a throttled item',
      'throttled',
      cancelled([{ Code: 'ThrottlingError' }, { Code: 'None' }, { Code: 'None' }]),
    ],
    [
      'ThrottlingException',
      'throttled',
      Object.assign(new Error('slow down'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    ],
    [
      'ProvisionedThroughputExceededException',
      'throttled',
      Object.assign(new Error('slow down'), {
        name: 'ProvisionedThroughputExceededException',
        $metadata: {},
      }),
    ],
    [
      'a DynamoDB 500',
      'unavailable',
      Object.assign(new Error('boom'), {
        name: 'InternalServerError',
        $metadata: { httpStatusCode: 500 },
      }),
    ],
    [
      'a connection reset',
      'unavailable',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    ],
    [
      'TransactionInProgressException',
      'conflict',
      Object.assign(new Error('in progress'), { name: 'TransactionInProgressException' }),
    ],
  ])('turns %s into a transient store error (%s)', async (_name, kind, error) => {
    ddb.on(TransactWriteCommand).rejects(error);

    const failure = await store.writeMovement(withdrawal).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(TransientStoreError);
    expect((failure as TransientStoreError).kind).toBe(kind);
  });

  it('rethrows a cancellation with no condition of ours failing, rather than calling it a refusal', async () => {
    const odd = cancelled([{ Code: 'ValidationError' }, { Code: 'None' }, { Code: 'None' }]);
    ddb.on(TransactWriteCommand).rejects(odd);

    await expect(store.writeMovement(withdrawal)).rejects.toBe(odd);
  });
});

describe('LedgerStore reads', () => {
  it('reads an account with a strongly consistent GetItem', async () => {
    ddb.on(GetCommand).resolves({ Item: account });

    const read = await store.getAccount(withdrawal.accountId);

    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE,
      Key: accountKey(withdrawal.accountId),
      ConsistentRead: true,
    });
    expect(read).toEqual(expect.objectContaining({ balance: 100 }));
    expect(read).not.toHaveProperty('pk');
  });

  it('queries history strongly consistent, newest first, one row beyond the page to know if more exist', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    await store.listStatement(withdrawal.accountId, 20, 41);

    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lower AND :upper',
      ExpressionAttributeValues: {
        ':pk': `LEDGER#${withdrawal.accountId}`,
        ':lower': 'L#',
        ':upper': 'L#000000000000040',
      },
      ConsistentRead: true,
      ScanIndexForward: false,
      Limit: 21,
    });
  });
});

describe('LedgerStore.recordRefusal', () => {
  const refusal = {
    outcome: 'REFUSED' as const,
    accountId: withdrawal.accountId,
    idempotencyKey: 'key-1',
    requestHash: 'hash-1',
    createdAt: withdrawal.createdAt,
    status: 409,
    error: { code: 'INSUFFICIENT_FUNDS' as const, message: 'no', requestId: 'req-1' },
  };

  it('puts the refusal only if the key has no outcome yet', async () => {
    ddb.on(PutCommand).resolves({});

    await expect(store.recordRefusal(refusal, 123)).resolves.toEqual({ recorded: true });

    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: TABLE,
      Item: { ...markerKey(withdrawal.accountId, 'key-1'), ...refusal, expiresAt: 123 },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('returns the outcome that got there first when the key is taken', async () => {
    const winner = {
      ...markerKey(withdrawal.accountId, 'key-1'),
      outcome: 'COMMITTED',
      transactionId: 'T1',
      requestHash: 'hash-1',
    };
    ddb.on(PutCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'taken',
        $metadata: {},
        Item: marshall(winner),
      }),
    );

    await expect(store.recordRefusal(refusal, 123)).resolves.toEqual({
      recorded: false,
      existing: expect.objectContaining({ outcome: 'COMMITTED', transactionId: 'T1' }),
    });
  });
});

describe('LedgerStore.setFrozen', () => {
  it('reports a freeze cancelled by a conflicting transaction as a transient conflict', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled([{ Code: 'TransactionConflict' }, { Code: 'None' }]));

    const failure = await store
      .setFrozen(withdrawal.accountId, true, { id: 'c1', by: 'ops', at: 'now', reason: 'incident' })
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(TransientStoreError);
    expect((failure as TransientStoreError).kind).toBe('conflict');
  });

  it('answers null for an account that does not exist', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled([{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }]));

    await expect(
      store.setFrozen(withdrawal.accountId, true, {
        id: 'c1',
        by: 'ops',
        at: 'now',
        reason: 'incident',
      }),
    ).resolves.toBeNull();
  });
});
