/**
 * Helpers for the browser tests: a customer of their own with fresh funded accounts (alice's
 * demo accounts are shared with other suites), the API's own numbers to compare the page with, and
 * page steps by accessible name.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AxeResults } from 'axe-core';
import type { Locator, Page } from 'playwright-core';
import { DEMO_USERS, ensureLocalUser, signIn } from '../../local/cognito';
import type { Balance, HistoryPage, LedgerEntry } from '../../lib/wire/types';
import { api, e2eStack, tokenFor, type ApiResponse } from '../support/api-client';

/**
 * The customer these tests sign in as: a local user of their own, set up like alice (a demo
 * customer, no groups), so other suites' accounts for alice never crowd the page under test.
 */
export const CUSTOMER = {
  username: `shopper-${randomUUID().slice(0, 8)}`,
  password: 'shopper-local-pass-1',
  groups: [] as string[],
};

let customerReady: Promise<void> | undefined;
const ensureCustomer = () => (customerReady ??= ensureLocalUser(e2eStack().identity, CUSTOMER));

const tokens = new Map<string, Promise<string>>();
/** One access token per user and test file (tokens last an hour or more). */
export function token(user: 'customer' | 'ops'): Promise<string> {
  let pending = tokens.get(user);
  if (!pending) {
    pending =
      user === 'ops'
        ? tokenFor('ops')
        : ensureCustomer().then(
            async () =>
              (await signIn(e2eStack().identity, CUSTOMER.username, CUSTOMER.password)).accessToken,
          );
    tokens.set(user, pending);
  }
  return pending;
}

/**
 * A GET to the API, tried again when serverless-offline reports a Lambda timeout (it answers
 * those with status 200 and an `errorMessage` body; a cold worker on a busy machine can take
 * that long). Reads change nothing, so trying again is safe.
 */
async function read<T>(path: string): Promise<ApiResponse<T>> {
  for (let attempt = 1; ; attempt++) {
    const response = await api<T>('GET', path, { token: await token('customer') });
    const timedOut =
      response.status === 200 && 'errorMessage' in (response.body as Record<string, unknown>);
    if (!timedOut || attempt === 3) return response;
  }
}

function subOf(accessToken: string): string {
  const payload = accessToken.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: string };
  if (!claims.sub) throw new Error('the access token has no sub');
  return claims.sub;
}

/**
 * Opens a USD account for the customer (as the operator) and deposits `cents` into it. Both calls are
 * tried again after an emulator timeout: the deposit with the same Idempotency-Key, so it never
 * lands twice; a repeated opening at worst leaves the customer an extra empty account.
 */
export async function freshAccount(cents: number): Promise<string> {
  const ops = await token('ops');
  const ownerId = subOf(await token('customer'));
  const opened = await write<{ accountId: string }>('/accounts', ops, {
    ownerId,
    currency: 'USD',
  });
  const accountId = opened.accountId;
  await write(`/accounts/${accountId}/deposits`, ops, { amount: cents }, randomUUID());
  return accountId;
}

async function write<T>(
  path: string,
  bearer: string,
  body: unknown,
  idempotencyKey?: string,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const response = await api<T>('POST', path, {
      token: bearer,
      body,
      headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    });
    if (response.status === 201) return response.body;
    const timedOut = response.status === 200 && 'errorMessage' in (response.body as object);
    if (!timedOut || attempt === 3) {
      throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    }
  }
}

/** A GET as the demo operator, tried again after an emulator timeout like the customer's reads. */
export async function opsRead<T>(path: string): Promise<ApiResponse<T>> {
  for (let attempt = 1; ; attempt++) {
    const response = await api<T>('GET', path, { token: await token('ops') });
    const timedOut =
      response.status === 200 && 'errorMessage' in (response.body as Record<string, unknown>);
    if (!timedOut || attempt === 3) return response;
  }
}

