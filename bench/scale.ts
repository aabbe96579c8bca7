/**
 * Section 7, scale: on accounts holding 10, 10,000 and 100,000 statement lines, the balance
 * read and the first history page (lib/domain/accounts.ts accountFor, lib/domain/history.ts
 * listTransactions), and issue 21's statement reads (lib/domain/statements.ts): a filtered page
 * (types and a date range, newest first) and the balance at an instant in the middle of the
 * history, all on the real LedgerStore. The lines are seeded as the sequencer writes them, running
 * figures and index keys included (test/support/statement-seed.ts), a mix of types a minute apart.
 * The sizes take turns read by read, so noise falls on all of them alike. What each read costs in
 * round trips and read units is metered apart, on a client of its own (the meter's own look-ups
 * would otherwise be timed).
 */
import { performance } from 'node:perf_hooks';
import { accountFor } from '../lib/domain/accounts';
import { listTransactions } from '../lib/domain/history';
import { DEFAULT_LIMITS } from '../lib/domain/limits';
import {
  balanceAt,
  filteredHistory,
  type HistoryFilter,
  type StatementsDeps,
} from '../lib/domain/statements';
import { balanceEffect, type Caller, type MovementType } from '../lib/domain/types';
import { dynamoLedgerStore } from '../lib/persistence/dynamodb-store';
import { mixedInstant, mixedLine, MIX_SPACING_MS } from '../test/support/statement-mix';
import { seedStatement } from '../test/support/statement-seed';
import { createFloorClient } from './floor';
import { CostMeter, totals, type CostTotals } from './lib/cost-meter';
import { INDEX_KEYS, KEY_SCHEMAS, LEDGER_TABLE, createAccounts, type Dynamo } from './lib/env';
import type { Progress } from './lib/progress';
import { newHistogram, recordMs, round, summarize, type LatencySummary } from './lib/stats';

export const SCALE_READS = ['balance', 'history', 'filtered', 'asOf'] as const;
export type ScaleRead = (typeof SCALE_READS)[number];

/** What one read cost, metered: means over the metered reads. */
export interface ReadCost {
  /** HTTP attempts to DynamoDB (SDK retries included). */
  roundTrips: number;
  commands: number;
  rcu: number;
  byCommand: Record<string, number>;
  /** Every metered read of this kind and size cost the same. */
  uniform: boolean;
}

export interface ScaleSize {
  entries: number;
  seedMs: number;
  balance: LatencySummary;
  history: LatencySummary;
  /** Issue 21: one page of the filter below. */
  filtered: LatencySummary;
  /** Issue 21: the balance at an instant in the middle of the history. */
  asOf: LatencySummary;
  cost: Record<ScaleRead, ReadCost>;
}

export interface ScaleResult {
  sizes: ScaleSize[];
  reads: number;
  /** Reads of each kind per size through the metered client. */
  meteredReads: number;
  /** The filtered page: its types and limit; its range is from a quarter to nine tenths of the lines. */
  filter: { types: MovementType[]; limit: number };
  /** p50 at the largest size over p50 at the smallest. */
  balanceFlatRatio: number;
  historyFlatRatio: number;
  filteredFlatRatio: number;
  asOfFlatRatio: number;
  failures: string[];
}

/**
 * The first history page's size: the smallest account's whole history, so every size reads a
 * page of the same lines' count and the comparison is like with like (at 20, the 10-line account
 * read half the lines the others did).
 */
const HISTORY_LIMIT = 10;
const FILTER = { types: ['WITHDRAWAL', 'PAYOUT'] as MovementType[], limit: 5 };
const METERED_READS = 3;

interface Seeded {
  entries: number;
  accountId: string;
  seedMs: number;
  filter: HistoryFilter;
  /** The instant asked for the balance, and the line and balance that answer it. */
  asOf: { at: string; sequence: number; balance: number };
}

