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
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  deposit,
  requestHash,
  withdraw,
  type MovementDeps,
  type MovementRequest,
} from '../../lib/domain/movements';
import { ReplayedRefusalError } from '../../lib/domain/errors';
import { dynamoLedgerStore } from '../../lib/persistence/dynamodb-store';
import { noMetrics } from '../../lib/metrics';
import { accountKey, markerKey } from '../../lib/persistence/keys';
import { failureOf } from '../support/failure';

const ddb = mockClient(DynamoDBDocumentClient);
const ACCOUNT_ID = '01JACCOUNT0000000000000000';
const TX_ID = '01JTRANSACTION000000000000';
const alice = { userId: 'user-alice', username: 'alice', isOperator: false };
const ops = { userId: 'user-ops', username: 'ops', isOperator: true };

const deps: MovementDeps = {
  store: dynamoLedgerStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    'ledger',
  ),
  logger: new Logger({ logLevel: 'SILENT' }),
  newId: () => TX_ID,
  now: () => new Date('2026-11-24T10:00:00.000Z'),
  idempotencyTtlSeconds: 86_400,
  sleep: async () => undefined,
  withdrawalSwitch: { isPaused: async () => false, cacheMs: 5000 },
  metrics: noMetrics,
};

const request: MovementRequest = {
  caller: alice,
  accountId: ACCOUNT_ID,
  amount: 500,
  idempotencyKey: 'key-1',
  requestId: 'req-1',
};

const accountItem = (balance: number, extra: Record<string, unknown> = {}) => ({
  ...accountKey(ACCOUNT_ID),
  accountId: ACCOUNT_ID,
  ownerId: 'user-alice',
  currency: 'USD',
  balance,
  available: balance,
  pending: 0,
  version: 7,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-24T10:00:00.000Z',
  ...extra,
});

const lastMovement = (transactionId: string) => ({
  transactionId,
  type: 'WITHDRAWAL',
  amount: 500,
  idempotencyKey: 'key-1',
  createdAt: '2026-11-24T10:00:00.000Z',
});

function cancelled(account: CancellationReason, marker: CancellationReason = { Code: 'None' }) {
  return new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: [account, { Code: 'None' }, marker],
  });
}

const committedMarker = (transactionId: string, hash = requestHash('WITHDRAWAL', request)) => ({
  ...markerKey(ACCOUNT_ID, 'key-1'),
  outcome: 'COMMITTED',
  accountId: ACCOUNT_ID,
  idempotencyKey: 'key-1',
  requestHash: hash,
  createdAt: '2026-11-24T09:59:00.000Z',
  transactionId,
  type: 'WITHDRAWAL',
  amount: 500,
  expiresAt: 1,
});

afterEach(() => ddb.reset());

