/**
 * openapi.yaml cannot drift from the service. The document is checked as OpenAPI 3.1, against
 * serverless.yml's routes and against lib/domain/errors.ts' codes and statuses; then every
 * response below — real HTTP against the e2e stack — must have a status documented for its
 * operation, and a media type, headers and body valid against the documented schemas (Ajv 2020).
 * Requests the service refuses as malformed must be the ones the documented request schemas
 * refuse, and the other way round.
 *
 * Other suites share the stack: this file opens its own accounts, for customers of its own
 * (tokens minted with cognito-local's key, fresh `sub`s), and never pauses withdrawals.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { ulid } from 'ulid';
import { api, tokenFor, type ApiResponse } from '../support/api-client';
import {
  OpenApiOracle,
  deref,
  errorCodesOf,
  loadOpenApi,
  operationsOf,
  pointer,
  serverlessHttpApi,
  structuralProblems,
  valueAt,
  type Obj,
} from '../support/openapi';
import { ERROR_CODES } from '../../lib/domain/errors';
import { newDestination, setDestinationMode } from './fixtures';

jest.setTimeout(120_000);

const doc = loadOpenApi();
const oracle = new OpenApiOracle(doc);

// ---------------------------------------------------------------------------------------------
// lib/domain/errors.ts: the one table of codes and the status each comes with

const errorCodeUnion = (): string[] => Object.keys(ERROR_CODES);
const statusOfCode = (): Map<string, number> =>
  new Map(Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]));

// ---------------------------------------------------------------------------------------------
// The document

describe('openapi.yaml as a document', () => {
  it('is a structurally valid OpenAPI 3.1 document', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(structuralProblems(doc)).toEqual([]);
  });

  it('has a structural check that is not vacuous', () => {
    const broken = (mutate: (d: Obj) => void): string[] => {
      const copy = structuredClone(doc);
      mutate(copy);
      return structuralProblems(copy);
    };
    const op = (d: Obj, p: string, m: string): Obj => valueAt(d, pointer('paths', p, m)) as Obj;
    expect(broken((d) => (d.openapi = '3.0.3'))).not.toEqual([]);
    expect(broken((d) => (op(d, '/accounts', 'get').respones = {}))).not.toEqual([]);
    expect(
      broken((d) => ((op(d, '/health', 'get').responses as Obj)['503'] = { $ref: '#/nope' })),
    ).not.toEqual([]);
    expect(
      broken((d) => {
        op(d, '/accounts', 'post').requestBody = { $ref: '#/components/schemas/Account' };
      }),
    ).not.toEqual([]);
    expect(
      broken((d) => {
        const paths = d.paths as Obj;
        paths['/accounts/{id}'] = paths['/accounts/{accountId}'];
      }),
    ).not.toEqual([]);
  });

  it("documents exactly serverless.yml's httpApi routes, under the functions' names", () => {
    const { routes, catchAll } = serverlessHttpApi();
    const declared = routes.map((r) => `${r.method.toUpperCase()} ${r.path} ${r.functionName}`);
    const documented = operationsOf(doc).map(
      (o) => `${o.method.toUpperCase()} ${o.path} ${o.operationId}`,
    );
    expect(documented.sort()).toEqual(declared.sort());
    // The catch-all route answers every other method and path: documented as one response.
    expect(catchAll).toHaveLength(1);
    const routeNotFound = '/components/responses/RouteNotFound/content/application~1json/schema';
    expect(errorCodesOf(doc, valueAt(doc, routeNotFound), routeNotFound)).toEqual(['NOT_FOUND']);
  });

  it('requires the bearer JWT on every route but GET /health', () => {
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(valueAt(doc, '/components/securitySchemes/bearerAuth')).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    for (const op of operationsOf(doc)) {
      const open = op.path === '/health';
      expect({ op: op.operationId, security: op.operation.security }).toEqual({
        op: op.operationId,
        security: open ? [] : undefined,
      });
      // 401 exactly where a token is required.
      expect({ op: op.operationId, has401: '401' in (op.operation.responses as Obj) }).toEqual({
        op: op.operationId,
        has401: !open,
      });
    }
  });

  it('compiles every schema in it with Ajv 2020 (strict mode, formats)', () => {
    const locations = oracle.schemaLocations();
    expect(locations.length).toBeGreaterThan(40);
    const failures = locations.flatMap((at) => {
      try {
        oracle.validatorAt(at);
        return [];
      } catch (err) {
        return [`${at}: ${(err as Error).message}`];
      }
    });
    expect(failures).toEqual([]);
    // In particular every response of every operation has a JSON schema.
    for (const op of operationsOf(doc)) {
      for (const { status, response, at } of oracle.responsesOf(op)) {
        expect({ op: op.operationId, status, media: Object.keys(response.content as Obj) }).toEqual(
          { op: op.operationId, status, media: ['application/json'] },
        );
        expect(typeof oracle.validatorAt(`${at}/content/application~1json/schema`)).toBe(
          'function',
        );
      }
    }
  });

  it('lists exactly the error codes of lib/domain/errors.ts, each only under its own status', () => {
    const codes = errorCodeUnion();
    expect(codes.length).toBeGreaterThanOrEqual(17);
    expect([...(valueAt(doc, '/components/schemas/ErrorCode/enum') as string[])].sort()).toEqual(
      [...codes].sort(),
    );
    const statuses = statusOfCode();
    expect([...statuses.keys()].sort()).toEqual([...codes].sort());

    const documentedCodes = new Set<string>(['NOT_FOUND']); // the catch-all route's (RouteNotFound)
    for (const op of operationsOf(doc)) {
      for (const { status, at } of oracle.responsesOf(op)) {
        if (Number(status) < 400) continue;
        const schemaAt = `${at}/content/application~1json/schema`;
        const listed = errorCodesOf(doc, valueAt(doc, schemaAt), schemaAt);
        // Every refusal names its codes, and each code comes with the status errors.ts gives it.
        expect({ op: op.operationId, status, listed: listed.length > 0 }).toEqual({
          op: op.operationId,
          status,
          listed: true,
        });
        for (const code of listed) {
          expect({ op: op.operationId, code, status: statuses.get(code) }).toEqual({
            op: op.operationId,
            code,
            status: Number(status),
          });
          documentedCodes.add(code);
        }
      }
    }
    // ... and every code is answered by some operation.
    expect([...documentedCodes].sort()).toEqual([...codes].sort());
  });

  it('rejects bodies that break the contract (the schemas are not vacuous)', () => {
    const account = {
      accountId: ulid(),
      ownerId: randomUUID(),
      currency: 'USD',
      balance: 100,
      available: 60,
      pending: 40,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      frozen: false,
    };
    const at = '/components/schemas/Account';
    expect(oracle.problemsAt(at, account)).toEqual([]);
    expect(oracle.problemsAt(at, { ...account, version: 3 })).not.toEqual([]);
    expect(oracle.problemsAt(at, { ...account, balance: 1.5 })).not.toEqual([]);
    expect(oracle.problemsAt(at, { ...account, balance: -1 })).not.toEqual([]);
    expect(oracle.problemsAt(at, { ...account, createdAt: 'yesterday' })).not.toEqual([]);
    expect(oracle.problemsAt(at, { ...account, available: -1 })).not.toEqual([]);
    const { frozen: _frozen, ...withoutFrozen } = account;
    expect(oracle.problemsAt(at, withoutFrozen)).not.toEqual([]);
    const { available: _available, ...withoutAvailable } = account;
    expect(oracle.problemsAt(at, withoutAvailable)).not.toEqual([]);

    const entry = {
      transactionId: ulid(),
      accountId: account.accountId,
      type: 'WITHDRAWAL',
      amount: 5,
      currency: 'USD',
      balanceAfter: null,
      sequence: null,
      idempotencyKey: 'k',
      createdAt: account.createdAt,
      status: 'POSTED',
    };
    const entryAt = '/components/schemas/LedgerEntry';
    expect(oracle.problemsAt(entryAt, entry)).toEqual([]);
    expect(oracle.problemsAt(entryAt, { ...entry, balanceAfter: 95, sequence: 2 })).toEqual([]);
    expect(
      oracle.problemsAt(entryAt, {
        ...entry,
        type: 'TRANSFER_OUT',
        counterpartyAccountId: ulid(),
      }),
    ).toEqual([]);
    expect(
      oracle.problemsAt(entryAt, { ...entry, type: 'PAYOUT', status: 'PENDING', destination: 'd' }),
    ).toEqual([]);
    expect(oracle.problemsAt(entryAt, { ...entry, type: 'REFUND' })).not.toEqual([]);
    expect(oracle.problemsAt(entryAt, { ...entry, sequence: 0 })).not.toEqual([]);
    expect(oracle.problemsAt(entryAt, { ...entry, status: 'HELD' })).not.toEqual([]);
    const { status: _status, ...withoutStatus } = entry;
    expect(oracle.problemsAt(entryAt, withoutStatus)).not.toEqual([]);

    const error = (code: string) => ({ error: { code, message: 'm', requestId: 'r' } });
    expect(oracle.problemsAt('/components/schemas/Error', error('NOPE'))).not.toEqual([]);
    expect(
      oracle.problemsAt('/components/schemas/Error', { ...error('NOT_FOUND'), stack: 'at ...' }),
    ).not.toEqual([]);
  });

  it('documents WITHDRAWALS_PAUSED for withdrawals (by schema only: see the note)', () => {
    // Not provoked live on purpose: pausing is global (one switch for the whole stack) and would
    // make every other suite's withdrawals fail while it lasts. The shape the service sends
    // (lib/middleware/http.ts: status 503, Retry-After, the error body) is checked here instead.
    const response = '/components/responses/WithdrawalUnavailable';
    const withdraw = oracle.operation('post', '/accounts/{accountId}/withdrawals');
    expect(deref(doc, (withdraw.operation.responses as Obj)['503'], '').at).toBe(response);
    const body = {
      error: {
        code: 'WITHDRAWALS_PAUSED',
        message: 'Withdrawals are paused by an operator; nothing was changed. Retry later.',
        requestId: randomUUID(),
      },
    };
    expect(oracle.problemsAt(`${response}/content/application~1json/schema`, body)).toEqual([]);
    expect(oracle.problemsAt('/components/headers/RetryAfter/schema', '5')).toEqual([]);
    expect(valueAt(doc, `${response}/headers/Retry-After`)).toEqual({
      $ref: '#/components/headers/RetryAfter',
    });
    // Payouts are paused with withdrawals: money leaving the service.
    const payout = oracle.operation('post', '/accounts/{accountId}/payouts');
    expect(deref(doc, (payout.operation.responses as Obj)['503'], '').at).toBe(response);
    // Deposits and transfers are never paused.
    const depositAt = '/components/responses/ServiceUnavailable/content/application~1json/schema';
    expect(oracle.problemsAt(depositAt, body)).not.toEqual([]);
    const transfer = oracle.operation('post', '/transfers');
    expect(deref(doc, (transfer.operation.responses as Obj)['503'], '').at).toBe(
      '/components/responses/ServiceUnavailable',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Live: the e2e stack

/**
 * `api`, sent again when the emulator itself cut the handler off: serverless-offline answers a
 * handler that ran past its timeout (a cold start on a busy machine) with 200 and its own
 * `LambdaTimeoutError` body, no answer of the service. Sending the same request again is what
 * the contract asks of clients (reads change nothing; movements carry the same key).
 */
