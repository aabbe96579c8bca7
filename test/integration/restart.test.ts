import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listTransactions } from '../../lib/domain/history';
import { withdraw } from '../../lib/domain/movements';
import type { LedgerEntry } from '../../lib/domain/types';
import { startDynamoDbLocal, type DynamoDbLocalProcess } from '../../local/dynamodb-local';
import { findFreePort } from '../../local/ports';
import { chainProblems, createTestLedger, customer, type TestLedger } from '../support/ledger';

// DynamoDB Local of its own, keeping its data on disk, so it can be killed and restarted.
const alice = customer('alice');
let dataDir: string;
let port: number;
let dynamo: DynamoDbLocalProcess | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'mm-restart-'));
  port = await findFreePort();
});
afterAll(async () => {
  await dynamo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const start = () => startDynamoDbLocal({ port, dataDir: path.join(dataDir, 'dynamodb') });

async function withdrawMany(ledger: TestLedger, accountId: string, from: number, count: number) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      withdraw(ledger.deps, {
        caller: alice,
        accountId,
        amount: 10 + ((from + i) % 9),
        idempotencyKey: `w-${from + i}`,
        requestId: 'r',
      }),
    ),
  );
}

async function fullHistory(ledger: TestLedger, accountId: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await listTransactions(ledger.deps, alice, accountId, { limit: 100, cursor });
    entries.push(...page.transactions);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return entries;
}

it('keeps every balance and entry when DynamoDB Local is killed (-9) and restarted, and the sequencer resumes without losing or doubling a line', async () => {
  const checkpointFile = path.join(dataDir, 'sequencer-checkpoint.json');
  dynamo = await start();
  const tableName = 'restart-ledger';
  let ledger = await createTestLedger('restart', {
    endpoint: dynamo.endpoint,
    tableName,
    checkpointFile,
  });
  const account = await ledger.openAccount(alice, 100_000);
  const firstBatch = await withdrawMany(ledger, account.accountId, 0, 40);
  const balanceBefore = (await ledger.store.getAccount(account.accountId))?.balance;

  // Crash in the middle: the sequencer is stopped wherever it is, the emulator gets SIGKILL.
  await ledger.close();
  process.kill(dynamo.pid, 'SIGKILL');
  await dynamo.stop();

  dynamo = await start();
  ledger = await createTestLedger('restart', {
    endpoint: dynamo.endpoint,
    tableName,
    checkpointFile,
  });
  expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(balanceBefore);
  const items = await ledger.ledgerItems(account.accountId);
  for (const result of firstBatch) {
    expect(items.some((item) => item.transactionId === result.transaction.transactionId)).toBe(
      true,
    );
  }

  await withdrawMany(ledger, account.accountId, 40, 40);
  await ledger.drain();

  const balance = (await ledger.store.getAccount(account.accountId))?.balance ?? -1;
  const history = await fullHistory(ledger, account.accountId);
  expect(history).toHaveLength(81);
  expect(new Set(history.map((e) => e.transactionId)).size).toBe(81);
  expect(history.every((e) => e.balanceAfter !== null)).toBe(true);
  expect(chainProblems(history, balance)).toEqual([]);
  expect(
    (await ledger.ledgerItems(account.accountId)).filter((item) =>
      String(item.sk).startsWith('P#'),
    ),
  ).toEqual([]);
  await ledger.close();
});
