/**
 * The CSV export of statement lines (lib/domain/statement-csv.ts): read back by a real CSV
 * parser, what a spreadsheet or an accountant's tool gets is every field exactly, someone's text
 * that starts like a formula shown with a leading `'`, and our numbers as numbers.
 */
import { parse } from 'csv-parse/sync';
import {
  STATEMENT_CSV_COLUMNS,
  statementCsv,
  type StatementCsvLine,
} from '../../lib/domain/statement-csv';
import { decimalOf, minorDigits } from '../../lib/domain/minor-units';

type Parsed = Record<(typeof STATEMENT_CSV_COLUMNS)[number], string>;

let sequence = 0;
let balance = 0;

/** A posted line after the previous one, its balance carried on by its effect. */
function line(overrides: Partial<StatementCsvLine> & Pick<StatementCsvLine, 'type'>) {
  sequence += 1;
  const entry: StatementCsvLine = {
    transactionId: `01JTESTTRANSACTION${String(sequence).padStart(8, '0')}`,
    accountId: '01JTESTACCOUNT000000000000',
    amount: 1250,
    currency: 'USD',
    balanceAfter: null,
    sequence,
    idempotencyKey: `key-${sequence}`,
    createdAt: `2025-03-01T10:00:${String(sequence % 60).padStart(2, '0')}.000Z`,
    postedAt: `2025-03-01T10:00:${String(sequence % 60).padStart(2, '0')}.000Z`,
    status: 'POSTED',
    ...overrides,
  };
  const out = ['WITHDRAWAL', 'TRANSFER_OUT', 'PAYOUT', 'REVERSAL_OUT'].includes(entry.type);
  if (entry.status === 'POSTED') {
    balance += (out ? -1 : 1) * (entry.amount + (entry.fee ?? 0));
  }
  return { ...entry, balanceAfter: overrides.balanceAfter ?? balance };
}

async function* pagesOf<T>(...pages: T[][]): AsyncGenerator<T[]> {
  for (const page of pages) yield page;
}

async function csvOf(...pages: StatementCsvLine[][]): Promise<string> {
  let text = '';
  for await (const chunk of statementCsv(pagesOf(...pages))) text += chunk;
  return text;
}

/** As a strict reader would: any line break outside quotes ends a record. */
const parsed = (text: string): Parsed[] =>
  parse(text, { columns: true, record_delimiter: ['\r\n', '\n', '\r'] }) as Parsed[];

/** Someone's text that a CSV or a spreadsheet could misread. */
const TRICKY = [
  'plain words',
  'rent, March',
  'the "good" one',
  'two\r\nlines',
  'only\nLF',
  'only\rCR',
  'Café ☕ 日本語 🚀',
  '=HYPERLINK("http://evil.example","click")',
  '+1 555 0100',
  '-5 refund',
  '@SUM(A1)',
  '\tstarts with a tab',
  '\rstarts with a CR',
  '＝1+2',
  'ends with a comma,',
  '"',
  "'already quoted",
];

const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const shown = (value: string): string => (FORMULA_START.test(value) ? `'${value}` : value);

const NUMERIC = [
  'sequence',
  'amount',
  'fee',
  'amountDecimal',
  'feeDecimal',
  'balanceAfter',
  'balanceAfterDecimal',
] as const;

beforeEach(() => {
  sequence = 0;
  balance = 0;
});

