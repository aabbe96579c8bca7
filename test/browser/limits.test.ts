/**
 * Withdrawal limits on the web page (issue 20), in a real Chromium against the real local stack:
 * the operator sets an account's limits with a reason and sees who changed them; the customer
 * sees the room left today, is refused an amount above it before anything is sent, withdraws
 * within it and sees the room go down; and when the server refuses what the page let through
 * (another client used the room meanwhile), the page says the server's refusal and reads again.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { Limits } from '../../lib/wire/types';
import { api } from '../support/api-client';
import { pagePerTest } from './browser';
import {
  accessibilityViolations,
  apiBalance,
  card,
  expectBalance,
  expectMessage,
  expectNumbers,
  expectWithdrawn,
  freshAccount,
  openPage,
  opsRead,
  recordWithdrawals,
  signInAsOperator,
  signInOnPage,
  signOutOnPage,
  token,
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

/** The account's limits as the API holds them (read as the operator). */
async function apiLimits(accountId: string): Promise<Limits> {
  const response = await opsRead<Limits>(`/accounts/${accountId}/limits`);
  if (response.status !== 200) throw new Error(`limits: ${response.status}`);
  return response.body;
}

/** Waits until the card shows these limits (formatted, "$30.00"). */
async function expectLimits(
  accountId: string,
  shown: { daily?: string; used?: string; remaining?: string; perMovement?: string },
): Promise<void> {
  const byTestId = {
    'daily-limit': shown.daily,
    'used-today': shown.used,
    'remaining-today': shown.remaining,
    'per-movement': shown.perMovement,
  };
  await expectNumbers(
    page,
    accountId,
    Object.fromEntries(Object.entries(byTestId).filter(([, text]) => text !== undefined)),
  );
}

/** PUTs the page sends to set an account's limits. */
function recordLimitChanges(): { bodies: unknown[] } {
  const seen = { bodies: [] as unknown[] };
  page.on('request', (request) => {
    if (request.method() === 'PUT' && /\/limits$/.test(new URL(request.url()).pathname)) {
      seen.bodies.push(request.postDataJSON());
    }
  });
  return seen;
}

async function openAsOperator(accountId: string): Promise<Locator> {
  await openPage(page);
  await signInAsOperator(page);
  await page.getByRole('heading', { name: 'Operations', level: 1 }).waitFor();
  await page.getByLabel('Account id').fill(accountId);
  await page.getByRole('button', { name: 'Open account' }).click();
  const view = card(page, accountId);
  await view.getByTestId('limits-changed').filter({ hasText: /\S/ }).waitFor();
  return view;
}