async function seedAccount(
  dynamo: Dynamo,
  ownerId: string,
  entries: number,
  progress: Progress,
): Promise<Seeded> {
  const [accountId = ''] = await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 1, 0);
  const account = await dynamoLedgerStore(dynamo.setupDoc, LEDGER_TABLE).getAccount(accountId);
  if (account === null) throw new Error('the seeded account vanished');
  // The newest line an hour ago: every instant asked is in the past.
  const start = Date.now() - (entries + 60) * MIX_SPACING_MS;
  const step = progress.step(`seeding ${entries.toLocaleString('en-US')} statement lines`, entries);
  const started = performance.now();
  await seedStatement({ doc: dynamo.setupDoc, tableName: LEDGER_TABLE }, account, entries, (i) => {
    if (i % 1000 === 999) step.tick(1000);
    return mixedLine(start, i);
  });
  const seedMs = performance.now() - started;
  step.done();
  const middle = Math.floor(entries / 2);
  let balance = 0;
  for (let i = 0; i <= middle; i += 1) balance += balanceEffect(mixedLine(start, i));
  return {
    entries,
    accountId,
    seedMs,
    filter: {
      types: FILTER.types,
      from: mixedInstant(start, Math.floor(entries / 4)),
      to: mixedInstant(start, Math.floor((entries * 9) / 10)),
    },
    asOf: {
      at: new Date(Date.parse(mixedInstant(start, middle)) + MIX_SPACING_MS / 2).toISOString(),
      sequence: middle + 1,
      balance,
    },
  };
}

/** Each read, checked: a problem, or null. */
type Read = (deps: StatementsDeps, size: Seeded) => Promise<string | null>;
type Failures = (size: Seeded, kind: ScaleRead, problem: string | null) => void;

function readsAs(caller: Caller): Record<ScaleRead, Read> {
  return {
    balance: async (deps, size) => {
      const account = await accountFor(deps, caller, size.accountId);
      return account.version === size.entries ? null : `version ${account.version}`;
    },
    history: async (deps, size) => {
      const page = await listTransactions(deps, caller, size.accountId, { limit: HISTORY_LIMIT });
      const first = page.transactions[0];
      return page.transactions.length === Math.min(HISTORY_LIMIT, size.entries) &&
        first?.sequence === size.entries
        ? null
        : `first page has ${page.transactions.length} lines starting at sequence ${String(first?.sequence)}`;
    },
    filtered: async (deps, size) => {
      const { from = '', to = '', types = [] } = size.filter;
      const page = await filteredHistory(deps, caller, size.accountId, size.filter, {
        limit: FILTER.limit,
      });
      const fits = page.transactions.every(
        (line) => types.includes(line.type) && line.createdAt >= from && line.createdAt < to,
      );
      return fits && page.transactions.length === FILTER.limit && page.nextCursor !== null
        ? null
        : `filtered page has ${page.transactions.length} lines (all in the filter: ${fits})`;
    },
    asOf: async (deps, size) => {
      const answer = await balanceAt(deps, caller, size.accountId, size.asOf.at);
      return answer.sequence === size.asOf.sequence && answer.balance === size.asOf.balance
        ? null
        : `balance at ${size.asOf.at}: ${answer.balance} at sequence ${answer.sequence}, expected ${size.asOf.balance} at ${size.asOf.sequence}`;
    },
  };
}

function statementsDeps(dynamo: Dynamo): { deps: StatementsDeps; client: Dynamo['setup'] } {
  const client = createFloorClient(dynamo.endpoint);
  const deps: StatementsDeps = {
    store: dynamoLedgerStore(client.doc, LEDGER_TABLE),
    limitDefaults: DEFAULT_LIMITS,
    now: () => new Date(),
  };
  return { deps, client: client.client };
}

/** Rounds of every read on every size, the sizes in a rotating order. */
async function inTurns(
  seeded: Seeded[],
  rounds: number,
  run: (kind: ScaleRead, index: number, size: Seeded) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const order = seeded.map((_, s) => (s + i) % seeded.length);
    for (const kind of SCALE_READS) {
      for (const index of order) {
        const size = seeded[index];
        if (size) await run(kind, index, size);
      }
    }
  }
}

