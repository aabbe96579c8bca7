import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { listTransactions } from '../../lib/domain/history';
import { deposit, withdraw } from '../../lib/domain/movements';
import { lineOf } from '../../lib/domain/sequencer';
import type { Account, LedgerEntry } from '../../lib/domain/types';
import { statementLineKey } from '../../lib/persistence/keys';
import { STATEMENT_CHUNK, type StatementLine } from '../../lib/domain/ports';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';

/**
 * The history at a backlog far beyond one page: the sequencer is off, and each test places
 * the statement lines itself (through the store, as the sequencer does, or half-way, as a
 * sequencer interrupted mid-chunk leaves them), between the pages a client reads.
 */
const alice = customer('alice');
const MOVEMENTS = 250;
let ledger: TestLedger;
let collector: StreamPoller;
const records: DynamoDBRecord[] = [];

beforeAll(async () => {
  ledger = await createTestLedger('history-backlog', { sequencer: false });
  collector = startStreamPoller({
    endpoint: ledger.endpoint,
    tableName: ledger.tableName,
    handler: async (event) => {
      records.push(...event.Records);
    },
    filter: (record) => record.dynamodb?.Keys?.sk?.S === 'ACCOUNT',
    pollIntervalMs: 20,
  });
});
afterAll(async () => {
  await collector.stop();
  await ledger.close();
});

/** An account with MOVEMENTS committed movements after its opening deposit, none sequenced. */
async function backloggedAccount(): Promise<{ account: Account; lines: StatementLine[] }> {
  const account = await ledger.openAccount(alice, 1_000_000);
  for (let i = 0; i < MOVEMENTS; i++) {
    const move = i % 3 === 0 ? deposit : withdraw;
    await move(ledger.deps, {
      caller: i % 3 === 0 ? operator : alice,
      accountId: account.accountId,
      amount: 100 + i,
      idempotencyKey: `m-${i}`,
      requestId: 'test',
    });
  }
  await collector.drain(30_000);
  const image = (raw: unknown) =>
    raw ? (unmarshall(raw as Record<string, AttributeValue>) as Account) : null;
  const lines = records
    .map((r) => lineOf(image(r.dynamodb?.OldImage), image(r.dynamodb?.NewImage)))
    .filter((line): line is StatementLine => line?.accountId === account.accountId);
  expect(lines.map((line) => line.sequence)).toEqual(
    Array.from({ length: MOVEMENTS + 1 }, (_, i) => i + 1),
  );
  return { account, lines };
}

/** Pages through the history with `limit`, calling `between` after every page. */
async function pageThrough(
  accountId: string,
  between: (page: number) => Promise<void> = async () => {},
): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let cursor: string | undefined;
  let page = 0;
  do {
    const result = await listTransactions(ledger.deps, alice, accountId, { limit: 20, cursor });
    entries.push(...result.transactions);
    cursor = result.nextCursor ?? undefined;
    await between(page++);
  } while (cursor !== undefined && page < 100);
  return entries;
}

const ids = (entries: LedgerEntry[]) => entries.map((entry) => entry.transactionId);

it('lists every committed movement exactly once when none of 251 is in the statement yet', async () => {
  const { account, lines } = await backloggedAccount();
  const listed = await pageThrough(account.accountId);
  expect([...ids(listed)].sort()).toEqual(ids(lines).sort());
  // Pending: no guessed balance, except the latest movement's, which is the account's own.
  expect(listed.filter((entry) => entry.balanceAfter !== null)).toHaveLength(1);
});

it('lists every committed movement exactly once while the sequencer catches up between pages', async () => {
  const { account, lines } = await backloggedAccount();
  let placed = 0;
  const listed = await pageThrough(account.accountId, async () => {
    const chunk = lines.slice(placed, placed + STATEMENT_CHUNK);
    placed += chunk.length;
    if (chunk.length > 0) await ledger.store.writeStatementLines(chunk, new Date().toISOString());
  });
  expect(placed).toBeGreaterThan(STATEMENT_CHUNK); // the sequencer moved during the listing
  expect([...ids(listed)].sort()).toEqual(ids(lines).sort());
});

it('lists every movement exactly once while a chunk is half written: lines with a gap, entries not yet retired', async () => {
  const { account, lines } = await backloggedAccount();
  for (let start = 0; start < 150; start += STATEMENT_CHUNK) {
    await ledger.store.writeStatementLines(
      lines.slice(start, start + STATEMENT_CHUNK),
      new Date().toISOString(),
    );
  }
  // The next chunk (sequences 151-175): some lines written, one missing, no entry retired.
  for (const line of lines.slice(150, 175).filter((line) => line.sequence !== 160)) {
    await ledger.doc.send(
      new PutCommand({
        TableName: ledger.tableName,
        Item: { ...statementLineKey(account.accountId, line.sequence), ...line },
      }),
    );
  }
  // After the first page the sequencer finishes the chunk: the missing line, then the retirements.
  const listed = await pageThrough(account.accountId, async (page) => {
    if (page === 0) await ledger.store.writeStatementLines(lines.slice(150, 175), 'now');
  });
  expect([...ids(listed)].sort()).toEqual(ids(lines).sort());
  // The statement part below the gap is in commit order, with exact balances.
  const statement = listed.filter((entry) => entry.sequence !== null && entry.sequence < 160);
  expect(statement.map((entry) => entry.sequence)).toEqual(
    Array.from({ length: 159 }, (_, i) => 159 - i),
  );
});

it('never shows a line past a gap above an older waiting movement while the first chunk is half written', async () => {
  const { account, lines } = await backloggedAccount();
  // The first chunk's lines go side by side: 2, 4 and 5 landed, 1 and 3 not yet; no entry retired.
  for (const line of lines.filter((line) => [2, 4, 5].includes(line.sequence))) {
    await ledger.doc.send(
      new PutCommand({
        TableName: ledger.tableName,
        Item: { ...statementLineKey(account.accountId, line.sequence), ...line },
      }),
    );
  }

  const listed = await pageThrough(account.accountId);

  expect([...ids(listed)].sort()).toEqual(ids(lines).sort());
  // Nothing is shown with its place while an older movement waits above it.
  const placed = listed.filter((entry) => entry.sequence !== null);
  expect(placed.map((entry) => entry.sequence)).toEqual([lines.length]);
  expect(listed[0]?.sequence).toBe(lines.length);
});
