/**
 * The refusal matrix: every operation of openapi.yaml against the requests a careful client may
 * get wrong, one row each. A row asserts the status, the stable error code, the exact body
 * `{"error":{"code","message","requestId"}}` (JSON, no-store), that the answer conforms to the
 * document, and that the table is exactly as it was: a refusal changes nothing, except that a
 * business refusal of a movement (409, 422) is recorded under its Idempotency-Key, and a retry
 * with that key gets the same answer with `Idempotent-Replayed: true`.
 *
 * Each route has one request it accepts (proved last) and every row changes one thing of it, so
 * that change alone is what is refused. The rows every route of a kind has (identity, account,
 * body, Idempotency-Key) follow from the route's traits in openapi.yaml; a route's own rows are
 * listed with it. An operation without an entry here fails the first test; a refusal the
 * document lists that no row provokes fails the last.
 *
 * In-process: API Gateway's routing from serverless.yml, the real handlers (middy stack, token
 * verification, validation, domain, DynamoDB), no network stack. A table of its own in the e2e
 * stack's DynamoDB Local and a token issuer of its own: the pause switch is this table's alone,
 * so pausing withdrawals here disturbs no other suite.
 */
import { isDeepStrictEqual } from 'node:util';
import { SignJWT, UnsecuredJWT, generateKeyPair, type JWTPayload } from 'jose';
import { ulid } from 'ulid';
import { openAccount } from '../../lib/domain/accounts';
import { setAccountFrozen, setWithdrawalsPaused } from '../../lib/domain/controls';
import { setAccountLimits } from '../../lib/domain/limits';
import type { ErrorCode } from '../../lib/domain/errors';
import { MAX_BALANCE } from '../../lib/domain/money';
import { deposit, requestPayout, withdraw } from '../../lib/domain/movements';
import { reverseTransaction } from '../../lib/domain/reversals';
import { registerEndpoint } from '../../lib/domain/webhooks';
import { dynamoWebhookStore } from '../../lib/persistence/webhook-store';
import { dynamoEventStore } from '../../lib/persistence/event-store';
import { positionOf } from '../../lib/domain/events';
import type { StoredEvent } from '../../lib/domain/event-ports';
import { payoutView } from '../../lib/http-schemas';
import { sequenceChanges } from '../../lib/domain/sequencer';
import type { Account } from '../../lib/domain/types';
import type { ApiResponse } from '../support/api-client';
import { e2eStack } from '../support/api-client';
import {
  configureHandlers,
  inProcessApi,
  startTestIssuer,
  type InProcessApi,
  type TestIssuer,
  type TestUser,
} from '../support/in-process';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';
import {
  OpenApiOracle,
  errorCodesOf,
  loadOpenApi,
  operationsOf,
  valueAt,
  type Operation,
} from '../support/openapi';
import { ONE_PAST_BOUNDS } from '../support/details';
import { expectError, type User } from './fixtures';

const doc = loadOpenApi();
const oracle = new OpenApiOracle(doc);
const OPERATIONS = operationsOf(doc);

const ALICE = customer('alice');
const BOB = customer('bob');
const USERS: Record<User, TestUser> = {
  alice: { sub: ALICE.userId, username: 'alice' },
  bob: { sub: BOB.userId, username: 'bob' },
  ops: { sub: operator.userId, username: 'ops', groups: ['operators'] },
};

/** The accounts and facts the rows refer to; opened once, never changed by a refusal. */
interface World {
  /** alice's USD account; a pending payout holds part of it (`available` < balance). */
  alice: string;
  available: number;
  /** alice's pending payout. */
  payout: string;
  /** alice's opening deposit, in the statement (reversible), and what of it is left to reverse. */
  deposit: string;
  depositLeft: number;
  /** A reversal of part of that deposit, in the statement: a reversal is not reversed. */
  reversal: string;
  /** alice's withdrawal under `usedKey`: committed, not in the statement (never sequenced here). */
  unsequenced: string;
  bob: string;
  /** bob's EUR account. */
  euros: string;
  /** alice's USD account, funded and frozen. */
  frozen: string;
  /** bob's USD account at 2^53 - 1 - 10: at most 10 more may land on it. */
  full: string;
  /** alice's account that the valid freeze and unfreeze requests name. */
  controlled: string;
  /** A key alice's account used for a withdrawal of 2: another request with it is refused. */
  usedKey: string;
  /** alice's per-movement limit (an operator's), below what is available to her. */
  perMovement: number;
  /** alice's webhook endpoint, and another of hers that the valid DELETE removes. */
  endpoint: string;
  doomedEndpoint: string;
  /** An event alice's endpoint receives (a payout of hers posted), and one of bob's. */
  event: string;
  bobsEvent: string;
}

let issuer: TestIssuer;
let ledger: TestLedger;
let api: InProcessApi;
let tokens: Record<User, string>;
let world: World;

/**
 * What the sequencer does with an account's change from the table's stream (this ledger runs
 * none, so that nothing moves between a row's two scans): the statement line, the system
 * postings and the record by transaction id a reversal looks up. The real domain code, fed the
 * account's images before and after, as the stream handler feeds it.
 */
async function sequence(before: Account | null, accountId: string): Promise<Account> {
  const after = await ledger.store.getAccount(accountId);
  if (!after) throw new Error(`no account ${accountId}`);
  const result = await sequenceChanges(
    ledger.store,
    [{ id: accountId, before, after }],
    () => new Date(),
  );
  if (result.failed.length > 0) throw new Error(`sequencing ${accountId} failed`);
  return after;
}

