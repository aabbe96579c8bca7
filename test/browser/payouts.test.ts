/**
 * Payouts (and transfers) on the web page in a real Chromium against the real local stack and
 * its simulated gateway. The page shows the API's numbers only: every balance, available and
 * pending amount it shows is compared with the API's own or with the API answer it came from.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page, Route } from 'playwright-core';
import { pagePerTest } from './browser';
import {
  apiHistory,
  apiNumbers,
  card,
  expectBalance,
  expectMessage,
  expectNumbers,
  expectPayoutStatus,
  freshAccount,
  gatewayRecords,
  openPage,
  payoutItem,
  recordPayoutRequests,
  requestPayout,
  setDestinationMode,
  signInOnPage,
  uniqueDestination,
  usd,
} from './helpers';

jest.setTimeout(120_000);

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');

const currentPage = pagePerTest();
let page: Page;
beforeEach(() => {
  page = currentPage();
});

interface PayoutAnswer {
  payout: { transactionId: string; status: string; amount: number; destination: string };
  balance: number;
  available: number;
  pending: number;
}

/** The page's answer to its payout request, as the API sent it. */
function payoutAnswer(accountId: string): Promise<{ status: number; body: PayoutAnswer }> {
  return page
    .waitForResponse(
      (response) =>
        response.request().method() === 'POST' &&
        new URL(response.url()).pathname === `/accounts/${accountId}/payouts`,
      { timeout: 60_000 },
    )
    .then(async (response) => ({
      status: response.status(),
      body: (await response.json()) as PayoutAnswer,
    }));
}

/**
 * Holds the page's balance reads and payout polls until `release()`: the simulated gateway
 * answers within 0.5-1.5 s, and the test needs a moment to look at the pending state the 202
 * answer put on the page. Nothing is changed or answered in the page's place.
 */
async function holdReads(accountId: string): Promise<{ release(): void }> {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const handler = async (route: Route): Promise<void> => {
    if (route.request().method() === 'GET') await released;
    await route.continue();
  };
  await page.route(`**/accounts/${accountId}/balance`, handler);
  await page.route(`**/accounts/${accountId}/payouts/*`, handler);
  return { release: () => release() };
}

it('a payout shows PENDING with available down and pending up, then turns POSTED on its own', async () => {
  const accountId = await freshAccount(50_000);
  const before = await apiNumbers(accountId);
  expect(before).toEqual({ balance: 50_000, available: 50_000, pending: 0 });
  const destination = uniqueDestination('bank-ok');
  await setDestinationMode(destination, 'succeed');

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before.balance));
  await expectNumbers(page, accountId, { available: usd(before.available), pending: usd(0) });
  const section = card(page, accountId);
  await expect(section.getByText('No payouts yet.').isVisible()).resolves.toBe(true);

  const polls: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'GET' && request.url().includes(`/accounts/${accountId}/payouts/`)) {
      polls.push(request.url());
    }
  });
  const hold = await holdReads(accountId);
  const answered = payoutAnswer(accountId);
  await requestPayout(page, accountId, '123.45', destination);
  const { status, body } = await answered;
  expect(status).toBe(202);
  expect(body.payout).toMatchObject({ status: 'PENDING', amount: 12_345, destination });
  expect(body).toMatchObject({
    balance: before.balance,
    available: before.available - 12_345,
    pending: 12_345,
  });

  // Pending: the amount is held, not yet taken.
  await expectPayoutStatus(page, accountId, destination, 'Pending');
  await expectNumbers(page, accountId, {
    balance: usd(body.balance),
    available: usd(body.available),
    pending: usd(body.pending),
  });
  await expectMessage(section, 'status', /Payout of \$123\.45 to .* requested/);
  await expect(payoutItem(page, accountId, destination).textContent()).resolves.toContain(
    '$123.45',
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  await section.screenshot({ path: path.join(ARTIFACTS, 'payout-pending.png') });

  // The page polls on its own until the gateway's answer has posted it.
  hold.release();
  await expectPayoutStatus(page, accountId, destination, 'Posted');
  await expectMessage(section, 'status', /payout of \$123\.45 to .* was sent/);
  const after = await apiNumbers(accountId);
  expect(after).toEqual({
    balance: before.balance - 12_345,
    available: before.balance - 12_345,
    pending: 0,
  });
  await expectBalance(page, accountId, usd(after.balance));
  await expectNumbers(page, accountId, { available: usd(after.available), pending: usd(0) });

  // The history has it as a posted statement line, and so does the page.
  const payoutEntry = (await apiHistory(accountId)).find((entry) => entry.type === 'PAYOUT');
  expect(payoutEntry).toMatchObject({ amount: 12_345, status: 'POSTED', destination });
  const row = section.locator(`tr[data-transaction-id="${payoutEntry?.transactionId ?? ''}"]`);
  await row.and(page.locator('[data-status="POSTED"]')).waitFor({ timeout: 30_000 });
  await expect(row.textContent()).resolves.toMatch(/Payout.*−\$123\.45/);
  expect(await gatewayRecords(destination)).toMatchObject([
    { status: 'SUCCEEDED', executions: 1, amount: 12_345 },
  ]);

  // Resolved: the polling has stopped.
  expect(polls.length).toBeGreaterThan(0);
  const polled = polls.length;
  await page.waitForTimeout(3_000);
  expect(polls.length).toBe(polled);

  // A reload shows the same, from the API.
  await page.reload();
  await expectBalance(page, accountId, usd(after.balance));
  await expectNumbers(page, accountId, { available: usd(after.available), pending: usd(0) });
  await expectPayoutStatus(page, accountId, destination, 'Posted');
});

