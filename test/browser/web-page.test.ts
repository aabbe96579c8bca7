/**
 * The web page in a real Chromium against the real local stack. The page may never show a
 * number the server does not hold: every balance it shows is compared with the API's own.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { pagePerTest } from './browser';
import {
  apiBalance,
  apiHistory,
  card,
  expectBalance,
  expectMessage,
  expectWithdrawn,
  freshAccount,
  openPage,
  recordWithdrawals,
  signInOnPage,
  usd,
  withdraw,
  withdrawals,
} from './helpers';

jest.setTimeout(120_000);

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');

const currentPage = pagePerTest();
let page: Page;
beforeEach(() => {
  page = currentPage();
});

it('saves a screenshot of the signed-in page', async () => {
  const accountId = await freshAccount(125_000);
  await openPage(page);
  await signInOnPage(page);
  await withdraw(page, accountId, '42.50');
  await expectWithdrawn(card(page, accountId), '$42.50');
  const history = await apiHistory(accountId);
  expect(history.map((entry) => entry.type)).toEqual(['WITHDRAWAL', 'DEPOSIT']);
  await expectBalance(page, accountId, usd(await apiBalance(accountId)));
  // The picture is of this test's account, under the page header.
  await card(page, accountId).evaluate((element) => {
    element.scrollIntoView({ block: 'end' });
    window.scrollBy(0, 24);
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'signed-in.png') });
});

it('withdraws $50.00 and shows the API balance after the answer, a reload and a new sign-in', async () => {
  const accountId = await freshAccount(20_000);
  const before = await apiBalance(accountId);

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before));

  await withdraw(page, accountId, '50.00');
  await expectWithdrawn(card(page, accountId), '$50.00');
  const after = await apiBalance(accountId);
  expect(after).toBe(before - 5_000);
  await expectBalance(page, accountId, usd(after));

  await page.reload();
  await expectBalance(page, accountId, usd(after));

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await expect(page.getByTestId('balance').count()).resolves.toBe(0);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(after));

  // The history shows it, newest first, as the API has it.
  const [entry] = await withdrawals(accountId);
  expect(entry).toMatchObject({ amount: 5_000, balanceAfter: after });
  const firstRow = card(page, accountId).locator('tbody tr').first();
  await expect(firstRow.textContent()).resolves.toMatch(/Withdrawal.*−\$50\.00/);
  await expect(firstRow.getAttribute('data-transaction-id')).resolves.toBe(entry?.transactionId);
});

it('refuses a withdrawal above the balance with an alert, and the balance stays', async () => {
  const accountId = await freshAccount(2_000);
  const before = await apiBalance(accountId);

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before));
  await withdraw(page, accountId, '25.00');
  await expectMessage(card(page, accountId), 'alert', /insufficient funds/i);

  expect(await apiBalance(accountId)).toBe(before);
  await expectBalance(page, accountId, usd(before));
  await page.reload();
  await expectBalance(page, accountId, usd(before));
  expect(await withdrawals(accountId)).toEqual([]);
});

it('a double click on Withdraw withdraws once', async () => {
  const accountId = await freshAccount(10_000);
  const before = await apiBalance(accountId);
  const sent = recordWithdrawals(page);

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before));
  const section = card(page, accountId);
  await section.getByLabel('Amount', { exact: true }).fill('10.00');
  await section.getByRole('button', { name: 'Withdraw' }).dblclick();
  await expectWithdrawn(section, '$10.00');

  expect(await withdrawals(accountId)).toHaveLength(1);
  expect(sent.keys).toHaveLength(1);
  const after = await apiBalance(accountId);
  expect(after).toBe(before - 1_000);
  await expectBalance(page, accountId, usd(after));

  // Even two submits in the same instant, before the button could be disabled, send one request.
  await section.getByLabel('Amount', { exact: true }).fill('5.00');
  await section.locator('form.withdraw').evaluate((form: HTMLFormElement) => {
    form.requestSubmit();
    form.requestSubmit();
  });
  await expectWithdrawn(section, '$5.00');
  expect(await withdrawals(accountId)).toHaveLength(2);
  expect(sent.keys).toHaveLength(2);
  expect(new Set(sent.keys).size).toBe(2);
  await expectBalance(page, accountId, usd(await apiBalance(accountId)));
});

it('refuses bad amounts in the form, sending nothing', async () => {
  const accountId = await freshAccount(10_000);
  const before = await apiBalance(accountId);
  const sent = recordWithdrawals(page);

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before));
  const section = card(page, accountId);
  const refusals: Array<[string, RegExp]> = [
    ['', /enter an amount/i],
    ['abc', /as a number/i],
    ['0', /more than zero/i],
    ['0.00', /more than zero/i],
    ['-5', /more than zero/i],
    ['1.234', /at most 2 decimal places/i],
    ['1e3', /as a number/i],
    ['10000000001', /too large/i],
  ];
  for (const [amount, message] of refusals) {
    await withdraw(page, accountId, amount);
    await expectMessage(section, 'alert', message);
    await expect(
      section.getByLabel('Amount', { exact: true }).getAttribute('aria-invalid'),
    ).resolves.toBe('true');
  }
  expect(sent.keys).toEqual([]);
  expect(await apiBalance(accountId)).toBe(before);
  await expectBalance(page, accountId, usd(before));
});

it('retries an unanswered withdrawal with the same Idempotency-Key, even after a reload', async () => {
  const accountId = await freshAccount(10_000);
  const before = await apiBalance(accountId);
  const sent = recordWithdrawals(page);

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before));

  // The network fails before the request reaches the API.
  await page.route('**/withdrawals', (route) => route.abort('connectionfailed'));
  await withdraw(page, accountId, '30.00');
  const section = card(page, accountId);
  await expectMessage(section, 'alert', /no answer from the service/i);
  await expectBalance(page, accountId, usd(before));
  await page.unroute('**/withdrawals');

  await page.reload();
  await expectBalance(page, accountId, usd(before));
  await expect(section.getByText(/retries it safely/).isVisible()).resolves.toBe(true);
  await withdraw(page, accountId, '30.00');
  await expectWithdrawn(section, '$30.00');

  expect(sent.keys).toHaveLength(2);
  expect(sent.keys[1]).toBe(sent.keys[0]);
  const entries = await withdrawals(accountId);
  expect(entries).toHaveLength(1);
  expect(entries[0]?.idempotencyKey).toBe(sent.keys[0]);
  await expectBalance(page, accountId, usd(before - 3_000));
});