describe('withdraw', () => {
  it('commits in one transaction, then reads the account consistently for the exact new balance', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb
      .on(GetCommand)
      .resolves({ Item: accountItem(1500, { version: 8, lastMovement: lastMovement(TX_ID) }) });

    const result = await withdraw(deps, request);

    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: accountKey(ACCOUNT_ID),
      ConsistentRead: true,
    });
    expect(result).toEqual({
      replayed: false,
      balance: 1500,
      available: 1500,
      pending: 0,
      transaction: expect.objectContaining({
        transactionId: TX_ID,
        type: 'WITHDRAWAL',
        amount: 500,
        currency: 'USD',
        balanceAfter: 1500,
        sequence: 8,
      }),
    });
  });

  it('leaves balanceAfter null (pending) when another movement committed right after it, never guessing', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({
      Item: accountItem(900, { version: 9, lastMovement: lastMovement('SOMEONE-ELSE') }),
    });

    const result = await withdraw(deps, request);

    expect(result.transaction.balanceAfter).toBeNull();
    expect(result.transaction.sequence).toBeNull();
    expect(result.balance).toBe(900);
  });

  it('refuses with INSUFFICIENT_FUNDS when the persisted balance is short, and records the refusal under the key', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled({ Code: 'ConditionalCheckFailed', Item: marshall(accountItem(499)) }));
    ddb.on(PutCommand).resolves({});

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('INSUFFICIENT_FUNDS');
    expect(error.status).toBe(409);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        ...markerKey(ACCOUNT_ID, 'key-1'),
        outcome: 'REFUSED',
        status: 409,
        requestHash: requestHash('WITHDRAWAL', request),
        error: expect.objectContaining({ code: 'INSUFFICIENT_FUNDS', requestId: 'req-1' }),
      }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('refuses with CURRENCY_MISMATCH when the named currency is not the account currency', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled({ Code: 'ConditionalCheckFailed', Item: marshall(accountItem(10_000)) }));
    ddb.on(PutCommand).resolves({});

    const error = await failureOf(withdraw(deps, { ...request, currency: 'EUR' }));

    expect(error.code).toBe('CURRENCY_MISMATCH');
    expect(error.status).toBe(422);
  });

  it('answers ACCOUNT_NOT_FOUND for an account that does not exist and records nothing', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled({ Code: 'ConditionalCheckFailed' }));

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('ACCOUNT_NOT_FOUND');
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it("answers ACCOUNT_NOT_FOUND for another customer's account, even when its key has a marker", async () => {
    ddb.on(TransactWriteCommand).rejects(
      cancelled(
        {
          Code: 'ConditionalCheckFailed',
          Item: marshall(accountItem(10_000, { ownerId: 'user-bob' })),
        },
        { Code: 'ConditionalCheckFailed', Item: marshall(committedMarker('BOBS-TX')) },
      ),
    );

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('ACCOUNT_NOT_FOUND');
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it("tells an operator withdrawing from a customer's account that it is FORBIDDEN", async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled({ Code: 'ConditionalCheckFailed', Item: marshall(accountItem(10_000)) }));

    const error = await failureOf(withdraw(deps, { ...request, caller: ops }));

    expect(error.code).toBe('FORBIDDEN');
  });

  it('replays the first outcome when the key already committed with the same request', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshall(committedMarker('FIRST-TX')) },
        ),
      );
    ddb.on(GetCommand).resolves({
      Item: accountItem(1500, { version: 8, lastMovement: lastMovement('FIRST-TX') }),
    });

    const result = await withdraw(deps, request);

    expect(result.replayed).toBe(true);
    expect(result.transaction).toEqual(
      expect.objectContaining({ transactionId: 'FIRST-TX', balanceAfter: 1500 }),
    );
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('takes the exact balanceAfter from the marker once the sequencer has filled it in', async () => {
    const marker = { ...committedMarker('FIRST-TX'), balanceAfter: 2000, sequence: 5 };
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: marshall(marker) }),
      );
    ddb
      .on(GetCommand)
      .resolves({ Item: accountItem(700, { version: 9, lastMovement: lastMovement('LATER') }) });

    const result = await withdraw(deps, request);

    expect(result.transaction).toEqual(
      expect.objectContaining({ transactionId: 'FIRST-TX', balanceAfter: 2000, sequence: 5 }),
    );
    expect(result.balance).toBe(700);
  });

  it('prefers the recorded outcome over a refusal when both the key and the balance fail', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          { Code: 'ConditionalCheckFailed', Item: marshall(accountItem(0)) },
          { Code: 'ConditionalCheckFailed', Item: marshall(committedMarker('FIRST-TX')) },
        ),
      );
    ddb
      .on(GetCommand)
      .resolves({ Item: accountItem(0, { lastMovement: lastMovement('FIRST-TX') }) });

    const result = await withdraw(deps, request);

    expect(result.replayed).toBe(true);
    expect(result.transaction.transactionId).toBe('FIRST-TX');
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it('treats its own earlier attempt (response lost after commit) as committed, not replayed', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshall(committedMarker(TX_ID)) },
        ),
      );
    ddb.on(GetCommand).resolves({ Item: accountItem(1500, { lastMovement: lastMovement(TX_ID) }) });

    const result = await withdraw(deps, request);

    expect(result.replayed).toBe(false);
    expect(result.transaction.transactionId).toBe(TX_ID);
  });

  it('answers IDEMPOTENCY_KEY_REUSED when the key was used with another amount', async () => {
    ddb.on(TransactWriteCommand).rejects(
      cancelled(
        { Code: 'None' },
        {
          Code: 'ConditionalCheckFailed',
          Item: marshall(committedMarker('FIRST-TX', 'other-hash')),
        },
      ),
    );

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(error.status).toBe(422);
  });

  it('replays a recorded refusal with its first status, code and request id', async () => {
    const refused = {
      ...markerKey(ACCOUNT_ID, 'key-1'),
      outcome: 'REFUSED',
      accountId: ACCOUNT_ID,
      idempotencyKey: 'key-1',
      requestHash: requestHash('WITHDRAWAL', request),
      createdAt: '2026-11-24T09:00:00.000Z',
      status: 409,
      error: { code: 'INSUFFICIENT_FUNDS', message: 'short', requestId: 'first-request' },
    };
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: marshall(refused) }),
      );

    const error = await failureOf(withdraw(deps, request));

    expect(error).toBeInstanceOf(ReplayedRefusalError);
    expect(error).toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
      status: 409,
      originalRequestId: 'first-request',
    });
  });

  it('answers its own refusal as a first answer when the put recording it committed but its answer was lost', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled({ Code: 'ConditionalCheckFailed', Item: marshall(accountItem(0)) }));
    // The SDK's retry of the put finds the marker its own first attempt wrote.
    ddb.on(PutCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'taken',
        $metadata: {},
        Item: marshall({
          ...markerKey(ACCOUNT_ID, 'key-1'),
          outcome: 'REFUSED',
          accountId: ACCOUNT_ID,
          idempotencyKey: 'key-1',
          requestHash: requestHash('WITHDRAWAL', request),
          createdAt: '2026-11-24T10:00:00.000Z',
          status: 409,
          error: { code: 'INSUFFICIENT_FUNDS', message: 'short', requestId: request.requestId },
        }),
      }),
    );

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('INSUFFICIENT_FUNDS');
    expect(error).not.toBeInstanceOf(ReplayedRefusalError);
  });

  it('answers with the committed outcome when its refusal loses the race for the key', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled({ Code: 'ConditionalCheckFailed', Item: marshall(accountItem(0)) }));
    ddb.on(PutCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'taken',
        $metadata: {},
        Item: marshall(committedMarker('WINNER')),
      }),
    );
    ddb.on(GetCommand).resolves({ Item: accountItem(0, { lastMovement: lastMovement('WINNER') }) });

    const result = await withdraw(deps, request);

    expect(result.transaction.transactionId).toBe('WINNER');
    expect(result.replayed).toBe(true);
  });

  it('retries a TransactionConflict with the same transaction id and succeeds', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled({ Code: 'TransactionConflict' }))
      .rejectsOnce(cancelled({ Code: 'TransactionConflict' }))
      .resolves({});
    ddb.on(GetCommand).resolves({ Item: accountItem(1500, { lastMovement: lastMovement(TX_ID) }) });

    const result = await withdraw(deps, request);

    expect(result.transaction.transactionId).toBe(TX_ID);
    const ids = ddb
      .commandCalls(TransactWriteCommand)
      .map((call) => call.args[0].input.TransactItems?.[1]?.Put?.Item?.transactionId);
    expect(ids).toEqual([TX_ID, TX_ID, TX_ID]);
  });

  it('gives up on persistent conflicts with TRANSACTION_CONFLICT, never INSUFFICIENT_FUNDS', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled({ Code: 'TransactionConflict' }));
    ddb.on(GetCommand).resolves({}); // the key holds no outcome

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('TRANSACTION_CONFLICT');
    expect(error.status).toBe(409);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 4);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it('maps throttling that outlived the SDK retries to SERVICE_UNAVAILABLE with Retry-After', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(
        Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: {} }),
      );

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
  });
});