/** The balance the API holds now, in cents. */
export async function apiBalance(accountId: string): Promise<number> {
  const response = await read<{ balance: number }>(`/accounts/${accountId}/balance`);
  if (response.status !== 200 || typeof response.body.balance !== 'number') {
    throw new Error(`balance: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body.balance;
}

export type ApiEntry = LedgerEntry;

/** The account's whole history from the API, newest first. */
export async function apiHistory(accountId: string): Promise<ApiEntry[]> {
  const entries: ApiEntry[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const response = await read<HistoryPage>(
      `/accounts/${accountId}/transactions?limit=100${query}`,
    );
    if (response.status !== 200 || !Array.isArray(response.body.transactions)) {
      throw new Error(`transactions: ${response.status} ${JSON.stringify(response.body)}`);
    }
    entries.push(...response.body.transactions);
    cursor = response.body.nextCursor;
  } while (cursor);
  return entries;
}

export const withdrawals = async (accountId: string): Promise<ApiEntry[]> =>
  (await apiHistory(accountId)).filter((entry) => entry.type === 'WITHDRAWAL');

/** How the page must show an amount of cents (an independent formatter, small amounts only). */
export function usd(cents: number): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(cents / 100);
}

/**
 * How long to wait for the page: serverless-offline starts a cold worker per concurrent call,
 * and on a loaded machine one call can take up to the Lambda timeout (10 s) and more.
 */
const SLOW_STACK_MS = 30_000;

export const card = (page: Page, accountId: string): Locator =>
  page.locator(`section[data-account-id="${accountId}"]`);

const exactly = (text: string): RegExp =>
  new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);

/** Waits until the card's balance reads exactly `text`; fails with what it read instead. */
export async function expectBalance(
  page: Page,
  accountId: string,
  text: string,
  timeout = SLOW_STACK_MS,
): Promise<void> {
  const balance = card(page, accountId).getByTestId('balance');
  try {
    await balance.filter({ hasText: exactly(text) }).waitFor({ timeout });
  } catch {
    throw new Error(`balance shows ${JSON.stringify(await balance.textContent())}, not ${text}`);
  }
  // Settled: the card is not in the middle of re-reading.
  await card(page, accountId).and(page.locator('[aria-busy="false"]')).waitFor({ timeout });
}

/** Waits for a visible message with this text in the given role ('alert' or 'status'). */
export async function expectMessage(
  scope: Page | Locator,
  role: 'alert' | 'status',
  text: RegExp,
  timeout = SLOW_STACK_MS,
): Promise<string> {
  const region = scope.getByRole(role).filter({ hasText: text });
  try {
    await region.waitFor({ timeout });
  } catch {
    const alerts = await scope.getByRole('alert').allTextContents();
    const statuses = await scope.getByRole('status').allTextContents();
    throw new Error(
      `no ${role} matching ${String(text)}; alerts: ${JSON.stringify(alerts)}, statuses: ${JSON.stringify(statuses)}`,
    );
  }
  return (await region.textContent()) ?? '';
}

/**
 * Waits for the page to report that a withdrawal of `amount` (as shown, "$50.00") went through.
 * Usually "Withdrew $50.00."; when serverless-offline's Lambda timeout cuts the answer off on a
 * busy machine, the page finds the attempt in the history instead and says it went through.
 * Either way it happened once, which the callers then check against the API.
 */
export async function expectWithdrawn(scope: Locator, amount: string): Promise<void> {
  const shown = amount.replace(/[.$]/g, '\\$&');
  await expectMessage(
    scope,
    'status',
    new RegExp(`^Withdrew ${shown}\\.$|withdrawal of ${shown} went through`),
  );
}

export async function signInOnPage(page: Page): Promise<void> {
  await ensureCustomer();
  await signInWith(page, CUSTOMER.username, CUSTOMER.password);
}

/** Signs the demo operator in on the page. */
export async function signInAsOperator(page: Page): Promise<void> {
  const ops = DEMO_USERS.find((user) => user.username === 'ops');
  if (!ops) throw new Error('no demo operator');
  await signInWith(page, ops.username, ops.password);
}

async function signInWith(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export async function signOutOnPage(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's violations inside the elements `selector` matches, as "rule: what it checks
 * (where)". axe is put in the page through the DevTools protocol, not a script element, so the
 * page's Content-Security-Policy stays as it is.
 */
export async function accessibilityViolations(page: Page, selector: string): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (include) => {
    const axe = (window as unknown as { axe: { run: (...args: unknown[]) => Promise<AxeResults> } })
      .axe;
    const results = await axe.run({ include: [[include]] }, { resultTypes: ['violations'] });
    return results.violations.map(
      (violation) =>
        `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
    );
  }, selector);
  return violations;
}