it('an operator sets a small daily limit with a reason; the customer sees the room, is refused above it before sending, and a withdrawal within it lowers it', async () => {
  const accountId = await freshAccount(20_000);
  const puts = recordLimitChanges();

  // The operator's form: the service's defaults until someone changes them.
  const view = await openAsOperator(accountId);
  const changed = view.getByTestId('limits-changed');
  await expect(changed.textContent()).resolves.toMatch(/No operator has changed this account/);
  const daily = view.getByLabel('Daily limit', { exact: true });
  await expect(daily.inputValue()).resolves.toBe('10000000000.00');
  expect(await accessibilityViolations(page, '.operations')).toEqual([]);

  // No reason, or a timezone no one knows: refused on the page, nothing sent.
  await daily.fill('30.00');
  await view.getByRole('button', { name: 'Save limits' }).click();
  await expectMessage(view, 'alert', /Enter the reason for the limits change/);
  await view.getByLabel('Timezone').fill('Mars/Olympus');
  await view.getByLabel('Reason for the limits change').fill('Suspicious sign-in');
  await view.getByRole('button', { name: 'Save limits' }).click();
  await expectMessage(view, 'alert', /Mars\/Olympus is not a timezone/);
  expect(puts.bodies).toEqual([]);

  await view.getByLabel('Timezone').fill('UTC');
  await view.getByRole('button', { name: 'Save limits' }).click();
  await expectMessage(view, 'status', /^Limits saved: version \d+\.$/);
  // Only what the operator changed is sent.
  expect(puts.bodies).toEqual([{ daily: 3_000, reason: 'Suspicious sign-in' }]);
  const set = await apiLimits(accountId);
  expect(set).toMatchObject({ daily: 3_000, usedToday: 0, remainingToday: 3_000 });
  expect(set.changed).toMatchObject({
    reason: 'Suspicious sign-in',
    previous: { daily: 1_000_000_000_000 },
    limits: { daily: 3_000 },
  });
  const by = set.changed?.by ?? 'nobody';
  await expect(changed.textContent()).resolves.toBe(
    `Version ${set.version}. Changed ${await shownTime(set.changed?.at)} by ${by}: Suspicious sign-in. Daily limit $10,000,000,000.00 → $30.00.`,
  );
  await expectLimits(accountId, { daily: usd(3_000), remaining: usd(3_000) });
  expect(await accessibilityViolations(page, '.operations')).toEqual([]);
  mkdirSync(ARTIFACTS, { recursive: true });
  await view.screenshot({ path: path.join(ARTIFACTS, 'operator-limits.png') });
  await signOutOnPage(page);

  // The customer sees the room left today.
  const sent = recordWithdrawals(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(20_000));
  await expectLimits(accountId, { daily: usd(3_000), used: usd(0), remaining: usd(3_000) });
  const section = card(page, accountId);
  await section.getByRole('group', { name: 'Withdrawal limits' }).waitFor();
  expect(await accessibilityViolations(page, `section[data-account-id="${accountId}"]`)).toEqual(
    [],
  );

  // Above it: refused before sending, with the limit and what remains; nothing changes.
  await withdraw(page, accountId, '40.00');
  await expectMessage(
    section,
    'alert',
    /^This withdrawal comes to \$40\.00, above what may still leave this account today: \$30\.00 of its daily limit of \$30\.00\. Nothing was sent\.$/,
  );
  await expect(
    section.getByLabel('Amount', { exact: true }).getAttribute('aria-invalid'),
  ).resolves.toBe('true');
  expect(sent.keys).toEqual([]);
  expect(await apiBalance(accountId)).toBe(20_000);

  // Within it: sent, taken, and the room goes down as the API counts it.
  await withdraw(page, accountId, '20.00');
  await expectWithdrawn(section, '$20.00');
  expect(sent.keys).toHaveLength(1);
  expect(await apiBalance(accountId)).toBe(18_000);
  await expectBalance(page, accountId, usd(18_000));
  await expectLimits(accountId, { used: usd(2_000), remaining: usd(1_000) });
  await expect(apiLimits(accountId)).resolves.toMatchObject({
    usedToday: 2_000,
    remainingToday: 1_000,
  });
  await section.screenshot({ path: path.join(ARTIFACTS, 'customer-limits.png') });
});

it('shows the server refusal when another client used the room the page last read, and reads the limits again', async () => {
  const accountId = await freshAccount(20_000);
  const ops = await token('ops');
  const put = await api('PUT', `/accounts/${accountId}/limits`, {
    token: ops,
    body: { daily: 1_000, perMovement: 800, reason: 'Browser test' },
  });
  expect(put.status).toBe(200);

  const sent = recordWithdrawals(page);
  await openPage(page);
  await signInOnPage(page);
  await expectBalance(page, accountId, usd(20_000));
  await expectLimits(accountId, {
    daily: usd(1_000),
    remaining: usd(1_000),
    perMovement: usd(800),
  });

  // Above the per-movement limit: refused on the page.
  const section = card(page, accountId);
  await withdraw(page, accountId, '9.00');
  await expectMessage(section, 'alert', /above this account's limit of \$8\.00 per movement/);
  expect(sent.keys).toEqual([]);

  // Another client takes $5.00 of the room; the page, having read $10.00, sends $8.00.
  const other = await api('POST', `/accounts/${accountId}/withdrawals`, {
    token: await token('customer'),
    body: { amount: 500 },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(other.status).toBe(201);
  await withdraw(page, accountId, '8.00');
  await expectMessage(
    section,
    'alert',
    /^The service refused it: above what may still leave this account today\. \$5\.00 of the daily limit of \$10\.00 remains \(\$5\.00 used\)\. Nothing was changed\.$/,
  );
  expect(sent.keys).toHaveLength(1);
  expect(await apiBalance(accountId)).toBe(19_500);
  await expectBalance(page, accountId, usd(19_500));
  await expectLimits(accountId, { used: usd(500), remaining: usd(500) });
});

/** How the page shows an instant (history.ts's dateFormat, in the browser's own zone). */
function shownTime(iso: string | undefined): Promise<string> {
  return page.evaluate(
    (at) =>
      new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' }).format(
        new Date(at),
      ),
    iso ?? '',
  );
}
