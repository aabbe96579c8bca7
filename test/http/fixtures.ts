/**
 * Shared helpers for the HTTP suites: fresh accounts per test, money movements, snapshots of an
 * account (to prove a refusal changed nothing) and exact shape checks for the contract's bodies.
 * Everything goes through the real API of the e2e stack; nothing reads the table directly.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT, decodeJwt, decodeProtectedHeader, importJWK, type JWK, type KeyLike } from 'jose';
import { ulid } from 'ulid';
import { MOVEMENT_TYPES } from '../../lib/domain/movement-types';
import type * as wire from '../../lib/wire/types';
import { sleep, waitFor } from '../../local/wait';
import { api, tokenFor, type ApiResponse } from '../support/api-client';

export type User = 'alice' | 'bob' | 'ops';

/**
 * `api`, but a request the local emulator cut off is sent again, identically. serverless-offline
 * answers a handler that ran past the function timeout (here: a cold start on a busy machine)
 * with 200 and its own `LambdaTimeoutError` body, which is no answer of the service. Sending the
 * same request again is safe: reads change nothing, and a movement carries the same
 * Idempotency-Key, exactly what the contract asks clients to do when an answer is lost.
 */
export async function call<T = Record<string, unknown>>(
  ...args: Parameters<typeof api>
): Promise<ApiResponse<T>> {
  for (let attempt = 1; ; attempt++) {
    const res = await api<T>(...args);
    const body = res.body as { errorType?: unknown };
    if (body?.errorType !== 'LambdaTimeoutError') return res;
    if (attempt === 3) throw new Error(`${args[0]} ${args[1]}: the emulator timed out 3 times`);
    process.stderr.write(`retrying ${args[0]} ${args[1]} after an emulator timeout\n`);
  }
}

/** The contract's shapes (generated from openapi.yaml), under the names these suites use. */
export type Account = wire.Account;
export type Balance = wire.Balance;
export type HistoryPage = wire.HistoryPage;
export type LedgerEntry = wire.LedgerEntry;
export type MovementBody = wire.Movement;
export type PayoutBody = wire.PayoutResult;
export type TransferBody = wire.TransferResult;

export const ENTRY_TYPES: readonly wire.EntryType[] = MOVEMENT_TYPES;

/** A type's keys, sorted; the compiler refuses a list that misses one or names one it lacks. */
const keysOf = <T>(keys: Record<keyof T, true>): string[] => Object.keys(keys).sort();

export const ENTRY_STATUSES = keysOf<Record<wire.EntryStatus, unknown>>({
  POSTED: true,
  PENDING: true,
  VOIDED: true,
});

export const ACCOUNT_FIELDS = keysOf<Account>({
  accountId: true,
  frozen: true,
  ownerId: true,
  currency: true,
  balance: true,
  available: true,
  pending: true,
  createdAt: true,
  updatedAt: true,
});
/**
 * The fields every ledger entry carries; see `entryFieldsOf` for the ones some types add. The
 * client's details (`reference`, `description`, `metadata`) come only when the request gave them.
 */
export const ENTRY_FIELDS = keysOf<
  Omit<
    LedgerEntry,
    | 'counterpartyAccountId'
    | 'destination'
    | 'fee'
    | 'reversalOf'
    | 'reason'
    | 'negativeAllowed'
    | 'reversedBy'
    | 'postedAt'
    | 'reference'
    | 'description'
    | 'metadata'
  >
>({
  transactionId: true,
  accountId: true,
  type: true,
  amount: true,
  currency: true,
  balanceAfter: true,
  sequence: true,
  idempotencyKey: true,
  createdAt: true,
  status: true,
});
/** An entry's exact fields: transfers name the other account, payouts their destination. */
export function entryFieldsOf(type: wire.EntryType): string[] {
  if (type === 'TRANSFER_IN' || type === 'TRANSFER_OUT') {
    return [...ENTRY_FIELDS, 'counterpartyAccountId'].sort();
  }
  if (type === 'PAYOUT') return [...ENTRY_FIELDS, 'destination'].sort();
  return ENTRY_FIELDS;
}
export const BALANCE_FIELDS = keysOf<Balance>({
  accountId: true,
  currency: true,
  balance: true,
  limits: true,
  available: true,
  pending: true,
  updatedAt: true,
});
export const PAYOUT_FIELDS = keysOf<wire.Payout>({
  transactionId: true,
  accountId: true,
  amount: true,
  currency: true,
  destination: true,
  status: true,
  createdAt: true,
  updatedAt: true,
  holdExpiresAt: true,
  attempts: true,
  gatewayReference: true,
  voidReason: true,
});
export const TRANSFER_FIELDS = keysOf<wire.Transfer>({
  transactionId: true,
  fromAccountId: true,
  toAccountId: true,
  amount: true,
  currency: true,
  createdAt: true,
});

