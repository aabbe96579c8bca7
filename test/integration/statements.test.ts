import { parse } from 'csv-parse/sync';
import { StatementCatchingUpError } from '../../lib/domain/errors';
import { reverseTransaction } from '../../lib/domain/reversals';
import { csvHeaderRow, csvPagesOf } from '../../lib/domain/statement-csv';
import { csvPart } from '../../lib/middleware/csv-response';
import { setFeeSchedule } from '../../lib/domain/fees';
import { setAccountLimits } from '../../lib/domain/limits';
import { deposit, transfer, withdraw } from '../../lib/domain/movements';
import { signOf } from '../../lib/domain/movement-types';
import type { StoredLine } from '../../lib/domain/ports';
import {
  balanceAt,
  filteredHistory,
  monthlyStatement,
  statementExport,
} from '../../lib/domain/statements';
import {
  balanceEffect,
  type Account,
  type Caller,
  type LedgerEntry,
  type MovementType,
} from '../../lib/domain/types';
import { startDynamoDbLocal, type DynamoDbLocalProcess } from '../../local/dynamodb-local';
import { findFreePort } from '../../local/ports';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';
import { seedStatement, type SeedLine } from '../support/statement-seed';

/**
 * Statements against DynamoDB Local (issue 21): the running figures the sequencer gives each
 * line, and what they let a statement, a filter or a balance at an instant read.
 */
const alice = customer('alice');
let ledger: TestLedger;
let deps: TestLedger['deps'];

let own: DynamoDbLocalProcess | undefined;

beforeAll(async () => {
  // A DynamoDB Local of its own: the 10,000 seeded lines (and their stream records) would slow
  // every other suite's streams on the shared one.
  own = await startDynamoDbLocal({ port: await findFreePort() });
  ledger = await createTestLedger('statements', { endpoint: own.endpoint });
  deps = ledger.deps;
});
afterAll(async () => {
  await ledger?.close();
  await own?.stop();
});

let keys = 0;
const request = (accountId: string, amount: number, caller: Caller = alice) => {
  keys += 1;
  return { caller, accountId, amount, idempotencyKey: `s-${keys}`, requestId: `r-${keys}` };
};

/** Every page of a monthly statement, oldest first. */
async function wholeStatement(account: Account, period: string, limit = 100) {
  const first = await monthlyStatement(deps, alice, account.accountId, period, { limit });
  const lines = [...first.transactions];
  for (let cursor = first.nextCursor; cursor !== null; ) {
    const page = await monthlyStatement(deps, alice, account.accountId, period, { limit, cursor });
    lines.push(...page.transactions);
    cursor = page.nextCursor;
  }
  return { ...first, lines };
}

/** Every page of a filtered history, newest first. */
async function wholeFilteredHistory(
  account: Account,
  filter: Parameters<typeof filteredHistory>[3],
  limit: number,
) {
  const lines: LedgerEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await filteredHistory(deps, alice, account.accountId, filter, {
      limit,
      ...(cursor === undefined ? {} : { cursor }),
    });
    expect(page.transactions.length).toBeLessThanOrEqual(limit);
    lines.push(...page.transactions);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return lines;
}

const seedAt = (seeds: SeedLine[], i: number): SeedLine => {
  const seed = seeds[i];
  if (seed === undefined) throw new Error(`no seed ${i}`);
  return seed;
};
const instant = (ms: number) => new Date(ms).toISOString();
const MARCH_NEW_YORK = Date.parse('2026-03-01T05:00:00.000Z');

