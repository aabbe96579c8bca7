/**
 * The identity matrix: every authenticated route against every kind of bad or wrong identity,
 * over real HTTP. After each row, alice's account (balance, ledger) and account list are
 * exactly what they were.
 *
 * Tokens with bad claims are signed with cognito-local's real private key (it ships in its npm
 * package), so the signature is valid and only the claim under test can make the API refuse;
 * a control row proves such a minted token is accepted when its claims are right.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  SignJWT,
  UnsecuredJWT,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  type KeyLike,
} from 'jose';
import { signIn, DEMO_USERS } from '../../local/cognito';
import { e2eStack } from '../support/api-client';
import {
  COGNITO_LOCAL_PRIVATE_KEY,
  call,
  currentState,
  expectAccountShape,
  expectError,
  expectPayoutShape,
  issuerSigningKey,
  newDestination,
  newKey,
  openFundedAccount,
  requestPayout,
  signInAll,
  snapshot,
  subOf,
  unknownAccountId,
  waitForPayoutResolved,
  type Account,
  type Snapshot,
  type User,
} from './fixtures';

jest.setTimeout(90_000);

const ROOT = path.resolve(__dirname, '..', '..');

let tokens: Record<User, string>;
let aliceIdToken: string;
let issuerKey: KeyLike | Uint8Array;
let issuerPublicPem: string;
let aliceAccount: Account;
let bobAccount: Account;
/** A payout alice made (and the gateway paid) before the matrix: what the payout read names. */
let alicePayoutId: string;
/** Where the matrix's payout requests would send money, were one ever accepted. */
const matrixDestination = newDestination('matrix');
let before: Snapshot;
let aliceAccountsBefore: Account[];

const now = (): number => Math.floor(Date.now() / 1000);

/** alice's real access-token claims, freshly dated, with overrides (`undefined` removes one). */
function aliceClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  const all: Record<string, unknown> = {
    ...decodeJwt(tokens.alice),
    iat: now() - 10,
    auth_time: now() - 10,
    exp: now() + 600,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

/** Signs like cognito-local does (RS256, kid CognitoLocal) with its real key. */
function mint(payload: JWTPayload, key: KeyLike | Uint8Array = issuerKey): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: decodeProtectedHeader(tokens.alice).kid })
    .sign(key);
}

function tamper(token: string, change: (payload: JWTPayload) => JWTPayload): string {
  const [header, payload, signature] = token.split('.');
  const altered = change(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')));
  return [header, Buffer.from(JSON.stringify(altered)).toString('base64url'), signature].join('.');
}

const bearer = (token: string): string => `Bearer ${token}`;

/** Each row: how the Authorization header is built; `undefined` sends none. */
const BAD_IDENTITIES: Array<[string, () => Promise<string | undefined>]> = [
  ['no Authorization header', async () => undefined],
  ['an empty Authorization header', async () => ''],
  ['a bearer value that is not a JWT', async () => bearer('not-a-jwt')],
  ['a Basic credential', async () => `Basic ${Buffer.from('alice:x').toString('base64')}`],
  ['the token without the Bearer scheme', async () => tokens.alice],
  [
    'a payload altered to join the operators group (signature no longer matches)',
    async () => bearer(tamper(tokens.alice, (p) => ({ ...p, 'cognito:groups': ['operators'] }))),
  ],
  [
    "a payload altered to bob's sub (signature no longer matches)",
    async () => bearer(tamper(tokens.alice, (p) => ({ ...p, sub: subOf(tokens.bob) }))),
  ],
  ['alg: none', async () => bearer(new UnsecuredJWT(aliceClaims()).encode())],
  [
    'HS256 keyed with the issuer public key',
    async () =>
      bearer(
        await new SignJWT(aliceClaims())
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'CognitoLocal' })
          .sign(new TextEncoder().encode(issuerPublicPem)),
      ),
  ],
  [
    'another RSA key under the same kid',
    async () => bearer(await mint(aliceClaims(), (await generateKeyPair('RS256')).privateKey)),
  ],
  [
    'expired (real key)',
    async () => bearer(await mint(aliceClaims({ iat: now() - 3700, exp: now() - 60 }))),
  ],
  ['no exp (real key)', async () => bearer(await mint(aliceClaims({ exp: undefined })))],
  [
    'not yet valid, nbf in 10 min (real key)',
    async () => bearer(await mint(aliceClaims({ nbf: now() + 600 }))),
  ],
  [
    'wrong issuer (real key)',
    async () => {
      const iss = String(decodeJwt(tokens.alice).iss);
      return bearer(await mint(aliceClaims({ iss: iss.replace(/[^/]+$/, 'local_Imposter') })));
    },
  ],
  [
    'wrong client_id (real key)',
    async () => bearer(await mint(aliceClaims({ client_id: 'another-app-client' }))),
  ],
  [
    'an ID token instead of an access token (real, from cognito-local)',
    async () => bearer(aliceIdToken),
  ],
  [
    'token_use id on access-token claims (real key)',
    async () => bearer(await mint(aliceClaims({ token_use: 'id' }))),
  ],
];