/** A well-formed account id (a fresh ULID) that names no account. */
export const unknownAccountId = (): string => ulid();
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Tokens of the seeded demo users, signed in once per test file. */
export async function signInAll(): Promise<Record<User, string>> {
  const [alice, bob, ops] = await Promise.all([
    tokenFor('alice'),
    tokenFor('bob'),
    tokenFor('ops'),
  ]);
  return { alice, bob, ops };
}

export function subOf(token: string): string {
  const sub = decodeJwt(token).sub;
  if (typeof sub !== 'string' || sub === '') throw new Error('token without sub');
  return sub;
}

/**
 * cognito-local signs every token with one key pair shipped in its npm package (local only:
 * that is why nothing it issues may be trusted elsewhere). With it, tests mint tokens the
 * local issuer could have issued, e.g. for claims it would never put in one.
 */
export const COGNITO_LOCAL_PRIVATE_KEY = path.join(
  path.dirname(require.resolve('cognito-local/package.json')),
  'lib',
  'keys',
  'cognitoLocal.private.json',
);

export async function issuerSigningKey(): Promise<{ key: KeyLike | Uint8Array; jwk: JWK }> {
  const shipped = JSON.parse(readFileSync(COGNITO_LOCAL_PRIVATE_KEY, 'utf8')) as { jwk: JWK };
  return { key: await importJWK(shipped.jwk, 'RS256'), jwk: shipped.jwk };
}

/**
 * An access token for a customer nobody else uses (a fresh `sub`), signed with the issuer's
 * key and otherwise a copy of `template`'s claims: a clean slate for list tests.
 */
export async function tokenForNewCustomer(template: string): Promise<string> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const claims = decodeJwt(template);
  delete claims['cognito:groups'];
  const sub = randomUUID();
  return new SignJWT({
    ...claims,
    sub,
    username: `test-${sub}`,
    iat: nowSeconds,
    exp: nowSeconds + 1800,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: decodeProtectedHeader(template).kid })
    .sign((await issuerSigningKey()).key);
}

export const newKey = (label = 'key'): string => `${label}-${randomUUID()}`;

/** Opens a USD account for the owner of `ownerToken` (as the operator) and funds it. */
export async function openFundedAccount(
  opsToken: string,
  ownerToken: string,
  amount = 0,
  currency = 'USD',
): Promise<Account> {
  const opened = await call<Account>('POST', '/accounts', {
    token: opsToken,
    body: { ownerId: subOf(ownerToken), currency },
  });
  if (opened.status !== 201) {
    throw new Error(`POST /accounts answered ${opened.status}: ${JSON.stringify(opened.body)}`);
  }
  if (amount > 0) await deposit(opsToken, opened.body.accountId, amount);
  return opened.body;
}