async function openWorld(): Promise<World> {
  const { deps } = ledger;
  const usd = async (owner: typeof ALICE, balance: number) =>
    (await ledger.openAccount(owner, balance)).accountId;
  const [opened, bob, frozen, full, controlled] = await Promise.all([
    ledger.openAccount(ALICE, 1000),
    usd(BOB, 100),
    usd(ALICE, 1000),
    usd(BOB, 0),
    usd(ALICE, 0),
  ]);
  const alice = opened.accountId;
  const euros = (await openAccount(deps, operator, { ownerId: BOB.userId, currency: 'EUR' }))
    .accountId;
  const by = (caller: typeof ALICE, accountId: string, idempotencyKey: string) => ({
    caller,
    accountId,
    idempotencyKey,
    requestId: 'refusal-matrix-setup',
  });
  // The domain takes any amount; only the HTTP schema caps one movement at 10^12.
  await deposit(deps, { ...by(operator, full, 'fill'), amount: MAX_BALANCE - 10 });
  await setAccountFrozen(deps, operator, { accountId: frozen, frozen: true, reason: 'matrix' });
  // alice's deposit in the statement, 10 of it reversed and that reversal in the statement too.
  const depositId = opened.lastMovement?.transactionId;
  if (depositId === undefined) throw new Error('alice has no opening deposit');
  const deposited = await sequence(null, alice);
  const reversed = await reverseTransaction(deps, {
    caller: operator,
    transactionId: depositId,
    amount: 10,
    reason: 'matrix',
    idempotencyKey: 'reversed',
    requestId: 'refusal-matrix-setup',
  });
  await sequence(deposited, alice);
  const held = await requestPayout(deps, {
    ...by(ALICE, alice, 'held'),
    amount: 100,
    destination: 'matrix-held',
  });
  const usedKey = 'matrix-used-key';
  const withdrawn = await withdraw(deps, { ...by(ALICE, alice, usedKey), amount: 2 });
  const account = await ledger.store.getAccount(alice);
  if (!account || account.available + 1 > account.balance) throw new Error('no hold on alice');
  const perMovement = account.available - 10;
  await setAccountLimits(deps, operator, {
    accountId: alice,
    limits: { perMovement },
    reason: 'matrix',
  });
  const webhooks = {
    ...deps,
    store: dynamoWebhookStore({ db: ledger.doc, name: ledger.tableName }),
    accounts: deps.store,
    allowHttpLocalhost: false,
  };
  const hook = () =>
    registerEndpoint(webhooks, ALICE, {
      url: 'https://hooks.invalid/matrix',
      eventTypes: ['payout.posted'],
      accountId: alice,
    });
  const [endpoint, doomedEndpoint] = [(await hook()).id, (await hook()).id];
  // No publisher runs here: the events a redelivery names are written as it writes them.
  const events = dynamoEventStore({ db: ledger.doc, name: ledger.tableName });
  if (held.payout === undefined) throw new Error("alice's hold has no payout record");
  const shown = payoutView(held.payout);
  const publish = async (accountId: string, owner: string): Promise<string> => {
    const id = `payout.posted:${ulid()}`;
    const event: StoredEvent = {
      id,
      type: 'payout.posted',
      createdAt: new Date().toISOString(),
      accountId,
      sequence: null,
      // As the publisher writes it: the payout as the API shows it (alice's, moved to `accountId`).
      data: { ...shown, accountId, status: 'POSTED' },
      position: positionOf(new Date(), id),
      ownerId: owner,
    };
    await events.putEvent(event);
    return id;
  };
  const event = await publish(alice, ALICE.userId);
  const bobsEvent = await publish(bob, 'bob-sub');
  return {
    alice,
    available: account.available,
    payout: held.transaction.transactionId,
    deposit: depositId,
    depositLeft: reversed.reversed.remaining,
    reversal: reversed.transaction.transactionId,
    unsequenced: withdrawn.transaction.transactionId,
    bob,
    euros,
    frozen,
    full,
    controlled,
    usedKey,
    perMovement,
    endpoint,
    doomedEndpoint,
    event,
    bobsEvent,
  };
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  ledger = await createTestLedger('refusals', { sequencer: false, endpoint: e2eStack().dynamodb });
  // The switch is read on every withdrawal, so a pause is seen at once.
  configureHandlers({
    tableName: ledger.tableName,
    endpoint: ledger.endpoint,
    issuer,
    env: { PAUSE_SWITCH_CACHE_SECONDS: '0' },
  });
  api = await inProcessApi();
  const [alice, bob, ops] = await Promise.all(
    (['alice', 'bob', 'ops'] as const).map((user) => issuer.token(USERS[user])),
  );
  tokens = { alice: alice ?? '', bob: bob ?? '', ops: ops ?? '' };
  world = await openWorld();
});

afterAll(async () => {
  await ledger?.close();
  await issuer?.stop();
});

// ---------------------------------------------------------------------------------------------
// Requests, and the one change each row makes to a route's valid request

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** One change to a route's valid request (async: some sign a token). */
type Change = (request: Request, w: World) => Request | Promise<Request>;

const bearer = (token: string): string => `Bearer ${token}`;