it('a payout the destination refuses turns VOIDED and the held amount is available again', async () => {
  const accountId = await freshAccount(30_000);
  const before = await apiNumbers(accountId);
  const destination = uniqueDestination('bank-refuses');
  await setDestinationMode(destination, 'refuse');

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before.balance));
  await expectNumbers(page, accountId, { available: usd(before.available), pending: usd(0) });

  const answered = payoutAnswer(accountId);
  await requestPayout(page, accountId, '75.00', destination);
  const { status, body } = await answered;
  expect(status).toBe(202);
  expect(body).toMatchObject({ available: before.available - 7_500, pending: 7_500 });

  await expectPayoutStatus(page, accountId, destination, 'Voided');
  const section = card(page, accountId);
  await expectMessage(section, 'status', /payout of \$75\.00 to .* was voided.*available again/);
  const after = await apiNumbers(accountId);
  expect(after).toEqual(before);
  await expectBalance(page, accountId, usd(before.balance));
  await expectNumbers(page, accountId, { available: usd(before.available), pending: usd(0) });
  await expect(payoutItem(page, accountId, destination).textContent()).resolves.toMatch(/refused/);

  const payoutEntry = (await apiHistory(accountId)).find((entry) => entry.type === 'PAYOUT');
  expect(payoutEntry).toMatchObject({ amount: 7_500, status: 'VOIDED' });
  const row = section.locator(`tr[data-transaction-id="${payoutEntry?.transactionId ?? ''}"]`);
  await row.and(page.locator('[data-status="VOIDED"]')).waitFor({ timeout: 30_000 });
  await expect(row.textContent()).resolves.toMatch(/Payout.*voided/);
  expect(await gatewayRecords(destination)).toMatchObject([{ status: 'REFUSED', executions: 0 }]);
});

