/**
 * Statements on the web page (issue 21), in a real Chromium against the real local stack: the
 * customer picks a month and sees the API's statement (boundaries, opening and closing
 * balances, totals) and its balance chart with a text alternative; downloads it as CSV and the
 * file parses to the month's lines; sees the statement and the chart read again after a
 * withdrawal; filters the history by type and day, downloads the filtered history, and clears
 * the filters.
 */
import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Locator, Page } from 'playwright-core';
import type { HistoryPage, Statement } from '../../lib/wire/types';
import { api } from '../support/api-client';
import { pagePerTest } from './browser';
import {
  accessibilityViolations,
  apiBalance,
  apiHistory,
  card,
  expectBalance,
  expectMessage,
  expectWithdrawn,
  freshAccount,
  openPage,
  signInOnPage,
  token,
  usd,
  withdraw,
} from './helpers';

jest.setTimeout(180_000);

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const SLOW_STACK_MS = 30_000;

const currentPage = pagePerTest();
let page: Page;
beforeEach(() => {
  page = currentPage();
});

/** A GET as the customer, tried again while the statement catches up (503, about a second). */
async function customerRead<T>(pathname: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const response = await api<T>('GET', pathname, { token: await token('customer') });
    if (response.status === 200) return response.body;
    if (attempt === 20) {
      throw new Error(`${pathname}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The month (YYYY-MM, UTC: a fresh account's timezone) a movement of the account counts in. */
async function monthOfLatestLine(accountId: string): Promise<string> {
  const [latest] = await apiHistory(accountId);
  return (latest?.postedAt ?? latest?.createdAt ?? '').slice(0, 7);
}

/** Waits until the statement shown has finished reading and says `closing`. */
async function expectStatement(section: Locator, closing: string): Promise<void> {
  await section
    .getByTestId('statement-closing')
    .filter({ hasText: new RegExp(`^${closing.replace(/[$.]/g, '\\$&')}$`) })
    .waitFor({ timeout: SLOW_STACK_MS });
  await section.locator('section.statement[aria-busy="false"]').waitFor({ timeout: SLOW_STACK_MS });
}

/** Clicks a download button and returns the file the browser saved, as text. */
async function downloaded(
  section: Locator,
  button: string,
): Promise<{ name: string; text: string }> {
  const download = page.waitForEvent('download', { timeout: SLOW_STACK_MS });
  await section.getByRole('button', { name: button }).click();
  const file = await download;
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
}

type CsvRow = Record<string, string>;
const parseCsv = (text: string): CsvRow[] =>
  parse(text, { columns: true, skip_empty_lines: true }) as CsvRow[];

it('picks a month and shows its totals and chart, downloads it as CSV, and reads both again after a withdrawal', async () => {
  const accountId = await freshAccount(20_000);
  await openPage(page);
  await signInOnPage(page);
  const section = card(page, accountId);
  await withdraw(page, accountId, '50.00');
  await expectWithdrawn(section, '$50.00');
  await expectBalance(page, accountId, usd(15_000));

  const month = await monthOfLatestLine(accountId);
  await section.getByLabel('Month', { exact: true }).selectOption(month);
  await section.getByRole('button', { name: 'Show statement' }).click();
  await expectStatement(section, usd(15_000));

  // Every number is the API's statement.
  const statement = await customerRead<Statement>(`/accounts/${accountId}/statements/${month}`);
  expect(statement).toMatchObject({
    openingBalance: 0,
    closingBalance: 15_000,
    totals: { DEPOSIT: 20_000, WITHDRAWAL: 5_000 },
    count: 2,
    timezone: 'UTC',
  });
  await expect(section.getByTestId('statement-opening').textContent()).resolves.toBe(usd(0));
  await expect(section.getByTestId('statement-total-DEPOSIT').textContent()).resolves.toBe(
    `+${usd(20_000)}`,
  );
  await expect(section.getByTestId('statement-total-WITHDRAWAL').textContent()).resolves.toBe(
    `−${usd(5_000)}`,
  );
  await expect(section.getByTestId('statement-count').textContent()).resolves.toBe('2');
  await expect(section.getByTestId('statement-period').textContent()).resolves.toMatch(
    new RegExp(`^\\w+ ${month.slice(0, 4)} in UTC: from .* to .* \\(not included\\)\\.$`),
  );

  // The chart: its name says it in words; its table lists its points.
  const chart = section.getByRole('img', { name: /^Balance over / });
  await expect(chart.getAttribute('aria-label')).resolves.toMatch(
    /: opening \$0\.00, closing \$150\.00, lowest \$0\.00, highest \$200\.00\.$/,
  );
  await expect(chart.locator('path.line').getAttribute('data-points')).resolves.toBe('3');
  await section.getByText("The chart's 3 points").click();
  await expect(section.locator('table.chart-points tbody tr').count()).resolves.toBe(3);
  expect(await accessibilityViolations(page, `section[data-account-id="${accountId}"]`)).toEqual(
    [],
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  await section
    .locator('section.statement')
    .screenshot({ path: path.join(ARTIFACTS, 'statement.png') });

  // The CSV: what the API exports for the month, one row per line, oldest first.
  const file = await downloaded(section, 'Download statement (CSV)');
  expect(file.name).toBe(`statement-${month}-${accountId.slice(-4)}.csv`);
  await expectMessage(section, 'status', new RegExp(`^Downloaded ${file.name}\\.$`));
  const rows = parseCsv(file.text);
  expect(rows.map((row) => [row.type, row.balanceAfter])).toEqual([
    ['DEPOSIT', '20000'],
    ['WITHDRAWAL', '15000'],
  ]);
  expect(rows.map((row) => row.transactionId)).toEqual(
    statement.transactions.map((line) => line.transactionId),
  );

  // After another withdrawal, the statement and its chart are read again, like the balance.
  await withdraw(page, accountId, '20.00');
  await expectWithdrawn(section, '$20.00');
  await expectBalance(page, accountId, usd(await apiBalance(accountId)));
  await expectStatement(section, usd(13_000));
  await expect(section.getByTestId('statement-count').textContent()).resolves.toBe('3');
  await expect(
    section
      .getByRole('img', { name: /closing \$130\.00, lowest \$0\.00, highest \$200\.00\.$/ })
      .count(),
  ).resolves.toBe(1);
});

it('filters the history by type and day, downloads the filtered history, and clears the filters', async () => {
  const accountId = await freshAccount(30_000);
  await openPage(page);
  await signInOnPage(page);
  const section = card(page, accountId);
  await withdraw(page, accountId, '12.00');
  await expectWithdrawn(section, '$12.00');
  const [withdrawal] = await apiHistory(accountId);
  const day = (withdrawal?.postedAt ?? withdrawal?.createdAt ?? '').slice(0, 10);
  // The filtered history comes from an index that trails the statement by about a second.
  const query = `type=WITHDRAWAL&from=${day}T00:00:00Z`;
  await waitFor(async () => {
    const page1 = await customerRead<HistoryPage>(`/accounts/${accountId}/transactions?${query}`);
    return page1.transactions.length === 1;
  });

  await section.getByLabel('Withdrawal', { exact: true }).check();
  await section.getByLabel('From', { exact: true }).fill(day);
  await section.getByLabel('To', { exact: true }).fill(day);
  await section.getByRole('button', { name: 'Apply filters' }).click();
  const history = section.locator('.history').first();
  const rows = history.locator('tbody tr');
  await history
    .locator('tbody tr[data-type="DEPOSIT"]')
    .waitFor({ state: 'detached', timeout: SLOW_STACK_MS });
  await expect(
    rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-type'))),
  ).resolves.toEqual(['WITHDRAWAL']);
  await expect(history.locator('caption').textContent()).resolves.toBe(
    'Transactions matching the filters, newest first',
  );
  expect(await accessibilityViolations(page, `section[data-account-id="${accountId}"]`)).toEqual(
    [],
  );

  const file = await downloaded(section, 'Download history (CSV)');
  expect(file.name).toBe(`history-${accountId.slice(-4)}-${day}-${day}.csv`);
  expect(parseCsv(file.text).map((row) => [row.type, row.transactionId])).toEqual([
    ['WITHDRAWAL', withdrawal?.transactionId],
  ]);

  // A last day before the first: refused on the page.
  await section.getByLabel('To', { exact: true }).fill('2000-01-01');
  await section.getByRole('button', { name: 'Apply filters' }).click();
  await expectMessage(section, 'alert', /^The last day comes before the first day\.$/);

  await section.getByRole('button', { name: 'Clear filters' }).click();
  await history.locator('tbody tr[data-type="DEPOSIT"]').waitFor({ timeout: SLOW_STACK_MS });
  await expect(
    rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-type'))),
  ).resolves.toEqual(['WITHDRAWAL', 'DEPOSIT']);
  await expect(section.getByLabel('Withdrawal', { exact: true }).isChecked()).resolves.toBe(false);
});

/** Polls `check` (every half second, at most 30 s) until it holds. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 1; !(await check()); attempt++) {
    if (attempt === 60) throw new Error('the filtered history never listed the withdrawal');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