function withHeader(request: Request, name: string, value: string | undefined): Request {
  const headers = { ...request.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { ...request, headers };
}

/** The JSON body with one field set (`undefined` removes it). */
function withField(request: Request, name: string, value: unknown): Request {
  const body = { ...(JSON.parse(request.body ?? '{}') as Record<string, unknown>), [name]: value };
  if (value === undefined) delete body[name];
  return { ...request, body: JSON.stringify(body) };
}

/** The account a route acts on in its path (`/accounts/{accountId}...`) replaced. */
const withPathAccount = (request: Request, accountId: string): Request => ({
  ...request,
  url: request.url.replace(/^\/accounts\/[^/?]+/, `/accounts/${accountId}`),
});

const header =
  (name: string, value: string | undefined): Change =>
  (request) =>
    withHeader(request, name, value);
const as =
  (user: User): Change =>
  (request) =>
    withHeader(request, 'authorization', bearer(tokens[user]));
const field =
  (name: string, value: (w: World) => unknown): Change =>
  (request, w) =>
    withField(request, name, value(w));
/** The body with one field set to a fixed value (`undefined` removes it). */
const set =
  (name: string, value: unknown): Change =>
  (request) =>
    withField(request, name, value);
const rawBody =
  (body: (valid: string) => string | undefined): Change =>
  (request) => ({ ...request, body: body(request.body ?? '') });
const pathAccount =
  (accountId: (w: World) => string): Change =>
  (request, w) =>
    withPathAccount(request, accountId(w));
const payoutId =
  (id: () => string): Change =>
  (request) => ({ ...request, url: request.url.replace(/\/payouts\/[^/]+$/, `/payouts/${id()}`) });
/** The movement a reversal names in its path replaced. */
const reversedId =
  (id: (w: World) => string): Change =>
  (request, w) => ({
    ...request,
    url: request.url.replace(/^\/transactions\/[^/]+/, `/transactions/${id(w)}`),
  });
/** The webhook endpoint named in the path replaced. */
const endpointId =
  (id: () => string): Change =>
  (request) => ({
    ...request,
    url: request.url.replace(/\/webhook-endpoints\/[^/?]+/, `/webhook-endpoints/${id()}`),
  });
const query =
  (value: string): Change =>
  (request) => ({ ...request, url: `${request.url}?${value}` });
const both =
  (first: Change, second: Change): Change =>
  async (request, w) =>
    second(await first(request, w), w);

/** A JSON body of exactly `bytes` bytes: the valid one and a `pad` field (unknown, so invalid). */
const paddedTo =
  (bytes: number): Change =>
  (request) => {
    const valid = JSON.parse(request.body ?? '{}') as Record<string, unknown>;
    const bare = Buffer.byteLength(JSON.stringify({ ...valid, pad: '' }));
    const body = JSON.stringify({ ...valid, pad: 'x'.repeat(bytes - bare) });
    if (Buffer.byteLength(body) !== bytes) throw new Error(`padded body is not ${bytes} bytes`);
    return { ...request, body };
  };

const get = (url: string, user: User): Request => ({
  method: 'GET',
  url,
  headers: { authorization: bearer(tokens[user]) },
});
/** A JSON POST; with `key`, a fresh Idempotency-Key starting with it. */
const post = (url: string, user: User, body: unknown, key?: string): Request => ({
  method: 'POST',
  url,
  headers: {
    authorization: bearer(tokens[user]),
    'content-type': 'application/json',
    ...(key === undefined ? {} : { 'idempotency-key': `${key}-${ulid()}` }),
  },
  body: JSON.stringify(body),
});
const put = (url: string, user: User, body: unknown): Request => ({
  ...post(url, user, body),
  method: 'PUT',
});
const del = (url: string, user: User): Request => ({ ...get(url, user), method: 'DELETE' });

// ---------------------------------------------------------------------------------------------
// Rows

/** A state a row needs before its request, and its undoing after. */
interface Given {
  what: string;
  enter(): Promise<void>;
  leave(): Promise<void>;
}

const withdrawalsPaused: Given = {
  what: 'while withdrawals are paused',
  enter: async () => {
    await setWithdrawalsPaused(ledger.deps, operator, { paused: true, reason: 'matrix' });
  },
  leave: async () => {
    await setWithdrawalsPaused(ledger.deps, operator, { paused: false, reason: 'matrix' });
  },
};

interface Row {
  what: string;
  status: number;
  code: ErrorCode;
  change: Change;
  /** A business refusal of a movement: recorded under its key, answered again on a retry. */
  recorded?: boolean;
  given?: Given;
}

const refused = (
  what: string,
  status: number,
  code: ErrorCode,
  change: Change,
  extra: Pick<Row, 'recorded' | 'given'> = {},
): Row => ({ what, status, code, change, ...extra });

/** One refusal provoked in several ways: each case names its change. */
const refusals = (
  status: number,
  code: ErrorCode,
  cases: Array<[string, Change]>,
  extra: Pick<Row, 'recorded' | 'given'> = {},
): Row[] => cases.map(([what, change]) => refused(what, status, code, change, extra));

/** Instants the statement routes refuse: no timezone, no time, a day no month has, words. */
const BAD_INSTANTS = ['2026-03-01', '2026-03-01T00:00:00', '2026-02-30T00:00:00Z', 'now', ''];

const invalids = (cases: Array<[string, Change]>): Row[] =>
  refusals(400, 'VALIDATION_ERROR', cases);

const now = (): number => Math.floor(Date.now() / 1000);

/** alice's access-token claims, with overrides (`undefined` removes a claim). */
function aliceClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  const all: Record<string, unknown> = { ...issuer.claims(USERS.alice), ...overrides };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

/** The token with its payload changed and its signature kept (which then no longer matches). */
function tampered(token: string, change: (payload: JWTPayload) => JWTPayload): string {
  const [head, payload, signature] = token.split('.');
  const altered = change(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')));
  return [head, Buffer.from(JSON.stringify(altered)).toString('base64url'), signature].join('.');
}

const signedByIssuer = async (overrides: Record<string, unknown>): Promise<string> =>
  bearer(await issuer.sign(aliceClaims(overrides)));

/** Each row: the Authorization header sent instead of alice's, ops' or bob's; `undefined`: none. */
const BAD_IDENTITIES: Array<[string, () => Promise<string | undefined>]> = [
  ['no Authorization header', async () => undefined],
  ['an empty Authorization header', async () => ''],
  ['a bearer value that is not a JWT', async () => bearer('not-a-jwt')],
  ['a Basic credential', async () => `Basic ${Buffer.from('alice:x').toString('base64')}`],
  ['the token without the Bearer scheme', async () => tokens.alice],
  [
    'a payload altered to join the operators group',
    async () => bearer(tampered(tokens.alice, (p) => ({ ...p, 'cognito:groups': ['operators'] }))),
  ],
  [
    "a payload altered to bob's sub",
    async () => bearer(tampered(tokens.alice, (p) => ({ ...p, sub: USERS.bob.sub }))),
  ],
  ['alg: none', async () => bearer(new UnsecuredJWT(aliceClaims()).encode())],
  [
    'HS256 keyed with the issuer public key',
    async () =>
      bearer(
        await new SignJWT(aliceClaims())
          .setProtectedHeader({ alg: 'HS256', kid: issuer.kid })
          .sign(new TextEncoder().encode(issuer.publicKeyPem)),
      ),
  ],
  [
    'another RSA key under the issuer key id',
    async () =>
      bearer(
        await new SignJWT(aliceClaims())
          .setProtectedHeader({ alg: 'RS256', kid: issuer.kid })
          .sign((await generateKeyPair('RS256')).privateKey),
      ),
  ],
  ['an expired token', () => signedByIssuer({ iat: now() - 3700, exp: now() - 60 })],
  ['a token without exp', () => signedByIssuer({ exp: undefined })],
  ['a token valid only in 10 minutes (nbf)', () => signedByIssuer({ nbf: now() + 600 })],
  ['a token of another issuer', () => signedByIssuer({ iss: `${issuer.issuer}-imposter` })],
  ['a token of another app client', () => signedByIssuer({ client_id: 'another-app-client' })],
  [
    'an ID token instead of an access token',
    () =>
      signedByIssuer({
        token_use: 'id',
        client_id: undefined,
        username: undefined,
        aud: issuer.clientId,
        'cognito:username': 'alice',
        auth_time: now(),
      }),
  ],
  ['token_use id on access-token claims', () => signedByIssuer({ token_use: 'id' })],
];

const IDENTITY_ROWS: Row[] = BAD_IDENTITIES.map(([what, authorization]) =>
  refused(what, 401, 'UNAUTHORIZED', async (request) =>
    withHeader(request, 'authorization', await authorization()),
  ),
);

/** Every route that takes a JSON body. */
const BODY_ROWS: Row[] = [
  ...invalids([
    ['malformed JSON', rawBody((valid) => valid.slice(0, -1))],
    ['no body', rawBody(() => undefined)],
    ['the body inside a JSON array', rawBody((valid) => `[${valid}]`)],
    ['the JSON null', rawBody(() => 'null')],
    ['an unknown field', set('note', 'x')],
    ['a body of exactly 8 KB (read, and refused for its unknown field)', paddedTo(8192)],
  ]),
  ...refusals(415, 'UNSUPPORTED_MEDIA_TYPE', [
    ['Content-Type text/plain', header('content-type', 'text/plain')],
    ['no Content-Type', header('content-type', undefined)],
  ]),
  refused('a body over 8 KB (8,193 bytes)', 413, 'PAYLOAD_TOO_LARGE', paddedTo(8193)),
];

/** Every route that takes an Idempotency-Key. */
const KEY_ROWS: Row[] = [
  ...refusals(400, 'IDEMPOTENCY_KEY_REQUIRED', [
    ['no Idempotency-Key', header('idempotency-key', undefined)],
    ['a blank Idempotency-Key', header('idempotency-key', '   ')],
  ]),
  ...invalids([
    ['an Idempotency-Key of 256 characters', header('idempotency-key', 'k'.repeat(256))],
    ['an Idempotency-Key with a control character', header('idempotency-key', 'key\tkey')],
    ['an Idempotency-Key outside ASCII', header('idempotency-key', 'caf\u00e9')],
  ]),
  refused('a key the account used for another request', 422, 'IDEMPOTENCY_KEY_REUSED', (r, w) =>
    withHeader(r, 'idempotency-key', w.usedKey),
  ),
];

/** Every movement's `amount` (and optional `currency`). */
const AMOUNT_ROWS: Row[] = invalids([
  ['amount 0', set('amount', 0)],
  ['amount -1', set('amount', -1)],
  ['amount 1.5', set('amount', 1.5)],
  ['amount "100" (a string)', set('amount', '100')],
  ['amount 1e300', set('amount', 1e300)],
  ['amount 10^12 + 1', set('amount', 1_000_000_000_001)],
  ['amount null', set('amount', null)],
  ['no amount', set('amount', undefined)],
  ['currency "usd" (not an ISO 4217 code)', set('currency', 'usd')],
]);

/** Money leaving an account its owner names: `from` points the request at another one. */
const moneyOutRows = (from: (accountId: (w: World) => string) => Change): Row[] => [
  refused(
    'more than available (a payout holds the rest of the balance)',
    409,
    'INSUFFICIENT_FUNDS',
    field('amount', (w) => w.available + 1),
    { recorded: true },
  ),
  refused(
    "available, but over the account's per-movement limit",
    409,
    'LIMIT_EXCEEDED',
    field('amount', (w) => w.perMovement + 1),
    { recorded: true },
  ),
  refused(
    'a frozen account',
    423,
    'ACCOUNT_FROZEN',
    from((w) => w.frozen),
  ),
];

/** Every money route's optional details (lib/domain/details.ts): one past a bound, or malformed. */
const DETAILS_ROWS: Row[] = invalids([
  ...ONE_PAST_BOUNDS.map(([what, field, details]): [string, Change] => [
    what,
    set(field, details[field as keyof typeof details]),
  ]),
  ['a reference with a space at its end', set('reference', 'INV-1 ')],
  ['a description with a control character', set('description', 'one\ntwo')],
  ['metadata that is not an object', set('metadata', 'k=v')],
]);

/** Every movement's body: its amount and currency, and its details. */
const MOVEMENT_BODY_ROWS: Row[] = [...AMOUNT_ROWS, ...DETAILS_ROWS];

const namedCurrencyRow = (recorded: boolean): Row =>
  refused('EUR named for a USD account', 422, 'CURRENCY_MISMATCH', set('currency', 'EUR'), {
    recorded,
  });

const pausedRow = refused(withdrawalsPaused.what, 503, 'WITHDRAWALS_PAUSED', (r) => r, {
  given: withdrawalsPaused,
});

const REASON_ROWS: Row[] = invalids([
  ['no reason', set('reason', undefined)],
  ['an empty reason', set('reason', '')],
  ['a blank reason', set('reason', ' \t\n ')],
  ['a reason of 501 characters', set('reason', 'r'.repeat(501))],
  ['a numeric reason', set('reason', 42)],
]);

/** A fee schedule's rules: each field an integer in its bounds, `min` not above `max`. */
const FEE_RULE_ROWS: Row[] = invalids([
  ['bps 10001 (above 100%)', set('WITHDRAWAL', { bps: 10_001 })],
  ['bps 1.5', set('WITHDRAWAL', { bps: 1.5 })],
  ['flat -1', set('WITHDRAWAL', { flat: -1 })],
  ['flat "5" (a string)', set('PAYOUT', { flat: '5' })],
  ['flat 10^12 + 1', set('PAYOUT', { flat: 1_000_000_000_001 })],
  ['min above max', set('WITHDRAWAL', { min: 10, max: 5 })],
  ['an unknown field in a rule', set('WITHDRAWAL', { flat: 1, percent: 2 })],
  ['a rule that is not an object', set('PAYOUT', 5)],
  ['a null rule', set('WITHDRAWAL', null)],
  ['a rule for deposits (fees are for withdrawals and payouts)', set('DEPOSIT', { flat: 1 })],
]);

const b64 = (value: string): string => Buffer.from(value).toString('base64url');

// ---------------------------------------------------------------------------------------------
// Routes: one per operation of openapi.yaml

/**
 * Whom a route serves: `anyone` (no token); `caller`, anyone signed in; `reader`, an account's
 * owner or an operator; `owner`, the account's owner only (money leaving it); `operators`.
 */
type Serves = 'anyone' | 'caller' | 'reader' | 'owner' | 'operators';

interface Route {
  serves: Serves;
  /** The request it accepts; every row changes one thing of it. */
  valid(w: World): Request;
  /** The same request on another account; by default the account in the path. */
  onAccount?(request: Request, accountId: string): Request;
  /** Its own refusals, beyond the ones every route of its kind has. */
  rows: Row[];
}

const ROUTES: Record<string, Route> = {
  health: {
    serves: 'anyone',
    valid: () => ({ method: 'GET', url: '/health', headers: {} }),
    rows: [],
  },
  listAccounts: { serves: 'caller', valid: () => get('/accounts', 'alice'), rows: [] },
  openAccount: {
    serves: 'operators',
    valid: () => post('/accounts', 'ops', { ownerId: 'user-carol', currency: 'USD' }),
    rows: invalids([
      ['no ownerId', set('ownerId', undefined)],
      ['an empty ownerId', set('ownerId', '')],
      ['an ownerId with a space', set('ownerId', 'carol smith')],
      ['an ownerId of 129 characters', set('ownerId', 'c'.repeat(129))],
      ['a numeric ownerId', set('ownerId', 42)],
      ['no currency', set('currency', undefined)],
      ['currency "usd"', set('currency', 'usd')],
      ['currency "US"', set('currency', 'US')],
      ['an opening balance', set('balance', 100)],
    ]),
  },
  getAccount: { serves: 'reader', valid: (w) => get(`/accounts/${w.alice}`, 'alice'), rows: [] },
  getBalance: {
    serves: 'reader',
    valid: (w) => get(`/accounts/${w.alice}/balance`, 'alice'),
    rows: [
      ...invalids(
        BAD_INSTANTS.map((at): [string, Change] => [
          `at=${JSON.stringify(at)}`,
          query(`at=${encodeURIComponent(at)}`),
        ]),
      ),
      refused(
        'a past instant after a movement that waits for its line',
        503,
        'STATEMENT_CATCHING_UP',
        (request, w) => query(`at=${new Date(Date.now() - 1_000).toISOString()}`)(request, w),
      ),
    ],
  },
  getStatement: {
    serves: 'reader',
    valid: (w) => get(`/accounts/${w.alice}/statements/2026-01`, 'alice'),
    rows: [
      refused(
        'this month, while a movement of it waits for its line',
        503,
        'STATEMENT_CATCHING_UP',
        (request) => ({
          ...request,
          url: request.url.replace(/[^/]+$/, new Date().toISOString().slice(0, 7)),
        }),
      ),
      ...invalids([
        ...['2026-13', '2026-00', '1999-12', '9999-01', '2026-1', '26-01', '2026-01-01'].map(
          (period): [string, Change] => [
            `period ${period}`,
            (request) => ({ ...request, url: request.url.replace(/[^/]+$/, period) }),
          ],
        ),
        ['limit=0', query('limit=0')],
        ['a history cursor', query(`cursor=${b64('{"before":3}')}`)],
      ]),
    ],
  },
  withdraw: {
    serves: 'owner',
    valid: (w) => post(`/accounts/${w.alice}/withdrawals`, 'alice', { amount: 1 }, 'withdrawal'),
    rows: [...MOVEMENT_BODY_ROWS, ...moneyOutRows(pathAccount), namedCurrencyRow(true), pausedRow],
  },
  deposit: {
    serves: 'operators',
    valid: (w) => post(`/accounts/${w.alice}/deposits`, 'ops', { amount: 1 }, 'deposit'),
    rows: [
      ...MOVEMENT_BODY_ROWS,
      namedCurrencyRow(true),
      refused(
        'a balance above 2^53 - 1 after it',
        422,
        'BALANCE_LIMIT_EXCEEDED',
        both(
          pathAccount((w) => w.full),
          set('amount', 11),
        ),
        { recorded: true },
      ),
    ],
  },
  transfer: {
    serves: 'owner',
    valid: (w) => {
      const body = { fromAccountId: w.alice, toAccountId: w.bob, amount: 1 };
      return post('/transfers', 'alice', body, 'transfer');
    },
    onAccount: (request, accountId) => withField(request, 'fromAccountId', accountId),
    rows: [
      ...MOVEMENT_BODY_ROWS,
      ...moneyOutRows((accountId) => field('fromAccountId', accountId)),
      // Refused before the write (the destination's currency is read first), so not recorded:
      // openapi.yaml's TransferUnprocessable says so.
      namedCurrencyRow(false),
      ...invalids([
        ['a transfer to the same account', field('toAccountId', (w) => w.alice)],
        ['no destination', set('toAccountId', undefined)],
        ['no source', set('fromAccountId', undefined)],
        ['a numeric destination', set('toAccountId', 42)],
      ]),
      ...refusals(404, 'ACCOUNT_NOT_FOUND', [
        ['a destination that does not exist', (r) => withField(r, 'toAccountId', ulid())],
        ['a destination id that is not a ULID', set('toAccountId', 'nope')],
        [
          "bob's account as the source (alice asking)",
          both(
            field('fromAccountId', (w) => w.bob),
            field('toAccountId', (w) => w.alice),
          ),
        ],
      ]),
      refused(
        'a destination in another currency',
        422,
        'CURRENCY_MISMATCH',
        field('toAccountId', (w) => w.euros),
        { recorded: true },
      ),
      refused(
        'a destination above 2^53 - 1 after it',
        422,
        'BALANCE_LIMIT_EXCEEDED',
        both(
          field('toAccountId', (w) => w.full),
          set('amount', 11),
        ),
        { recorded: true },
      ),
    ],
  },
  requestPayout: {
    serves: 'owner',
    valid: (w) =>
      post(`/accounts/${w.alice}/payouts`, 'alice', { amount: 1, destination: 'payee' }, 'payout'),
    rows: [
      ...MOVEMENT_BODY_ROWS,
      ...moneyOutRows(pathAccount),
      namedCurrencyRow(true),
      pausedRow,
      ...invalids([
        ['no destination', set('destination', undefined)],
        ['an empty destination', set('destination', '')],
        ['a destination with a space', set('destination', 'two words')],
        ['a destination of 129 characters', set('destination', 'd'.repeat(129))],
        ['a numeric destination', set('destination', 42)],
        ['a destination outside ASCII', set('destination', 'caf\u00e9')],
      ]),
    ],
  },
  getPayout: {
    serves: 'reader',
    valid: (w) => get(`/accounts/${w.alice}/payouts/${w.payout}`, 'alice'),
    rows: refusals(404, 'PAYOUT_NOT_FOUND', [
      ['a payout id that names no payout', payoutId(ulid)],
      ['a payout id that is not a ULID', payoutId(() => 'not-a-payout')],
      [
        "alice's payout under bob's own account (bob asking)",
        both(
          as('bob'),
          pathAccount((w) => w.bob),
        ),
      ],
      ['a payout the account does not have (an operator asking)', both(as('ops'), payoutId(ulid))],
    ]),
  },
  listTransactions: {
    serves: 'reader',
    valid: (w) => get(`/accounts/${w.alice}/transactions`, 'alice'),
    rows: invalids([
      ...['0', '101', '-1', 'abc', '1.5', '', '1e1'].map((limit): [string, Change] => [
        `limit=${limit}`,
        query(`limit=${encodeURIComponent(limit)}`),
      ]),
      ...(
        [
          ['not base64url', 'garbage!!'],
          ['base64url that is not JSON', b64('not json')],
          ['naming no position', b64('{}')],
          ['a non-numeric position', b64('{"before":"5"}')],
          ['position 0', b64('{"before":0}')],
          ['a negative position', b64('{"before":-3}')],
          ['a fractional position', b64('{"before":1.5}')],
          ['an extra field', b64('{"before":3,"accountId":"x"}')],
          ['padded base64', Buffer.from('{"before":30}').toString('base64')],
          ['empty', ''],
        ] as const
      ).map(([what, cursor]): [string, Change] => [
        `a forged cursor: ${what}`,
        query(`cursor=${encodeURIComponent(cursor)}`),
      ]),
      ...['r'.repeat(37), ' r', 'r ', '', 'caf\u00e9'].map((reference): [string, Change] => [
        `reference=${JSON.stringify(reference)}`,
        query(`reference=${encodeURIComponent(reference)}`),
      ]),
      ...BAD_INSTANTS.map((from): [string, Change] => [
        `from=${JSON.stringify(from)}`,
        query(`from=${encodeURIComponent(from)}`),
      ]),
      ['to before from', query('from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z')],
      ...['withdrawal', 'WITHDRAWAL,', 'FEE', ''].map((type): [string, Change] => [
        `type=${JSON.stringify(type)}`,
        query(`type=${encodeURIComponent(type)}`),
      ]),
      ...['PENDING', 'posted', ''].map((status): [string, Change] => [
        `status=${JSON.stringify(status)}`,
        query(`status=${encodeURIComponent(status)}`),
      ]),
      ['a history cursor with a filter', query(`type=DEPOSIT&cursor=${b64('{"before":3}')}`)],
    ]),
  },
  freezeAccount: {
    serves: 'operators',
    valid: (w) => post(`/accounts/${w.controlled}/freeze`, 'ops', { reason: 'matrix' }),
    rows: REASON_ROWS,
  },
  unfreezeAccount: {
    serves: 'operators',
    valid: (w) => post(`/accounts/${w.controlled}/unfreeze`, 'ops', { reason: 'matrix' }),
    rows: REASON_ROWS,
  },
  listEvents: {
    serves: 'caller',
    valid: () => get('/events', 'alice'),
    rows: [
      ...invalids([
        ['a cursor it never gave', query('after=bm90LWEtY3Vyc29y')],
        ['an unknown type', query('type=money.moved')],
        ['limit=0', query('limit=0')],
      ]),
      refused("another customer's accountId", 404, 'ACCOUNT_NOT_FOUND', (request, w) =>
        query(`accountId=${w.bob}`)(request, w),
      ),
    ],
  },
  getWithdrawalSwitch: {
    serves: 'operators',
    valid: () => get('/controls/withdrawals', 'ops'),
    rows: [],
  },
  ledgerSummary: {
    serves: 'operators',
    valid: () => get('/ledger/summary', 'ops'),
    rows: [],
  },
  getFees: {
    serves: 'reader',
    valid: (w) => get(`/accounts/${w.alice}/fees`, 'alice'),
    rows: [],
  },
  setFees: {
    serves: 'operators',
    // On the account no row moves money on: a fee set by the last request changes nothing else.
    valid: (w) =>
      put(`/accounts/${w.controlled}/fees`, 'ops', {
        WITHDRAWAL: { flat: 25, bps: 100, min: 30, max: 500 },
        PAYOUT: {},
        reason: 'matrix',
      }),
    rows: [...FEE_RULE_ROWS, ...REASON_ROWS],
  },
  getLimits: {
    serves: 'reader',
    valid: (w) => get(`/accounts/${w.alice}/limits`, 'alice'),
    rows: [],
  },
  setLimits: {
    serves: 'operators',
    valid: (w) =>
      put(`/accounts/${w.controlled}/limits`, 'ops', {
        daily: 5_000,
        perMovement: 1_000,
        timezone: 'Europe/Paris',
        reason: 'matrix',
      }),
    rows: [
      ...REASON_ROWS,
      ...invalids([
        [
          'no limit, a reason alone',
          both(
            both(set('daily', undefined), set('perMovement', undefined)),
            set('timezone', undefined),
          ),
        ],
        ['daily 0', set('daily', 0)],
        ['daily 1.5', set('daily', 1.5)],
        ['daily "100" (a string)', set('daily', '100')],
        ['perMovement 10^12 + 1', set('perMovement', 1_000_000_000_001)],
        ['perMovement null', set('perMovement', null)],
        ['a timezone no one knows', set('timezone', 'Mars/Olympus_Mons')],
        ['a timezone that is not a name', set('timezone', 'UTC; DROP')],
        ['a UTC offset, not a timezone name', set('timezone', '+0200')],
        ['a timezone of 65 characters', set('timezone', 'A'.repeat(65))],
      ]),
    ],
  },
  reverseTransaction: {
    serves: 'operators',
    valid: (w) =>
      post(`/transactions/${w.deposit}/reversals`, 'ops', { amount: 1, reason: 'matrix' }, 'rev'),
    rows: [
      // The amount is optional (the rest of the original), so only the malformed ones.
      ...AMOUNT_ROWS.filter((row) => row.what.startsWith('amount ')),
      ...REASON_ROWS,
      ...invalids([
        ['allowNegative "true" (a string)', set('allowNegative', 'true')],
        ['allowNegative 1', set('allowNegative', 1)],
        ['a currency (the original decides it)', set('currency', 'USD')],
      ]),
      ...refusals(404, 'TRANSACTION_NOT_FOUND', [
        ['a transaction id that names no movement', reversedId(() => ulid())],
        ['a transaction id that is not a ULID', reversedId(() => 'not-a-transaction')],
        ['a withdrawal committed, not in the statement yet', reversedId((w) => w.unsequenced)],
        ['a payout still held (not posted)', reversedId((w) => w.payout)],
      ]),
      refused(
        'a reversal (not reversed in turn)',
        422,
        'NOT_REVERSIBLE',
        reversedId((w) => w.reversal),
      ),
      refused(
        'taking back more than is available (a payout holds part of it)',
        409,
        'INSUFFICIENT_FUNDS',
        field('amount', (w) => w.available + 1),
        { recorded: true },
      ),
      refused(
        'one more than is left of the original, even with allowNegative',
        422,
        'REVERSAL_EXCEEDS_ORIGINAL',
        both(
          field('amount', (w) => w.depositLeft + 1),
          set('allowNegative', true),
        ),
        { recorded: true },
      ),
    ],
  },
  registerWebhookEndpoint: {
    // A customer for their own account, an operator for any: the account rows are the body's.
    // (`caller`, not `reader`: its success is a 201, which the readers' operator check does not take.)
    serves: 'caller',
    valid: (w) =>
      post('/webhook-endpoints', 'alice', {
        url: 'https://hooks.invalid/matrix',
        eventTypes: ['payout.posted', 'movement.committed'],
        accountId: w.alice,
      }),
    onAccount: (request, accountId) => withField(request, 'accountId', accountId),
    rows: [
      refused("another customer's account (bob asking)", 404, 'ACCOUNT_NOT_FOUND', as('bob')),
      ...invalids([
        ['no url', set('url', undefined)],
        ['an empty url', set('url', '')],
        ['a url that is not absolute', set('url', 'hooks.example.com/matrix')],
        ['an http:// url', set('url', 'http://hooks.example.com/matrix')],
        ['http://127.0.0.1 (deployed configuration)', set('url', 'http://127.0.0.1:4020/webhooks')],
        ['https to a private address', set('url', 'https://10.0.0.8/webhooks')],
        ['https to the metadata address', set('url', 'https://169.254.169.254/latest')],
        ['https to loopback', set('url', 'https://[::1]/webhooks')],
        ['a url with a password', set('url', 'https://u:p@hooks.example.com/')],
        ['a url of 2049 characters', set('url', `https://h.example.com/${'x'.repeat(2027)}`)],
        ['no eventTypes', set('eventTypes', undefined)],
        ['no event type', set('eventTypes', [])],
        ['an unknown event type', set('eventTypes', ['payout.posted', 'payout.sent'])],
        ['a repeated event type', set('eventTypes', ['payout.posted', 'payout.posted'])],
        ['eventTypes as a string', set('eventTypes', 'payout.posted')],
        ['a numeric accountId', set('accountId', 42)],
        ['an empty accountId', set('accountId', '')],
        ["a secret of the caller's choosing", set('secret', 'whsec_mine')],
      ]),
    ],
  },
  listWebhookEndpoints: {
    serves: 'caller',
    valid: () => get('/webhook-endpoints', 'alice'),
    rows: [],
  },
  getWebhookEndpoint: {
    serves: 'reader',
    valid: (w) => get(`/webhook-endpoints/${w.endpoint}`, 'alice'),
    rows: refusals(404, 'WEBHOOK_ENDPOINT_NOT_FOUND', [
      ['an endpoint id that names none', endpointId(ulid)],
      ['an endpoint id that is not a ULID', endpointId(() => 'not-an-endpoint')],
      ["alice's endpoint (bob asking)", as('bob')],
    ]),
  },
  deleteWebhookEndpoint: {
    // The valid request deletes its endpoint: run once, as the accepted request.
    serves: 'caller',
    valid: (w) => del(`/webhook-endpoints/${w.doomedEndpoint}`, 'alice'),
    rows: refusals(404, 'WEBHOOK_ENDPOINT_NOT_FOUND', [
      ['an endpoint id that names none', endpointId(ulid)],
      ['an endpoint id that is not a ULID', endpointId(() => 'not-an-endpoint')],
      ["alice's endpoint (bob asking)", as('bob')],
    ]),
  },
  listDeliveryAttempts: {
    serves: 'reader',
    valid: (w) => get(`/webhook-endpoints/${w.endpoint}/attempts`, 'alice'),
    rows: [
      ...refusals(404, 'WEBHOOK_ENDPOINT_NOT_FOUND', [
        ['an endpoint id that names none', endpointId(ulid)],
        ['an endpoint id that is not a ULID', endpointId(() => 'not-an-endpoint')],
        ["alice's endpoint (bob asking)", as('bob')],
      ]),
      ...invalids([
        ['a cursor that is not one', query('cursor=not-a-cursor')],
        ['a limit of 0', query('limit=0')],
      ]),
    ],
  },
  redeliverWebhook: {
    serves: 'operators',
    valid: (w) =>
      post(`/webhook-endpoints/${w.endpoint}/redeliveries`, 'ops', { eventId: w.event }),
    rows: [
      ...refusals(404, 'WEBHOOK_ENDPOINT_NOT_FOUND', [
        ['an endpoint id that names none', endpointId(ulid)],
      ]),
      ...refusals(404, 'EVENT_NOT_FOUND', [
        ['an event that does not exist', set('eventId', 'payout.posted:01JNOSUCHPAYOUT')],
        [
          "an event the endpoint does not receive (bob's)",
          (request, w) => withField(request, 'eventId', w.bobsEvent),
        ],
      ]),
      ...invalids([
        ['no eventId', set('eventId', undefined)],
        ['a numeric eventId', set('eventId', 42)],
        ['an unknown field', set('endpointId', 'x')],
      ]),
    ],
  },
  setWithdrawalSwitch: {
    serves: 'operators',
    valid: () => post('/controls/withdrawals', 'ops', { paused: false, reason: 'matrix' }),
    rows: [
      ...invalids([
        ['paused "false" (a string)', set('paused', 'false')],
        ['no paused', set('paused', undefined)],
      ]),
      ...REASON_ROWS,
    ],
  },
};

/** How a route's request is pointed at another account, if it acts on one. */
function onAccountOf(op: Operation, route: Route): Route['onAccount'] {
  if (route.onAccount) return route.onAccount;
  return op.path.startsWith('/accounts/{accountId}') ? withPathAccount : undefined;
}

/** The rows of a route: those its kind has (from openapi.yaml and whom it serves), then its own. */
function rowsOf(op: Operation, route: Route): Row[] {
  const onAccount = onAccountOf(op, route);
  const customerOwned = route.serves === 'owner' || route.serves === 'reader';
  // No `security` of its own: the document's global bearer token applies.
  const needsToken = op.operation.security === undefined;
  const takesKey = op.parameters.some(
    ({ param }) => param.in === 'header' && param.name === 'Idempotency-Key',
  );
  return [
    ...(needsToken ? IDENTITY_ROWS : []),
    ...(route.serves === 'operators'
      ? [refused('a customer (operators only)', 403, 'FORBIDDEN', as('alice'))]
      : []),
    ...(route.serves === 'owner'
      ? [refused('an operator (only the owner moves money out)', 403, 'FORBIDDEN', as('ops'))]
      : []),
    ...(onAccount
      ? [
          refused('an account that does not exist', 404, 'ACCOUNT_NOT_FOUND', (request) =>
            onAccount(request, ulid()),
          ),
          refused('an account id that is not a ULID', 404, 'ACCOUNT_NOT_FOUND', (request) =>
            onAccount(request, 'not-an-account'),
          ),
        ]
      : []),
    ...(onAccount && customerOwned
      ? [refused("another customer's account (bob asking)", 404, 'ACCOUNT_NOT_FOUND', as('bob'))]
      : []),
    ...(op.operation.requestBody !== undefined ? BODY_ROWS : []),
    ...(takesKey ? KEY_ROWS : []),
    ...route.rows,
  ];
}

const nameOf = (op: Operation): string => `${op.method.toUpperCase()} ${op.path}`;

// ---------------------------------------------------------------------------------------------
// Running a row

type Item = Record<string, unknown>;

/** The whole table, by key: a refusal must leave it as it was. */
async function tableItems(): Promise<Map<string, Item>> {
  const items = await ledger.items();
  return new Map(items.map((item) => [`${String(item.pk)} ${String(item.sk)}`, item]));
}

function changesSince(before: Map<string, Item>, after: Map<string, Item>): unknown[] {
  const changes: unknown[] = [];
  for (const [key, item] of after) {
    const old = before.get(key);
    if (old === undefined) changes.push({ added: item });
    else if (!isDeepStrictEqual(old, item)) changes.push({ changed: key, from: old, to: item });
  }
  for (const key of before.keys()) if (!after.has(key)) changes.push({ removed: key });
  return changes;
}

const answer = (request: Request): Promise<ApiResponse> =>
  api(request.method, request.url, { headers: request.headers, body: request.body });

/** `operationId status code` of every refusal the rows provoked. */
const provoked = new Set<string>();

async function expectRefusal(op: Operation, row: Row, request: Request): Promise<void> {
  const before = await tableItems();
  const res = await answer(request);
  expectError(res, row.status, row.code);
  expect(res.headers.get('idempotent-replayed')).toBeNull();
  expect(oracle.check(op.method, op.path, res)).toEqual([]);
  if (row.recorded) {
    const retry = await answer(request);
    expect(oracle.check(op.method, op.path, retry)).toEqual([]);
    expect({
      status: retry.status,
      body: retry.body,
      replayed: retry.headers.get('idempotent-replayed'),
    }).toStrictEqual({ status: res.status, body: res.body, replayed: 'true' });
  }
  const marker = {
    added: expect.objectContaining({
      outcome: 'REFUSED',
      idempotencyKey: request.headers['idempotency-key'],
      error: expect.objectContaining({ code: row.code }),
    }),
  };
  expect(changesSince(before, await tableItems())).toEqual(row.recorded ? [marker] : []);
  provoked.add(`${op.operationId} ${row.status} ${row.code}`);
}

const withoutRequestId = (res: ApiResponse) => ({
  status: res.status,
  error: { ...(res.body.error as object), requestId: undefined },
});

// ---------------------------------------------------------------------------------------------
// The matrix

it('has a route for every operation of openapi.yaml, and for nothing else', () => {
  expect(Object.keys(ROUTES).sort()).toEqual(OPERATIONS.map((op) => op.operationId).sort());
});

describe.each(
  OPERATIONS.flatMap((op) => {
    const route = ROUTES[op.operationId];
    const rows = route ? rowsOf(op, route) : [];
    return route && rows.length > 0 ? [[nameOf(op), op, route, rows] as const] : [];
  }),
)('%s refuses', (_name, op, route, rows) => {
  it.each(rows.map((row) => [`${row.what}: ${row.status} ${row.code}`, row] as const))(
    '%s',
    async (_what, row) => {
      const request = await row.change(route.valid(world), world);
      await row.given?.enter();
      try {
        await expectRefusal(op, row, request);
      } finally {
        await row.given?.leave();
      }
    },
  );
});

describe("another customer's account answers exactly like one that does not exist", () => {
  const probed = OPERATIONS.flatMap((op) => {
    const route = ROUTES[op.operationId];
    const onAccount = route && onAccountOf(op, route);
    const customerOwned = route?.serves === 'owner' || route?.serves === 'reader';
    return route && onAccount && customerOwned ? [[nameOf(op), route, onAccount] as const] : [];
  });

  it.each(probed)('%s', async (_name, route, onAccount) => {
    const asBob = withHeader(route.valid(world), 'authorization', bearer(tokens.bob));
    const foreign = await answer(asBob);
    const missing = await answer(onAccount(asBob, ulid()));
    expectError(foreign, 404, 'ACCOUNT_NOT_FOUND');
    expect(withoutRequestId(foreign)).toStrictEqual(withoutRequestId(missing));
  });
});

describe('a method and path serverless.yml routes nowhere: 404 NOT_FOUND, with or without a token', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/accounts/{alice}/nope'],
    ['DELETE', '/accounts/{alice}'],
    ['PUT', '/accounts/{alice}/balance'],
    ['GET', '/accounts/{alice}/withdrawals'],
    ['POST', '/accounts/{alice}/transfers'],
    ['POST', '/health'],
    ['DELETE', '/accounts'],
    ['GET', '/transfers'],
    ['PATCH', '/controls/withdrawals'],
  ])('%s %s', async (method, path) => {
    const url = path.replace('{alice}', world.alice);
    const signedIn = { ...post(url, 'alice', { amount: 1 }, 'route'), method };
    for (const request of [signedIn, { method, url, headers: {} }]) {
      const before = await tableItems();
      const res = await answer(request);
      expectError(res, 404, 'NOT_FOUND');
      expect(oracle.check(method, url, res, 'RouteNotFound')).toEqual([]);
      expect(changesSince(before, await tableItems())).toEqual([]);
    }
  });
});