describe('statements, on DynamoDB Local', () => {
  it('gives every line a postedAt that never goes back and running totals, as the sequencer places it', async () => {
    const a = await ledger.openAccount(alice, 10_000);
    const b = await ledger.openAccount(customer('bob'), 0);
    await setFeeSchedule(deps, operator, {
      accountId: a.accountId,
      schedule: { WITHDRAWAL: { flat: 25 } },
      reason: 'pricing',
    });
    await Promise.all([
      withdraw(deps, request(a.accountId, 1_000)),
      withdraw(deps, request(a.accountId, 500)),
      deposit(deps, request(a.accountId, 300, operator)),
    ]);
    await transfer(deps, { ...request(a.accountId, 200), toAccountId: b.accountId });
    await ledger.drain();

    const lines = (await ledger.statement(a.accountId)).reverse() as StoredLine[];
    expect(lines.map((line) => line.sequence)).toEqual([1, 2, 3, 4, 5]);
    const postedAt = lines.map((line) => line.postedAt ?? '');
    lines.forEach((line, i) => expect((postedAt[i] ?? '') >= line.createdAt).toBe(true));
    expect([...postedAt].sort()).toEqual(postedAt);
    expect(lines[4]).toMatchObject({
      totalsAfter: { DEPOSIT: 10_300, WITHDRAWAL: 1_500, TRANSFER_OUT: 200 },
      feesAfter: 50,
      balanceAfter: 10_000 + 300 - 1_500 - 50 - 200,
    });
  });

  it('a month of 10,000 lines: opening + the lines = closing, totals and count from two lines, in the account timezone', async () => {
    const a = await ledger.openAccount(alice, 0);
    await setAccountLimits(deps, operator, {
      accountId: a.accountId,
      limits: { timezone: 'America/New_York' },
      reason: 'customer lives in New York',
    });
    // 51 lines in February (New York), 10,000 in March, 49 in April; a minute apart.
    const types: MovementType[] = ['DEPOSIT', 'WITHDRAWAL', 'PAYOUT', 'TRANSFER_IN'];
    const start = MARCH_NEW_YORK - 50 * 60_000;
    const april = Date.parse('2026-04-01T04:00:00.000Z');
    const createdAt = (i: number) =>
      i === 50
        ? MARCH_NEW_YORK - 1
        : i <= 10_050
          ? start + i * 60_000
          : april + (i - 10_051) * 60_000;
    const seeds: SeedLine[] = Array.from({ length: 10_100 }, (_, i) => {
      const type = i < 20 ? 'DEPOSIT' : (types[i % types.length] ?? 'DEPOSIT');
      return {
        type,
        amount: type === 'DEPOSIT' ? 1_000 + i : 1 + (i % 97),
        ...(type === 'WITHDRAWAL' ? { fee: 2 } : {}),
        ...(type === 'PAYOUT' && i % 8 === 2 ? { status: 'VOIDED' as const } : {}),
        createdAt: instant(createdAt(i)),
      };
    });
    await seedStatement(ledger, a, seeds.length, (i) => seedAt(seeds, i));

    const march = await wholeStatement(a, '2026-03');

    expect(march).toMatchObject({
      period: '2026-03',
      timezone: 'America/New_York',
      from: '2026-03-01T05:00:00.000Z',
      to: '2026-04-01T04:00:00.000Z',
      count: 10_000,
    });
    expect(march.lines).toHaveLength(10_000);
    // The line stamped a millisecond before March (New York) is February's.
    expect(march.lines[0]?.sequence).toBe(52);
    const effects = march.lines.reduce((sum, line) => sum + balanceEffect(line), 0);
    expect(march.openingBalance + effects).toBe(march.closingBalance);
    expect(march.closingBalance).toBe(march.lines[march.lines.length - 1]?.balanceAfter);
    const totals: Partial<Record<MovementType, number>> = {};
    let fees = 0;
    for (const line of march.lines.filter((l) => l.status === 'POSTED')) {
      totals[line.type] = (totals[line.type] ?? 0) + line.amount;
      fees += line.fee ?? 0;
    }
    expect(march.totals).toEqual(totals);
    expect(march.fees).toBe(fees);
    expect(march.lines.map((line) => line.sequence)).toEqual(
      Array.from({ length: 10_000 }, (_, i) => 52 + i),
    );
  }, 180_000);

  it('answers the balance at an instant from the line before it: 0 before the first, the current balance in the future', async () => {
    const a = await ledger.openAccount(alice, 0);
    const base = Date.parse('2026-01-10T12:00:00.000Z');
    const seeds: SeedLine[] = [5_000, 7_000, 9_000].map((amount, i) => ({
      type: 'DEPOSIT',
      amount,
      createdAt: instant(base + i * 60_000),
    }));
    await seedStatement(ledger, a, seeds.length, (i) => seedAt(seeds, i));
    const at = (ms: number) => balanceAt(deps, alice, a.accountId, instant(ms));

    await expect(at(base - 1)).resolves.toMatchObject({ balance: 0, sequence: 0 });
    await expect(at(base)).resolves.toMatchObject({ balance: 5_000, sequence: 1 });
    await expect(at(base + 30_000)).resolves.toMatchObject({ balance: 5_000, sequence: 1 });
    await expect(at(base + 60_000 - 1)).resolves.toMatchObject({ balance: 5_000, sequence: 1 });
    await expect(at(base + 90_000)).resolves.toMatchObject({ balance: 12_000, sequence: 2 });
    await expect(at(Date.now() + 86_400_000)).resolves.toMatchObject({
      accountId: a.accountId,
      currency: 'USD',
      balance: 21_000,
      sequence: 3,
    });
  });

  it('filters by types and a date range across page boundaries with no gap or duplicate', async () => {
    const a = await ledger.openAccount(alice, 0);
    const base = Date.parse('2026-02-01T00:00:00.000Z');
    const kinds: MovementType[] = [
      'DEPOSIT',
      'WITHDRAWAL',
      'PAYOUT',
      'REVERSAL_IN',
      'TRANSFER_OUT',
    ];
    const seeds: SeedLine[] = Array.from({ length: 300 }, (_, i) => {
      const type = i < 10 ? 'DEPOSIT' : (kinds[(i * 7) % kinds.length] ?? 'DEPOSIT');
      return {
        type,
        amount: signOf(type) > 0 ? 100 : 1,
        // Some share an instant: the order is postedAt, then sequence.
        createdAt: instant(base + Math.floor(i / 3) * 1_000),
      };
    });
    await seedStatement(ledger, a, seeds.length, (i) => seedAt(seeds, i));
    const from = instant(base + 20_000);
    const to = instant(base + 80_000);

    const listed = await wholeFilteredHistory(a, { from, to, types: ['WITHDRAWAL', 'PAYOUT'] }, 7);

    const expected = seeds
      .map((seed, i) => ({ ...seed, sequence: i + 1 }))
      .filter((s) => ['WITHDRAWAL', 'PAYOUT'].includes(s.type))
      .filter((s) => s.createdAt >= from && s.createdAt < to)
      .map((s) => s.sequence)
      .reverse();
    expect(expected.length).toBeGreaterThan(30);
    expect(listed.map((line) => line.sequence)).toEqual(expected);
    expect(listed.every((line) => line.postedAt !== undefined)).toBe(true);
  });

  it('answers STATEMENT_CATCHING_UP while a movement that may count before the instant waits for its line', async () => {
    const paused = await createTestLedger('statements-paused', {
      sequencer: false,
      endpoint: own?.endpoint,
    });
    try {
      const a = await paused.openAccount(alice, 0);
      await deposit(paused.deps, request(a.accountId, 4_000, operator));
      const later = { ...paused.deps, now: () => new Date(Date.now() + 60_000) };
      const justNow = new Date().toISOString();

      await expect(balanceAt(later, alice, a.accountId, justNow)).rejects.toBeInstanceOf(
        StatementCatchingUpError,
      );
      await paused.sequenceOnce();
      await expect(balanceAt(later, alice, a.accountId, justNow)).resolves.toMatchObject({
        balance: 4_000,
        sequence: 1,
      });
    } finally {
      await paused.close();
    }
  });

  it('exports a month as CSV that a CSV parser reads back: commas, quotes, line breaks and formulas in what clients wrote', async () => {
    const a = await ledger.openAccount(alice, 0);
    const description = '=HYPERLINK("http://evil.example","click"), then "quoted", café';
    const reference = '+SUM(A1:A9), "x"';
    const moved = await deposit(deps, {
      ...request(a.accountId, 5_000, operator),
      description,
      reference,
    });
    const withdrawn = await withdraw(deps, {
      ...request(a.accountId, 1_250),
      description: '@cmd|calc',
    });
    await ledger.drain();
    const reason = 'line one,\nline two: -2+3 "refund"';
    await reverseTransaction(deps, {
      caller: operator,
      transactionId: withdrawn.transaction.transactionId,
      amount: 250,
      reason,
      idempotencyKey: `rev-${a.accountId}`,
      requestId: 'csv',
    });
    await ledger.drain();
    const period = new Date().toISOString().slice(0, 7);

    const { pages } = await statementExport(deps, alice, a.accountId, period);
    const answer = await csvPart(csvPagesOf(pages), {
      headers: {},
      filename: 'statement.csv',
      header: csvHeaderRow(),
      nextLink: () => 'never',
    });

    const rows = parse(answer.body ?? '', { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.type)).toEqual(['DEPOSIT', 'WITHDRAWAL', 'REVERSAL_IN']);
    expect(rows[0]).toMatchObject({
      transactionId: moved.transaction.transactionId,
      amount: '5000',
      amountDecimal: '50.00',
      description: `'${description}`,
      reference: `'${reference}`,
    });
    expect(rows[1]).toMatchObject({
      amount: '-1250',
      amountDecimal: '-12.50',
      description: "'@cmd|calc",
    });
    expect(rows[2]).toMatchObject({ amount: '250', reason, balanceAfter: '4000' });
    expect(answer.headers?.link).toBeUndefined();
  });

  it('completes the figures of lines written before they existed when the account next moves', async () => {
    const a = await ledger.openAccount(alice, 0);
    const base = Date.parse('2025-11-03T09:00:00.000Z');
    const seeds: SeedLine[] = Array.from({ length: 130 }, (_, i) => ({
      type: 'DEPOSIT',
      amount: 10,
      createdAt: instant(base + i * 1_000),
    }));
    await seedStatement(ledger, a, seeds.length, (i) => seedAt(seeds, i));
    await stripFigures(a.accountId);

    await deposit(deps, request(a.accountId, 5, operator));
    await ledger.drain();

    const lines = (await ledger.statement(a.accountId)) as StoredLine[];
    expect(lines).toHaveLength(131);
    expect(lines[0]).toMatchObject({ sequence: 131, totalsAfter: { DEPOSIT: 1_305 } });
    expect(lines.every((line) => line.postedAt !== undefined)).toBe(true);
    await expect(
      balanceAt(deps, alice, a.accountId, instant(base + 99_500)),
    ).resolves.toMatchObject({ balance: 1_000, sequence: 100 });
  });
});

/** Takes the figures and the history index's keys off an account's lines, as an older sequencer wrote them. */
async function stripFigures(accountId: string): Promise<void> {
  const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
  const { statementLineKey } = await import('../../lib/persistence/keys');
  for (const line of await ledger.statement(accountId)) {
    await ledger.doc.send(
      new UpdateCommand({
        TableName: ledger.tableName,
        Key: statementLineKey(accountId, line.sequence ?? 0),
        UpdateExpression: 'REMOVE postedAt, totalsAfter, feesAfter, historyKey, historyAt',
      }),
    );
  }
}