describe('statementCsv', () => {
  it('starts with the header row, CRLF-terminated, and nothing else for no lines', async () => {
    const text = await csvOf();
    expect(text).toBe(`${STATEMENT_CSV_COLUMNS.join(',')}\r\n`);
    expect(await csvOf([], [])).toBe(text);
  });

  it('ends every record with CRLF and has no bare line feed outside quoted fields', async () => {
    const text = await csvOf(
      [line({ type: 'DEPOSIT', amount: 5000 })],
      [line({ type: 'WITHDRAWAL' })],
    );
    const records = text.split('\r\n');
    expect(records).toHaveLength(4);
    expect(records[3]).toBe('');
    expect(records.some((record) => /[\r\n]/.test(record))).toBe(false);
  });

  it("reads back someone's text exactly, or with a leading ' when it starts like a formula", async () => {
    const lines = TRICKY.map((text, index) =>
      line({
        type: 'PAYOUT',
        description: text,
        reference: TRICKY[(index + 1) % TRICKY.length],
        destination: TRICKY[(index + 2) % TRICKY.length],
        reason: TRICKY[(index + 3) % TRICKY.length],
      }),
    );
    const rows = parsed(await csvOf(lines.slice(0, 5), lines.slice(5)));
    expect(rows).toHaveLength(TRICKY.length);
    rows.forEach((row, index) => {
      const source = lines[index];
      expect(row.description).toBe(shown(source?.description ?? ''));
      expect(row.reference).toBe(shown(source?.reference ?? ''));
      expect(row.destination).toBe(shown(source?.destination ?? ''));
      expect(row.reason).toBe(shown(source?.reason ?? ''));
    });
    const neutralised = rows.filter((row) => row.description.startsWith("'="));
    expect(neutralised.map((row) => row.description)).toEqual([
      `'=HYPERLINK("http://evil.example","click")`,
    ]);
  });

  it('keeps our own columns as they are: numbers, ids, instants, types', async () => {
    const withdrawal = line({ type: 'WITHDRAWAL', amount: 1250, fee: 25 });
    const transferIn = line({
      type: 'TRANSFER_IN',
      amount: 300,
      counterpartyAccountId: '01JOTHERACCOUNT00000000000',
    });
    const reversal = line({
      type: 'REVERSAL_IN',
      amount: 1250,
      reversalOf: withdrawal.transactionId,
      reason: 'returned by the gateway: account closed',
    });
    const [first, second, third] = parsed(await csvOf([withdrawal, transferIn, reversal]));
    expect(first).toEqual({
      sequence: '1',
      postedAt: withdrawal.postedAt,
      createdAt: withdrawal.createdAt,
      transactionId: withdrawal.transactionId,
      type: 'WITHDRAWAL',
      status: 'POSTED',
      amount: '-1250',
      fee: '-25',
      currency: 'USD',
      amountDecimal: '-12.50',
      feeDecimal: '-0.25',
      balanceAfter: '-1275',
      balanceAfterDecimal: '-12.75',
      counterpartyAccountId: '',
      destination: '',
      reference: '',
      description: '',
      reversalOf: '',
      reason: '',
    });
    expect(second).toMatchObject({
      type: 'TRANSFER_IN',
      amount: '300',
      fee: '0',
      feeDecimal: '0.00',
      counterpartyAccountId: '01JOTHERACCOUNT00000000000',
    });
    expect(third).toMatchObject({
      amount: '1250',
      reversalOf: withdrawal.transactionId,
      reason: 'returned by the gateway: account closed',
      balanceAfter: '275',
    });
  });

  it('signs amount and fee by the effect on the balance: each posted line is balanceAfter minus the one before', async () => {
    const lines = [
      line({ type: 'DEPOSIT', amount: 100_000 }),
      line({ type: 'WITHDRAWAL', amount: 2_500, fee: 150 }),
      line({ type: 'TRANSFER_OUT', amount: 10_000 }),
      line({ type: 'TRANSFER_IN', amount: 700 }),
      line({ type: 'PAYOUT', amount: 5_000, fee: 99 }),
      line({ type: 'REVERSAL_IN', amount: 2_500 }),
      line({ type: 'REVERSAL_OUT', amount: 700 }),
    ];
    const rows = parsed(await csvOf(lines));
    let previous = 0;
    for (const row of rows) {
      expect(Number(row.amount) + Number(row.fee)).toBe(Number(row.balanceAfter) - previous);
      previous = Number(row.balanceAfter);
    }
    expect(previous).toBe(balance);
  });

  it('shows a VOIDED payout signed as the payout, with the balance it left as it was', async () => {
    const deposit = line({ type: 'DEPOSIT', amount: 10_000 });
    const voided = line({ type: 'PAYOUT', amount: 4_000, fee: 50, status: 'VOIDED' });
    const [, row] = parsed(await csvOf([deposit, voided]));
    expect(row).toMatchObject({
      status: 'VOIDED',
      amount: '-4000',
      fee: '-50',
      amountDecimal: '-40.00',
      balanceAfter: '10000',
    });
  });

  it('leaves the place of a line not yet in the statement empty', async () => {
    const pending = line({ type: 'PAYOUT', status: 'PENDING', sequence: null, balanceAfter: null });
    const [row] = parsed(await csvOf([{ ...pending, balanceAfter: null, postedAt: undefined }]));
    expect(row).toMatchObject({
      sequence: '',
      postedAt: '',
      balanceAfter: '',
      balanceAfterDecimal: '',
      status: 'PENDING',
    });
  });

  it.each([
    ['USD', 1250, '12.50'],
    ['USD', -1250, '-12.50'],
    ['USD', 5, '0.05'],
    ['USD', -5, '-0.05'],
    ['USD', 0, '0.00'],
    ['JPY', 5000, '5000'],
    ['JPY', -7, '-7'],
    ['KWD', 1_234_567, '1234.567'],
    ['KWD', -5, '-0.005'],
    ['KWD', 1_000, '1.000'],
    ['USD', Number.MAX_SAFE_INTEGER, '90071992547409.91'],
  ])('writes %s %d minor units as %s, from the integer', async (currency, minor, decimal) => {
    expect(decimalOf(minor, currency)).toBe(decimal);
    const credit = minor >= 0;
    const entry = line({
      type: credit ? 'DEPOSIT' : 'WITHDRAWAL',
      amount: Math.abs(minor),
      currency,
      balanceAfter: minor,
    });
    const [row] = parsed(await csvOf([entry]));
    expect(row).toMatchObject({
      amount: String(minor),
      amountDecimal: decimal,
      balanceAfterDecimal: decimal,
    });
  });

  it('knows the digits of currencies from Intl: USD 2, JPY 0, KWD 3', () => {
    expect([minorDigits('USD'), minorDigits('JPY'), minorDigits('KWD')]).toEqual([2, 0, 3]);
  });

  it('refuses a fraction of a minor unit rather than round it', () => {
    expect(() => decimalOf(12.5, 'USD')).toThrow(RangeError);
  });

  it('keeps the numeric columns numbers, never prefixed, whatever the text around them', async () => {
    const lines = TRICKY.map((text, index) =>
      line({
        type: index % 2 === 0 ? 'WITHDRAWAL' : 'DEPOSIT',
        amount: 1 + index * 997,
        fee: index % 2 === 0 ? index : undefined,
        description: text,
        currency: ['USD', 'JPY', 'KWD'][index % 3] ?? 'USD',
      }),
    );
    for (const row of parsed(await csvOf(lines))) {
      for (const column of NUMERIC) expect(row[column]).toMatch(/^-?\d+(\.\d+)?$/);
    }
  });

  it('reads a page only once the rows of the page before are out', async () => {
    const pulled: number[] = [];
    let closed = false;
    async function* source(): AsyncGenerator<StatementCsvLine[]> {
      try {
        for (let page = 1; page <= 3; page += 1) {
          pulled.push(page);
          yield [line({ type: 'DEPOSIT', amount: page })];
        }
      } finally {
        closed = true;
      }
    }
    const chunks = statementCsv(source());
    await chunks.next();
    expect(pulled).toEqual([]);
    const first = await chunks.next();
    expect(parsed(`${STATEMENT_CSV_COLUMNS.join(',')}\r\n${first.value}`)).toHaveLength(1);
    expect(pulled).toEqual([1]);
    await chunks.next();
    expect(pulled).toEqual([1, 2]);
    await chunks.return();
    expect(closed).toBe(true);
    expect(pulled).toEqual([1, 2]);
  });
});
