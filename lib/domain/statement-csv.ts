import { decimalOf } from './minor-units';
import { signOf } from './movement-types';
import type { LedgerEntry } from './types';

/**
 * Statement lines as CSV (openapi.yaml's `StatementCsv` says what a client gets; this is the one
 * place that makes it): the columns, the signs, the neutralising of formulas, and RFC 4180.
 */

/** A line as the history shows it; `postedAt` on statement lines only. */
export type StatementCsvLine = LedgerEntry & { postedAt?: string };

export const STATEMENT_CSV_COLUMNS = [
  'sequence',
  'postedAt',
  'createdAt',
  'transactionId',
  'type',
  'status',
  'amount',
  'fee',
  'currency',
  'amountDecimal',
  'feeDecimal',
  'balanceAfter',
  'balanceAfterDecimal',
  'counterpartyAccountId',
  'destination',
  'reference',
  'description',
  'reversalOf',
  'reason',
] as const;

type Cell = string | number | null;
type Row = Record<(typeof STATEMENT_CSV_COLUMNS)[number], Cell>;

/**
 * RFC 4180 by hand rather than csv-stringify: it is these lines, they quote 100,000 lines about
 * three times faster (0.2 s against 0.65 s on a dev machine) in a Lambda that has 10 s for the
 * whole export, and csv-stringify leaves a lone CR or LF unquoted with CRLF records unless told.
 * The tests read the output back with csv-parse.
 */
const NEEDS_QUOTES = /[",\r\n]/;

const csvField = (cell: Cell): string => {
  if (cell === null) return '';
  if (typeof cell === 'number') return String(cell);
  return NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
};

const csvRecord = (cells: readonly Cell[]): string => `${cells.map(csvField).join(',')}\r\n`;

/**
 * What a spreadsheet would run as a formula (OWASP's CSV injection list, and the full-width
 * forms some spreadsheets fold into them) gets a leading `'`.
 */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * A text column's cell (what clients, operators or the gateway wrote; the counterparty too):
 * shown, never run. Our own columns (numbers like -1250 and -12.50, our ids, instants, types)
 * never go through here, so a negative amount stays a number.
 */
const textCell = (value: string | undefined): string | null =>
  value === undefined ? null : FORMULA_START.test(value) ? `'${value}` : value;

/**
 * One line's row. `amount` and `fee` are signed by the line's effect on the balance, so
 * amount + fee is what a POSTED line moved; a VOIDED line keeps its signs (what it would have
 * moved) and moved nothing: its status says so and its balanceAfter is the previous one's.
 */
function csvRow(line: StatementCsvLine): Row {
  const sign = signOf(line.type);
  const amount = sign * line.amount;
  const fee = line.fee ? sign * line.fee : 0;
  const { currency, balanceAfter } = line;
  return {
    sequence: line.sequence,
    postedAt: line.postedAt ?? null,
    createdAt: line.createdAt,
    transactionId: line.transactionId,
    type: line.type,
    status: line.status,
    amount,
    fee,
    currency,
    amountDecimal: decimalOf(amount, currency),
    feeDecimal: decimalOf(fee, currency),
    balanceAfter,
    balanceAfterDecimal: balanceAfter === null ? null : decimalOf(balanceAfter, currency),
    counterpartyAccountId: textCell(line.counterpartyAccountId),
    destination: textCell(line.destination),
    reference: textCell(line.reference),
    description: textCell(line.description),
    reversalOf: line.reversalOf ?? null,
    reason: textCell(line.reason),
  };
}

function csvLine(line: StatementCsvLine): string {
  const row = csvRow(line);
  return csvRecord(STATEMENT_CSV_COLUMNS.map((column) => row[column]));
}

/** The header row every CSV answer starts with. */
export const csvHeaderRow = (): string => csvRecord(STATEMENT_CSV_COLUMNS);

/** The rows of a page of lines. */
export const csvRows = (lines: readonly StatementCsvLine[]): string => lines.map(csvLine).join('');

/**
 * The CSV of `pages`, one chunk per page after the header row. Lazy: the next page is read
 * only when the previous chunk has been taken, so memory holds one page and its text.
 */
export async function* statementCsv(
  pages: AsyncIterable<readonly StatementCsvLine[]>,
): AsyncGenerator<string, void, undefined> {
  yield csvHeaderRow();
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield csvRows(page);
  }
}

/** Pages of an export as CSV rows, each with the cursor that resumes after it. */
export async function* csvPagesOf(
  pages: AsyncIterable<{ entries: readonly StatementCsvLine[]; resume: string }>,
): AsyncGenerator<{ rows: string; resume: string }> {
  for await (const page of pages) yield { rows: csvRows(page.entries), resume: page.resume };
}