describe('operator controls on withdrawals', () => {
  it('refuses every withdrawal while paused, before any transaction, with Retry-After', async () => {
    const paused = { ...deps, withdrawalSwitch: { isPaused: async () => true, cacheMs: 5000 } };

    const error = await failureOf(withdraw(paused, request));

    expect(error).toMatchObject({ code: 'WITHDRAWALS_PAUSED', status: 503, retryAfterSeconds: 5 });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
  });

  it('keeps deposits working while withdrawals are paused', async () => {
    const paused = { ...deps, withdrawalSwitch: { isPaused: async () => true, cacheMs: 5000 } };
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({
      Item: accountItem(2500, { lastMovement: { ...lastMovement(TX_ID), type: 'DEPOSIT' } }),
    });

    await expect(deposit(paused, { ...request, caller: ops })).resolves.toMatchObject({
      balance: 2500,
    });
  });

  it('conditions every withdrawal on the account not being frozen', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: accountItem(1500, { lastMovement: lastMovement(TX_ID) }) });

    await withdraw(deps, request);

    const update =
      ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]?.Update;
    expect(update?.ConditionExpression).toContain(
      '(attribute_not_exists(frozen) OR frozen = :false)',
    );
  });

  it('answers ACCOUNT_FROZEN for a frozen account and records no refusal, so a retry after unfreezing runs', async () => {
    ddb.on(TransactWriteCommand).rejects(
      cancelled({
        Code: 'ConditionalCheckFailed',
        Item: marshall(accountItem(10_000, { frozen: true })),
      }),
    );

    const error = await failureOf(withdraw(deps, request));

    expect(error).toMatchObject({ code: 'ACCOUNT_FROZEN', status: 423 });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });
});