it('learns from the history that a withdrawal whose answer was lost went through', async () => {
  const accountId = await freshAccount(10_000);
  const before = await apiBalance(accountId);

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before));

  // The API does the withdrawal, but its answer never reaches the page.
  await page.route('**/withdrawals', async (route) => {
    // Until the API has really answered 201 (the same request again is safe: same key).
    for (let attempt = 1; attempt <= 3; attempt++) {
      if ((await route.fetch()).status() === 201) break;
    }
    await route.abort('connectionreset');
  });
  await withdraw(page, accountId, '12.34');
  const section = card(page, accountId);
  await expectMessage(section, 'status', /answer was lost, but your withdrawal of \$12\.34 went/);
  const after = await apiBalance(accountId);
  expect(after).toBe(before - 1_234);
  await expectBalance(page, accountId, usd(after));
  expect(await withdrawals(accountId)).toHaveLength(1);
  expect(await section.getByText(/retries it safely/).isVisible()).toBe(false);
});

it('ends the session on a 401 and says so', async () => {
  await openPage(page);
  await signInOnPage(page);
  await page.evaluate(() => {
    const session = JSON.parse(sessionStorage.getItem('mm.session') ?? '{}') as object;
    sessionStorage.setItem('mm.session', JSON.stringify({ ...session, accessToken: 'expired' }));
  });
  await page.reload();
  await expectMessage(page, 'alert', /session has ended/i);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  expect(await page.evaluate(() => sessionStorage.getItem('mm.session'))).toBeNull();
});

it('refuses a wrong password with an alert', async () => {
  await openPage(page);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expectMessage(page, 'alert', /incorrect username or password/i);
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
});
