/**
 * openapi.yaml cannot drift from the service. The document is checked as OpenAPI 3.1, against
 * serverless.yml's routes and against lib/domain/errors.ts' codes and statuses; then every
 * response below — real HTTP against the e2e stack — must have a status documented for its
 * operation, and a media type, headers and body valid against the documented schemas (Ajv 2020).
 * Requests the service refuses as malformed must be the ones the documented request schemas
 * refuse, and the other way round. Every refusal of every route, and its conformance, is the
 * refusal matrix's (refusals.test.ts, in-process): here, each operation's successes over HTTP.
 *
 * Other suites share the stack: this file opens its own accounts, for customers of its own
 * (tokens minted with cognito-local's key, fresh `sub`s), and never pauses withdrawals.
 */
import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { ulid } from 'ulid';
import { tokenFor, type ApiResponse } from '../support/api-client';
import { DETAILS_AT_BOUNDS, ONE_PAST_BOUNDS } from '../support/details';
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
import type {
  Balance,
  ErrorBody,
  FeeSchedule,
  Limits,
  ReversalResult,
  WebhookEndpoint,
  WebhookEndpointCreated,
  WebhookEndpointList,
} from '../../lib/wire/types';
import {
  call,
  newDestination,
  setDestinationMode,
  subOf,
  tokenForNewCustomer,
  type Account,
  type MovementBody,
} from './fixtures';

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
    // In particular every response of every operation has a JSON schema; the CSV exports' 200s
    // also a text/csv one.
    const csvToo = new Set(['listTransactions 200', 'getStatement 200']);
    // A 204 has no body at all.
    const noBody = new Set(['deleteWebhookEndpoint 204']);
    for (const op of operationsOf(doc)) {
      for (const { status, response, at } of oracle.responsesOf(op)) {
        const answer = `${op.operationId} ${status}`;
        const media = noBody.has(answer)
          ? []
          : csvToo.has(answer)
            ? ['application/json', 'text/csv']
            : ['application/json'];
        const documented = Object.keys((response.content ?? {}) as Obj);
        expect({ op: op.operationId, status, media: documented }).toEqual({
          op: op.operationId,
          status,
          media,
        });
        if (noBody.has(answer)) continue;
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
    expect(oracle.problemsAt(entryAt, { ...entry, type: 'NO_SUCH_TYPE' })).not.toEqual([]);
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

  it('documents WITHDRAWALS_PAUSED for the money that leaves (withdrawals, payouts) only', () => {
    // Provoked, and its answer checked against the document, by the refusal matrix on a table
    // of its own: pausing the shared stack would fail every other suite's withdrawals meanwhile.
    const response = '/components/responses/WithdrawalUnavailable';
    for (const path of ['/accounts/{accountId}/withdrawals', '/accounts/{accountId}/payouts']) {
      const op = oracle.operation('post', path);
      expect(deref(doc, (op.operation.responses as Obj)['503'], '').at).toBe(response);
    }
    expect(valueAt(doc, `${response}/headers/Retry-After`)).toEqual({
      $ref: '#/components/headers/RetryAfter',
    });
    // Deposits and transfers are never paused.
    const paused = {
      error: { code: 'WITHDRAWALS_PAUSED', message: 'Paused.', requestId: randomUUID() },
    };
    const depositAt = '/components/responses/ServiceUnavailable/content/application~1json/schema';
    expect(oracle.problemsAt(depositAt, paused)).not.toEqual([]);
    for (const path of ['/accounts/{accountId}/deposits', '/transfers']) {
      const op = oracle.operation('post', path);
      expect(deref(doc, (op.operation.responses as Obj)['503'], '').at).toBe(
        '/components/responses/ServiceUnavailable',
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Live: the e2e stack. Every operation's answers to requests it accepts, and the documented
// request schemas against the service's own validation. Refusals are the matrix's
// (refusals.test.ts), which checks each of them against the document too.

interface Call {
  accountId?: string;
  endpointId?: string;
  transactionId?: string;
  period?: string;
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
async function hit<T = Obj>(route: string, request: Call = {}): Promise<ApiResponse<T>> {
  const [method = '', template = ''] = route.split(' ');
  const url =
    template
      .replace('{accountId}', encodeURIComponent(request.accountId ?? ''))
      .replace('{transactionId}', encodeURIComponent(request.transactionId ?? ''))
      .replace('{period}', encodeURIComponent(request.period ?? ''))
      .replace('{endpointId}', encodeURIComponent(request.endpointId ?? '')) +
    (request.query === undefined ? '' : `?${request.query}`);
  const res = await call<T>(method, url, {
    token: request.token,
    body: request.body,
    rawBody: request.rawBody,
    headers: request.headers,
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

const json = { 'content-type': 'application/json' };
const W = 'POST /accounts/{accountId}/withdrawals';
const D = 'POST /accounts/{accountId}/deposits';
const T = 'POST /transfers';
const P = 'POST /accounts/{accountId}/payouts';
const G = 'GET /accounts/{accountId}/payouts/{transactionId}';

/** A success, and the same request again under its key: the replay, with Idempotent-Replayed. */
async function expectSuccessAndReplay(route: string, request: Call, status: number) {
  const first = await hit(route, request);
  expectAnswer(first, status);
  expect(first.headers.get('idempotent-replayed')).toBeNull();
  const replay = await hit(route, request);
  expectAnswer(replay, status);
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  return first;
}

describe('live responses conform to openapi.yaml', () => {
  let ops: string;
  let customer: string;
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

  const depositTo = async (accountId: string, amount: number): Promise<MovementBody> => {
    const res = await hit<MovementBody>(D, {
      accountId,
      token: ops,
      body: { amount },
      headers: key('fund'),
    });
    expectAnswer(res, 201);
    return res.body;
  };

  beforeAll(async () => {
    ops = await tokenFor('ops');
    customer = await tokenForNewCustomer(await tokenFor('alice'));
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

    it('any other method or path: 404 NOT_FOUND (RouteNotFound), from the deployed catch-all', async () => {
      for (const [method, url] of [
        ['POST', '/health'],
        ['GET', '/no-such-route'],
        ['DELETE', '/accounts'],
      ] as const) {
        const res = await call(method, url, { token: ops });
        expect(oracle.check(method, url, res, 'RouteNotFound')).toEqual([]);
        expectAnswer(res, 404, 'NOT_FOUND');
      }
    });
  });

  describe('accounts', () => {
    it("GET /accounts: 200, the caller's own", async () => {
      const res = await hit<{ accounts: Account[] }>('GET /accounts', { token: customer });
      expectAnswer(res, 200);
      expect(res.body.accounts.map((a) => a.accountId)).toEqual([account.accountId]);
    });

    it('POST /accounts: 201', async () => {
      const body = { ownerId: `openapi-${randomUUID()}`, currency: 'EUR' };
      const res = await hit<Account>('POST /accounts', { token: ops, body });
      expectAnswer(res, 201);
      expect(res.body).toMatchObject({ ...body, balance: 0, frozen: false });
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

    it.each([
      'GET /accounts/{accountId}',
      'GET /accounts/{accountId}/balance',
      'GET /accounts/{accountId}/fees',
      'GET /accounts/{accountId}/limits',
    ])('%s: 200 to the owner and to operators', async (route) => {
      for (const token of [customer, ops]) {
        expectAnswer(await hit(route, { accountId: account.accountId, token }), 200);
      }
    });
  });

  describe('money', () => {
    it('POST .../deposits: 201 and its replay', async () => {
      const request = { accountId: account.accountId, token: ops, body: { amount: 250 } };
      await expectSuccessAndReplay(D, { ...request, headers: key('deposit') }, 201);
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
          // A movement's details, at their bounds and one past them.
          { amount: 1, ...DETAILS_AT_BOUNDS },
          ...ONE_PAST_BOUNDS.map(([, , details]) => ({ amount: 1, ...details })),
          { amount: 1, reference: 'INV 1' },
          { amount: 1, reference: 'INV 1 ' },
          { amount: 1, reference: 'caf\u00e9' },
          { amount: 1, description: 'Zürich \u2028' },
          { amount: 1, description: '' },
          { amount: 1, description: 'one\ntwo' },
          { amount: 1, description: 'c1\u0085' },
          { amount: 1, description: 'half \ud83d' },
          { amount: 1, metadata: {} },
          { amount: 1, metadata: { k: '' } },
          { amount: 1, metadata: { 'a b': 'v' } },
          { amount: 1, metadata: { k: 'caf\u00e9' } },
          { amount: 1, metadata: { k: 5 } },
          { amount: 1, metadata: JSON.parse('{"__proto__":"v"}') },
          { amount: 1, metadata: ['v'] },
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

    it('POST .../withdrawals: 201 and its replay', async () => {
      const request = { accountId: account.accountId, token: customer, body: { amount: 100 } };
      await expectSuccessAndReplay(W, { ...request, headers: key('withdrawal') }, 201);
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

    /** Each value of a query parameter of the history: accepted (200) exactly when documented. */
    async function agreeOnQuery(name: string, values: string[]): Promise<void> {
      for (const value of values) {
        const res = await hit(H, {
          accountId: account.accountId,
          token: customer,
          query: `${name}=${encodeURIComponent(value)}`,
        });
        const serviceAccepts = res.status === 200;
        const documentAccepts = oracle.acceptsParameter(
          'get',
          '/accounts/{accountId}/transactions',
          'query',
          name,
          value,
        );
        expect({ value, serviceAccepts }).toEqual({ value, serviceAccepts: documentAccepts });
      }
    }

    it('limit: the service refuses exactly the values the document refuses', async () => {
      await agreeOnQuery('limit', ['1', '100', '007', '0', '101', '-1', '1.5', 'ten', '1000', '']);
    });

    it('reference: the service refuses exactly the values the document refuses, and finds its movement', async () => {
      // 36 characters: the bound.
      const reference = `ref ${randomUUID().slice(0, 32)}`;
      const moved = await hit(W, {
        accountId: account.accountId,
        token: customer,
        body: { amount: 1, reference },
        headers: key('reference'),
      });
      expectAnswer(moved, 201);
      await agreeOnQuery('reference', [
        'r'.repeat(36),
        'r'.repeat(37),
        ' r',
        'r ',
        '',
        'caf\u00e9',
      ]);
      const found = await hit<{ transactions: unknown[] }>(H, {
        accountId: account.accountId,
        token: customer,
        query: `reference=${encodeURIComponent(reference)}`,
      });
      expectAnswer(found, 200);
      expect(found.body.transactions).toEqual([expect.objectContaining({ reference })]);
    });
  });

  describe('statements', () => {
    const H = 'GET /accounts/{accountId}/transactions';
    const B = 'GET /accounts/{accountId}/balance';
    const S = 'GET /accounts/{accountId}/statements/{period}';
    const thisMonth = () => new Date().toISOString().slice(0, 7);

    /** Asks again while the sequencer places a movement (503 STATEMENT_CATCHING_UP), up to 5 s. */
    async function settled<T>(route: string, request: Call): Promise<ApiResponse<T>> {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const res = await hit<T>(route, request);
        if (codeOf(res) !== 'STATEMENT_CATCHING_UP' || Date.now() > deadline) return res;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }

    /** Each value of a query parameter: accepted (200) exactly when documented. */
    async function agree(route: string, name: string, values: string[]): Promise<void> {
      const [, template = ''] = route.split(' ');
      for (const value of values) {
        const res = await settled(route, {
          accountId: account.accountId,
          period: thisMonth(),
          token: customer,
          query: `${name}=${encodeURIComponent(value)}`,
        });
        const documentAccepts = oracle.acceptsParameter('get', template, 'query', name, value);
        expect({ value, serviceAccepts: res.status === 200 }).toEqual({
          value,
          serviceAccepts: documentAccepts,
        });
      }
    }

    it('GET …/balance?at=: 200 BalanceAt, 0 before the first line and the balance now in the future', async () => {
      const { accountId } = account;
      const before = await settled(B, {
        accountId,
        token: customer,
        query: 'at=2000-01-01T00:00:00Z',
      });
      expectAnswer(before, 200);
      expect(before.body).toEqual({
        accountId,
        currency: 'USD',
        balance: 0,
        at: '2000-01-01T00:00:00.000Z',
        sequence: 0,
      });
      const now = await hit<Balance>(B, { accountId, token: customer });
      const future = await settled(B, {
        accountId,
        token: customer,
        query: 'at=9000-01-01T00:00:00Z',
      });
      expectAnswer(future, 200);
      expect(future.body).toMatchObject({ balance: now.body.balance });
      await agree(B, 'at', [
        '2026-03-01T00:00:00-05:00',
        '2026-03-01T00:00Z',
        '2026-03-01',
        'now',
        '',
      ]);
      expectAnswer(
        await hit(B, { accountId, token: customer, query: 'at=2026-02-30T00:00:00Z' }),
        400,
        'VALIDATION_ERROR',
      );
    });

    it('GET …/statements/{period}: 200 Statement whose opening balance plus its lines is its closing balance', async () => {
      const { accountId } = account;
      const res = await settled<{
        openingBalance: number;
        closingBalance: number;
        count: number;
        transactions: { balanceAfter: number; amount: number; type: string; fee?: number }[];
      }>(S, { accountId, period: thisMonth(), token: customer, query: 'limit=100' });
      expectAnswer(res, 200);
      expect(res.body.count).toBeGreaterThan(0);
      const last = res.body.transactions[res.body.transactions.length - 1];
      if (res.body.count <= 100) expect(last?.balanceAfter).toBe(res.body.closingBalance);
      const past = await settled<{ count: number; openingBalance: number }>(S, {
        accountId,
        period: '2001-01',
        token: ops,
      });
      expectAnswer(past, 200);
      expect(past.body).toMatchObject({ count: 0, openingBalance: 0, closingBalance: 0 });
      for (const period of ['2026-13', '1999-12', '2026-1']) {
        expectAnswer(await hit(S, { accountId, period, token: customer }), 400, 'VALIDATION_ERROR');
      }
      const stranger = await tokenForNewCustomer(await tokenFor('alice'));
      expectAnswer(
        await hit(S, { accountId, period: thisMonth(), token: stranger }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
    });

    it('GET …/transactions with filters: 200 lines of the types asked, with postedAt', async () => {
      const { accountId } = account;
      const deadline = Date.now() + 10_000;
      let page = await hit<{ transactions: { type: string; postedAt?: string }[] }>(H, {
        accountId,
        token: customer,
        query: 'type=DEPOSIT&status=POSTED',
      });
      while (page.body.transactions.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        page = await hit(H, { accountId, token: customer, query: 'type=DEPOSIT&status=POSTED' });
      }
      expectAnswer(page, 200);
      expect(page.body.transactions.length).toBeGreaterThan(0);
      for (const line of page.body.transactions) {
        expect(line.type).toBe('DEPOSIT');
        expect(line.postedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      }
      await agree(H, 'type', ['WITHDRAWAL', 'WITHDRAWAL,PAYOUT', 'withdrawal', 'WITHDRAWAL,', '']);
      await agree(H, 'status', ['POSTED', 'POSTED,VOIDED', 'posted', '']);
      await agree(H, 'from', ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00+01:00', '2026-01-01']);
      expectAnswer(
        await hit(H, { accountId, token: customer, query: 'status=PENDING' }),
        400,
        'VALIDATION_ERROR',
      );
    });

    it('Accept: text/csv: the statement and the history as CSV, plain or gzip, parsed back', async () => {
      const { accountId } = account;
      for (const encoding of ['identity', 'gzip']) {
        const res = await settled<string>(S, {
          accountId,
          period: thisMonth(),
          token: customer,
          headers: { accept: 'text/csv', 'accept-encoding': encoding },
        });
        expectAnswer(res, 200);
        expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
        expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="statement-/);
        const [header, ...rows] = parse(res.body) as string[][];
        expect(header?.slice(0, 3)).toEqual(['sequence', 'postedAt', 'createdAt']);
        expect(rows.length).toBeGreaterThan(0);
      }
      const history = await hit<string>(H, {
        accountId,
        token: customer,
        query: 'type=DEPOSIT',
        headers: { accept: 'text/csv' },
      });
      expectAnswer(history, 200);
      const rows = parse(history.body) as string[][];
      expect(rows.slice(1).every((row) => row[4] === 'DEPOSIT')).toBe(true);
    });
  });

  describe('transfers and payouts', () => {
    it('POST /transfers: 201 and its replay', async () => {
      const body = { fromAccountId: account.accountId, toAccountId: sink.accountId, amount: 25 };
      await expectSuccessAndReplay(T, { token: customer, body, headers: key('transfer') }, 201);
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

    it('POST .../payouts: 202 and its replay', async () => {
      const body = { amount: 40, destination: newDestination('openapi') };
      const request = { accountId: account.accountId, token: customer, body };
      await expectSuccessAndReplay(P, { ...request, headers: key('payout') }, 202);
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

    it('GET .../payouts/{transactionId}: 200 (pending, posted, voided; owner and operator)', async () => {
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
    });
  });

  describe('operator controls', () => {
    const F = 'POST /accounts/{accountId}/freeze';
    const U = 'POST /accounts/{accountId}/unfreeze';

    it('freeze and unfreeze: 200, and a deposit lands on the frozen account (201)', async () => {
      const { accountId } = await open(customer);
      const frozen = await hit<Account>(F, { accountId, token: ops, body: { reason: 'INC-1' } });
      expectAnswer(frozen, 200);
      expect(frozen.body.frozen).toBe(true);
      const credit = { accountId, token: ops, body: { amount: 1 }, headers: key('f') };
      expectAnswer(await hit(D, credit), 201);
      const thawed = await hit<Account>(U, {
        accountId,
        token: ops,
        body: { reason: 'INC-1 done' },
      });
      expectAnswer(thawed, 200);
      expect(thawed.body.frozen).toBe(false);
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

    it("GET /events: 200, an operator's feed and a customer's own account's", async () => {
      const all = await hit<{ events: unknown[] }>('GET /events', { token: ops, query: 'limit=5' });
      expectAnswer(all, 200);
      const own = await hit('GET /events', {
        token: customer,
        query: `accountId=${account.accountId}&type=movement.committed,account.opened`,
      });
      expectAnswer(own, 200);
    });

    it('GET /controls/withdrawals: 200 (operator)', async () => {
      expectAnswer(await hit('GET /controls/withdrawals', { token: ops }), 200);
    });

    it('GET /ledger/summary: 200 (operator), USD among its currencies once money moved', async () => {
      const res = await hit<{ currencies: Record<string, unknown> }>('GET /ledger/summary', {
        token: ops,
      });
      expectAnswer(res, 200);
      expect(Object.keys(res.body.currencies)).toContain('USD');
    });

    it('POST /controls/withdrawals: 200 (resume only), and the bodies the document refuses', async () => {
      const route = 'POST /controls/withdrawals';
      // Never `paused: true` here: the switch is global and other suites withdraw meanwhile.
      // Every body below says `paused: false` or is malformed, so none can pause anything.
      const resume = { paused: false, reason: 'openapi conformance: no change' };
      const state = await hit<{ paused: boolean }>('GET /controls/withdrawals', { token: ops });
      if (!state.body.paused) {
        // Not paused: resuming is a no-op for every withdrawal (it only records who and why).
        // Paused by someone else: leave their switch alone and skip this one 200.
        const res = await hit<{ paused: boolean }>(route, { token: ops, body: resume });
        expectAnswer(res, 200);
        expect(res.body.paused).toBe(false);
      }
      await agreeOnBodies(route, { token: ops }, [
        { paused: 'false', reason: 'x' },
        { paused: false },
        { paused: false, reason: '  ' },
        { paused: false, reason: 'r'.repeat(501) },
        { ...resume, until: 'tomorrow' },
      ]);
      expect(
        oracle.acceptsBody('post', '/controls/withdrawals', { paused: true, reason: 'x' }),
      ).toBe(true);
    });
  });

  describe('limits', () => {
    const LIMITS = 'GET /accounts/{accountId}/limits';
    const SET_LIMITS = 'PUT /accounts/{accountId}/limits';

    it('PUT .../limits: 200 (operator), the limits as set with the change before and after; a withdrawal past them: 409 LIMIT_EXCEEDED with the room', async () => {
      const { accountId } = await open(customer);
      await depositTo(accountId, 10_000);
      const reason = 'openapi conformance: limits';
      const res = await hit<Limits>(SET_LIMITS, {
        accountId,
        token: ops,
        body: { daily: 1_000, perMovement: 600, reason },
      });
      expectAnswer(res, 200);
      expect(res.body).toMatchObject({
        accountId,
        daily: 1_000,
        perMovement: 600,
        timezone: 'UTC',
        usedToday: 0,
        remainingToday: 1_000,
        changed: { by: subOf(ops), reason, previous: { daily: 1_000_000_000_000 } },
      });
      for (const amount of [600, 300]) {
        expectAnswer(
          await hit(W, { accountId, token: customer, body: { amount }, headers: key('lim') }),
          201,
        );
      }
      const over = await hit<ErrorBody>(W, {
        accountId,
        token: customer,
        body: { amount: 101 },
        headers: key('lim'),
      });
      expectAnswer(over, 409, 'LIMIT_EXCEEDED');
      expect(over.body.error).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: { kind: 'daily', limit: 1_000, used: 900, remaining: 100 },
      });
      const read = await hit<Limits>(LIMITS, { accountId, token: customer });
      expectAnswer(read, 200);
      expect(read.body).toMatchObject({ usedToday: 900, remainingToday: 100 });
      const balance = await hit<Balance>('GET /accounts/{accountId}/balance', {
        accountId,
        token: customer,
      });
      expectAnswer(balance, 200);
      expect(balance.body.limits).toMatchObject({
        daily: 1_000,
        usedToday: 900,
        remainingToday: 100,
      });
    });
  });

  describe('fees and reversals', () => {
    const FEES = 'GET /accounts/{accountId}/fees';
    const SET_FEES = 'PUT /accounts/{accountId}/fees';
    const R = 'POST /transactions/{transactionId}/reversals';
    /** Bounds the wait for the sequencer's record of a commit (about a second, on a quiet stack). */
    const IN_STATEMENT_WITHIN_MS = 10_000;

    it('GET .../fees: an account nobody set a schedule for, version 0 and no change', async () => {
      const { accountId } = await open(customer);
      const res = await hit<FeeSchedule>(FEES, { accountId, token: customer });
      expectAnswer(res, 200);
      expect(res.body).toEqual({ accountId, version: 0, changed: null });
    });

    it('PUT .../fees: 200 (operator), the schedule as set, version up by one; GET answers it', async () => {
      const { accountId } = await open(customer);
      const schedule = { WITHDRAWAL: { flat: 25, bps: 100, max: 500 }, PAYOUT: { min: 10 } };
      const reason = 'openapi conformance: fees';
      const res = await hit<FeeSchedule>(SET_FEES, {
        accountId,
        token: ops,
        body: { ...schedule, reason },
      });
      expectAnswer(res, 200);
      const expected = {
        accountId,
        ...schedule,
        version: 1,
        changed: { by: subOf(ops), at: expect.any(String), reason },
      };
      expect(res.body).toEqual(expected);
      for (const token of [customer, ops]) {
        const read = await hit<FeeSchedule>(FEES, { accountId, token });
        expectAnswer(read, 200);
        expect(read.body).toEqual(expected);
      }
    });

    it('a withdrawal under a fee answers it (fee > 0) and the balance drops by amount + fee', async () => {
      const { accountId } = await open(customer);
      await depositTo(accountId, 10_000);
      const rule = { flat: 25, bps: 100 };
      const set = await hit(SET_FEES, {
        accountId,
        token: ops,
        body: { WITHDRAWAL: rule, reason: 'openapi conformance: a fee' },
      });
      expectAnswer(set, 200);
      const res = await hit<MovementBody>(W, {
        accountId,
        token: customer,
        body: { amount: 1000 },
        headers: key('fee'),
      });
      expectAnswer(res, 201);
      // flat + floor(amount × bps / 10000) = 25 + 10.
      expect({ fee: res.body.fee, entryFee: res.body.transaction.fee }).toEqual({
        fee: 35,
        entryFee: 35,
      });
      expect(res.body.balance).toBe(10_000 - 1000 - 35);
      const balance = await hit<{ balance: number }>('GET /accounts/{accountId}/balance', {
        accountId,
        token: customer,
      });
      expect(balance.body.balance).toBe(10_000 - 1000 - 35);
    });

    it('POST .../reversals: 201 (operator) once the deposit is in the statement, and its replay', async () => {
      const { accountId } = await open(customer);
      const transactionId = (await depositTo(accountId, 500)).transaction.transactionId;
      const request = {
        transactionId,
        token: ops,
        body: { amount: 200, reason: 'openapi conformance: a reversal' },
        headers: key('reversal'),
      };
      // Reversible once the sequencer has recorded it; until then 404 TRANSACTION_NOT_FOUND,
      // which is not recorded under the key, so the same request is sent again.
      const deadline = Date.now() + IN_STATEMENT_WITHIN_MS;
      let res = await hit<ReversalResult>(R, request);
      while (codeOf(res) === 'TRANSACTION_NOT_FOUND' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        res = await hit<ReversalResult>(R, request);
      }
      expectAnswer(res, 201);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
      expect(res.body).toMatchObject({
        transaction: { type: 'REVERSAL_OUT', amount: 200, reversalOf: transactionId, accountId },
        balance: 300,
        reversed: { original: 500, total: 200, remaining: 300 },
      });
      const replay = await hit<ReversalResult>(R, request);
      expectAnswer(replay, 201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body.transaction.transactionId).toBe(res.body.transaction.transactionId);

      // No amount: the rest. allowNegative is recorded on the entry, whether it was needed or not.
      const rest = await hit<ReversalResult>(R, {
        transactionId,
        token: ops,
        body: { reason: 'openapi conformance: the rest', allowNegative: true },
        headers: key('reversal-rest'),
      });
      expectAnswer(rest, 201);
      expect(rest.body).toMatchObject({
        transaction: { amount: 300, reversalOf: transactionId, negativeAllowed: true },
        balance: 0,
        reversed: { original: 500, total: 500, remaining: 0 },
      });
    });
  });

  describe('webhook endpoints', () => {
    const W_ = '/webhook-endpoints';
    const ONE = 'GET /webhook-endpoints/{endpointId}';

    it('POST: 201 with the secret; GET, the list and GET one: 200 without it; DELETE: 204', async () => {
      const created = await hit<WebhookEndpointCreated>(`POST ${W_}`, {
        token: customer,
        body: {
          url: 'https://hooks.invalid/openapi',
          eventTypes: ['payout.posted', 'account.frozen'],
          accountId: account.accountId,
        },
        headers: json,
      });
      expectAnswer(created, 201);
      const { secret, ...endpoint } = created.body;
      expect(secret).toMatch(/^whsec_/);
      const listed = await hit<WebhookEndpointList>(`GET ${W_}`, { token: customer });
      expectAnswer(listed, 200);
      expect(listed.body.endpoints).toEqual([endpoint]);
      for (const token of [customer, ops]) {
        const one = await hit<WebhookEndpoint>(ONE, { endpointId: endpoint.id, token });
        expectAnswer(one, 200);
        expect(one.body).toEqual(endpoint);
      }
      const deleted = await hit(`DELETE ${W_}/{endpointId}`, {
        endpointId: endpoint.id,
        token: customer,
      });
      expectAnswer(deleted, 204);
    });

    it('attempts: 200 to its owner; redeliveries: 202 to an operator, once the event is published', async () => {
      const created = await hit<WebhookEndpointCreated>(`POST ${W_}`, {
        token: customer,
        body: {
          url: 'https://hooks.invalid/openapi-redelivery',
          eventTypes: ['movement.committed'],
          accountId: account.accountId,
        },
        headers: json,
      });
      expectAnswer(created, 201);
      const endpointId = created.body.id;
      expectAnswer(
        await hit(`GET ${W_}/{endpointId}/attempts`, { endpointId, token: customer }),
        200,
      );
      // The account's opening deposit: published about a second after its line (docs/events.md).
      const eventId = `movement.committed:${account.accountId}:1`;
      const redeliver = () =>
        hit(`POST ${W_}/{endpointId}/redeliveries`, {
          endpointId,
          token: ops,
          body: { eventId },
          headers: json,
        });
      let res = await redeliver();
      for (const deadline = Date.now() + 10_000; res.status === 404 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        res = await redeliver();
      }
      expectAnswer(res, 202);
      expect(res.body).toEqual({ endpointId, eventId });
    });

    it('POST: the service refuses exactly the bodies the document refuses', async () => {
      // .invalid never resolves (RFC 2606): an endpoint registered here is never reached.
      const url = 'https://hooks.invalid/openapi';
      await agreeOnBodies(`POST ${W_}`, { token: customer }, [
        { url, eventTypes: ['movement.committed'] },
        { url, eventTypes: ['payout.held', 'payout.voided'], accountId: account.accountId },
        { url: `https://hooks.invalid/${'x'.repeat(2026)}`, eventTypes: ['payout.held'] },
        { url: `https://hooks.invalid/${'x'.repeat(2027)}`, eventTypes: ['payout.held'] },
        { url: 'not a url', eventTypes: ['payout.held'] },
        { url: '', eventTypes: ['payout.held'] },
        { eventTypes: ['payout.held'] },
        { url },
        { url, eventTypes: [] },
        { url, eventTypes: ['payout.sent'] },
        { url, eventTypes: ['payout.held', 'payout.held'] },
        { url, eventTypes: 'payout.held' },
        { url, eventTypes: ['payout.held'], accountId: '' },
        { url, eventTypes: ['payout.held'], secret: 'whsec_mine' },
        [],
        null,
      ]);
    });
  });

  it('validated an answer of every operation live, and the catch-all route', () => {
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
    process.stderr.write(
      `openapi conformance: ${operations.length} operations, ${validated} of ${documented} ` +
        `documented (operation, status) pairs validated live over HTTP; every refusal: refusals.test.ts\n`,
    );
  });
});

/**
 * Sends each body; the service must refuse it as malformed (400 VALIDATION_ERROR) exactly when
 * the documented request schema refuses it. `headers` gives each request its own headers.
 */
async function agreeOnBodies(
  route: string,
  request: Omit<Call, 'body' | 'rawBody'>,
  bodies: unknown[],
  headers: () => Record<string, string> = () => ({}),
): Promise<void> {
  const [method = '', template = ''] = route.split(' ');
  for (const body of bodies) {
    const res = await hit(route, {
      ...request,
      rawBody: JSON.stringify(body),
      headers: { ...json, ...headers() },
    });
    const serviceAccepts = !(res.status === 400 && codeOf(res) === 'VALIDATION_ERROR');
    const documentAccepts = oracle.acceptsBody(method, template, body);
    expect({ body, serviceAccepts }).toEqual({ body, serviceAccepts: documentAccepts });
  }
}