interface Route {
  name: string;
  method: 'GET' | 'POST';
  path: () => string;
  body?: () => unknown;
  idempotent?: boolean;
}

const ROUTES: Route[] = [
  { name: 'GET /accounts', method: 'GET', path: () => '/accounts' },
  {
    name: 'POST /accounts',
    method: 'POST',
    path: () => '/accounts',
    body: () => ({ ownerId: subOf(tokens.alice), currency: 'USD' }),
  },
  { name: 'GET /accounts/{id}', method: 'GET', path: () => `/accounts/${aliceAccount.accountId}` },
  {
    name: 'GET /accounts/{id}/balance',
    method: 'GET',
    path: () => `/accounts/${aliceAccount.accountId}/balance`,
  },
  {
    name: 'POST /accounts/{id}/withdrawals',
    method: 'POST',
    path: () => `/accounts/${aliceAccount.accountId}/withdrawals`,
    body: () => ({ amount: 1 }),
    idempotent: true,
  },
  {
    name: 'POST /accounts/{id}/deposits',
    method: 'POST',
    path: () => `/accounts/${aliceAccount.accountId}/deposits`,
    body: () => ({ amount: 1 }),
    idempotent: true,
  },
  {
    name: 'GET /accounts/{id}/transactions',
    method: 'GET',
    path: () => `/accounts/${aliceAccount.accountId}/transactions`,
  },
  {
    name: 'POST /transfers',
    method: 'POST',
    path: () => '/transfers',
    body: () => ({
      fromAccountId: aliceAccount.accountId,
      toAccountId: bobAccount.accountId,
      amount: 1,
    }),
    idempotent: true,
  },
  {
    name: 'POST /accounts/{id}/payouts',
    method: 'POST',
    path: () => `/accounts/${aliceAccount.accountId}/payouts`,
    body: () => ({ amount: 1, destination: matrixDestination }),
    idempotent: true,
  },
  {
    name: 'GET /accounts/{id}/payouts/{transactionId}',
    method: 'GET',
    path: () => `/accounts/${aliceAccount.accountId}/payouts/${alicePayoutId}`,
  },
];

const route = (name: string): Route => {
  const found = ROUTES.find((r) => r.name === name);
  if (!found) throw new Error(`no route ${name}`);
  return found;
};

function send(r: Route, authorization: string | undefined, pathOverride?: string) {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (r.idempotent) headers['idempotency-key'] = newKey('matrix');
  if (r.body) headers['content-type'] = 'application/json';
  return call(r.method, pathOverride ?? r.path(), {
    headers,
    rawBody: r.body ? JSON.stringify(r.body()) : undefined,
  });
}

const callAs = (user: User, r: Route, pathOverride?: string) =>
  send(r, bearer(tokens[user]), pathOverride);

