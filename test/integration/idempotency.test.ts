import { deposit } from '../../lib/domain/movements';
import {
  apiEvent,
  configureHandlers,
  invoke,
  startTestIssuer,
  type HandlerResponse,
  type TestIssuer,
} from '../support/in-process';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';

// The real withdraw handler (middy stack, token verification, validation, domain, DynamoDB
// Local), invoked in-process as Lambda would.
let ledger: TestLedger;
let issuer: TestIssuer;
let withdrawHandler: typeof import('../../handlers/withdrawals').handler;
let aliceToken: string;
const alice = customer('alice');

beforeAll(async () => {
  ledger = await createTestLedger('idempotency', { sequencer: false });
  issuer = await startTestIssuer();
  configureHandlers({ tableName: ledger.tableName, endpoint: ledger.endpoint, issuer });
  withdrawHandler = (await import('../../handlers/withdrawals')).handler;
  aliceToken = await issuer.token({ sub: alice.userId, username: 'alice' });
});
afterAll(async () => {
  await ledger.close();
  await issuer.stop();
});

function withdrawRequest(accountId: string, key: string, body: string): Promise<HandlerResponse> {
  return invoke(
    withdrawHandler,
    apiEvent({
      method: 'POST',
      path: `/accounts/${accountId}/withdrawals`,
      pathParameters: { accountId },
      headers: {
        authorization: `Bearer ${aliceToken}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body,
    }),
  );
}

const balanceOf = async (accountId: string) => (await ledger.store.getAccount(accountId))?.balance;

it('answers a retry after a deposit with the first refusal, and moves no money', async () => {
  const account = await ledger.openAccount(alice, 1_000);

  const first = await withdrawRequest(account.accountId, 'refused-once', '{"amount":5000}');
  await deposit(ledger.deps, {
    caller: operator,
    accountId: account.accountId,
    amount: 10_000,
    idempotencyKey: 'top-up',
    requestId: 'test',
  });
  const retry = await withdrawRequest(account.accountId, 'refused-once', '{"amount":5000}');

  expect(first.status).toBe(409);
  expect(first.body).toEqual({ error: expect.objectContaining({ code: 'INSUFFICIENT_FUNDS' }) });
  expect(retry.status).toBe(409);
  expect(retry.body).toEqual(first.body);
  expect(retry.headers['idempotent-replayed']).toBe('true');
  expect(await balanceOf(account.accountId)).toBe(11_000);
});

it('refuses the same key with another amount after a refusal (IDEMPOTENCY_KEY_REUSED)', async () => {
  const account = await ledger.openAccount(alice, 1_000);

  const first = await withdrawRequest(account.accountId, 'refused-then-changed', '{"amount":5000}');
  const changed = await withdrawRequest(
    account.accountId,
    'refused-then-changed',
    '{"amount":500}',
  );

  expect(first.status).toBe(409);
  expect(changed.status).toBe(422);
  expect(changed.body).toEqual({
    error: expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' }),
  });
  expect(await balanceOf(account.accountId)).toBe(1_000);
});

it('gives all 20 concurrent requests with one key the same answer when the account affords exactly one', async () => {
  const account = await ledger.openAccount(alice, 700);

  const answers = await Promise.all(
    Array.from({ length: 20 }, () =>
      withdrawRequest(account.accountId, 'one-of-twenty', '{"amount":700}'),
    ),
  );

  const distinct = new Set(answers.map((a) => JSON.stringify({ status: a.status, body: a.body })));
  expect(distinct.size).toBe(1);
  expect(answers[0]?.status).toBe(201);
  expect(answers.filter((a) => a.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
  expect(await balanceOf(account.accountId)).toBe(0);
  const entries = (await ledger.ledgerItems(account.accountId)).filter(
    (item) => item.type === 'WITHDRAWAL',
  );
  expect(entries).toHaveLength(1);
});

it('does not record a malformed request: the corrected one with the same key executes', async () => {
  const account = await ledger.openAccount(alice, 1_000);

  const malformed = await withdrawRequest(account.accountId, 'fix-me', '{"amount":"10.00"}');
  const corrected = await withdrawRequest(account.accountId, 'fix-me', '{"amount":1000}');

  expect(malformed.status).toBe(400);
  expect(corrected.status).toBe(201);
  expect(corrected.headers['idempotent-replayed']).toBeUndefined();
  expect(corrected.body).toEqual({
    transaction: expect.objectContaining({
      amount: 1000,
      idempotencyKey: 'fix-me',
      balanceAfter: 0,
    }),
    balance: 0,
    fee: 0,
  });
});

it('does not record an unknown account: the key stays free for the right account', async () => {
  const account = await ledger.openAccount(alice, 1_000);

  const unknown = await withdrawRequest(
    '01JNOSUCHACCOUNT0000000000',
    'wrong-account',
    '{"amount":10}',
  );
  const right = await withdrawRequest(account.accountId, 'wrong-account', '{"amount":10}');

  expect(unknown.status).toBe(404);
  expect(right.status).toBe(201);
});

it('replays a success with the same body and marks it as a replay', async () => {
  const account = await ledger.openAccount(alice, 1_000);

  const first = await withdrawRequest(account.accountId, 'replay-me', '{"amount":250}');
  const again = await withdrawRequest(account.accountId, 'replay-me', '{"amount":250}');

  expect(first.status).toBe(201);
  expect(again.status).toBe(201);
  expect(again.body).toEqual(first.body);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(first.headers['idempotent-replayed']).toBeUndefined();
  expect(await balanceOf(account.accountId)).toBe(750);
});