describe('the valid request of each route, which every row changes in one respect', () => {
  /** The one success status the document gives the operation. */
  const successOf = (op: Operation): number[] =>
    oracle
      .responsesOf(op)
      .filter(({ status }) => status.startsWith('2'))
      .map(({ status }) => Number(status));

  it.each(OPERATIONS.map((op) => [nameOf(op), op] as const))('%s is accepted', async (_n, op) => {
    const route = ROUTES[op.operationId];
    if (!route) throw new Error(`no route for ${op.operationId}`);
    const res = await answer(route.valid(world));
    expect({ statuses: [res.status], body: res.body }).toEqual({
      statuses: successOf(op),
      body: expect.anything(),
    });
    expect(oracle.check(op.method, op.path, res)).toEqual([]);
  });

  it.each(
    OPERATIONS.filter((op) => ROUTES[op.operationId]?.serves === 'reader').map(
      (op) => [nameOf(op), op] as const,
    ),
  )('%s is answered to an operator too', async (_n, op) => {
    const route = ROUTES[op.operationId];
    if (!route) throw new Error(`no route for ${op.operationId}`);
    const res = await answer(withHeader(route.valid(world), 'authorization', bearer(tokens.ops)));
    expect(res.status).toBe(200);
    expect(oracle.check(op.method, op.path, res)).toEqual([]);
  });
});