async function send<T>(...args: Parameters<typeof api>): Promise<ApiResponse<T>> {
  for (let attempt = 1; ; attempt++) {
    const res = await api<T>(...args);
    if ((res.body as { errorType?: unknown } | null)?.errorType !== 'LambdaTimeoutError') {
      return res;
    }
    if (attempt === 3) throw new Error(`${args[0]} ${args[1]}: the emulator timed out 3 times`);
  }
}

interface Call {
  accountId?: string;
  transactionId?: string;
  query?: string;
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * One real request to a documented route, e.g. `hit('GET /accounts/{accountId}', {...})`; its
 * response must conform to the document (else the test fails, naming what differs).
 */
async function hit<T = Obj>(route: string, call: Call = {}): Promise<ApiResponse<T>> {
  const [method = '', template = ''] = route.split(' ');
  const url =
    template
      .replace('{accountId}', encodeURIComponent(call.accountId ?? ''))
      .replace('{transactionId}', encodeURIComponent(call.transactionId ?? '')) +
    (call.query === undefined ? '' : `?${call.query}`);
  const res = await send<T>(method, url, {
    token: call.token,
    body: call.body,
    rawBody: call.rawBody,
    headers: call.headers,
  });
  expect(oracle.check(method, template, res)).toEqual([]);
  return res;
}

/** The error code of a response, for assertions on which refusal it was. */
const codeOf = (res: ApiResponse<unknown>): string | undefined =>
  (res.body as { error?: { code?: string } }).error?.code;

const expectAnswer = (res: ApiResponse<unknown>, status: number, code?: string): void => {
  expect({ status: res.status, code: codeOf(res) }).toEqual({ status, code });
};

const key = (label: string): Record<string, string> => ({
  'idempotency-key': `openapi-${label}-${randomUUID()}`,
});

/** An access token for a customer nobody else uses: `template`'s claims, a fresh `sub`, no groups. */
async function mintCustomer(template: string): Promise<string> {
  const file = path.join(
    path.dirname(require.resolve('cognito-local/package.json')),
    'lib',
    'keys',
    'cognitoLocal.private.json',
  );
  const { jwk } = JSON.parse(readFileSync(file, 'utf8')) as { jwk: JWK };
  const claims = decodeJwt(template);
  delete claims['cognito:groups'];
  const sub = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims, sub, username: `openapi-${sub}`, iat: now, exp: now + 1800 })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: decodeProtectedHeader(template).kid })
    .sign(await importJWK(jwk, 'RS256'));
}