export async function deposit(
  opsToken: string,
  accountId: string,
  amount: number,
  key = newKey('deposit'),
): Promise<ApiResponse<MovementBody>> {
  const res = await call<MovementBody>('POST', `/accounts/${accountId}/deposits`, {
    token: opsToken,
    body: { amount },
    headers: { 'idempotency-key': key },
  });
  if (res.status !== 201) {
    throw new Error(`deposit answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res;
}

export async function withdraw(
  ownerToken: string,
  accountId: string,
  amount: number,
  key = newKey('withdrawal'),
): Promise<ApiResponse<MovementBody>> {
  const res = await call<MovementBody>('POST', `/accounts/${accountId}/withdrawals`, {
    token: ownerToken,
    body: { amount },
    headers: { 'idempotency-key': key },
  });
  if (res.status !== 201) {
    throw new Error(`withdrawal answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res;
}

/** The whole history, following cursors, newest first. */
export async function fullHistory(token: string, accountId: string): Promise<LedgerEntry[]> {
  const all: LedgerEntry[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await call<HistoryPage>(
      'GET',
      `/accounts/${accountId}/transactions?limit=100${query}`,
      { token },
    );
    if (res.status !== 200) throw new Error(`history answered ${res.status}`);
    all.push(...res.body.transactions);
    cursor = res.body.nextCursor;
    if (cursor === null) return all;
  }
  throw new Error('history did not end after 100 pages');
}

/**
 * Waits until every movement shows its place (sequence, balanceAfter). The account's latest
 * movement shows both while still pending, so `graceMs` more lets the stream consumer (~1 s
 * by the contract) write its statement line too, for tests that need the statement itself.
 */
export async function waitForStatement(
  token: string,
  accountId: string,
  expectedEntries: number,
  { timeoutMs = 20_000, graceMs = 0 }: { timeoutMs?: number; graceMs?: number } = {},
): Promise<LedgerEntry[]> {
  const history = await waitFor(
    `the statement of ${accountId} to show its ${expectedEntries} movements in place`,
    () => fullHistory(token, accountId),
    (entries) =>
      entries.length === expectedEntries &&
      // Placed by the sequencer: only a statement line says when it counts.
      entries.every(
        (e) => e.balanceAfter !== null && e.sequence !== null && e.postedAt !== undefined,
      ),
    { timeoutMs, intervalMs: 200 },
  );
  if (graceMs === 0) return history;
  await sleep(graceMs);
  return fullHistory(token, accountId);
}

export interface Snapshot {
  balance: number;
  available: number;
  pending: number;
  history: LedgerEntry[];
}

async function balancesOf(
  token: string,
  accountId: string,
): Promise<{ balance: number; available: number; pending: number }> {
  const res = await call<Balance>('GET', `/accounts/${accountId}/balance`, { token });
  if (res.status !== 200 || typeof res.body.balance !== 'number') {
    throw new Error(`balance answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  const { balance, available, pending } = res.body;
  return { balance, available, pending };
}

/**
 * Balances and full history, once the statement has settled: what a refusal must not change.
 * (An account with a payout still held never settles: its hold has no place yet.)
 */
export async function snapshot(
  token: string,
  accountId: string,
  expectedEntries: number,
): Promise<Snapshot> {
  const history = await waitForStatement(token, accountId, expectedEntries);
  return { ...(await balancesOf(token, accountId)), history };
}

/** Current balances and history, without waiting (to compare with a settled snapshot). */
export async function currentState(token: string, accountId: string): Promise<Snapshot> {
  const balances = await balancesOf(token, accountId);
  return { ...balances, history: await fullHistory(token, accountId) };
}

// ---------------------------------------------------------------------------------------------
// Transfers and payouts

export async function transfer(
  ownerToken: string,
  fromAccountId: string,
  toAccountId: string,
  amount: number,
  key = newKey('transfer'),
): Promise<ApiResponse<TransferBody>> {
  const res = await call<TransferBody>('POST', '/transfers', {
    token: ownerToken,
    body: { fromAccountId, toAccountId, amount },
    headers: { 'idempotency-key': key },
  });
  if (res.status !== 201) {
    throw new Error(`transfer answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res;
}

export async function requestPayout(
  ownerToken: string,
  accountId: string,
  amount: number,
  destination: string,
  key = newKey('payout'),
): Promise<ApiResponse<PayoutBody>> {
  const res = await call<PayoutBody>('POST', `/accounts/${accountId}/payouts`, {
    token: ownerToken,
    body: { amount, destination },
    headers: { 'idempotency-key': key },
  });
  if (res.status !== 202) {
    throw new Error(`payout answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res;
}

export async function getPayout(
  token: string,
  accountId: string,
  transactionId: string,
): Promise<wire.Payout> {
  const res = await call<wire.Payout>('GET', `/accounts/${accountId}/payouts/${transactionId}`, {
    token,
  });
  if (res.status !== 200) {
    throw new Error(`GET payout answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/** Polls GET .../payouts/{id} until the payout is no longer PENDING; its final state. */
export async function waitForPayoutResolved(
  token: string,
  accountId: string,
  transactionId: string,
  timeoutMs = 30_000,
): Promise<wire.Payout> {
  return waitFor(
    `payout ${transactionId} to leave PENDING`,
    () => getPayout(token, accountId, transactionId),
    (payout) => payout.status !== 'PENDING',
    { timeoutMs, intervalMs: 250 },
  );
}

export {
  gatewayRecord,
  gatewayRecords,
  newDestination,
  setDestinationMode,
} from '../support/gateway-control';

export function expectAccountShape(body: unknown): asserts body is Account {
  expect(Object.keys(body as object).sort()).toEqual(ACCOUNT_FIELDS);
  const a = body as Account;
  expect(a.accountId).toMatch(ULID);
  expect(typeof a.ownerId).toBe('string');
  expect(a.currency).toMatch(/^[A-Z]{3}$/);
  expect(Number.isSafeInteger(a.balance)).toBe(true);
  expect(Number.isSafeInteger(a.available) && a.available >= 0).toBe(true);
  expect(Number.isSafeInteger(a.pending) && a.pending >= 0).toBe(true);
  expect(a.available).toBe(a.balance - a.pending);
  expect(typeof a.frozen).toBe('boolean');
  expect(a.createdAt).toMatch(ISO_TIME);
  expect(a.updatedAt).toMatch(ISO_TIME);
}

export function expectEntryShape(body: unknown): asserts body is LedgerEntry {
  const e = body as LedgerEntry;
  expect(ENTRY_TYPES).toContain(e.type);
  // A statement line also says when it counts (`postedAt`); an entry still waiting does not.
  const fields = Object.keys(body as object).filter((key) => key !== 'postedAt');
  expect(fields.sort()).toEqual(entryFieldsOf(e.type));
  if (e.postedAt !== undefined) {
    expect(e.postedAt).toMatch(ISO_TIME);
    expect(e.postedAt >= e.createdAt).toBe(true);
    expect(e.sequence).not.toBeNull();
  }
  expect(e.transactionId).toMatch(ULID);
  expect(e.accountId).toMatch(ULID);
  expect(ENTRY_STATUSES).toContain(e.status);
  // Only a payout is ever anything but POSTED.
  if (e.type !== 'PAYOUT') expect(e.status).toBe('POSTED');
  if (e.type === 'TRANSFER_IN' || e.type === 'TRANSFER_OUT') {
    expect(e.counterpartyAccountId).toMatch(ULID);
    expect(e.counterpartyAccountId).not.toBe(e.accountId);
  }
  if (e.type === 'PAYOUT') expect(e.destination).toMatch(/^[\x21-\x7E]{1,128}$/);
  expect(Number.isSafeInteger(e.amount) && e.amount > 0).toBe(true);
  expect(e.currency).toMatch(/^[A-Z]{3}$/);
  expect(e.balanceAfter === null || Number.isSafeInteger(e.balanceAfter)).toBe(true);
  expect(e.sequence === null || (Number.isSafeInteger(e.sequence) && e.sequence > 0)).toBe(true);
  expect(typeof e.idempotencyKey).toBe('string');
  expect(e.createdAt).toMatch(ISO_TIME);
}

export function expectPayoutShape(body: unknown): asserts body is wire.Payout {
  expect(Object.keys(body as object).sort()).toEqual(PAYOUT_FIELDS);
  const p = body as wire.Payout;
  expect(p.transactionId).toMatch(ULID);
  expect(p.accountId).toMatch(ULID);
  expect(Number.isSafeInteger(p.amount) && p.amount > 0).toBe(true);
  expect(p.currency).toMatch(/^[A-Z]{3}$/);
  expect(p.destination).toMatch(/^[\x21-\x7E]{1,128}$/);
  expect(ENTRY_STATUSES).toContain(p.status);
  expect(p.createdAt).toMatch(ISO_TIME);
  expect(p.updatedAt).toMatch(ISO_TIME);
  expect(p.holdExpiresAt).toMatch(ISO_TIME);
  expect(Date.parse(p.holdExpiresAt)).toBeGreaterThan(Date.parse(p.createdAt));
  expect(Number.isSafeInteger(p.attempts) && p.attempts >= 0).toBe(true);
  // A reference exactly once posted, a reason exactly once voided.
  expect(typeof p.gatewayReference === 'string').toBe(p.status === 'POSTED');
  expect(typeof p.voidReason === 'string').toBe(p.status === 'VOIDED');
}

/** Status, the exact error body shape and code, and the no-store header. */
export function expectError(res: ApiResponse<unknown>, status: number, code: string): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: {
      error: {
        code,
        message: expect.any(String),
        requestId: expect.any(String),
        // LIMIT_EXCEEDED alone says which limit refused, and how the day stood.
        ...(code === 'LIMIT_EXCEEDED'
          ? {
              limit: {
                kind: expect.stringMatching(/^(daily|perMovement)$/),
                limit: expect.any(Number),
                used: expect.any(Number),
                remaining: expect.any(Number),
              },
            }
          : {}),
      },
    },
  });
  const { error } = res.body as wire.ErrorBody;
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.requestId.length).toBeGreaterThan(0);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('cache-control')).toBe('no-store');
}