/**
 * Documented answers no request provokes on a healthy stack: the service's or its neighbours'
 * failures, not refusals of a request. test/unit/http.test.ts maps each to its status and body;
 * test/unit/local-throttle.test.ts answers RATE_LIMITED.
 */
const FAILURES: ErrorCode[] = [
  'TRANSACTION_CONFLICT',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
];

it('provoked every refusal openapi.yaml documents for each operation, but failures', () => {
  const documented = OPERATIONS.flatMap((op) =>
    oracle
      .responsesOf(op)
      .filter(({ status }) => Number(status) >= 400)
      .flatMap(({ status, at }) => {
        const schemaAt = `${at}/content/application~1json/schema`;
        return errorCodesOf(doc, valueAt(doc, schemaAt), schemaAt).map(
          (code) => `${op.operationId} ${status} ${code}`,
        );
      }),
  );
  const isFailure = (answer: string): boolean =>
    FAILURES.some((code) => answer.endsWith(` ${code}`));
  expect(documented.filter((a) => !isFailure(a) && !provoked.has(a))).toEqual([]);
  // Every refusal provoked was checked against the document; none is a failure.
  expect([...provoked].filter(isFailure)).toEqual([]);
  expect(oracle.live.get('#/components/responses/RouteNotFound')).toEqual(new Set([404]));
});