/** What each read costs, through a metered client of its own. */
async function meterReads(
  dynamo: Dynamo,
  seeded: Seeded[],
  reads: Record<ScaleRead, Read>,
  fail: Failures,
): Promise<Array<Record<ScaleRead, ReadCost>>> {
  const { deps, client } = statementsDeps(dynamo);
  const meter = new CostMeter(dynamo.setup, KEY_SCHEMAS, INDEX_KEYS);
  meter.attach(client);
  const measured = seeded.map(
    () => ({ balance: [], history: [], filtered: [], asOf: [] }) as Record<ScaleRead, CostTotals[]>,
  );
  try {
    await inTurns(seeded, METERED_READS, async (kind, index, size) => {
      meter.take();
      fail(size, kind, await reads[kind](deps, size));
      measured[index]?.[kind].push(totals(meter.take()));
    });
  } finally {
    client.destroy();
  }
  return measured.map(
    (kinds) =>
      Object.fromEntries(SCALE_READS.map((kind) => [kind, readCost(kinds[kind])])) as Record<
        ScaleRead,
        ReadCost
      >,
  );
}

function readCost(all: CostTotals[]): ReadCost {
  const mean = (pick: (t: CostTotals) => number): number =>
    round(all.reduce((sum, t) => sum + pick(t), 0) / Math.max(1, all.length), 3);
  const first = all[0];
  return {
    roundTrips: mean((t) => t.attempts),
    commands: mean((t) => t.commands),
    rcu: mean((t) => t.rcu),
    byCommand: first?.byCommand ?? {},
    uniform: all.every(
      (t) =>
        t.attempts === first?.attempts &&
        t.rcu === first.rcu &&
        JSON.stringify(t.byCommand) === JSON.stringify(first.byCommand),
    ),
  };
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
  const failed = new Set<string>();
  // Each read's first problem per size: a broken read would otherwise repeat it every round.
  const fail: Failures = (size, kind, problem) => {
    if (problem === null || failed.has(`${size.entries} ${kind}`)) return;
    failed.add(`${size.entries} ${kind}`);
    failures.push(`${size.entries} entries, ${kind}: ${problem}`);
  };
  const seeded: Seeded[] = [];
  for (const entries of options.sizes) {
    seeded.push(await seedAccount(dynamo, ownerId, entries, progress));
  }
  const reads = readsAs({ userId: ownerId, username: 'bench', isOperator: false });

  const metering = progress.step('metering each read, sizes taking turns', 1);
  const costs = await meterReads(dynamo, seeded, reads, fail);
  metering.tick();
  metering.done();

  const { deps, client } = statementsDeps(dynamo);
  const histograms = seeded.map(() => ({
    balance: newHistogram(),
    history: newHistogram(),
    filtered: newHistogram(),
    asOf: newHistogram(),
  }));
  const step = progress.step(
    'balance, first history page, filtered page, balance at an instant; sizes taking turns',
    options.reads * seeded.length * SCALE_READS.length,
  );
  try {
    await inTurns(seeded, options.reads, async (kind, index, size) => {
      const t0 = performance.now();
      const problem = await reads[kind](deps, size);
      const h = histograms[index];
      if (h) recordMs(h[kind], performance.now() - t0);
      fail(size, kind, problem);
      step.tick();
    });
  } finally {
    step.done();
    client.destroy();
  }

  const sizes: ScaleSize[] = seeded.map((size, i) => {
    const h = histograms[i];
    const summary = (kind: ScaleRead) => summarize(h?.[kind] ?? newHistogram());
    return {
      entries: size.entries,
      seedMs: round(size.seedMs, 0),
      balance: summary('balance'),
      history: summary('history'),
      filtered: summary('filtered'),
      asOf: summary('asOf'),
      cost: costs[i] ?? ({} as Record<ScaleRead, ReadCost>),
    };
  });
  const flat = (kind: ScaleRead): number =>
    round((sizes[sizes.length - 1]?.[kind].p50 ?? 0) / (sizes[0]?.[kind].p50 ?? 1), 3);
  return {
    sizes,
    reads: options.reads,
    meteredReads: METERED_READS,
    filter: FILTER,
    balanceFlatRatio: flat('balance'),
    historyFlatRatio: flat('history'),
    filteredFlatRatio: flat('filtered'),
    asOfFlatRatio: flat('asOf'),
    failures,
  };
}
