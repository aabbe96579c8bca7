import { CostMeter, totals } from '../../bench/lib/cost-meter';
import {
  localDynamoDbClient,
  startDynamoDbLocal,
  type DynamoDbLocalProcess,
} from '../../local/dynamodb-local';
import { findFreePort } from '../../local/ports';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LINE_KINDS } from '../../lib/domain/statement-figures';
import { balanceAt, filteredHistory, type HistoryFilter } from '../../lib/domain/statements';
import { balanceEffect, type Account, type LedgerEntry } from '../../lib/domain/types';
import { dynamoLedgerStore } from '../../lib/persistence/dynamodb-store';
import { createTestLedger, customer, type TestLedger } from '../support/ledger';
import { mixedInstant, mixedLine } from '../support/statement-mix';
import { seedStatement } from '../support/statement-seed';

/**
 * Issue 21: what a filtered page and a balance at an instant read does not grow with the
 * history's length. The same reads on an account of 10 lines and one of 100,000 (the same mix
 * of types, a minute apart), metered by the bench's cost meter: DynamoDB Local's own
 * ConsumedCapacity is not DynamoDB's, so read units are computed from the items' sizes with
 * DynamoDB's billing rules (bench/lib/cost-meter.ts). No timing is asserted.
 */
const alice = customer('alice');
const START = Date.parse('2025-01-01T00:00:00.000Z');
const SIZES = [10, 100_000] as const;
/** Withdrawals and payouts; two full pages in the 10-line account's range and a line left. */
const LIMIT = 3;

interface Seeded {
  lines: number;
  account: Account;
  /** The filter's range: 7 of the 10-line account's lines, half of the long history. */
  filter: HistoryFilter;
}

let ledger: TestLedger;
let meter: CostMeter;
let metered: TestLedger['deps'];
let closeMetered: () => void;
const seeded: Seeded[] = [];

// Seeding 100,000 lines takes a minute or more on 2 cores (DynamoDB Local's CPU: each item is
// written with two index entries and a stream record): a generous timeout, no timing asserted.
let own: DynamoDbLocalProcess | undefined;

beforeAll(async () => {
  // A DynamoDB Local of its own (in memory), as the bench's: the shared one, holding every other
  // suite's data, took 330 s to take the 100,000 lines in CI where a fresh one takes under 60.
  own = await startDynamoDbLocal({ port: await findFreePort() });
  // No sequencer: nothing here moves money, and its stream poller would read every seeded line.
  ledger = await createTestLedger('statements-scale', {
    sequencer: false,
    endpoint: own.endpoint,
  });
  for (const lines of SIZES) {
    const account = await ledger.openAccount(alice, 0);
    await seedStatement(ledger, account, lines, (i) => mixedLine(START, i));
    const [from, to] = lines === 10 ? [1, 9] : [lines / 4, (3 * lines) / 4];
    seeded.push({
      lines,
      account,
      filter: {
        types: ['WITHDRAWAL', 'PAYOUT'],
        from: mixedInstant(START, from),
        to: mixedInstant(START, to),
      },
    });
  }
  // The domain on a client of its own, metered; the meter looks items up through the ledger's.
  const client = localDynamoDbClient(ledger.endpoint, { maxAttempts: 10 });
  meter = new CostMeter(ledger.client, { [ledger.tableName]: ['pk', 'sk'] });
  meter.attach(client);
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  metered = { ...ledger.deps, store: dynamoLedgerStore(doc, ledger.tableName) };
  closeMetered = () => client.destroy();
}, 600_000);

afterAll(async () => {
  closeMetered?.();
  await ledger?.close();
  await own?.stop();
});

/** What one read cost: its result, and its round trips (SDK attempts), commands and units. */
async function cost<T>(read: () => Promise<T>) {
  meter.take();
  const result = await read();
  const { attempts, commands, rcu, wcu, byCommand } = totals(meter.take());
  return { result, cost: { roundTrips: attempts, commands, rcu, wcu, byCommand } };
}

const page = (size: Seeded, cursor?: string) =>
  cost(() =>
    filteredHistory(metered, alice, size.account.accountId, size.filter, {
      limit: LIMIT,
      ...(cursor === undefined ? {} : { cursor }),
    }),
  );

/** The lines a filter lets through, straight from the seeded lines: newest first. */
function expectedPage(size: Seeded, skip: number): number[] {
  const { from = '', to = '~' } = size.filter;
  const sequences: number[] = [];
  for (let i = size.lines - 1; i >= 0 && sequences.length < skip + LIMIT; i -= 1) {
    const line = mixedLine(START, i);
    const matches = line.type === 'WITHDRAWAL' || line.type === 'PAYOUT';
    if (matches && line.createdAt >= from && line.createdAt < to) sequences.push(i + 1);
  }
  return sequences.slice(skip);
}

const sequencesOf = (lines: LedgerEntry[]) => lines.map((line) => line.sequence);

describe('statement reads at 10 and 100,000 lines, on DynamoDB Local', () => {
  it('a filtered page (types and a date range, newest first) costs the same, first page and a later one', async () => {
    const measured = [];
    for (const size of seeded) {
      const first = await page(size);
      expect(first.result.nextCursor).not.toBeNull();
      const second = await page(size, first.result.nextCursor ?? undefined);
      expect(second.result.nextCursor).not.toBeNull();
      expect(sequencesOf(first.result.transactions)).toEqual(expectedPage(size, 0));
      expect(sequencesOf(second.result.transactions)).toEqual(expectedPage(size, LIMIT));
      measured.push({ first: first.cost, later: second.cost });
    }
    const [short, long] = measured;

    expect(long).toEqual(short);
    // Round trips: the account, one Query per kind of line the filter lets through (withdrawals;
    // payouts posted and voided) and the page's reversal records.
    expect(short?.first).toMatchObject({ roundTrips: 5, commands: 5, wcu: 0 });
  });

  it('the balance at an instant in the middle of the history costs the same', async () => {
    const measured = [];
    for (const size of seeded) {
      const middle = Math.floor(size.lines / 2);
      const at = new Date(Date.parse(mixedInstant(START, middle)) + 30_000).toISOString();
      const { result, cost: read } = await cost(() =>
        balanceAt(metered, alice, size.account.accountId, at),
      );
      expect(result).toMatchObject({ balance: balanceThrough(middle), sequence: middle + 1 });
      measured.push(read);
    }
    const [short, long] = measured;

    expect(long).toEqual(short);
    // The account, the newest line before the instant in each kind's partition of the index, and
    // the statement's next lines (strongly consistent) to confirm it.
    expect(short).toMatchObject({ roundTrips: LINE_KINDS.length + 2, wcu: 0 });
  });
});

/** The balance after line `index` of the mixed history, summed from its lines. */
function balanceThrough(index: number): number {
  let balance = 0;
  for (let i = 0; i <= index; i += 1) {
    const seed = mixedLine(START, i);
    balance += balanceEffect(seed);
  }
  return balance;
}