describe('metrics', () => {
  function recording() {
    const events: string[] = [];
    const metrics = {
      committed: (type: string) => events.push(`committed ${type}`),
      replayed: (type: string) => events.push(`replayed ${type}`),
      refused: (type: string, reason: string) => events.push(`refused ${type} ${reason}`),
      conflict: (type: string, gaveUp: boolean) =>
        events.push(`conflict ${type} ${gaveUp ? 'gave up' : 'retried'}`),
    };
    return { events, deps: { ...deps, metrics } };
  }

  it('counts a commit after retried conflicts', async () => {
    const { events, deps: counted } = recording();
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled({ Code: 'TransactionConflict' }))
      .resolves({});
    ddb.on(GetCommand).resolves({ Item: accountItem(1500, { lastMovement: lastMovement(TX_ID) }) });

    await withdraw(counted, request);

    expect(events).toEqual(['conflict WITHDRAWAL retried', 'committed WITHDRAWAL']);
  });

  it('counts a refusal by its reason', async () => {
    const { events, deps: counted } = recording();
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled({ Code: 'ConditionalCheckFailed', Item: marshall(accountItem(1)) }));
    ddb.on(PutCommand).resolves({});

    await failureOf(withdraw(counted, request));

    expect(events).toEqual(['refused WITHDRAWAL INSUFFICIENT_FUNDS']);
  });
});

describe('deposit', () => {
  it('is refused to customers, even on their own account, before touching DynamoDB', async () => {
    const error = await failureOf(deposit(deps, request));

    expect(error.code).toBe('FORBIDDEN');
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
  });

  it('lets an operator credit any account without an owner condition', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({
      Item: accountItem(2500, { lastMovement: { ...lastMovement(TX_ID), type: 'DEPOSIT' } }),
    });

    const result = await deposit(deps, { ...request, caller: ops });

    const update =
      ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]?.Update;
    expect(update?.ConditionExpression).not.toContain('ownerId');
    expect(result.transaction).toEqual(
      expect.objectContaining({ type: 'DEPOSIT', balanceAfter: 2500 }),
    );
  });

  it('refuses a deposit that would push the balance past Number.MAX_SAFE_INTEGER', async () => {
    ddb.on(TransactWriteCommand).rejects(
      cancelled({
        Code: 'ConditionalCheckFailed',
        Item: marshall(accountItem(Number.MAX_SAFE_INTEGER - 10)),
      }),
    );
    ddb.on(PutCommand).resolves({});

    const error = await failureOf(deposit(deps, { ...request, caller: ops }));

    expect(error.code).toBe('BALANCE_LIMIT_EXCEEDED');
  });
});

describe('a commit whose answer was lost, then only conflicts', () => {
  it('answers with the committed outcome found under the key, not TRANSACTION_CONFLICT', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled({ Code: 'TransactionConflict' }));
    ddb
      .on(GetCommand, { Key: markerKey(ACCOUNT_ID, 'key-1') })
      .resolves({ Item: committedMarker(TX_ID) })
      .on(GetCommand, { Key: accountKey(ACCOUNT_ID) })
      .resolves({ Item: accountItem(1500, { lastMovement: lastMovement(TX_ID) }) });

    const result = await withdraw(deps, request);

    expect(result).toMatchObject({
      replayed: false,
      transaction: { transactionId: TX_ID, balanceAfter: 1500 },
    });
  });

  it('still answers TRANSACTION_CONFLICT when the key holds nothing', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled({ Code: 'TransactionConflict' }));
    ddb.on(GetCommand).resolves({});

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('TRANSACTION_CONFLICT');
  });
});