const listAccounts = async (token: string): Promise<Account[]> => {
  const res = await call<{ accounts: Account[] }>('GET', '/accounts', { token });
  if (res.status !== 200) throw new Error(`GET /accounts answered ${res.status}`);
  return res.body.accounts;
};

beforeAll(async () => {
  tokens = await signInAll();
  const alice = DEMO_USERS.find((u) => u.username === 'alice');
  if (!alice) throw new Error('no demo user alice');
  const signedIn = await signIn(e2eStack().identity, alice.username, alice.password);
  if (!signedIn.idToken) throw new Error('cognito-local returned no ID token');
  aliceIdToken = signedIn.idToken;

  const shipped = await issuerSigningKey();
  issuerKey = shipped.key;
  const jwks = (await (await fetch(e2eStack().identity.jwksUrl)).json()) as { keys: JWK[] };
  const published = jwks.keys.find((k) => k.kid === decodeProtectedHeader(tokens.alice).kid);
  // The shipped key is the one the issuer publishes; otherwise the "real key" rows prove nothing.
  expect(published?.n).toBe(shipped.jwk.n);
  const publicFile = COGNITO_LOCAL_PRIVATE_KEY.replace('private.json', 'public.json');
  issuerPublicPem = (JSON.parse(readFileSync(publicFile, 'utf8')) as { pem: string }).pem;

  aliceAccount = await openFundedAccount(tokens.ops, tokens.alice, 10_000);
  bobAccount = await openFundedAccount(tokens.ops, tokens.bob, 500);
  // One payout, paid and posted before the matrix starts: its read is a route under test.
  const payout = await requestPayout(
    tokens.alice,
    aliceAccount.accountId,
    100,
    newDestination('matrix-paid'),
  );
  alicePayoutId = payout.body.payout.transactionId;
  const resolved = await waitForPayoutResolved(tokens.alice, aliceAccount.accountId, alicePayoutId);
  expect(resolved.status).toBe('POSTED');
  before = await snapshot(tokens.alice, aliceAccount.accountId, 2);
  expect(before).toMatchObject({ balance: 9_900, available: 9_900, pending: 0 });
  aliceAccountsBefore = await listAccounts(tokens.alice);
});

/** Whatever a row did, alice's money, ledger and accounts are untouched. */
async function expectAliceUnchanged(): Promise<void> {
  expect(await currentState(tokens.alice, aliceAccount.accountId)).toStrictEqual(before);
  expect(await listAccounts(tokens.alice)).toStrictEqual(aliceAccountsBefore);
}

describe('control: tokens minted with the issuer key are otherwise valid', () => {
  it.each(ROUTES.filter((r) => r.method === 'GET').map((r) => [r.name, r] as const))(
    '%s accepts a minted token with correct claims (200)',
    async (_name, r) => {
      const res = await send(r, bearer(await mint(aliceClaims())));
      expect(res.status).toBe(200);
    },
  );
});

describe.each(ROUTES.map((r) => [r.name, r] as const))('%s', (_name, r) => {
  afterEach(expectAliceUnchanged);

  it.each(BAD_IDENTITIES)('with %s: 401 UNAUTHORIZED', async (_what, authorization) => {
    expectError(await send(r, await authorization()), 401, 'UNAUTHORIZED');
  });
});