const subOf = (token: string): string => String(decodeJwt(token).sub);

const json = { 'content-type': 'application/json' };
const W = 'POST /accounts/{accountId}/withdrawals';
const D = 'POST /accounts/{accountId}/deposits';
const T = 'POST /transfers';
const P = 'POST /accounts/{accountId}/payouts';
const G = 'GET /accounts/{accountId}/payouts/{transactionId}';

interface Account {
  accountId: string;
  balance: number;
  frozen: boolean;
}

describe('live responses conform to openapi.yaml', () => {
  let ops: string;
  let customer: string;
  let stranger: string;
  let account: Account;
  /** Owned by nobody: where the deposits of the request-schema checks land. */
  let sink: Account;

  const open = async (owner: string, currency = 'USD'): Promise<Account> => {
    const res = await hit<Account>('POST /accounts', {
      token: ops,
      body: { ownerId: subOf(owner), currency },
    });
    expectAnswer(res, 201);
    return res.body;
  };

  const depositTo = async (accountId: string, amount: number): Promise<void> => {
    const res = await hit('POST /accounts/{accountId}/deposits', {
      accountId,
      token: ops,
      body: { amount },
      headers: key('fund'),
    });
    expectAnswer(res, 201);
  };

  beforeAll(async () => {
    const alice = await tokenFor('alice');
    ops = await tokenFor('ops');
    customer = await mintCustomer(alice);
    stranger = await mintCustomer(alice);
    account = await open(customer);
    await depositTo(account.accountId, 10_000);
    const opened = await hit<Account>('POST /accounts', {
      token: ops,
      body: { ownerId: `openapi-sink-${randomUUID()}`, currency: 'USD' },
    });
    expectAnswer(opened, 201);
    sink = opened.body;
  });

  describe('GET /health and unknown routes', () => {
    it('GET /health: 200 without a token', async () => {
      expectAnswer(await hit('GET /health'), 200);
    });

    it('any other method or path: 404 NOT_FOUND (RouteNotFound)', async () => {
      for (const [method, url] of [
        ['POST', '/health'],
        ['GET', '/no-such-route'],
        ['DELETE', '/accounts'],
      ] as const) {
        const res = await send(method, url, { token: ops });
        expect(oracle.check(method, url, res, 'RouteNotFound')).toEqual([]);
        expectAnswer(res, 404, 'NOT_FOUND');
      }
    });
  });

  describe('accounts', () => {
    it("GET /accounts: 200 (the caller's own), 401 without or with a bad token", async () => {
      const res = await hit<{ accounts: Account[] }>('GET /accounts', { token: customer });
      expectAnswer(res, 200);
      expect(res.body.accounts.map((a) => a.accountId)).toEqual([account.accountId]);
      expectAnswer(await hit('GET /accounts', { token: stranger }), 200);
      expectAnswer(await hit('GET /accounts'), 401, 'UNAUTHORIZED');
      expectAnswer(await hit('GET /accounts', { token: 'not-a-jwt' }), 401, 'UNAUTHORIZED');
    });

    it('POST /accounts: 201, 400, 401, 403, 413, 415', async () => {
      const body = { ownerId: `openapi-${randomUUID()}`, currency: 'EUR' };
      const res = await hit<Account>('POST /accounts', { token: ops, body });
      expectAnswer(res, 201);
      expect(res.body).toMatchObject({ ...body, balance: 0, frozen: false });
      expectAnswer(await hit('POST /accounts', { token: customer, body }), 403, 'FORBIDDEN');
      expectAnswer(await hit('POST /accounts', { body }), 401, 'UNAUTHORIZED');
      expectAnswer(
        await hit('POST /accounts', { token: ops, body: { ...body, pad: 'x'.repeat(9000) } }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      expectAnswer(
        await hit('POST /accounts', {
          token: ops,
          rawBody: JSON.stringify(body),
          headers: { 'content-type': 'text/plain' },
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expectAnswer(
        await hit('POST /accounts', { token: ops, rawBody: '{"ownerId":', headers: json }),
        400,
        'VALIDATION_ERROR',
      );
    });

    it('POST /accounts: the service refuses exactly the bodies the document refuses', async () => {
      const owner = (): string => `openapi-${randomUUID()}`;
      await agreeOnBodies('POST /accounts', { token: ops }, [
        { ownerId: owner(), currency: 'USD' },
        { ownerId: 'a'.repeat(128), currency: 'JPY' },
        { ownerId: 'a'.repeat(129), currency: 'USD' },
        { ownerId: '', currency: 'USD' },
        { ownerId: 'two words', currency: 'USD' },
        { ownerId: 'caf\u00e9', currency: 'USD' },
        { ownerId: owner(), currency: 'usd' },
        { ownerId: owner(), currency: 'US' },
        { ownerId: owner() },
        { currency: 'USD' },
        { ownerId: owner(), currency: 'USD', balance: 5 },
        { ownerId: 42, currency: 'USD' },
        [],
        null,
      ]);
    });

    it('GET /accounts/{accountId}: 200 (owner, operator), 401, 404 (another customer, no such id)', async () => {
      const route = 'GET /accounts/{accountId}';
      const { accountId } = account;
      expectAnswer(await hit(route, { accountId, token: customer }), 200);
      expectAnswer(await hit(route, { accountId, token: ops }), 200);
      expectAnswer(await hit(route, { accountId, token: stranger }), 404, 'ACCOUNT_NOT_FOUND');
      expectAnswer(await hit(route, { accountId: ulid(), token: ops }), 404, 'ACCOUNT_NOT_FOUND');
      expectAnswer(
        await hit(route, { accountId: 'not-an-id', token: ops }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
      expectAnswer(await hit(route, { accountId }), 401, 'UNAUTHORIZED');
    });

    it('GET /accounts/{accountId}/balance: 200 (owner, operator), 401, 404', async () => {
      const route = 'GET /accounts/{accountId}/balance';
      const { accountId } = account;
      expectAnswer(await hit(route, { accountId, token: customer }), 200);
      expectAnswer(await hit(route, { accountId, token: ops }), 200);
      expectAnswer(await hit(route, { accountId, token: stranger }), 404, 'ACCOUNT_NOT_FOUND');
      expectAnswer(await hit(route, { accountId: ulid(), token: ops }), 404, 'ACCOUNT_NOT_FOUND');
      expectAnswer(await hit(route, { accountId, token: 'x.y.z' }), 401, 'UNAUTHORIZED');
    });
  });

  describe('money', () => {
    it('POST .../deposits: 201 and its replay, 400, 401, 403, 404, 413, 415, 422', async () => {
      const { accountId } = account;
      const headers = key('deposit');
      const first = await hit(D, { accountId, token: ops, body: { amount: 250 }, headers });
      expectAnswer(first, 201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const replay = await hit(D, { accountId, token: ops, body: { amount: 250 }, headers });
      expectAnswer(replay, 201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expectAnswer(
        await hit(D, { accountId, token: ops, body: { amount: 251 }, headers }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      const mismatch = { accountId, token: ops, body: { amount: 5, currency: 'EUR' } };
      const eur = key('eur');
      expectAnswer(await hit(D, { ...mismatch, headers: eur }), 422, 'CURRENCY_MISMATCH');
      const again = await hit(D, { ...mismatch, headers: eur });
      expectAnswer(again, 422, 'CURRENCY_MISMATCH');
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expectAnswer(
        await hit(D, { accountId, token: ops, body: { amount: 5 } }),
        400,
        'IDEMPOTENCY_KEY_REQUIRED',
      );
      expectAnswer(
        await hit(D, { accountId, token: customer, body: { amount: 5 }, headers: key('d') }),
        403,
        'FORBIDDEN',
      );
      expectAnswer(
        await hit(D, { accountId: ulid(), token: ops, body: { amount: 5 }, headers: key('d') }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
      expectAnswer(
        await hit(D, { accountId, body: { amount: 5 }, headers: key('d') }),
        401,
        'UNAUTHORIZED',
      );
      expectAnswer(
        await hit(D, {
          accountId,
          token: ops,
          rawBody: `{"amount":5,"pad":"${'x'.repeat(8200)}"}`,
          headers: { ...json, ...key('d') },
        }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      expectAnswer(
        await hit(D, {
          accountId,
          token: ops,
          rawBody: '{"amount":5}',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...key('d') },
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    });

    it('POST .../deposits: the service refuses exactly the bodies the document refuses', async () => {
      await agreeOnBodies(
        D,
        { accountId: sink.accountId, token: ops },
        [
          { amount: 1 },
          { amount: 1_000_000_000_000 },
          { amount: 1_000_000_000_001 },
          { amount: 0 },
          { amount: -5 },
          { amount: 1.5 },
          { amount: '5' },
          { amount: null },
          { amount: 5, currency: 'USD' },
          { amount: 5, currency: 'EUR' },
          { amount: 5, currency: 'usd' },
          { amount: 5, currency: 'USDX' },
          { amount: 5, currency: 840 },
          { amount: 5, memo: 'lunch' },
          {},
          [],
          null,
          'five',
        ],
        () => key('body'),
      );
    });

    it('Idempotency-Key: the service refuses exactly the keys the document refuses', async () => {
      const unique = (prefix: string): string => `${prefix}-${randomUUID()}`;
      const cases = [
        unique('k'),
        unique('a b ~!@#$%^&*()[]{}'),
        `${unique('k')}${'k'.repeat(255 - 38)}`,
        `${unique('k')}${'k'.repeat(256 - 38)}`,
        unique('a\tb'),
        unique('caf\u00e9'),
      ];
      for (const value of cases) {
        const res = await hit(D, {
          accountId: sink.accountId,
          token: ops,
          body: { amount: 1 },
          headers: { 'idempotency-key': value },
        });
        const serviceAccepts = res.status !== 400;
        const documentAccepts = oracle.acceptsParameter(
          'post',
          '/accounts/{accountId}/deposits',
          'header',
          'Idempotency-Key',
          value,
        );
        expect({ value, serviceAccepts }).toEqual({ value, serviceAccepts: documentAccepts });
      }
    });

    it('POST .../withdrawals: 201 and its replay, 409 and its replay, 422, 400', async () => {
      const { accountId } = account;
      const headers = key('withdrawal');
      const first = await hit(W, { accountId, token: customer, body: { amount: 100 }, headers });
      expectAnswer(first, 201);
      const replay = await hit(W, { accountId, token: customer, body: { amount: 100 }, headers });
      expectAnswer(replay, 201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expectAnswer(
        await hit(W, { accountId, token: customer, body: { amount: 99 }, headers }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );

      const overdraft = { accountId, token: customer, body: { amount: 999_999_999_999 } };
      const yacht = key('yacht');
      const refused = await hit(W, { ...overdraft, headers: yacht });
      expectAnswer(refused, 409, 'INSUFFICIENT_FUNDS');
      const refusedAgain = await hit(W, { ...overdraft, headers: yacht });
      expectAnswer(refusedAgain, 409, 'INSUFFICIENT_FUNDS');
      expect(refusedAgain.headers.get('idempotent-replayed')).toBe('true');
      expect(refusedAgain.body).toEqual(refused.body);

      expectAnswer(
        await hit(W, {
          accountId,
          token: customer,
          body: { amount: 5, currency: 'GBP' },
          headers: key('gbp'),
        }),
        422,
        'CURRENCY_MISMATCH',
      );
      expectAnswer(
        await hit(W, { accountId, token: customer, body: { amount: 5 } }),
        400,
        'IDEMPOTENCY_KEY_REQUIRED',
      );
      expectAnswer(
        await hit(W, { accountId, token: customer, body: { amount: 0 }, headers: key('w') }),
        400,
        'VALIDATION_ERROR',
      );
    });

    it('POST .../withdrawals: 401, 403 (an operator), 404 (another customer), 413, 415', async () => {
      const { accountId } = account;
      const body = { amount: 5 };
      expectAnswer(await hit(W, { accountId, body, headers: key('w') }), 401, 'UNAUTHORIZED');
      expectAnswer(
        await hit(W, { accountId, token: ops, body, headers: key('w') }),
        403,
        'FORBIDDEN',
      );
      expectAnswer(
        await hit(W, { accountId, token: stranger, body, headers: key('w') }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
      expectAnswer(
        await hit(W, {
          accountId,
          token: customer,
          body: { ...body, pad: 'x'.repeat(8200) },
          headers: key('w'),
        }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      expectAnswer(
        await hit(W, {
          accountId,
          token: customer,
          rawBody: JSON.stringify(body),
          headers: key('w'),
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    });
  });

  describe('history', () => {
    const H = 'GET /accounts/{accountId}/transactions';

    it('200 (pending entries included), and every page through the cursor', async () => {
      const { accountId } = account;
      // Two quick withdrawals: the older one is usually still pending (nulls) on the first read.
      for (const amount of [7, 8]) {
        const res = await hit(W, {
          accountId,
          token: customer,
          body: { amount },
          headers: key('page'),
        });
        expectAnswer(res, 201);
      }
      expectAnswer(await hit(H, { accountId, token: customer }), 200);
      expectAnswer(await hit(H, { accountId, token: ops, query: 'limit=100' }), 200);

      // Once sequenced, limit=1 pages: follow every cursor to the end.
      const deadline = Date.now() + 30_000;
      let page = await hit<{ nextCursor: string | null }>(H, {
        accountId,
        token: customer,
        query: 'limit=1',
      });
      while (page.body.nextCursor === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        page = await hit(H, { accountId, token: customer, query: 'limit=1' });
      }
      let pages = 1;
      while (page.body.nextCursor !== null && pages < 50) {
        const query = `limit=1&cursor=${encodeURIComponent(page.body.nextCursor)}`;
        page = await hit(H, { accountId, token: customer, query });
        expectAnswer(page, 200);
        pages++;
      }
      expect(pages).toBeGreaterThan(1);
      expect(page.body.nextCursor).toBeNull();
    });

    it('400 (limit, cursor), 401, 404', async () => {
      const { accountId } = account;
      for (const query of ['limit=0', 'limit=101', 'limit=abc', 'cursor=', 'cursor=%21%21']) {
        expectAnswer(await hit(H, { accountId, token: customer, query }), 400, 'VALIDATION_ERROR');
      }
      expectAnswer(await hit(H, { accountId, token: stranger }), 404, 'ACCOUNT_NOT_FOUND');
      expectAnswer(await hit(H, { accountId: 'x', token: ops }), 404, 'ACCOUNT_NOT_FOUND');
      expectAnswer(await hit(H, { accountId }), 401, 'UNAUTHORIZED');
    });

    it('limit: the service refuses exactly the values the document refuses', async () => {
      for (const limit of ['1', '100', '007', '0', '101', '-1', '1.5', 'ten', '1000', '']) {
        const res = await hit(H, {
          accountId: account.accountId,
          token: customer,
          query: `limit=${encodeURIComponent(limit)}`,
        });
        const serviceAccepts = res.status === 200;
        const documentAccepts = oracle.acceptsParameter(
          'get',
          '/accounts/{accountId}/transactions',
          'query',
          'limit',
          limit,
        );
        expect({ limit, serviceAccepts }).toEqual({ limit, serviceAccepts: documentAccepts });
      }
    });
  });

  describe('transfers and payouts', () => {
    /** An account in EUR, owned by nobody: no transfer from a USD account can reach it. */
    const openEur = async (): Promise<Account> => {
      const res = await hit<Account>('POST /accounts', {
        token: ops,
        body: { ownerId: `openapi-eur-${randomUUID()}`, currency: 'EUR' },
      });
      expectAnswer(res, 201);
      return res.body;
    };

    it('POST /transfers: 201 and its replay, 400, 401, 403, 404, 409, 413, 415, 422', async () => {
      const from = account.accountId;
      const body = { fromAccountId: from, toAccountId: sink.accountId, amount: 25 };
      const headers = key('transfer');
      const first = await hit(T, { token: customer, body, headers });
      expectAnswer(first, 201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const replay = await hit(T, { token: customer, body, headers });
      expectAnswer(replay, 201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expectAnswer(
        await hit(T, { token: customer, body: { ...body, amount: 26 }, headers }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );

      // To itself: 400; to no account: 404; from another customer's account: 404.
      expectAnswer(
        await hit(T, { token: customer, body: { ...body, toAccountId: from }, headers: key('t') }),
        400,
        'VALIDATION_ERROR',
      );
      expectAnswer(
        await hit(T, {
          token: customer,
          body: { ...body, toAccountId: ulid() },
          headers: key('t'),
        }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
      expectAnswer(
        await hit(T, { token: stranger, body, headers: key('t') }),
        404,
        'ACCOUNT_NOT_FOUND',
      );

      const overdraft = { token: customer, body: { ...body, amount: 999_999_999_999 } };
      const yacht = key('transfer-yacht');
      const refused = await hit(T, { ...overdraft, headers: yacht });
      expectAnswer(refused, 409, 'INSUFFICIENT_FUNDS');
      const refusedAgain = await hit(T, { ...overdraft, headers: yacht });
      expectAnswer(refusedAgain, 409, 'INSUFFICIENT_FUNDS');
      expect(refusedAgain.headers.get('idempotent-replayed')).toBe('true');

      // Another currency: named in the body, or the destination's own.
      expectAnswer(
        await hit(T, { token: customer, body: { ...body, currency: 'EUR' }, headers: key('t') }),
        422,
        'CURRENCY_MISMATCH',
      );
      const eur = await openEur();
      expectAnswer(
        await hit(T, {
          token: customer,
          body: { ...body, toAccountId: eur.accountId },
          headers: key('t'),
        }),
        422,
        'CURRENCY_MISMATCH',
      );

      expectAnswer(await hit(T, { token: customer, body }), 400, 'IDEMPOTENCY_KEY_REQUIRED');
      expectAnswer(await hit(T, { token: ops, body, headers: key('t') }), 403, 'FORBIDDEN');
      expectAnswer(await hit(T, { body, headers: key('t') }), 401, 'UNAUTHORIZED');
      expectAnswer(
        await hit(T, {
          token: customer,
          body: { ...body, pad: 'x'.repeat(8200) },
          headers: key('t'),
        }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      expectAnswer(
        await hit(T, { token: customer, rawBody: JSON.stringify(body), headers: key('t') }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    });

    it('POST /transfers: the service refuses exactly the bodies the document refuses', async () => {
      const from = account.accountId;
      const to = sink.accountId;
      await agreeOnBodies(
        T,
        { token: customer },
        [
          { fromAccountId: from, toAccountId: to, amount: 1 },
          { fromAccountId: from, toAccountId: to, amount: 1, currency: 'USD' },
          { fromAccountId: from, toAccountId: to, amount: 0 },
          { fromAccountId: from, toAccountId: to, amount: -5 },
          { fromAccountId: from, toAccountId: to, amount: 1.5 },
          { fromAccountId: from, toAccountId: to, amount: '5' },
          { fromAccountId: from, toAccountId: to, amount: 1_000_000_000_001 },
          { fromAccountId: from, toAccountId: to, amount: 1, currency: 'usd' },
          { fromAccountId: from, toAccountId: to, amount: 1, memo: 'rent' },
          { fromAccountId: from, toAccountId: 42, amount: 1 },
          { fromAccountId: from, amount: 1 },
          { toAccountId: to, amount: 1 },
          { fromAccountId: from, toAccountId: to },
          [],
          null,
        ],
        () => key('transfer-body'),
      );
    });

    it('POST .../payouts: 202 and its replay, 400, 401, 403, 404, 409, 413, 415, 422', async () => {
      const { accountId } = account;
      const body = { amount: 40, destination: newDestination('openapi') };
      const headers = key('payout');
      const first = await hit(P, { accountId, token: customer, body, headers });
      expectAnswer(first, 202);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const replay = await hit(P, { accountId, token: customer, body, headers });
      expectAnswer(replay, 202);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expectAnswer(
        await hit(P, {
          accountId,
          token: customer,
          body: { ...body, destination: newDestination('openapi') },
          headers,
        }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );

      const overdraft = { accountId, token: customer, body: { ...body, amount: 999_999_999_999 } };
      const yacht = key('payout-yacht');
      const refused = await hit(P, { ...overdraft, headers: yacht });
      expectAnswer(refused, 409, 'INSUFFICIENT_FUNDS');
      const refusedAgain = await hit(P, { ...overdraft, headers: yacht });
      expectAnswer(refusedAgain, 409, 'INSUFFICIENT_FUNDS');
      expect(refusedAgain.headers.get('idempotent-replayed')).toBe('true');
      expect(refusedAgain.body).toEqual(refused.body);

      expectAnswer(
        await hit(P, {
          accountId,
          token: customer,
          body: { ...body, currency: 'GBP' },
          headers: key('p'),
        }),
        422,
        'CURRENCY_MISMATCH',
      );
      expectAnswer(
        await hit(P, { accountId, token: customer, body }),
        400,
        'IDEMPOTENCY_KEY_REQUIRED',
      );
      for (const bad of [
        { ...body, amount: 0 },
        { ...body, destination: 'two words' },
      ]) {
        expectAnswer(
          await hit(P, { accountId, token: customer, body: bad, headers: key('p') }),
          400,
          'VALIDATION_ERROR',
        );
      }
      expectAnswer(
        await hit(P, { accountId, token: ops, body, headers: key('p') }),
        403,
        'FORBIDDEN',
      );
      expectAnswer(
        await hit(P, { accountId, token: stranger, body, headers: key('p') }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
      expectAnswer(
        await hit(P, { accountId: ulid(), token: customer, body, headers: key('p') }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
      expectAnswer(await hit(P, { accountId, body, headers: key('p') }), 401, 'UNAUTHORIZED');
      expectAnswer(
        await hit(P, {
          accountId,
          token: customer,
          body: { ...body, pad: 'x'.repeat(8200) },
          headers: key('p'),
        }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      expectAnswer(
        await hit(P, {
          accountId,
          token: customer,
          rawBody: JSON.stringify(body),
          headers: key('p'),
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    });

    it('POST .../payouts: the service refuses exactly the bodies the document refuses', async () => {
      const d = newDestination('openapi-body');
      await agreeOnBodies(
        P,
        { accountId: account.accountId, token: customer },
        [
          { amount: 1, destination: d },
          { amount: 1, destination: d, currency: 'USD' },
          { amount: 1, destination: 'd'.repeat(128) },
          { amount: 1, destination: 'd'.repeat(129) },
          { amount: 1, destination: '' },
          { amount: 1, destination: 'two words' },
          { amount: 1, destination: 'caf\u00e9' },
          { amount: 1, destination: 42 },
          { amount: 1 },
          { destination: d },
          { amount: 0, destination: d },
          { amount: 1.5, destination: d },
          { amount: '1', destination: d },
          { amount: 1_000_000_000_001, destination: d },
          { amount: 1, destination: d, currency: 'usd' },
          { amount: 1, destination: d, note: 'x' },
          [],
          null,
        ],
        () => key('payout-body'),
      );
    });

    it('GET .../payouts/{transactionId}: 200 (pending, posted, voided; owner and operator), 401, 404', async () => {
      const { accountId } = account;
      const poll = async (transactionId: string): Promise<string> => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const res = await hit<{ status: string }>(G, {
            accountId,
            transactionId,
            token: customer,
          });
          expectAnswer(res, 200);
          if (res.body.status !== 'PENDING' || Date.now() > deadline) return res.body.status;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      };
      const payoutTo = async (destination: string): Promise<string> => {
        const res = await hit<{ payout: { transactionId: string } }>(P, {
          accountId,
          token: customer,
          body: { amount: 3, destination },
          headers: key('payout-read'),
        });
        expectAnswer(res, 202);
        return res.body.payout.transactionId;
      };

      const paid = await payoutTo(newDestination('openapi-paid'));
      expect(await poll(paid)).toBe('POSTED');
      const refusing = newDestination('openapi-refused');
      await setDestinationMode(refusing, 'refuse');
      const voided = await payoutTo(refusing);
      expect(await poll(voided)).toBe('VOIDED');

      expectAnswer(await hit(G, { accountId, transactionId: paid, token: ops }), 200);
      expectAnswer(
        await hit(G, { accountId, transactionId: ulid(), token: customer }),
        404,
        'PAYOUT_NOT_FOUND',
      );
      expectAnswer(
        await hit(G, { accountId, transactionId: 'not-an-id', token: customer }),
        404,
        'PAYOUT_NOT_FOUND',
      );
      expectAnswer(
        await hit(G, { accountId, transactionId: paid, token: stranger }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
      expectAnswer(
        await hit(G, { accountId: ulid(), transactionId: paid, token: ops }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
      expectAnswer(await hit(G, { accountId, transactionId: paid }), 401, 'UNAUTHORIZED');
    });
  });

  describe('operator controls', () => {
    const F = 'POST /accounts/{accountId}/freeze';
    const U = 'POST /accounts/{accountId}/unfreeze';

    it('freeze and unfreeze: 200, and a withdrawal in between answers 423 ACCOUNT_FROZEN', async () => {
      const frozenOne = await open(customer);
      await depositTo(frozenOne.accountId, 1_000);
      const { accountId } = frozenOne;
      const frozen = await hit<Account>(F, { accountId, token: ops, body: { reason: 'INC-1' } });
      expectAnswer(frozen, 200);
      expect(frozen.body.frozen).toBe(true);

      const withdrawal = { accountId, token: customer, body: { amount: 10 }, headers: key('f') };
      expectAnswer(await hit(W, withdrawal), 423, 'ACCOUNT_FROZEN');
      // Nothing leaves a frozen account: neither a payout nor a transfer.
      expectAnswer(
        await hit(P, {
          accountId,
          token: customer,
          body: { amount: 10, destination: newDestination('openapi-frozen') },
          headers: key('f'),
        }),
        423,
        'ACCOUNT_FROZEN',
      );
      expectAnswer(
        await hit(T, {
          token: customer,
          body: { fromAccountId: accountId, toAccountId: sink.accountId, amount: 10 },
          headers: key('f'),
        }),
        423,
        'ACCOUNT_FROZEN',
      );
      // Deposits still land.
      expectAnswer(
        await hit(D, { accountId, token: ops, body: { amount: 1 }, headers: key('f') }),
        201,
      );

      const thawed = await hit<Account>(U, {
        accountId,
        token: ops,
        body: { reason: 'INC-1 done' },
      });
      expectAnswer(thawed, 200);
      expect(thawed.body.frozen).toBe(false);
      // The refusal was not recorded under the key: the same request now executes.
      expectAnswer(await hit(W, withdrawal), 201);
    });

    it('freeze and unfreeze: 400, 401, 403, 404, 413, 415', async () => {
      const { accountId } = account;
      for (const route of [F, U]) {
        const body = { reason: 'INC-2' };
        expectAnswer(await hit(route, { accountId, token: customer, body }), 403, 'FORBIDDEN');
        expectAnswer(await hit(route, { accountId, body }), 401, 'UNAUTHORIZED');
        expectAnswer(
          await hit(route, { accountId: ulid(), token: ops, body }),
          404,
          'ACCOUNT_NOT_FOUND',
        );
        expectAnswer(
          await hit(route, { accountId, token: ops, body: { reason: ' ' } }),
          400,
          'VALIDATION_ERROR',
        );
        expectAnswer(
          await hit(route, { accountId, token: ops, body: { reason: 'x'.repeat(8200) } }),
          413,
          'PAYLOAD_TOO_LARGE',
        );
        expectAnswer(
          await hit(route, { accountId, token: ops, rawBody: JSON.stringify(body) }),
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        );
      }
    });

    it('unfreeze: the service refuses exactly the reasons the document refuses', async () => {
      // Unfreezing an account that is not frozen changes nothing but the audit trail.
      await agreeOnBodies(U, { accountId: account.accountId, token: ops }, [
        { reason: 'x' },
        { reason: 'r'.repeat(500) },
        { reason: 'r'.repeat(501) },
        { reason: `   ${'r'.repeat(500)}   ` },
        { reason: '' },
        { reason: ' \t\n ' },
        { reason: 42 },
        { reason: 'x', by: 'me' },
        {},
      ]);
    });

    it('GET /controls/withdrawals: 200 (operator), 401, 403', async () => {
      const route = 'GET /controls/withdrawals';
      expectAnswer(await hit(route, { token: ops }), 200);
      expectAnswer(await hit(route, { token: customer }), 403, 'FORBIDDEN');
      expectAnswer(await hit(route), 401, 'UNAUTHORIZED');
    });

    it('POST /controls/withdrawals: 200 (resume only), 400, 401, 403, 413, 415', async () => {
      const route = 'POST /controls/withdrawals';
      // Never `paused: true` here: the switch is global and other suites withdraw meanwhile.
      // Every body below says `paused: false`, so even a wrongly accepted one pauses nothing.
      const resume = { paused: false, reason: 'openapi conformance: no change' };
      const state = await hit<{ paused: boolean }>('GET /controls/withdrawals', { token: ops });
      if (!state.body.paused) {
        // Not paused: resuming is a no-op for every withdrawal (it only records who and why).
        // Paused by someone else: leave their switch alone and skip this one 200.
        const res = await hit<{ paused: boolean }>(route, { token: ops, body: resume });
        expectAnswer(res, 200);
        expect(res.body.paused).toBe(false);
      }
      expectAnswer(await hit(route, { token: customer, body: resume }), 403, 'FORBIDDEN');
      expectAnswer(await hit(route, { body: resume }), 401, 'UNAUTHORIZED');
      expectAnswer(
        await hit(route, { token: ops, body: { ...resume, reason: 'x'.repeat(8200) } }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      expectAnswer(
        await hit(route, { token: ops, rawBody: JSON.stringify(resume) }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      for (const body of [
        { paused: 'false', reason: 'x' },
        { paused: false },
        { paused: false, reason: '  ' },
        { paused: false, reason: 'r'.repeat(501) },
        { ...resume, until: 'tomorrow' },
      ]) {
        expect(oracle.acceptsBody('post', '/controls/withdrawals', body)).toBe(false);
        expectAnswer(await hit(route, { token: ops, body }), 400, 'VALIDATION_ERROR');
      }
      expect(
        oracle.acceptsBody('post', '/controls/withdrawals', { paused: true, reason: 'x' }),
      ).toBe(true);
    });
  });

  it('validated every operation live, with every error code reachable locally', () => {
    const operations = operationsOf(doc);
    const documented = operations.reduce((n, op) => n + oracle.responsesOf(op).length, 0);
    const validated = operations.reduce(
      (n, op) => n + (oracle.live.get(op.operationId)?.size ?? 0),
      0,
    );
    for (const op of operations) {
      const statuses = [...(oracle.live.get(op.operationId) ?? [])];
      expect({ op: op.operationId, success: statuses.some((s) => s < 300) }).toEqual({
        op: op.operationId,
        success: true,
      });
    }
    expect(oracle.live.get('#/components/responses/RouteNotFound')).toEqual(new Set([404]));
    // Not reachable on a healthy local stack: TRANSACTION_CONFLICT, SERVICE_UNAVAILABLE and
    // INTERNAL_ERROR (failures), BALANCE_LIMIT_EXCEEDED (a balance near 2^53), and
    // WITHDRAWALS_PAUSED (it would pause the shared stack; checked by schema above).
    expect([...oracle.codesSeen].sort()).toEqual(
      [
        'VALIDATION_ERROR',
        'IDEMPOTENCY_KEY_REQUIRED',
        'UNAUTHORIZED',
        'FORBIDDEN',
        'ACCOUNT_NOT_FOUND',
        'NOT_FOUND',
        'INSUFFICIENT_FUNDS',
        'PAYLOAD_TOO_LARGE',
        'UNSUPPORTED_MEDIA_TYPE',
        'IDEMPOTENCY_KEY_REUSED',
        'CURRENCY_MISMATCH',
        'ACCOUNT_FROZEN',
        'PAYOUT_NOT_FOUND',
      ].sort(),
    );
    process.stderr.write(
      `openapi conformance: ${operations.length} operations, ${validated} of ${documented} ` +
        `documented (operation, status) pairs validated live, ${oracle.codesSeen.size} error codes\n`,
    );
  });
});

/**
 * Sends each body; the service must refuse it as malformed (400 VALIDATION_ERROR) exactly when
 * the documented request schema refuses it. `headers` gives each request its own headers.
 */
async function agreeOnBodies(
  route: string,
  call: Omit<Call, 'body' | 'rawBody'>,
  bodies: unknown[],
  headers: () => Record<string, string> = () => ({}),
): Promise<void> {
  const [method = '', template = ''] = route.split(' ');
  for (const body of bodies) {
    const res = await hit(route, {
      ...call,
      rawBody: JSON.stringify(body),
      headers: { ...json, ...headers() },
    });
    const serviceAccepts = !(res.status === 400 && codeOf(res) === 'VALIDATION_ERROR');
    const documentAccepts = oracle.acceptsBody(method, template, body);
    expect({ body, serviceAccepts }).toEqual({ body, serviceAccepts: documentAccepts });
  }
}