it('refuses a payout above the available amount with an alert, and changes nothing', async () => {
  const accountId = await freshAccount(2_000);
  const before = await apiNumbers(accountId);
  const destination = uniqueDestination('bank-too-much');
  const sent = recordPayoutRequests(page);

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before.balance));

  await requestPayout(page, accountId, '25.00', destination);
  const section = card(page, accountId);
  await expectMessage(section, 'alert', /insufficient funds.*payout/i);
  expect(sent.keys).toHaveLength(1);

  expect(await apiNumbers(accountId)).toEqual(before);
  await expectBalance(page, accountId, usd(before.balance));
  await expectNumbers(page, accountId, { available: usd(before.available), pending: usd(0) });
  await expect(section.getByTestId('payout').count()).resolves.toBe(0);
  expect((await apiHistory(accountId)).filter((entry) => entry.type === 'PAYOUT')).toEqual([]);
  expect(await gatewayRecords(destination)).toEqual([]);

  await page.reload();
  await expectBalance(page, accountId, usd(before.balance));
  await expectNumbers(page, accountId, { available: usd(before.available), pending: usd(0) });
  await expect(section.getByTestId('payout').count()).resolves.toBe(0);
});

it('retries an unanswered payout request with the same Idempotency-Key, and pays once', async () => {
  const accountId = await freshAccount(10_000);
  const before = await apiNumbers(accountId);
  const destination = uniqueDestination('bank-retry');
  const sent = recordPayoutRequests(page);

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(before.balance));

  // The network fails before the request reaches the API.
  await page.route(`**/accounts/${accountId}/payouts`, (route) => route.abort('connectionfailed'));
  await requestPayout(page, accountId, '30.00', destination);
  const section = card(page, accountId);
  await expectMessage(section, 'alert', /no answer from the service/i);
  await expect(section.getByText(/retries it safely/).isVisible()).resolves.toBe(true);
  await page.unroute(`**/accounts/${accountId}/payouts`);

  await requestPayout(page, accountId, '30.00', destination);
  await expectPayoutStatus(page, accountId, destination, 'Posted');
  expect(sent.keys).toHaveLength(2);
  expect(sent.keys[1]).toBe(sent.keys[0]);
  const payouts = (await apiHistory(accountId)).filter((entry) => entry.type === 'PAYOUT');
  expect(payouts).toHaveLength(1);
  expect(payouts[0]?.idempotencyKey).toBe(sent.keys[0]);
  await expectBalance(page, accountId, usd(before.balance - 3_000));
  expect(await apiNumbers(accountId)).toMatchObject({ balance: before.balance - 3_000 });
  expect(await section.getByText(/retries it safely/).isVisible()).toBe(false);
});

it('transfers to another account by its id, and both cards show the API balances', async () => {
  const from = await freshAccount(10_000);
  const to = await freshAccount(1_000);
  const fromBefore = await apiNumbers(from);
  const toBefore = await apiNumbers(to);

  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, from, usd(fromBefore.balance));
  await expectBalance(page, to, usd(toBefore.balance));

  const section = card(page, from);
  await section.getByLabel('Transfer amount', { exact: true }).fill('40.00');
  await section.getByLabel('To account', { exact: true }).fill(to);
  await section.getByRole('button', { name: 'Transfer', exact: true }).click();
  await expectMessage(section, 'status', /Transferred \$40\.00 to account •••• /);

  const fromAfter = await apiNumbers(from);
  const toAfter = await apiNumbers(to);
  expect(fromAfter.balance).toBe(fromBefore.balance - 4_000);
  expect(toAfter.balance).toBe(toBefore.balance + 4_000);
  await expectBalance(page, from, usd(fromAfter.balance));
  await expectBalance(page, to, usd(toAfter.balance));
  await expect(section.locator('tbody tr').first().textContent()).resolves.toMatch(
    /Transfer out.*−\$40\.00/,
  );

  // An account id no one has: refused, nothing moves.
  await section.getByLabel('Transfer amount', { exact: true }).fill('1.00');
  await section.getByLabel('To account', { exact: true }).fill('01ARZ3NDEKTSV4RRFFQ69G5FAV');
  await section.getByRole('button', { name: 'Transfer', exact: true }).click();
  await expectMessage(section, 'alert', /account to transfer to was not found/i);
  expect(await apiNumbers(from)).toEqual(fromAfter);
  await expectBalance(page, from, usd(fromAfter.balance));
});
