import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { listTransactions } from '../../lib/domain/history';
import { DomainError } from '../../lib/domain/errors';
import { withdraw, type MovementRequest } from '../../lib/domain/movements';
import type { LedgerEntry } from '../../lib/domain/types';
import { accountKey, pendingEntryKey } from '../../lib/persistence/keys';
import { chainProblems, createTestLedger, customer, type TestLedger } from '../support/ledger';

const alice = customer('alice');
let ledger: TestLedger;

beforeAll(async () => {
  ledger = await createTestLedger('money-path');
});
afterAll(() => ledger.close());

const withdrawal = (
  accountId: string,
  amount: number,
  idempotencyKey: string,
): MovementRequest => ({
  caller: alice,
  accountId,
  amount,
  idempotencyKey,
  requestId: `req-${idempotencyKey}`,
});

/** The outcome as a client would see it: the result, or the error's code. */
async function outcome<T>(promise: Promise<T>): Promise<T | string> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

it('persists a withdrawal: a raw GetItem sees the new balance and the ledger entry (A1)', async () => {
  const account = await ledger.openAccount(alice, 10_000);

  const result = await withdraw(ledger.deps, withdrawal(account.accountId, 5_000, 'a1'));

  const raw = await ledger.doc.send(
    new GetCommand({
      TableName: ledger.tableName,
      Key: accountKey(account.accountId),
      ConsistentRead: true,
    }),
  );
  expect(raw.Item?.balance).toBe(5_000);
  expect(result.balance).toBe(5_000);
  expect(result.transaction).toEqual(
    expect.objectContaining({
      type: 'WITHDRAWAL',
      amount: 5_000,
      balanceAfter: 5_000,
      sequence: 2,
    }),
  );
  // Committed with the transaction: the pending entry, until the sequencer turns it into a line.
  const pendingOrLine = await ledger.doc.send(
    new GetCommand({
      TableName: ledger.tableName,
      Key: pendingEntryKey(account.accountId, result.transaction.transactionId),
      ConsistentRead: true,
    }),
  );
  const lines = await ledger.statement(account.accountId);
  const inStatement = lines.some((line) => line.transactionId === result.transaction.transactionId);
  expect(pendingOrLine.Item !== undefined || inStatement).toBe(true);

  await ledger.drain();
  const [newest] = await ledger.statement(account.accountId);
  expect(newest).toEqual(
    expect.objectContaining({
      transactionId: result.transaction.transactionId,
      balanceAfter: 5_000,
      sequence: 2,
      amount: 5_000,
      currency: 'USD',
    }),
  );
});

it('rejects a withdrawal above the persisted balance and leaves balance and ledger unchanged (A3)', async () => {
  const account = await ledger.openAccount(alice, 3_000);
  await ledger.drain();
  const ledgerBefore = await ledger.ledgerItems(account.accountId);

  await expect(
    outcome(withdraw(ledger.deps, withdrawal(account.accountId, 3_001, 'a3'))),
  ).resolves.toBe('INSUFFICIENT_FUNDS');

  await ledger.drain();
  expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(3_000);
  expect(await ledger.ledgerItems(account.accountId)).toEqual(ledgerBefore);
});

it('lets exactly 20 of 50 concurrent withdrawals of 1 through on a balance of 20', async () => {
  const account = await ledger.openAccount(alice, 20);

  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      outcome(withdraw(ledger.deps, withdrawal(account.accountId, 1, `c50-${i}`))),
    ),
  );

  const committed = results.filter((r) => typeof r !== 'string');
  const refused = results.filter((r) => r === 'INSUFFICIENT_FUNDS');
  expect(committed).toHaveLength(20);
  expect(refused).toHaveLength(30);
  expect(results.filter((r) => typeof r === 'string' && r !== 'INSUFFICIENT_FUNDS')).toEqual([]);
  expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(0);

  await ledger.drain();
  const lines = await ledger.statement(account.accountId);
  const withdrawals = lines.filter((line) => line.type === 'WITHDRAWAL');
  expect(withdrawals).toHaveLength(20);
  const ledgerSum = lines.reduce(
    (sum, l) => sum + (l.type === 'DEPOSIT' ? l.amount : -l.amount),
    0,
  );
  expect(ledgerSum).toBe(0);
  expect(chainProblems(lines, 0)).toEqual([]);
});

