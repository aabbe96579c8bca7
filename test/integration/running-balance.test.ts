import type { DynamoDBStreamEvent } from 'aws-lambda';
import { listTransactions } from '../../lib/domain/history';
import { DomainError } from '../../lib/domain/errors';
import { deposit, withdraw } from '../../lib/domain/movements';
import type { LedgerEntry } from '../../lib/domain/types';
import { sequencerHandler } from '../../lib/sequencer-stream';
import { startStreamPoller } from '../../local/stream-poller';
import {
  chainProblems,
  createTestLedger,
  customer,
  operator,
  type TestLedger,
} from '../support/ledger';

const alice = customer('alice');
let ledger: TestLedger;

beforeAll(async () => {
  ledger = await createTestLedger('running-balance');
});
afterAll(() => ledger.close());

/** The whole history through the API's own paging, in its own order (newest first). */
async function history(accountId: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await listTransactions(ledger.deps, alice, accountId, { limit: 100, cursor });
    entries.push(...page.transactions);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return entries;
}

it('commits 64 concurrent withdrawals on one account each in one transaction, with no retry, and the statement chains exactly', async () => {
  const account = await ledger.openAccount(alice, 1_000_000);
  const before = { ...ledger.calls.commands };
  const attemptsBefore = { ...ledger.calls.attempts };
  for (const kind of Object.keys(ledger.calls.failures)) delete ledger.calls.failures[kind];

  const results = await Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      withdraw(ledger.deps, {
        caller: alice,
        accountId: account.accountId,
        amount: 100 + i,
        idempotencyKey: `hot-${i}`,
        requestId: `r${i}`,
      }),
    ),
  );

  expect(results).toHaveLength(64);
  // The movements' transactions (their first item is the account), not the sequencer's, which
  // posts the lines it writes meanwhile to the system accounts.
  const transactions =
    (ledger.calls.commands['TransactWriteItemsCommand ACCOUNT'] ?? 0) -
    (before['TransactWriteItemsCommand ACCOUNT'] ?? 0);
  // Every transaction sent, the sequencer's too, and every HTTP attempt of them.
  const sent =
    (ledger.calls.commands.TransactWriteItemsCommand ?? 0) -
    (before.TransactWriteItemsCommand ?? 0);
  const attempts =
    (ledger.calls.attempts.TransactWriteItemsCommand ?? 0) -
    (attemptsBefore.TransactWriteItemsCommand ?? 0);
  expect(transactions).toBe(64);
  // No retry by the service: one transaction per withdrawal (a retried conflict would send
  // more). The only extra HTTP attempts allowed are the SDK riding out DynamoDB Local's own lock
  // timeouts under machine load, which real DynamoDB does not produce.
  const emulatorOnly = Object.keys(ledger.calls.failures).every((kind) =>
    /InternalServerError: This action timed out/.test(kind),
  );
  expect({ extraAttempts: attempts - sent, emulatorOnly }).toEqual({
    extraAttempts: Object.values(ledger.calls.failures).reduce((a, b) => a + b, 0),
    emulatorOnly: true,
  });
  // At most two round trips each: the transaction and the consistent read of the balance.
  const accountReads =
    (ledger.calls.commands['GetItemCommand ACCOUNT'] ?? 0) -
    (before['GetItemCommand ACCOUNT'] ?? 0);
  expect(accountReads).toBe(64);
  // Besides those, only the pause switch is read (here uncached, in Lambda once per 5 s).
  const otherReads =
    (ledger.calls.commands.GetItemCommand ?? 0) - (before.GetItemCommand ?? 0) - accountReads;
  const switchReads =
    (ledger.calls.commands['GetItemCommand CONTROL'] ?? 0) -
    (before['GetItemCommand CONTROL'] ?? 0);
  expect(otherReads).toBe(switchReads);

  await ledger.drain();
  const balance = (await ledger.store.getAccount(account.accountId))?.balance ?? -1;
  const lines = await history(account.accountId);
  expect(lines).toHaveLength(65);
  expect(lines.every((line) => line.balanceAfter !== null)).toBe(true);
  expect(chainProblems(lines, balance)).toEqual([]);
  expect(lines[0]?.balanceAfter).toBe(balance);
  // Every answer's balanceAfter, when it gave one, is the one its statement line holds.
  const byId = new Map(lines.map((line) => [line.transactionId, line]));
  for (const result of results) {
    const line = byId.get(result.transaction.transactionId);
    expect(line).toBeDefined();
    if (result.transaction.balanceAfter !== null)
      expect(result.transaction.balanceAfter).toBe(line?.balanceAfter);
  }
});

it('chains exactly through a mix of deposits, withdrawals and refused withdrawals', async () => {
  const account = await ledger.openAccount(alice, 500);

  const outcomes = await Promise.all(
    Array.from({ length: 60 }, (_, i) => {
      const request = {
        accountId: account.accountId,
        amount: 50 + (i % 5) * 40,
        idempotencyKey: `mix-${i}`,
        requestId: `m${i}`,
      };
      const move =
        i % 3 === 0
          ? deposit(ledger.deps, { ...request, caller: operator })
          : withdraw(ledger.deps, { ...request, caller: alice });
      return move.then(
        () => 'ok',
        (error: unknown) => (error instanceof DomainError ? error.code : 'unexpected'),
      );
    }),
  );

  expect(outcomes.filter((o) => o !== 'ok' && o !== 'INSUFFICIENT_FUNDS')).toEqual([]);
  expect(outcomes.filter((o) => o === 'INSUFFICIENT_FUNDS').length).toBeGreaterThan(0);
  await ledger.drain();
  const balance = (await ledger.store.getAccount(account.accountId))?.balance ?? -1;
  const lines = await history(account.accountId);
  expect(lines).toHaveLength(1 + outcomes.filter((o) => o === 'ok').length);
  expect(chainProblems(lines, balance)).toEqual([]);
});

it('changes no line when the stream delivers the same records twice', async () => {
  const delivered: DynamoDBStreamEvent[] = [];
  const quiet = await createTestLedger('redelivery', { sequencer: false });
  const sequence = sequencerHandler(() => quiet.store);
  const poller = startStreamPoller({
    endpoint: quiet.endpoint,
    tableName: quiet.tableName,
    handler: async (event) => {
      delivered.push(event);
      return sequence(event);
    },
    pollIntervalMs: 50,
  });
  try {
    const account = await quiet.openAccount(alice, 10_000);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        withdraw(quiet.deps, {
          caller: alice,
          accountId: account.accountId,
          amount: 10,
          idempotencyKey: `d-${i}`,
          requestId: 'r',
        }),
      ),
    );
    await poller.drain(20_000);
    const once = await quiet.ledgerItems(account.accountId);

    for (const event of delivered) await sequence(event);
    for (const event of [...delivered].reverse()) await sequence(event);

    // Only the sequencer's own timestamp is renewed by a rewrite; the line is the same.
    const content = (items: Record<string, unknown>[]) =>
      items.map(({ sequencedAt: _at, ...line }) => line);
    expect(content(await quiet.ledgerItems(account.accountId))).toEqual(content(once));
    expect(once).toHaveLength(11);
    expect(once.every((item) => String(item.sk).startsWith('L#'))).toBe(true);
  } finally {
    await poller.stop();
    await quiet.close();
  }
});
