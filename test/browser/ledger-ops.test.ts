/**
 * Fees, reversals and the ledger summary on the web page (issue 19), in a real Chromium against
 * the real local stack: the operator's summary, fee form and Reverse; the customer's fee before
 * confirming, and the reversal in their history. Every number the page shows is compared with
 * the API's own, and axe-core checks the new parts for accessibility.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { LedgerEntry, LedgerSummary } from '../../lib/wire/types';
import { pagePerTest } from './browser';
import {
  accessibilityViolations,
  apiBalance,
  apiHistory,
  card,
  expectBalance,
  expectMessage,
  freshAccount,
  openPage,
  opsRead,
  recordWithdrawals,
  signInAsOperator,
  signInOnPage,
  signOutOnPage,
  usd,
  withdraw,
} from './helpers';

jest.setTimeout(180_000);

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');

const currentPage = pagePerTest();
let page: Page;
beforeEach(() => {
  page = currentPage();
});

type Entry = LedgerEntry;

const SLOW_STACK_MS = 30_000;

async function apiSummary(): Promise<LedgerSummary> {
  const response = await opsRead<LedgerSummary>('/ledger/summary');
  if (response.status !== 200) throw new Error(`summary: ${response.status}`);
  return response.body;
}

const usdRow = (summary: LedgerSummary) => summary.currencies.USD?.systemAccounts;

/** The USD row of the page's summary, as shown. */
async function shownUsdRow(panel: Locator): Promise<Record<string, string>> {
  const row = panel.locator('tr[data-currency="USD"]');
  const shown: Record<string, string> = {};
  for (const name of ['funding', 'clearing', 'revenue']) {
    shown[name] = ((await row.locator(`td[data-system-account="${name}"]`).textContent()) ?? '')
      .trim()
      .replace('−', '-');
  }
  return shown;
}

/**
 * Presses Refresh and checks the page against the API read just before and just after: other
 * suites may move money meanwhile, so a comparison counts only when both reads agree.
 */
async function expectSummaryShownAsApiHasIt(panel: Locator): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const before = await apiSummary();
    await panel.getByRole('button', { name: 'Refresh summary' }).click();
    await expectMessage(panel, 'status', /^Summary read at /);
    const shown = await shownUsdRow(panel);
    const after = await apiSummary();
    const usdBefore = usdRow(before);
    if (usdBefore && JSON.stringify(usdBefore) === JSON.stringify(usdRow(after))) {
      expect(shown).toEqual({
        funding: usd(usdBefore.funding),
        clearing: usd(usdBefore.clearing),
        revenue: usd(usdBefore.revenue),
      });
      return;
    }
    if (attempt === 5) throw new Error('the ledger summary never held still for a comparison');
  }
}