it('commits 20 concurrent requests with one key once, and answers all of them with that transaction', async () => {
  const account = await ledger.openAccount(alice, 1_000);

  const results = await Promise.all(
    Array.from({ length: 20 }, () =>
      withdraw(ledger.deps, withdrawal(account.accountId, 100, 'same-key')),
    ),
  );

  const ids = new Set(results.map((r) => r.transaction.transactionId));
  expect(ids.size).toBe(1);
  expect(results.filter((r) => !r.replayed)).toHaveLength(1);
  expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(900);
  await ledger.drain();
  expect(
    (await ledger.statement(account.accountId)).filter((l) => l.type === 'WITHDRAWAL'),
  ).toHaveLength(1);

  await expect(
    outcome(withdraw(ledger.deps, withdrawal(account.accountId, 101, 'same-key'))),
  ).resolves.toBe('IDEMPOTENCY_KEY_REUSED');
  expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(900);
});

it('pages 250 entries newest first with no gap and no duplicate', async () => {
  const account = await ledger.openAccount(alice, 1_000_000);
  // 249 withdrawals + the opening deposit = 250 entries, in batches to keep the emulator steady.
  for (let batch = 0; batch < 249; batch += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, 249 - batch) }, (_, i) =>
        withdraw(
          ledger.deps,
          withdrawal(account.accountId, 1 + ((batch + i) % 7), `page-${batch + i}`),
        ),
      ),
    );
  }
  await ledger.drain();

  const seen: LedgerEntry[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await listTransactions(ledger.deps, alice, account.accountId, {
      limit: 30,
      cursor,
    });
    seen.push(...page.transactions);
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor && pages < 20);

  expect(pages).toBe(9);
  expect(seen).toHaveLength(250);
  expect(new Set(seen.map((e) => e.transactionId)).size).toBe(250);
  expect(seen.map((e) => e.sequence)).toEqual(Array.from({ length: 250 }, (_, i) => 250 - i));
  const balance = (await ledger.store.getAccount(account.accountId))?.balance ?? -1;
  expect(chainProblems(seen, balance)).toEqual([]);
});

it('shows a committed entry at the top of the history before the sequencer has placed it, never with a guessed balance', async () => {
  const quiet = await createTestLedger('pending-history', { sequencer: false });
  try {
    const account = await quiet.openAccount(alice, 1_000);
    const first = await withdraw(quiet.deps, withdrawal(account.accountId, 100, 'p1'));
    const second = await withdraw(quiet.deps, withdrawal(account.accountId, 200, 'p2'));

    const page = await listTransactions(quiet.deps, alice, account.accountId, { limit: 10 });

    expect(page.transactions.map((e) => e.transactionId)).toEqual(
      expect.arrayContaining([first.transaction.transactionId, second.transaction.transactionId]),
    );
    const newest = page.transactions.find(
      (e) => e.transactionId === second.transaction.transactionId,
    );
    const older = page.transactions.find(
      (e) => e.transactionId === first.transaction.transactionId,
    );
    // The newest is the account's own last movement: its balance is known exactly.
    expect(newest).toEqual(expect.objectContaining({ balanceAfter: 700, sequence: 3 }));
    expect(older).toEqual(expect.objectContaining({ balanceAfter: null, sequence: null }));
    expect(page.transactions[0]?.transactionId).toBe(second.transaction.transactionId);
  } finally {
    await quiet.close();
  }
});

it("answers another customer's account exactly like a missing one", async () => {
  const account = await ledger.openAccount(customer('bob'), 500);

  await expect(
    outcome(withdraw(ledger.deps, withdrawal(account.accountId, 1, 'foreign'))),
  ).resolves.toBe('ACCOUNT_NOT_FOUND');
  await expect(
    outcome(withdraw(ledger.deps, withdrawal('01JNOSUCHACCOUNT0000000000', 1, 'missing'))),
  ).resolves.toBe('ACCOUNT_NOT_FOUND');
  expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(500);
});
