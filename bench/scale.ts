/**
 * Section 7, scale: the balance read and the first history page (lib/domain/accounts.ts
 * accountFor and listTransactions, the real LedgerStore) on accounts holding 10, 10,000 and
 * 100,000 ledger entries. The statement lines are seeded straight into the table with
 * BatchWriteItem in the real key layout (statementLineKey), with a matching account item.
 * The sizes take turns read by read, so noise falls on all of them alike.
 */
import { performance } from 'node:perf_hooks';
import { monotonicFactory } from 'ulid';
import { accountFor } from '../lib/domain/accounts';
import type { HistoryDeps } from '../lib/domain/history';
import { listTransactions } from '../lib/domain/history';
import type { Account, Caller, LedgerEntry } from '../lib/domain/types';
import { accountKey, ownerLinkKey, statementLineKey } from '../lib/persistence/keys';
import { dynamoLedgerStore } from '../lib/persistence/dynamodb-store';
import { createFloorClient } from './floor';
import { LEDGER_TABLE, batchWrite, type Dynamo } from './lib/env';
import type { Progress } from './lib/progress';
import { newHistogram, recordMs, round, summarize, type LatencySummary } from './lib/stats';

export interface ScaleSize {
  entries: number;
  seedMs: number;
  balance: LatencySummary;
  history: LatencySummary;
}

export interface ScaleResult {
  sizes: ScaleSize[];
  reads: number;
  /** p50 at the largest size over p50 at the smallest. */
  balanceFlatRatio: number;
  historyFlatRatio: number;
  failures: string[];
}

const AMOUNT = 100;

async function seedAccount(
  dynamo: Dynamo,
  ownerId: string,
  entries: number,
  progress: Progress,
): Promise<{ accountId: string; seedMs: number }> {
  const nextId = monotonicFactory();
  const accountId = nextId();
  const opening = AMOUNT * entries + 1_000_000;
  const start = Date.now() - entries * 1000;
  const lines: LedgerEntry[] = Array.from({ length: entries }, (_, i) => {
    const sequence = i + 1;
    return {
      transactionId: nextId(start + i * 1000),
      accountId,
      type: sequence === 1 ? 'DEPOSIT' : 'WITHDRAWAL',
      amount: sequence === 1 ? opening : AMOUNT,
      currency: 'USD',
      balanceAfter: opening - AMOUNT * (sequence - 1),
      sequence,
      idempotencyKey: `seed-${sequence}`,
      createdAt: new Date(start + i * 1000).toISOString(),
      status: 'POSTED',
    };
  });
  const last = lines[lines.length - 1];
  if (!last || last.balanceAfter === null || last.sequence === null) throw new Error('no lines');
  const account: Account = {
    accountId,
    ownerId,
    currency: 'USD',
    balance: last.balanceAfter,
    pending: 0,
    available: last.balanceAfter,
    version: last.sequence,
    createdAt: lines[0]?.createdAt ?? last.createdAt,
    updatedAt: last.createdAt,
    lastMovement: {
      transactionId: last.transactionId,
      type: last.type,
      amount: last.amount,
      idempotencyKey: last.idempotencyKey,
      createdAt: last.createdAt,
    },
  };
  const step = progress.step(`seeding ${entries.toLocaleString('en-US')} statement lines`, entries);
  const started = performance.now();
  await batchWrite(
    dynamo.setupDoc,
    LEDGER_TABLE,
    lines.map((line) => ({
      PutRequest: { Item: { ...statementLineKey(accountId, line.sequence ?? 0), ...line } },
    })),
    { parallel: 12, onChunk: (n) => step.tick(n) },
  );
  await batchWrite(dynamo.setupDoc, LEDGER_TABLE, [
    { PutRequest: { Item: { ...accountKey(accountId), ...account } } },
    { PutRequest: { Item: { ...ownerLinkKey(ownerId, accountId), accountId } } },
  ]);
  step.done();
  return { accountId, seedMs: performance.now() - started };
}

export async function measureScale(options: {
  dynamo: Dynamo;
  ownerId: string;
  sizes: number[];
  /** Reads of each kind per size. */
  reads: number;
  progress: Progress;
}): Promise<ScaleResult> {
  const { dynamo, ownerId, progress } = options;
  const failures: string[] = [];
  const seeded: Array<{ entries: number; accountId: string; seedMs: number }> = [];
  for (const entries of options.sizes) {
    seeded.push({ entries, ...(await seedAccount(dynamo, ownerId, entries, progress)) });
  }

  const client = createFloorClient(dynamo.endpoint);
  const deps: HistoryDeps = { store: dynamoLedgerStore(client.doc, LEDGER_TABLE) };
  const caller: Caller = { userId: ownerId, username: 'bench', isOperator: false };
  const histograms = seeded.map(() => ({ balance: newHistogram(), history: newHistogram() }));

  const check = (
    size: (typeof seeded)[number],
    page: Awaited<ReturnType<typeof listTransactions>>,
  ) => {
    const expected = Math.min(20, size.entries);
    const first = page.transactions[0];
    if (page.transactions.length !== expected || first?.sequence !== size.entries) {
      failures.push(
        `${size.entries} entries: first page has ${page.transactions.length} lines starting at sequence ${String(first?.sequence)}`,
      );
    }
  };

  // Read by read, the sizes take turns (in a rotating order): noise falls on all of them alike.
  const step = progress.step(
    'balance + first history page, sizes taking turns',
    options.reads * seeded.length * 2,
  );
  for (let i = 0; i < options.reads; i++) {
    const order = seeded.map((_, s) => (s + i) % seeded.length);
    for (const index of order) {
      const size = seeded[index];
      const h = histograms[index];
      if (!size || !h) continue;
      const t0 = performance.now();
      const account = await accountFor(deps, caller, size.accountId);
      recordMs(h.balance, performance.now() - t0);
      if (account.version !== size.entries) {
        failures.push(`${size.entries}: version ${account.version}`);
      }
      step.tick();
    }
    for (const index of order) {
      const size = seeded[index];
      const h = histograms[index];
      if (!size || !h) continue;
      const t0 = performance.now();
      const page = await listTransactions(deps, caller, size.accountId, { limit: 20 });
      recordMs(h.history, performance.now() - t0);
      if (i === 0) check(size, page);
      step.tick();
    }
  }
  step.done();
  client.client.destroy();

  const sizes = seeded.map((size, i) => ({
    entries: size.entries,
    seedMs: round(size.seedMs, 0),
    balance: summarize(histograms[i]?.balance ?? newHistogram()),
    history: summarize(histograms[i]?.history ?? newHistogram()),
  }));
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  return {
    sizes,
    reads: options.reads,
    balanceFlatRatio: round((largest?.balance.p50 ?? 0) / (smallest?.balance.p50 ?? 1), 3),
    historyFlatRatio: round((largest?.history.p50 ?? 0) / (smallest?.history.p50 ?? 1), 3),
    failures,
  };
}