/** Waits until the API's history satisfies `ok`; the statement settles about a second after. */
async function historyWhere(
  accountId: string,
  ok: (entries: Entry[]) => boolean,
): Promise<Entry[]> {
  const deadline = Date.now() + SLOW_STACK_MS;
  for (;;) {
    const entries = (await apiHistory(accountId)) as Entry[];
    if (ok(entries)) return entries;
    if (Date.now() > deadline) throw new Error(`history never settled: ${JSON.stringify(entries)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function openAsOperator(accountId: string): Promise<Locator> {
  await openPage(page);
  await signInAsOperator(page);
  await page.getByRole('heading', { name: 'Operations', level: 1 }).waitFor();
  await page.getByLabel('Account id').fill(accountId);
  await page.getByRole('button', { name: 'Open account' }).click();
  const view = card(page, accountId);
  await view.getByTestId('fees-changed').filter({ hasText: /\S/ }).waitFor();
  return view;
}

/** POSTs the page sends to reverse a movement, with their Idempotency-Key headers. */
function recordReversals(): { keys: string[] } {
  const seen = { keys: [] as string[] };
  page.on('request', (request) => {
    if (request.method() === 'POST' && /\/reversals$/.test(new URL(request.url()).pathname)) {
      seen.keys.push(request.headers()['idempotency-key'] ?? '');
    }
  });
  return seen;
}

it('shows an operator the ledger summary as the API has it, and reads it again on Refresh', async () => {
  const before = usdRow(await apiSummary());
  await openPage(page);
  await signInAsOperator(page);
  const panel = page.getByRole('region', { name: 'Ledger summary' });
  await expectMessage(panel, 'status', /^Summary read at /);

  // Money comes in: once the sequencer has posted it, funding is lower by at least that much.
  await freshAccount(12_345);
  const deadline = Date.now() + SLOW_STACK_MS;
  while ((usdRow(await apiSummary())?.funding ?? 0) > (before?.funding ?? 0) - 12_345) {
    if (Date.now() > deadline) throw new Error('the deposit never reached the summary');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await expectSummaryShownAsApiHasIt(panel);
  expect(await accessibilityViolations(page, '.operations')).toEqual([]);
});

it('an operator sets a fee, the customer sees it before confirming and pays it, and a partial reversal shows in both histories', async () => {
  const accountId = await freshAccount(20_000);

  // The operator sets the account's fees: a withdrawal costs $0.25 + 0.5%, a payout $1.00.
  let view = await openAsOperator(accountId);
  await expect(view.getByTestId('fees-changed').textContent()).resolves.toMatch(
    /No fees were ever set/,
  );
  const withdrawalFee = view.getByRole('group', { name: 'Withdrawal fee' });
  await withdrawalFee.getByLabel('Flat').fill('0.25');
  await withdrawalFee.getByLabel('Basis points').fill('50');
  await view.getByRole('group', { name: 'Payout fee' }).getByLabel('Flat').fill('1.00');
  await view.getByLabel('Reason for the change').fill('Launch pricing');
  await view.getByRole('button', { name: 'Save fees' }).click();
  await expectMessage(view, 'status', /^Fees saved: version 1\.$/);
  await expect(view.getByTestId('fees-changed').textContent()).resolves.toMatch(
    /^Version 1, changed .* by .+: Launch pricing$/,
  );
  const fees = await opsRead<Record<string, unknown>>(`/accounts/${accountId}/fees`);
  expect(fees.body).toMatchObject({
    accountId,
    WITHDRAWAL: { flat: 25, bps: 50 },
    PAYOUT: { flat: 100 },
    version: 1,
  });
  expect(await accessibilityViolations(page, '.operations')).toEqual([]);
  await signOutOnPage(page);

  // The customer sees the fee as they type, before pressing Withdraw: 25 + 5000 × 50 / 10000.
  const fee = 50;
  const sent = recordWithdrawals(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(20_000));
  await expect(page.getByRole('heading', { name: 'Operations' }).count()).resolves.toBe(0);
  const section = card(page, accountId);
  await section.getByLabel('Amount', { exact: true }).fill('50.00');
  await section.getByText('Fee $0.50 — total $50.50').waitFor();
  await section.getByLabel('Payout amount', { exact: true }).fill('10.00');
  await section.getByText('Fee $1.00 — total $11.00').waitFor();
  expect(sent.keys).toEqual([]);
  expect(await accessibilityViolations(page, `section[data-account-id="${accountId}"]`)).toEqual(
    [],
  );

  const answer = page.waitForResponse(
    (response) =>
      response.request().method() === 'POST' &&
      new URL(response.url()).pathname === `/accounts/${accountId}/withdrawals`,
  );
  await withdraw(page, accountId, '50.00');
  const body = (await (await answer).json()) as { fee: number; transaction: Entry };
  expect(body.fee).toBe(fee);
  expect(body.transaction.fee).toBe(fee);
  await expectMessage(section, 'status', /^Withdrew \$50\.00 \(fee \$0\.50\)\.$/);
  const afterWithdrawal = 20_000 - 5_000 - fee;
  expect(await apiBalance(accountId)).toBe(afterWithdrawal);
  await expectBalance(page, accountId, usd(afterWithdrawal));
  const withdrawalRow = section.locator(
    `tr[data-transaction-id="${body.transaction.transactionId}"]`,
  );
  await expect(withdrawalRow.textContent()).resolves.toMatch(/Withdrawal.*Fee \$0\.50.*−\$50\.00/);
  await signOutOnPage(page);

  // Reversible once in the statement: the operator reverses $20.00 of it, with a reason.
  await historyWhere(accountId, (entries) =>
    entries.some(
      (entry) =>
        entry.transactionId === body.transaction.transactionId && entry.balanceAfter !== null,
    ),
  );
  const reversals = recordReversals();
  view = await openAsOperator(accountId);
  const reverseLine = view.getByRole('button', { name: 'Reverse the withdrawal of $50.00' });
  await reverseLine.click();
  const amount = view.getByLabel('Amount to reverse');
  await expect(amount.inputValue()).resolves.toBe('50.00');
  await expect(amount.evaluate((input) => input === document.activeElement)).resolves.toBe(true);
  expect(await accessibilityViolations(page, '.operations')).toEqual([]);
  await amount.fill('20.00');
  await view.getByRole('button', { name: 'Reverse', exact: true }).click();
  await expectMessage(view, 'alert', /Enter the reason for the reversal/);
  expect(reversals.keys).toEqual([]);
  await view.getByLabel('Reason for the reversal').fill('Customer complaint');
  await view.getByRole('button', { name: 'Reverse', exact: true }).click();
  await expectMessage(
    view,
    'status',
    /^Reversed \$20\.00\. The withdrawal of \$50\.00 on .*: \$30\.00 left to reverse\.$/,
  );
  const afterReversal = afterWithdrawal + 2_000;
  await expectBalance(page, accountId, usd(afterReversal));
  expect(await apiBalance(accountId)).toBe(afterReversal);

  // More than is left: the API refuses it, the page says so, and nothing changes.
  await reverseLine.click();
  await amount.fill('40.00');
  await view.getByLabel('Reason for the reversal').fill('Second thoughts');
  await view.getByRole('button', { name: 'Reverse', exact: true }).click();
  await expectMessage(view, 'alert', /REVERSAL_EXCEEDS_ORIGINAL/);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'operator-account.png'), fullPage: true });
  expect(reversals.keys).toHaveLength(2);
  expect(new Set(reversals.keys).size).toBe(2);
  expect(await apiBalance(accountId)).toBe(afterReversal);
  await view.getByRole('button', { name: 'Cancel' }).click();
  await signOutOnPage(page);

  // The customer's history links the reversal and the withdrawal both ways.
  const entries = await historyWhere(accountId, (all) =>
    all.some(
      (entry) =>
        entry.transactionId === body.transaction.transactionId && entry.reversedBy?.length === 1,
    ),
  );
  const reversal = entries.find((entry) => entry.reversalOf === body.transaction.transactionId);
  expect(reversal).toMatchObject({
    type: 'REVERSAL_IN',
    amount: 2_000,
    reason: 'Customer complaint',
  });
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(afterReversal));
  const reversalRow = section.locator(`tr[data-transaction-id="${reversal?.transactionId ?? ''}"]`);
  await expect(reversalRow.textContent()).resolves.toMatch(
    /Reversal of the withdrawal of \$50\.00.*Reason: Customer complaint.*\+\$20\.00/,
  );
  await expect(withdrawalRow.textContent()).resolves.toMatch(/Reversed: \$20\.00/);
  const link = reversalRow.getByRole('link', { name: 'the withdrawal of $50.00' });
  await expect(link.getAttribute('href')).resolves.toBe(
    `#${(await withdrawalRow.getAttribute('id')) ?? 'no id'}`,
  );
  await section.screenshot({ path: path.join(ARTIFACTS, 'customer-reversal.png') });
  await link.click();
  await expect(withdrawalRow.evaluate((row) => row === document.activeElement)).resolves.toBe(true);
});