describe('authorization of valid identities', () => {
  afterEach(expectAliceUnchanged);

  const ROWS: Array<[User, string, number, string | null]> = [
    // Another customer: alice's account does not exist for bob (404, never 403) ...
    ['bob', 'GET /accounts/{id}', 404, 'ACCOUNT_NOT_FOUND'],
    ['bob', 'GET /accounts/{id}/balance', 404, 'ACCOUNT_NOT_FOUND'],
    ['bob', 'GET /accounts/{id}/transactions', 404, 'ACCOUNT_NOT_FOUND'],
    ['bob', 'POST /accounts/{id}/withdrawals', 404, 'ACCOUNT_NOT_FOUND'],
    ['bob', 'POST /transfers', 404, 'ACCOUNT_NOT_FOUND'],
    ['bob', 'POST /accounts/{id}/payouts', 404, 'ACCOUNT_NOT_FOUND'],
    ['bob', 'GET /accounts/{id}/payouts/{transactionId}', 404, 'ACCOUNT_NOT_FOUND'],
    // ... and operator routes are closed to every customer, before any account lookup.
    ['bob', 'POST /accounts/{id}/deposits', 403, 'FORBIDDEN'],
    ['bob', 'POST /accounts', 403, 'FORBIDDEN'],
    // A customer on an operator route, even for herself.
    ['alice', 'POST /accounts', 403, 'FORBIDDEN'],
    ['alice', 'POST /accounts/{id}/deposits', 403, 'FORBIDDEN'],
    // Operators read any account, but only the owner withdraws.
    ['ops', 'GET /accounts/{id}', 200, null],
    ['ops', 'GET /accounts/{id}/balance', 200, null],
    ['ops', 'GET /accounts/{id}/transactions', 200, null],
    ['ops', 'POST /accounts/{id}/withdrawals', 403, 'FORBIDDEN'],
    ['ops', 'POST /transfers', 403, 'FORBIDDEN'],
    ['ops', 'POST /accounts/{id}/payouts', 403, 'FORBIDDEN'],
    ['ops', 'GET /accounts/{id}/payouts/{transactionId}', 200, null],
    // The owner reads her own account.
    ['alice', 'GET /accounts/{id}', 200, null],
    ['alice', 'GET /accounts/{id}/balance', 200, null],
    ['alice', 'GET /accounts/{id}/transactions', 200, null],
    ['alice', 'GET /accounts/{id}/payouts/{transactionId}', 200, null],
  ];

  it.each(ROWS)('%s %s → %i %s', async (user, name, status, code) => {
    const res = await callAs(user, route(name));
    if (code === null) expect(res.status).toBe(status);
    else expectError(res, status, code);
  });

  it.each(
    [
      'GET /accounts/{id}',
      'GET /accounts/{id}/balance',
      'GET /accounts/{id}/transactions',
      'POST /accounts/{id}/withdrawals',
      'POST /accounts/{id}/deposits',
      'POST /accounts/{id}/payouts',
      'GET /accounts/{id}/payouts/{transactionId}',
    ].map((name) => [name]),
  )(
    "bob gets the same answer for alice's account as for one that does not exist (%s)",
    async (name) => {
      const r = route(name);
      const onAlice = await callAs('bob', r);
      const onNothing = await callAs(
        'bob',
        r,
        r.path().replace(aliceAccount.accountId, unknownAccountId()),
      );
      const withoutRequestId = (res: { status: number; body: Record<string, unknown> }) => ({
        status: res.status,
        error: { ...(res.body.error as object), requestId: undefined },
      });
      expect(withoutRequestId(onAlice)).toStrictEqual(withoutRequestId(onNothing));
    },
  );

  it("bob gets the same answer for a transfer from alice's account as from one that does not exist", async () => {
    const transferFrom = (fromAccountId: string) =>
      call('POST', '/transfers', {
        token: tokens.bob,
        body: { fromAccountId, toAccountId: bobAccount.accountId, amount: 1 },
        headers: { 'idempotency-key': newKey('matrix') },
      });
    const onAlice = await transferFrom(aliceAccount.accountId);
    const onNothing = await transferFrom(unknownAccountId());
    expectError(onAlice, 404, 'ACCOUNT_NOT_FOUND');
    const withoutRequestId = (res: { status: number; body: Record<string, unknown> }) => ({
      status: res.status,
      error: { ...(res.body.error as object), requestId: undefined },
    });
    expect(withoutRequestId(onAlice)).toStrictEqual(withoutRequestId(onNothing));
  });

  it("a payout is found only under its own account: bob cannot reach alice's through his", async () => {
    const paths: Array<[User, string, string]> = [
      // bob's own account, alice's payout id: no such payout there.
      ['bob', `/accounts/${bobAccount.accountId}/payouts/${alicePayoutId}`, 'PAYOUT_NOT_FOUND'],
      // alice's account, an id that names no payout (well-formed, and not a ULID at all).
      [
        'alice',
        `/accounts/${aliceAccount.accountId}/payouts/${unknownAccountId()}`,
        'PAYOUT_NOT_FOUND',
      ],
      [
        'ops',
        `/accounts/${aliceAccount.accountId}/payouts/${unknownAccountId()}`,
        'PAYOUT_NOT_FOUND',
      ],
      ['alice', `/accounts/${aliceAccount.accountId}/payouts/not-a-payout`, 'PAYOUT_NOT_FOUND'],
      // alice's payout under an account that does not exist.
      ['alice', `/accounts/${unknownAccountId()}/payouts/${alicePayoutId}`, 'ACCOUNT_NOT_FOUND'],
    ];
    for (const [user, url, code] of paths) {
      expectError(await call('GET', url, { token: tokens[user] }), 404, code);
    }
    const own = await call('GET', route('GET /accounts/{id}/payouts/{transactionId}').path(), {
      token: tokens.alice,
    });
    expect(own.status).toBe(200);
    expectPayoutShape(own.body);
    expect(own.body).toMatchObject({
      transactionId: alicePayoutId,
      accountId: aliceAccount.accountId,
      amount: 100,
      status: 'POSTED',
    });
  });

  it("ops reads alice's account exactly as alice does", async () => {
    const asOps = await call<Account>('GET', `/accounts/${aliceAccount.accountId}`, {
      token: tokens.ops,
    });
    expect(asOps.status).toBe(200);
    expectAccountShape(asOps.body);
    expect(asOps.body).toStrictEqual(
      aliceAccountsBefore.find((a) => a.accountId === aliceAccount.accountId),
    );
  });

  it("GET /accounts as bob lists only bob's accounts", async () => {
    const accounts = await listAccounts(tokens.bob);
    expect(accounts.map((a) => a.accountId)).toContain(bobAccount.accountId);
    expect(accounts.map((a) => a.accountId)).not.toContain(aliceAccount.accountId);
    for (const account of accounts) expect(account.ownerId).toBe(subOf(tokens.bob));
  });

  it("GET /accounts as alice lists only alice's accounts", async () => {
    const accounts = await listAccounts(tokens.alice);
    expect(accounts.map((a) => a.accountId)).toContain(aliceAccount.accountId);
    expect(accounts.map((a) => a.accountId)).not.toContain(bobAccount.accountId);
    for (const account of accounts) expect(account.ownerId).toBe(subOf(tokens.alice));
  });
});

describe('the token command (scripts/token.ts)', () => {
  const run = promisify(execFile);
  const token = (user: string) =>
    run(process.execPath, ['scripts/run.js', 'scripts/token.ts', user], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: e2eStack().dataDir },
      timeout: 60_000,
    });

  afterEach(expectAliceUnchanged);

  it('prints only an access token for alice, which the API accepts', async () => {
    const { stdout } = await token('alice');
    const printed = stdout.trim();
    expect(stdout).toBe(`${printed}\n`);
    expect(printed.split('.')).toHaveLength(3);
    expect(decodeJwt(printed)).toMatchObject({ sub: subOf(tokens.alice), token_use: 'access' });

    const res = await call<{ accounts: Account[] }>('GET', '/accounts', { token: printed });
    expect(res.status).toBe(200);
    expect(res.body.accounts.map((a) => a.accountId)).toContain(aliceAccount.accountId);
  });

  it('fails with a message and exit code 1 for an unknown user', async () => {
    await expect(token('mallory')).rejects.toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('Unknown user "mallory"'),
    });
  });
});