export async function openPage(page: Page): Promise<void> {
  await page.goto(e2eStack().webUrl);
}

export async function withdraw(page: Page, accountId: string, amount: string): Promise<void> {
  const section = card(page, accountId);
  await section.getByLabel('Amount', { exact: true }).fill(amount);
  await section.getByRole('button', { name: 'Withdraw' }).click();
}

/** POSTs to the withdrawals endpoint the page sends, with their Idempotency-Key headers. */
export function recordWithdrawals(page: Page): { keys: string[] } {
  const seen = { keys: [] as string[] };
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().includes('/withdrawals')) {
      seen.keys.push(request.headers()['idempotency-key'] ?? '');
    }
  });
  return seen;
}

/** The posted balance, available and pending the API holds now, in cents. */
export type ApiNumbers = Pick<Balance, 'balance' | 'available' | 'pending'>;

export async function apiNumbers(accountId: string): Promise<ApiNumbers> {
  const response = await read<ApiNumbers>(`/accounts/${accountId}/balance`);
  const { balance, available, pending } = response.body;
  if (response.status !== 200 || ![balance, available, pending].every(Number.isSafeInteger)) {
    throw new Error(`balance: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return { balance, available, pending };
}

/** The numbers a card shows, by test id: its balance, and its limits with today's use. */
type ShownNumber =
  | 'balance'
  | 'available'
  | 'pending'
  | 'daily-limit'
  | 'used-today'
  | 'remaining-today'
  | 'per-movement';

/** Waits until the card shows exactly these numbers (as formatted, "$12.34"). */
export async function expectNumbers(
  page: Page,
  accountId: string,
  expected: Partial<Record<ShownNumber, string>>,
  timeout = SLOW_STACK_MS,
): Promise<void> {
  for (const [testId, text] of Object.entries(expected)) {
    const value = card(page, accountId).getByTestId(testId);
    try {
      await value.filter({ hasText: exactly(text) }).waitFor({ timeout });
    } catch {
      throw new Error(`${testId} shows ${JSON.stringify(await value.textContent())}, not ${text}`);
    }
  }
}

/** A destination no other test uses, so its gateway mode and records are this test's own. */
export const uniqueDestination = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

export { gatewayRecords, setDestinationMode } from '../support/gateway-control';

export async function requestPayout(
  page: Page,
  accountId: string,
  amount: string,
  destination: string,
): Promise<void> {
  const section = card(page, accountId);
  await section.getByLabel('Payout amount', { exact: true }).fill(amount);
  await section.getByLabel('Destination', { exact: true }).fill(destination);
  await section.getByRole('button', { name: 'Request payout' }).click();
}

/** The payout to `destination` in the card's Payouts list. */
export const payoutItem = (page: Page, accountId: string, destination: string): Locator =>
  card(page, accountId)
    .getByTestId('payout')
    .filter({ has: page.locator('.payout-destination', { hasText: exactly(destination) }) });

/** Waits until the payout to `destination` shows this status badge ("Pending", "Posted", "Voided"). */
export async function expectPayoutStatus(
  page: Page,
  accountId: string,
  destination: string,
  status: 'Pending' | 'Posted' | 'Voided',
  timeout = SLOW_STACK_MS,
): Promise<void> {
  const badge = payoutItem(page, accountId, destination).getByTestId('payout-status');
  try {
    await badge.filter({ hasText: exactly(status) }).waitFor({ timeout });
  } catch {
    throw new Error(
      `the payout to ${destination} shows ${JSON.stringify(await badge.allTextContents())}, not ${status}`,
    );
  }
}

/** POSTs to the payouts endpoint the page sends, with their Idempotency-Key headers. */
export function recordPayoutRequests(page: Page): { keys: string[] } {
  const seen = { keys: [] as string[] };
  page.on('request', (request) => {
    if (request.method() === 'POST' && /\/payouts$/.test(new URL(request.url()).pathname)) {
      seen.keys.push(request.headers()['idempotency-key'] ?? '');
    }
  });
  return seen;
}
