/**
 * The fuzzer's model and its "state unchanged" check, without a stack: every route of
 * openapi.yaml has a model, every generated request to a route that changes state is invalid,
 * every refusal the model expects is one openapi.yaml documents for that route, and the state
 * comparison accepts exactly what the service legitimately finishes meanwhile (statement lines,
 * payouts of earlier holds posted or voided) while reporting any balance, hold, statement line,
 * freeze or pause a refused request would have changed.
 */
import fc from 'fast-check';
import { loadOpenApi } from '../support/openapi';
import { ALICE_ACCOUNT, ALICE_PAYOUT, BOB_PAYOUT, fuzzSetup } from '../support/fuzz-setup';
import {
  accountControlKey,
  accountEventKey,
  accountKey,
  attemptKey,
  deliveryQueueKey,
  eventKey,
  feesKey,
  limitCounterKey,
  limitsKey,
  markerKey,
  ownerLinkKey,
  payoutKey,
  pendingEntryKey,
  statementLineKey,
  transactionRecordKey,
  withdrawalSwitchKey,
} from '../../lib/persistence/keys';
import { contractErrorCodes, contractRoutes } from '../reliability/bank/contract';
import {
  checkAnswer,
  compareSnapshots,
  fuzzCases,
  fuzzCasesByRoute,
  MODELLED_ROUTES,
  readableTransactions,
  unmodelledRoutes,
  type FuzzCase,
} from '../reliability/bank/fuzz';
import { loadContract } from '../reliability/bank/fuzz/contract';
import {
  atLeastOneLimit,
  detailsFields,
  limitAmountField,
  timezoneField,
  type Field,
} from '../reliability/bank/fuzz/fields';
import { routeMatcher } from '../reliability/bank/fuzz/routes';
import type { Part } from '../reliability/bank/fuzz/types';
import {
  limitsBody,
  movementBody,
  newWebhookEndpointBody,
  redeliveryBody,
} from '../../lib/http-schemas';
import { checkEndpointUrl } from '../../lib/domain/webhooks';
import { ValidationError } from '../../lib/domain/errors';
import { eventIdField, eventTypesField, urlField } from '../reliability/bank/fuzz/webhooks';
import type { Item, Snapshot } from '../reliability/bank/fuzz/state';
import type { RawResponse } from '../reliability/bank/raw-http';

/** `METHOD /path` of every operation in openapi.yaml, listed here apart from the fuzzer's. */
function openapiRoutes(): string[] {
  const doc = loadOpenApi() as { paths: Record<string, Record<string, unknown>> };
  const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
  return Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.keys(item)
      .filter((m) => methods.includes(m))
      .map((m) => `${m.toUpperCase()} ${p}`),
  );
}

// ---- the model -------------------------------------------------------------------------------

const setup = fuzzSetup;

const contract = loadContract();
let cases: FuzzCase[] = [];
let byRoute: Record<string, fc.Arbitrary<FuzzCase>> = {};
const samples = new Map<string, FuzzCase[]>();
beforeAll(async () => {
  cases = fc.sample(await fuzzCases(setup), { numRuns: 2000, seed: 4242 });
  byRoute = await fuzzCasesByRoute(setup);
});

/** 300 cases of one route, drawn from its own model with a fixed seed. */
function sampleOf(route: string): FuzzCase[] {
  const model = byRoute[route];
  if (model === undefined) throw new Error(`no fuzz model of ${route}`);
  if (!samples.has(route)) samples.set(route, fc.sample(model, { numRuns: 300, seed: 4242 }));
  return samples.get(route) ?? [];
}

// Each route sampled on its own, so a route added elsewhere cannot starve a rare case of another.
const some = (route: string, predicate: (c: FuzzCase) => boolean): boolean =>
  sampleOf(route).some(predicate);
const has = (c: FuzzCase, what: RegExp): boolean => c.invalid.some((i) => what.test(i));
/** A fault the service finds late, alone in its request (so it is the one answered). */
const alone = (route: string, what: RegExp, code: string): boolean =>
  some(route, (c) => c.invalid.length === 1 && has(c, what) && c.allowed.includes(code));

describe('the fuzz model', () => {
  it('has a model of every route of openapi.yaml and of serverless.yml', () => {
    const routes = openapiRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(15);
    for (const route of routes) expect(MODELLED_ROUTES).toContain(route);
    expect(unmodelledRoutes(contractRoutes())).toEqual([]);
    expect(contract.routes.map((r) => r.key).sort()).toEqual([...routes].sort());
  });

  it('refuses to run when a route has no model', async () => {
    await expect(
      fuzzCases({ ...setup, routes: [...setup.routes, { method: 'DELETE', path: '/accounts' }] }),
    ).rejects.toThrow(/no model of DELETE \/accounts/);
  });

  it('sends requests to every route, and to routes that do not exist', () => {
    const byRoute = new Map<string, number>();
    for (const c of cases) byRoute.set(c.route ?? '-', (byRoute.get(c.route ?? '-') ?? 0) + 1);
    for (const route of openapiRoutes()) expect(byRoute.get(route) ?? 0).toBeGreaterThan(15);
    expect(byRoute.get('-') ?? 0).toBeGreaterThan(15);
  });

  it('counts a path as a route when a path parameter takes its segment', () => {
    const matches = routeMatcher(contract.routes);
    expect(matches('GET', '/accounts/{accountId}/payouts/extra')).toBe(true);
    expect(matches('GET', '/accounts/01JALICE000000000000000000/balance')).toBe(true);
    expect(matches('POST', '/accounts/{accountId}/payouts/extra')).toBe(false);
    expect(matches('GET', '/accounts/{accountId}/balance/extra')).toBe(false);
    expect(matches('GET', '/Health')).toBe(false);
  });

  it('aims "no such route" only at paths no route matches, a path parameter taking any segment', () => {
    const patterns = openapiRoutes().map((route) => {
      const [method, path] = route.split(' ') as [string, string];
      return { method, path: new RegExp(`^${path.replace(/\{[^/]+\}/g, '[^/]+')}$`) };
    });
    const strays = cases.filter((c) => c.route === null);
    expect(strays.length).toBeGreaterThan(15);
    for (const c of strays) {
      const path = c.request.target.split('?')[0] ?? '';
      const matched = patterns.filter((p) => p.method === c.request.method && p.path.test(path));
      expect({ target: c.request.target, matched }).toEqual({
        target: c.request.target,
        matched: [],
      });
    }
  });

  it('never sends a request that could change state and be valid', () => {
    const mutating = cases.filter((c) => c.mutating);
    expect(mutating.length).toBeGreaterThan(1000);
    for (const c of mutating) {
      expect({ route: c.route, invalid: c.invalid.length > 0 }).toEqual({
        route: c.route,
        invalid: true,
      });
      expect(c.allowed.length).toBeGreaterThan(0);
    }
  });

  it('expects only refusals openapi.yaml documents for the route', () => {
    for (const c of cases) {
      const route = c.route === null ? undefined : contract.byKey.get(c.route);
      const documented = new Set(
        route === undefined ? [] : [...route.refusals.values()].flatMap((codes) => [...codes]),
      );
      for (const code of contract.routeNotFound.codes) documented.add(code);
      const undocumented = c.allowed.filter((code) => !documented.has(code));
      expect({ route: c.route, label: c.label, undocumented }).toEqual({
        route: c.route,
        label: c.label,
        undocumented: [],
      });
    }
  });

  it('covers the identities and faults each route has', () => {
    // Operators' routes: a customer is FORBIDDEN, also on their own account.
    for (const route of [
      'POST /accounts/{accountId}/freeze',
      'POST /accounts/{accountId}/unfreeze',
      'POST /controls/withdrawals',
      'GET /controls/withdrawals',
      'GET /ledger/summary',
      'POST /accounts',
      'PUT /accounts/{accountId}/fees',
      'PUT /accounts/{accountId}/limits',
      'POST /transactions/{transactionId}/reversals',
    ]) {
      expect(some(route, (c) => has(c, /^a customer /) && c.allowed.includes('FORBIDDEN'))).toBe(
        true,
      );
    }
    expect(some('POST /accounts/{accountId}/freeze', (c) => has(c, /\(their own account\)/))).toBe(
      true,
    );
    expect(some('POST /accounts/{accountId}/freeze', (c) => has(c, /^no reason$/))).toBe(true);
    expect(some('POST /controls/withdrawals', (c) => has(c, /^paused /))).toBe(true);
    // Bob reading alice's payout, and alice reading bob's payout on her account.
    expect(
      some(
        'GET /accounts/{accountId}/payouts/{transactionId}',
        (c) =>
          has(c, /^bob reading a payout on alice's account$/) &&
          c.request.target.includes(ALICE_PAYOUT),
      ),
    ).toBe(true);
    expect(
      some('GET /accounts/{accountId}/payouts/{transactionId}', (c) => has(c, /^bob's payout$/)),
    ).toBe(true);
    expect(
      some(
        'GET /accounts/{accountId}/payouts/{transactionId}',
        (c) => has(c, /no payout$/) && c.allowed.includes('PAYOUT_NOT_FOUND'),
      ),
    ).toBe(true);
    expect(some('GET /accounts/{accountId}/payouts/{transactionId}', (c) => c.expectOk)).toBe(true);
    // Transfers: from someone else's account, to itself, to no account, too much.
    expect(some('POST /transfers', (c) => has(c, /^bob transferring on alice's account$/))).toBe(
      true,
    );
    expect(some('POST /transfers', (c) => has(c, /to its own source account/))).toBe(true);
    expect(some('POST /transfers', (c) => has(c, /toAccountId: no such account/))).toBe(true);
    expect(some('POST /transfers', (c) => c.allowed.includes('INSUFFICIENT_FUNDS'))).toBe(true);
    expect(some('POST /transfers', (c) => has(c, /^no Idempotency-Key$/))).toBe(true);
    // Payouts: a bad destination, an operator paying out of a customer's account.
    expect(some('POST /accounts/{accountId}/payouts', (c) => has(c, /^destination /))).toBe(true);
    expect(some('POST /accounts/{accountId}/payouts', (c) => has(c, /^an operator /))).toBe(true);
    // Faults the service finds late, each alone in its request (so it is the one answered).
    expect(
      alone(
        'POST /accounts/{accountId}/withdrawals',
        /^(no|empty|blank) Idempotency-Key$/,
        'IDEMPOTENCY_KEY_REQUIRED',
      ),
    ).toBe(true);
    expect(alone('POST /transfers', /far above/, 'INSUFFICIENT_FUNDS')).toBe(true);
    expect(alone('POST /transfers', /on USD accounts/, 'CURRENCY_MISMATCH')).toBe(true);
    expect(alone('POST /accounts/{accountId}/payouts', /far above/, 'INSUFFICIENT_FUNDS')).toBe(
      true,
    );
    expect(alone('POST /accounts/{accountId}/payouts', /^an operator /, 'FORBIDDEN')).toBe(true);
    expect(alone('POST /accounts/{accountId}/freeze', /^a customer /, 'FORBIDDEN')).toBe(true);
    expect(alone('POST /controls/withdrawals', /^a customer /, 'FORBIDDEN')).toBe(true);
    expect(alone('POST /controls/withdrawals', /^reason /, 'VALIDATION_ERROR')).toBe(true);
    // History: bad limits and cursors.
    expect(some('GET /accounts/{accountId}/transactions', (c) => has(c, /^limit=/))).toBe(true);
    expect(some('GET /accounts/{accountId}/transactions', (c) => has(c, /cursor=/))).toBe(true);
    expect(some('GET /accounts/{accountId}/transactions', (c) => has(c, /reference=/))).toBe(true);
    // A movement's details, one past their bounds or malformed, on every money route.
    for (const route of [
      'POST /accounts/{accountId}/withdrawals',
      'POST /accounts/{accountId}/deposits',
      'POST /transfers',
      'POST /accounts/{accountId}/payouts',
    ]) {
      for (const field of [/^reference /, /^description /, /^metadata /]) {
        expect([route, field, some(route, (c) => has(c, field))]).toEqual([route, field, true]);
      }
    }
  });

  it('covers the identities and faults of the event feed and the webhook routes', () => {
    const FEED = 'GET /events';
    const REGISTER = 'POST /webhook-endpoints';
    const REDELIVER = 'POST /webhook-endpoints/{endpointId}/redeliveries';
    const DELETE = 'DELETE /webhook-endpoints/{endpointId}';
    const ATTEMPTS = 'GET /webhook-endpoints/{endpointId}/attempts';
    // The feed: valid reads (of an own account too), another customer's account, bad parameters.
    expect(some(FEED, (c) => c.expectOk && c.request.target.includes(ALICE_ACCOUNT))).toBe(true);
    expect(some(FEED, (c) => c.expectOk && c.request.target.includes('after='))).toBe(true);
    expect(alone(FEED, /^bob reading events on alice's account$/, 'ACCOUNT_NOT_FOUND')).toBe(true);
    expect(alone(FEED, /^after=/, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(FEED, /^type=/, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(FEED, /^accountId: no such account$/, 'ACCOUNT_NOT_FOUND')).toBe(true);
    expect(some('GET /webhook-endpoints', (c) => c.expectOk)).toBe(true);
    // Registrations: each fault alone, another customer's account among them.
    expect(alone(REGISTER, /^url /, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(REGISTER, /^eventTypes /, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(REGISTER, /^accountId: no such account$/, 'ACCOUNT_NOT_FOUND')).toBe(true);
    expect(
      alone(
        REGISTER,
        /^(alice|bob) registering an endpoint on (bob|alice)'s account$/,
        'ACCOUNT_NOT_FOUND',
      ),
    ).toBe(true);
    expect(alone(REGISTER, /^Content-Type /, 'UNSUPPORTED_MEDIA_TYPE')).toBe(true);
    // Redeliveries: operators only; a bad event id; an endpoint that is not there.
    // (Never alone: the endpoint is never there. The role is judged first, so FORBIDDEN may come.)
    expect(
      some(
        REDELIVER,
        (c) => has(c, /^a customer redelivering an event$/) && c.allowed.includes('FORBIDDEN'),
      ),
    ).toBe(true);
    expect(some(REDELIVER, (c) => has(c, /^eventId /))).toBe(true);
    expect(alone(REDELIVER, /^no such endpoint$/, 'WEBHOOK_ENDPOINT_NOT_FOUND')).toBe(true);
    expect(alone(DELETE, /^no such endpoint$/, 'WEBHOOK_ENDPOINT_NOT_FOUND')).toBe(true);
    expect(some(DELETE, (c) => c.request.method === 'DELETE' && has(c, /^token: /))).toBe(true);
    expect(some(ATTEMPTS, (c) => has(c, /^limit=/))).toBe(true);
    expect(some(ATTEMPTS, (c) => has(c, /^cursor=/))).toBe(true);
    // No endpoint exists: a request to one is never expected to succeed.
    for (const route of [
      REGISTER,
      REDELIVER,
      DELETE,
      ATTEMPTS,
      'GET /webhook-endpoints/{endpointId}',
    ]) {
      expect([route, sampleOf(route).filter((c) => c.expectOk || c.invalid.length === 0)]).toEqual([
        route,
        [],
      ]);
    }
  });

  it("draws the details the service's schema accepts as valid, and those it refuses as bad", () => {
    for (const model of detailsFields()) {
      const accepted = (part: Part<Field>) =>
        movementBody.safeParse(
          JSON.parse(
            `{"amount":1${part.value.raw === undefined ? '' : `,"${model.name}":${part.value.raw}`}}`,
          ),
        ).success;
      expect(fc.sample(model.valid, { numRuns: 300, seed: 7 }).filter((p) => !accepted(p))).toEqual(
        [],
      );
      expect(fc.sample(model.bad, { numRuns: 300, seed: 7 }).filter(accepted)).toEqual([]);
    }
  });

  it("draws the webhook bodies' fields the service accepts as valid, and those it refuses as bad", () => {
    // As handlers/webhooks.ts and registerEndpoint read them: the schema, then the URL's rules
    // (both with and without the local stack's http://127.0.0.1 and http://localhost).
    const registers = (body: Record<string, unknown>): boolean => {
      const parsed = newWebhookEndpointBody.safeParse(body);
      if (!parsed.success) return false;
      for (const local of [false, true]) {
        try {
          checkEndpointUrl(parsed.data.url, local);
        } catch (error) {
          if (error instanceof ValidationError) return false;
          throw error;
        }
      }
      return new Set(parsed.data.eventTypes).size === parsed.data.eventTypes.length;
    };
    const base = { url: 'https://example.com/h', eventTypes: ['payout.posted'] };
    const judge = (model: ReturnType<typeof urlField>, accepts: (raw: unknown) => boolean) => {
      const read = (part: Part<Field>) =>
        accepts(part.value.raw === undefined ? undefined : JSON.parse(part.value.raw));
      const valid = fc.sample(model.valid, { numRuns: 300, seed: 7 });
      const bad = fc.sample(model.bad, { numRuns: 300, seed: 7 });
      expect([model.name, valid.filter((p) => !read(p)), bad.filter(read)]).toEqual([
        model.name,
        [],
        [],
      ]);
    };
    const field = (name: string) => (raw: unknown) =>
      registers(raw === undefined ? { ...base, [name]: undefined } : { ...base, [name]: raw });
    judge(urlField(), field('url'));
    judge(eventTypesField(), field('eventTypes'));
    judge(
      eventIdField(),
      (raw) => redeliveryBody.safeParse(raw === undefined ? {} : { eventId: raw }).success,
    );
  });

  it('sets fee schedules and reverses movements only in forms that are refused', () => {
    // Fee schedules: read by the owner or an operator, set by operators.
    const FEES = 'PUT /accounts/{accountId}/fees';
    expect(some('GET /accounts/{accountId}/fees', (c) => c.expectOk)).toBe(true);
    expect(
      some('GET /accounts/{accountId}/fees', (c) => has(c, /^bob reading on alice's account$/)),
    ).toBe(true);
    expect(some(FEES, (c) => c.request.method === 'PUT' && c.mutating)).toBe(true);
    expect(alone(FEES, /^a customer setting fees \(their own account\)$/, 'FORBIDDEN')).toBe(true);
    expect(alone(FEES, /^(WITHDRAWAL|PAYOUT): min \d+ above max \d+$/, 'VALIDATION_ERROR')).toBe(
      true,
    );
    expect(alone(FEES, /^(WITHDRAWAL|PAYOUT)\.(flat|bps|min|max) /, 'VALIDATION_ERROR')).toBe(true);
    expect(some(FEES, (c) => has(c, /^(WITHDRAWAL|PAYOUT)\.bps \d{5,}$/))).toBe(true);
    expect(alone(FEES, /^(WITHDRAWAL|PAYOUT): unknown field /, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(FEES, /^unknown field "DEPOSIT"$/, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(FEES, /^no reason$/, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(FEES, /^no such account$/, 'ACCOUNT_NOT_FOUND')).toBe(true);
    expect(alone(FEES, /^token: /, 'UNAUTHORIZED')).toBe(true);
    // Reversals: operators only, of a real movement now and then, always refused.
    const REVERSE = 'POST /transactions/{transactionId}/reversals';
    const real = [ALICE_PAYOUT, BOB_PAYOUT, '01JWITHDRAWA0000000000000A'];
    const onReal = (c: FuzzCase): boolean =>
      real.some((id) => c.request.target === `/transactions/${id}/reversals`);
    expect(alone(REVERSE, /^a customer reversing a movement$/, 'FORBIDDEN')).toBe(true);
    expect(alone(REVERSE, /^no such transaction$/, 'TRANSACTION_NOT_FOUND')).toBe(true);
    expect(alone(REVERSE, /^transaction id /, 'TRANSACTION_NOT_FOUND')).toBe(true);
    // Faults found once the movement is looked up: on a real one, alone.
    const aloneOnReal = (what: RegExp, code: string): boolean =>
      some(
        REVERSE,
        (c) => onReal(c) && c.invalid.length === 1 && has(c, what) && c.allowed.includes(code),
      );
    expect(aloneOnReal(/^no Idempotency-Key$/, 'IDEMPOTENCY_KEY_REQUIRED')).toBe(true);
    expect(aloneOnReal(/far above the original$/, 'REVERSAL_EXCEEDS_ORIGINAL')).toBe(true);
    expect(alone(REVERSE, /^allowNegative /, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(REVERSE, /^amount (?!\d+, far above)/, 'VALIDATION_ERROR')).toBe(true);
    // A real movement, answered as not reversible or not in the statement yet: never a fault.
    expect(
      sampleOf(REVERSE)
        .filter(onReal)
        .every((c) => c.invalid.length > 0 && c.allowed.includes('NOT_REVERSIBLE')),
    ).toBe(true);
  });

  it('sets limits only in forms that are refused, and reads them like fees', () => {
    const LIMITS = 'PUT /accounts/{accountId}/limits';
    const READ = 'GET /accounts/{accountId}/limits';
    expect(some(READ, (c) => c.expectOk)).toBe(true);
    expect(some(READ, (c) => has(c, /^bob reading on alice's account$/))).toBe(true);
    expect(some(READ, (c) => has(c, /^no such account$/))).toBe(true);
    expect(sampleOf(LIMITS).every((c) => c.request.method === 'PUT' && c.mutating)).toBe(true);
    expect(alone(LIMITS, /^a customer setting limits \(their own account\)$/, 'FORBIDDEN')).toBe(
      true,
    );
    expect(alone(LIMITS, /^timezone .* \(unknown\)$/, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(LIMITS, /^no daily, perMovement or timezone$/, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(LIMITS, /^daily .* \(out of range\)$/, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(LIMITS, /^perMovement .* \(out of range\)$/, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(LIMITS, /^(no reason|reason .*)$/, 'VALIDATION_ERROR')).toBe(true);
    expect(alone(LIMITS, /^no such account$/, 'ACCOUNT_NOT_FOUND')).toBe(true);
    expect(alone(LIMITS, /^token: /, 'UNAUTHORIZED')).toBe(true);
    // A body with a limit of each kind, sent by an operator, refused for something else.
    expect(
      some(
        LIMITS,
        (c) => /"daily":\d+/.test(c.request.body?.toString() ?? '') && has(c, /^no such account$/),
      ),
    ).toBe(true);
  });

  it("draws the limits the service's schema accepts as valid, and those it refuses as bad", () => {
    const parsed = (name: string, part: Part<Field>) =>
      limitsBody.safeParse(JSON.parse(`{"reason":"r","${name}":${part.value.raw ?? 'null'}}`))
        .success;
    for (const model of [
      limitAmountField('daily'),
      limitAmountField('perMovement'),
      timezoneField(),
    ]) {
      const valid = fc.sample(model.valid, { numRuns: 300, seed: 7 });
      const present = valid.filter((p) => p.value.raw !== undefined);
      expect(present.length).toBeGreaterThan(100);
      expect(present.filter((p) => !parsed(model.name, p))).toEqual([]);
      const bad = fc.sample(model.bad, { numRuns: 300, seed: 7 });
      expect(bad.filter((p) => parsed(model.name, p))).toEqual([]);
    }
    // A reason alone changes nothing: the service refuses it, and so does the model.
    expect(limitsBody.safeParse({ reason: 'r' }).success).toBe(false);
    expect(atLeastOneLimit(new Set(['reason']))).toMatchObject({ codes: ['VALIDATION_ERROR'] });
    expect(atLeastOneLimit(new Set(['reason', 'timezone']))).toBeUndefined();
  });

  it('generates the same requests from the same seed', async () => {
    // Byte for byte but for the crafted tokens' clock-derived claims (expired, not yet valid).
    const shape = (c: FuzzCase) => [
      c.route,
      c.label,
      c.request.method,
      c.request.target,
      c.invalid,
    ];
    const again = fc.sample(await fuzzCases(setup), { numRuns: 200, seed: 4242 });
    expect(again.map(shape)).toEqual(cases.slice(0, 200).map(shape));
  });
});

// ---- the answers ------------------------------------------------------------------------------

const answer = (status: number, code?: string): RawResponse => {
  const body =
    code === undefined
      ? {}
      : { error: { code, message: 'Refused.', requestId: '5f0c6f4e-8a39-4c55-9d4b-0f1f2a3b4c5d' } };
  const text = JSON.stringify(body);
  return {
    status,
    headers: { 'cache-control': 'no-store' },
    body: Buffer.from(text),
    text,
    json: body,
  };
};

const aCase = (over: Partial<FuzzCase>): FuzzCase => ({
  label: 'POST /accounts/{accountId}/freeze',
  route: 'POST /accounts/{accountId}/freeze',
  request: {
    method: 'POST',
    target: `/accounts/${ALICE_ACCOUNT}/freeze`,
    headers: [],
    body: null,
    chunked: false,
  },
  mutating: true,
  invalid: ['a customer asking to freeze'],
  uncertain: [],
  allowed: ['FORBIDDEN'],
  expectOk: false,
  transient: [],
  ...over,
});

describe('checkAnswer', () => {
  const codes = new Map([...contract.codes, ...contractErrorCodes()]);
  const check = (c: FuzzCase, r: RawResponse): string[] =>
    checkAnswer(c, r, codes, contract).map((v) => v.invariant);

  it('accepts a documented refusal naming the fault', () => {
    expect(check(aCase({}), answer(403, 'FORBIDDEN'))).toEqual([]);
  });
  it('reports a 5xx', () => {
    expect(check(aCase({}), answer(500, 'INTERNAL_ERROR'))).toContain('no 5xx');
  });
  it('reports a refusal the route does not document', () => {
    const read = aCase({
      route: 'GET /accounts/{accountId}',
      mutating: false,
      invalid: ['made up'],
      allowed: ['FORBIDDEN'],
    });
    expect(check(read, answer(403, 'FORBIDDEN'))).toEqual([
      'every refusal is one openapi.yaml documents for the route',
    ]);
  });
  it('reports a refusal that names another fault', () => {
    expect(check(aCase({}), answer(400, 'VALIDATION_ERROR'))).toEqual([
      'the refusal names a fault the request has',
    ]);
  });
  it("reports a refusal whose body is not the document's Error", () => {
    const odd = answer(403, 'FORBIDDEN');
    const json = odd.json as { error: Record<string, unknown> };
    json.error.requestId = 'req-1';
    expect(check(aCase({}), odd)).toEqual(['every answer conforms to openapi.yaml']);
  });
  it('reports a valid read answered with a body its route does not document', () => {
    const read = cases.find((c) => c.route === 'GET /accounts/{accountId}/fees' && c.expectOk);
    expect(read).toBeDefined();
    expect(check(read as FuzzCase, { ...answer(200), json: { fees: 'none' } })).toEqual([
      'every answer conforms to openapi.yaml',
    ]);
  });
  it('reports a state-changing request that was accepted', () => {
    expect(check(aCase({}), answer(200))).toEqual([
      'a malformed request that changes state is refused',
    ]);
  });
});

// ---- the state --------------------------------------------------------------------------------

const T0 = '2026-12-01T10:00:00.000Z';
const T1 = '2026-12-01T10:05:00.000Z';
const A = '01JACCOUNTA000000000000000';
const B = '01JACCOUNTB000000000000000';
const W1 = '01JWITHDRAW100000000000000'; // a withdrawal, committed before, not yet sequenced
const P1 = '01JPAY1000000000000000000A'; // a payout held before, posted meanwhile (A)
const P2 = '01JPAY2000000000000000000B'; // a payout held before, voided meanwhile (B)
const NEW = '01JNEWTX000000000000000000'; // a transaction the fuzz would have made

const item = (key: { pk: string; sk: string }, fields: Record<string, unknown>): Item => ({
  ...key,
  ...fields,
});
const snapshot = (items: Item[]): Snapshot =>
  new Map(items.map((i) => [`${String(i.pk)} ${String(i.sk)}`, i]));

const account = (id: string, fields: Record<string, unknown>): Item =>
  item(accountKey(id), {
    accountId: id,
    ownerId: id === A ? 'alice-sub' : 'bob-sub',
    currency: 'USD',
    createdAt: T0,
    updatedAt: T0,
    ...fields,
  });
const line = (id: string, sequence: number, fields: Record<string, unknown>): Item =>
  item(statementLineKey(id, sequence), {
    accountId: id,
    currency: 'USD',
    sequence,
    createdAt: T0,
    sequencedAt: T0,
    ...fields,
  });
const payout = (id: string, tx: string, fields: Record<string, unknown>): Item =>
  item(payoutKey(id, tx), {
    transactionId: tx,
    accountId: id,
    amount: 300,
    currency: 'USD',
    destination: 'bank-1',
    idempotencyKey: `k-${tx}`,
    createdAt: T0,
    updatedAt: T0,
    holdExpiresAt: T1,
    attempts: 0,
    status: 'PENDING',
    ...fields,
  });
const marker = (id: string, key: string, fields: Record<string, unknown>): Item =>
  item(markerKey(id, key), {
    accountId: id,
    idempotencyKey: key,
    requestHash: 'h',
    createdAt: T0,
    expiresAt: 2_000_000_000,
    ...fields,
  });

/** Before the fuzz: A at version 5 holding P1 (300), with W1 pending; B at version 2 holding P2. */
function beforeFuzz(): Item[] {
  return [
    account(A, {
      balance: 1000,
      pending: 300,
      available: 700,
      version: 5,
      lastMovement: { transactionId: W1, type: 'WITHDRAWAL', amount: 50 },
    }),
    account(B, {
      balance: 500,
      pending: 300,
      available: 200,
      version: 2,
      lastMovement: { transactionId: 'B-DEPOSIT', type: 'DEPOSIT', amount: 500 },
    }),
    item(ownerLinkKey('alice-sub', A), { ownerId: 'alice-sub', accountId: A }),
    item(ownerLinkKey('bob-sub', B), { ownerId: 'bob-sub', accountId: B }),
    line(A, 4, { transactionId: 'A-4', type: 'DEPOSIT', amount: 1050, balanceAfter: 1050 }),
    item(pendingEntryKey(A, W1), {
      transactionId: W1,
      accountId: A,
      type: 'WITHDRAWAL',
      amount: 50,
      idempotencyKey: 'w1',
      createdAt: T0,
    }),
    item(pendingEntryKey(A, P1), {
      transactionId: P1,
      accountId: A,
      type: 'PAYOUT',
      amount: 300,
      status: 'PENDING',
      idempotencyKey: `k-${P1}`,
      createdAt: T0,
    }),
    marker(A, 'w1', { outcome: 'COMMITTED', transactionId: W1, type: 'WITHDRAWAL', amount: 50 }),
    payout(A, P1, { openPayoutShard: 'OPEN#1', openPayoutDue: `${T1}#${P1}` }),
    payout(B, P2, { openPayoutShard: 'OPEN#2', openPayoutDue: `${T1}#${P2}` }),
    item(withdrawalSwitchKey, { paused: false, by: 'ops-sub', at: T0, reason: 'drill over' }),
  ];
}

/** What the service finishes meanwhile, on its own: W1 sequenced, P1 posted, P2 voided. */
function backgroundOnly(): Item[] {
  const items = beforeFuzz().filter(
    (i) => !(String(i.pk).startsWith('PENDING#') && i.transactionId === W1),
  );
  const replace = (next: Item): void => {
    const at = items.findIndex((i) => i.pk === next.pk && i.sk === next.sk);
    if (at >= 0) items[at] = next;
    else items.push(next);
  };
  replace(
    account(A, {
      balance: 700,
      pending: 0,
      available: 700,
      version: 6,
      updatedAt: T1,
      lastMovement: { transactionId: P1, type: 'PAYOUT', amount: 300, status: 'POSTED' },
    }),
  );
  replace(
    account(B, {
      balance: 500,
      pending: 0,
      available: 500,
      version: 3,
      updatedAt: T1,
      lastMovement: { transactionId: P2, type: 'PAYOUT', amount: 300, status: 'VOIDED' },
    }),
  );
  replace(
    line(A, 4, {
      transactionId: 'A-4',
      type: 'DEPOSIT',
      amount: 1050,
      balanceAfter: 1050,
      sequencedAt: T1,
    }),
  );
  replace(line(A, 5, { transactionId: W1, type: 'WITHDRAWAL', amount: 50, balanceAfter: 1000 }));
  replace(
    line(A, 6, {
      transactionId: P1,
      type: 'PAYOUT',
      amount: 300,
      balanceAfter: 700,
      status: 'POSTED',
    }),
  );
  // B's line for the void is not written yet: its change is explained by the payout record.
  replace(
    marker(A, 'w1', {
      outcome: 'COMMITTED',
      transactionId: W1,
      type: 'WITHDRAWAL',
      amount: 50,
      balanceAfter: 1000,
      sequence: 5,
    }),
  );
  replace(
    payout(A, P1, { status: 'POSTED', updatedAt: T1, attempts: 1, gatewayReference: 'gw-1' }),
  );
  replace(payout(B, P2, { status: 'VOIDED', updatedAt: T1, voidReason: 'refused' }));
  replace(
    item(pendingEntryKey(A, P1), {
      transactionId: P1,
      accountId: A,
      type: 'PAYOUT',
      amount: 300,
      status: 'POSTED',
      idempotencyKey: `k-${P1}`,
      createdAt: T0,
    }),
  );
  // The publisher catching up: W1's event (by id and in A's feed), queued and attempted.
  for (const event of [movementEvent(W1, 5)]) {
    replace(item(eventKey(event.id), event));
    replace(item(accountEventKey(A, event.position), event));
    replace(
      item(deliveryQueueKey('01JMSG1'), {
        body: JSON.stringify({ eventId: event.id, endpointId: 'E1' }),
      }),
    );
    replace(
      item(attemptKey({ endpointId: 'E1', eventId: event.id, attemptedAt: T1, attempt: 1 }), {
        endpointId: 'E1',
        eventId: event.id,
        outcome: 'failed',
      }),
    );
  }
  // A refused fuzz request recorded under its key: allowed.
  replace(
    marker(A, 'fz-1', {
      outcome: 'REFUSED',
      status: 409,
      error: { code: 'INSUFFICIENT_FUNDS', message: 'No.', requestId: 'r' },
    }),
  );
  return items;
}

/** A movement.committed event as the publisher stores it. */
function movementEvent(transactionId: string, sequence: number) {
  const id = `movement.committed:${A}:${sequence}`;
  return {
    id,
    type: 'movement.committed',
    createdAt: T1,
    accountId: A,
    sequence,
    data: { transactionId, accountId: A, sequence },
    position: `${T1}#${id}`,
  };
}

const compare = (after: Item[]) => compareSnapshots(snapshot(beforeFuzz()), snapshot(after));
function changed(after: Item[], pk: string, sk: string, fields: Record<string, unknown>): Item[] {
  return after.map((i) => (i.pk === pk && i.sk === sk ? { ...i, ...fields } : i));
}

describe('the state comparison', () => {
  it('accepts what the service finished on its own meanwhile', () => {
    const result = compare(backgroundOnly());
    expect(result.unexplained).toEqual([]);
    expect(result.awaiting).toEqual([]);
    expect(result.explained).toMatchObject({
      'accounts moved by payouts resolved': 2,
      'payouts resolved': 2,
      'statement lines written': 2,
      'statement lines written again': 1,
      'pending entries retired': 1,
      'pending entries of payouts resolved': 1,
      'markers given their statement place': 1,
      'refusals recorded': 1,
      'events of changes from before': 2,
      'deliveries of events from before': 2,
    });
  });

  it('reports an event, a delivery or a webhook endpoint of a change no one made before the fuzz', () => {
    const event = movementEvent('01JFUZZMADE', 9);
    const after = [
      ...backgroundOnly(),
      item(eventKey(event.id), event),
      item(deliveryQueueKey('01JMSG2'), { body: JSON.stringify({ eventId: event.id }) }),
      item({ pk: 'WEBHOOK#01JEP', sk: 'ENDPOINT' }, { url: 'https://x.example' }),
    ];
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(/^event EVENT#movement.committed.*an event of a change the fuzz made/),
      expect.stringMatching(/^webhook delivery QUEUE#.*a delivery of "movement.committed/),
      expect.stringMatching(/^webhook endpoint WEBHOOK#01JEP.*registered: "https:\/\/x.example"/),
    ]);
  });

  it('accepts nothing at all changing', () => {
    expect(compare(beforeFuzz())).toEqual({ unexplained: [], awaiting: [], explained: {} });
  });

  it('waits for the line of a resolution the scan saw only on the account', () => {
    // The scan read A after P1 was posted but P1's record before: no line yet, nothing to show.
    const after = backgroundOnly()
      .filter((i) => !(String(i.pk).startsWith('LEDGER#') && i.sequence === 6))
      .map((i) => (i.pk === payoutKey(A, P1).pk && i.sk === P1 ? payout(A, P1, {}) : i));
    const result = compare(after);
    expect(result.unexplained).toEqual([]);
    expect(result.awaiting).toHaveLength(1);
    expect(result.awaiting[0]).toMatch(
      /^account ACCOUNT#01JACCOUNTA.*no statement line yet at version 6/,
    );
  });

  it('reports a balance a refused request changed', () => {
    const ak = accountKey(A);
    let after = changed(backgroundOnly(), ak.pk, ak.sk, {
      balance: 690,
      available: 690,
      version: 7,
      lastMovement: { transactionId: NEW, type: 'WITHDRAWAL', amount: 10 },
    });
    after = [
      ...after,
      line(A, 7, { transactionId: NEW, type: 'WITHDRAWAL', amount: 10, balanceAfter: 690 }),
    ];
    const result = compare(after);
    expect(result.unexplained).toEqual([
      expect.stringMatching(
        /^account ACCOUNT#01JACCOUNTA.*balance 1000 -> 690.*version 7 is WITHDRAWAL 01JNEWTX.*did not exist before the fuzz/,
      ),
      expect.stringMatching(
        /^statement line LEDGER#01JACCOUNTA.*L#0+7: a statement line of WITHDRAWAL 01JNEWTX/,
      ),
    ]);
  });

  it('reports a balance changed even before its line is written', () => {
    const ak = accountKey(A);
    const after = [
      ...changed(backgroundOnly(), ak.pk, ak.sk, {
        balance: 690,
        available: 690,
        version: 7,
        lastMovement: { transactionId: NEW, type: 'WITHDRAWAL', amount: 10 },
      }),
      marker(A, 'fz-2', {
        outcome: 'COMMITTED',
        transactionId: NEW,
        type: 'WITHDRAWAL',
        amount: 10,
      }),
    ];
    const result = compare(after);
    expect(result.unexplained).toEqual([
      expect.stringMatching(/^idempotency marker MARKER#.*a movement committed under key "fz-2"/),
    ]);
    expect(result.awaiting).toEqual([
      expect.stringMatching(/^account ACCOUNT#01JACCOUNTA.*no statement line yet at version 7/),
    ]);
  });

  it('reports a hold a refused request placed', () => {
    const ak = accountKey(A);
    const after = [
      ...changed(backgroundOnly(), ak.pk, ak.sk, { pending: 10, available: 690 }),
      payout(A, NEW, { amount: 10 }),
    ];
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(
        /^account ACCOUNT#01JACCOUNTA.*do not add up: pending 10, expected 0; available 690, expected 700/,
      ),
      expect.stringMatching(/^payout PAYOUT#01JACCOUNTA0+ 01JNEWTX.*a new payout \(a hold of 10/),
    ]);
  });

  it('reports a hold placed on an account that did not move otherwise', () => {
    const bk = accountKey(B);
    const after = [
      ...changed(beforeFuzz(), bk.pk, bk.sk, { pending: 310, available: 190, updatedAt: T1 }),
      payout(B, NEW, { amount: 10 }),
    ];
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(
        /^account ACCOUNT#01JACCOUNTB.*available 200 -> 190, pending 300 -> 310, updatedAt .*, with no movement/,
      ),
      expect.stringMatching(/^payout PAYOUT#01JACCOUNTB0+ 01JNEWTX.*a new payout/),
    ]);
  });

  it('reports a hold released with no resolution', () => {
    const bk = accountKey(B);
    const after = changed(beforeFuzz(), bk.pk, bk.sk, { pending: 0, available: 500 });
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(/^account ACCOUNT#01JACCOUNTB.*pending 300 -> 0, with no movement/),
    ]);
  });

  const FIGURES = {
    postedAt: T0,
    totalsAfter: { DEPOSIT: 1050 },
    feesAfter: 0,
    historyKey: `${A}#DEPOSIT#POSTED`,
    historyAt: `${T0}#0000000000000004`,
  };

  it('accepts the running figures given to a line written before they existed', () => {
    const lk = statementLineKey(A, 4);
    const result = compare(changed(backgroundOnly(), lk.pk, lk.sk, FIGURES));
    expect(result.unexplained).toEqual([]);
    expect(result.explained).toMatchObject({ 'statement lines given their figures': 1 });
  });

  it("reports a line's running figures changed once set", () => {
    const lk = statementLineKey(A, 4);
    const before = changed(beforeFuzz(), lk.pk, lk.sk, FIGURES);
    const after = changed(backgroundOnly(), lk.pk, lk.sk, {
      ...FIGURES,
      postedAt: T1,
      totalsAfter: { DEPOSIT: 2050 },
    });
    expect(compareSnapshots(snapshot(before), snapshot(after)).unexplained).toEqual([
      expect.stringMatching(
        /^statement line LEDGER#01JACCOUNTA.*changed: postedAt "2026-12-01T10:00:00.000Z" -> "2026-12-01T10:05:00.000Z", totalsAfter \{"DEPOSIT":1050\} -> \{"DEPOSIT":2050\}/,
      ),
    ]);
    const gone = changed(backgroundOnly(), lk.pk, lk.sk, { ...FIGURES, historyKey: undefined });
    expect(compareSnapshots(snapshot(before), snapshot(gone)).unexplained).toEqual([
      expect.stringMatching(
        /^statement line LEDGER#01JACCOUNTA.*changed: historyKey ".*" -> \(none\)/,
      ),
    ]);
  });

  it('reports a statement line a refused request changed', () => {
    const lk = statementLineKey(A, 4);
    const after = changed(backgroundOnly(), lk.pk, lk.sk, { balanceAfter: 2050 });
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(
        /^statement line LEDGER#01JACCOUNTA.*changed: balanceAfter 1050 -> 2050/,
      ),
    ]);
  });

  it('reports the freeze flag a refused request set', () => {
    const ak = accountKey(A);
    const after = [
      ...changed(backgroundOnly(), ak.pk, ak.sk, { frozen: true, frozenAtVersion: 6 }),
      item(accountControlKey(A, T1, 'c1'), {
        accountId: A,
        action: 'FREEZE',
        by: 'alice-sub',
        at: T1,
        reason: 'fuzz',
      }),
    ];
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(
        /^account ACCOUNT#01JACCOUNTA.*frozen \(none\) -> true, frozenAtVersion \(none\) -> 6/,
      ),
      expect.stringMatching(
        /^control record CONTROL#01JACCOUNTA.*a new "FREEZE" of .* by "alice-sub"/,
      ),
    ]);
  });

  it('reports the withdrawals pause a refused request set', () => {
    const after = changed(backgroundOnly(), withdrawalSwitchKey.pk, withdrawalSwitchKey.sk, {
      paused: true,
      by: 'bob-sub',
      at: T1,
      reason: 'fuzz',
    });
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(/^withdrawals switch CONTROL WITHDRAWALS: .*paused false -> true/),
    ]);
  });

  it('reports a new account and owner link', () => {
    const after = [
      ...backgroundOnly(),
      account('01JNEWACCOUNT0000000000000', { balance: 0, pending: 0, available: 0, version: 0 }),
      item(ownerLinkKey('fuzz-owner', '01JNEWACCOUNT0000000000000'), {
        ownerId: 'fuzz-owner',
        accountId: '01JNEWACCOUNT0000000000000',
      }),
    ];
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(/^account ACCOUNT#01JNEWACCOUNT.*a new account/),
      expect.stringMatching(/^owner link OWNER#fuzz-owner.*a new owner link/),
    ]);
  });

  it('reports a payout resolved for an amount other than its hold', () => {
    const ak = accountKey(A);
    const after = changed(backgroundOnly(), ak.pk, ak.sk, { balance: 600, available: 600 });
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(
        /^account ACCOUNT#01JACCOUNTA.*do not add up: balance 600, expected 700/,
      ),
    ]);
  });

  it('reports a resolved payout changed again', () => {
    const done = beforeFuzz().map((i) =>
      i.pk === payoutKey(B, P2).pk ? payout(B, P2, { status: 'VOIDED', voidReason: 'refused' }) : i,
    );
    const later = done.map((i) =>
      i.pk === payoutKey(B, P2).pk ? payout(B, P2, { status: 'POSTED', voidReason: 'refused' }) : i,
    );
    expect(compareSnapshots(snapshot(done), snapshot(later)).unexplained).toEqual([
      expect.stringMatching(/^payout PAYOUT#01JACCOUNTB.*status "VOIDED" -> "POSTED"/),
    ]);
  });
});

describe('the state comparison, fees and reversals', () => {
  it('accepts a payout posted with the fee it held', () => {
    const held = [
      account(A, { balance: 1000, pending: 305, available: 695, version: 5 }),
      payout(A, P1, { fee: 5 }),
    ];
    const posted = [
      account(A, {
        balance: 695,
        pending: 0,
        available: 695,
        version: 6,
        updatedAt: T1,
        lastMovement: { transactionId: P1, type: 'PAYOUT', amount: 300, fee: 5, status: 'POSTED' },
      }),
      payout(A, P1, { fee: 5, status: 'POSTED', updatedAt: T1, attempts: 1 }),
      line(A, 6, {
        transactionId: P1,
        type: 'PAYOUT',
        amount: 300,
        fee: 5,
        balanceAfter: 695,
        status: 'POSTED',
      }),
    ];
    expect(compareSnapshots(snapshot(held), snapshot(posted)).unexplained).toEqual([]);
  });

  it('reports a fee schedule a refused request set', () => {
    const ak = accountKey(A);
    const change = { by: 'ops-sub', at: T1, reason: 'fuzz' };
    const after = [
      ...changed(backgroundOnly(), ak.pk, ak.sk, { termsVersion: 1 }),
      item(feesKey(A), { version: 1, schedule: { WITHDRAWAL: { flat: 5 } }, ...change }),
      item(accountControlKey(A, T1, 'c2'), { accountId: A, action: 'SET_FEES', ...change }),
    ];
    expect(compare(after).unexplained).toEqual([
      expect.stringMatching(/^account ACCOUNT#01JACCOUNTA.*termsVersion \(none\) -> 1/),
      expect.stringMatching(/^control record CONTROL#01JACCOUNTA.*a new "SET_FEES" of /),
      expect.stringMatching(/^fee schedule CONTROL#01JACCOUNTA0+ FEES: a fee schedule set/),
    ]);
  });

  const count = (tx: string, reversed: number): Item =>
    item(transactionRecordKey(tx), {
      transactionId: tx,
      reversed,
      reversals: [{ transactionId: NEW, amount: reversed, reason: 'fuzz' }],
    });

  it('reports a reversal count created while the fuzz ran', () => {
    expect(compare([...backgroundOnly(), count(W1, 10)]).unexplained).toEqual([
      expect.stringMatching(
        /^reversal count TXN#01JWITHDRAW.*a reversal of "01JWITHDRAW.*counted \(10\)/,
      ),
    ]);
  });

  it('reports a reversal count a reversal moved', () => {
    const before = [...beforeFuzz(), count(W1, 10)];
    const after = [...backgroundOnly(), count(W1, 20)];
    expect(compareSnapshots(snapshot(before), snapshot(after)).unexplained).toEqual([
      expect.stringMatching(/^reversal count TXN#01JWITHDRAW.*reversed 10 -> 20/),
    ]);
  });
});

describe('the state comparison, limits', () => {
  const DAY = '2026-12-01';
  const counter = (id: string, used: number): Item =>
    item(limitCounterKey(id, DAY), { used, expiresAt: 2_000_000_000 });
  /** P2 (B's payout of 300, voided meanwhile) counted on DAY; so did A's earlier movements. */
  const countedBefore = (): Item[] => [
    ...beforeFuzz().map((i) =>
      i.pk === payoutKey(B, P2).pk
        ? payout(B, P2, { openPayoutShard: 'OPEN#2', limitDay: DAY })
        : i,
    ),
    counter(A, 350),
    counter(B, 300),
  ];
  const afterwards = (counters: Item[]): Item[] => [
    ...backgroundOnly().map((i) =>
      i.pk === payoutKey(B, P2).pk
        ? payout(B, P2, { status: 'VOIDED', updatedAt: T1, voidReason: 'refused', limitDay: DAY })
        : i,
    ),
    ...counters,
  ];
  const judged = (after: Item[]) => compareSnapshots(snapshot(countedBefore()), snapshot(after));

  it("accepts a day's room given back by a payout held before and voided meanwhile", () => {
    const result = judged(afterwards([counter(A, 350), counter(B, 0)]));
    expect(result.unexplained).toEqual([]);
    expect(result.awaiting).toEqual([]);
    expect(result.explained).toMatchObject({ 'limit room given back by voids': 1 });
  });

  it('reports a counter a refused request added to', () => {
    expect(judged(afterwards([counter(A, 360), counter(B, 0)])).unexplained).toEqual([
      expect.stringMatching(
        /^limit counter LIMIT#01JACCOUNTA0+ 2026-12-01: the counter of 2026-12-01 changed: used 350 -> 360/,
      ),
    ]);
  });

  it('reports a counter a refused request created', () => {
    const after = afterwards([counter(A, 350), counter(B, 0)]).map((i) =>
      i.pk === `LIMIT#${A}` ? item(limitCounterKey(A, '2026-12-02'), { used: 10 }) : i,
    );
    expect(judged([...after, counter(A, 350)]).unexplained).toEqual([
      expect.stringMatching(
        /^limit counter LIMIT#01JACCOUNTA0+ 2026-12-02: a new counter for 2026-12-02: 10 left/,
      ),
    ]);
  });

  it('reports room given back that no void explains (a refused reversal, a void of the wrong day)', () => {
    // A's payout P1 was posted, not voided: nothing gives A room back.
    expect(judged(afterwards([counter(A, 300), counter(B, 0)])).unexplained).toEqual([
      expect.stringMatching(
        /^limit counter LIMIT#01JACCOUNTA.*gave back 50 \(used 350 -> 300\); payouts voided meanwhile that counted that day: none/,
      ),
    ]);
    // B's void gives back what P2 held (300), not more.
    expect(judged(afterwards([counter(A, 350), counter(B, -10)])).unexplained).toEqual([
      expect.stringMatching(/^limit counter LIMIT#01JACCOUNTB.*gave back 310 .*01JPAY2\w+ 300/),
    ]);
  });

  it('reports a counter that is gone, and waits for a void the scan saw on the counter first', () => {
    const gone = afterwards([counter(B, 0)]);
    expect(judged(gone).unexplained).toEqual([
      expect.stringMatching(/^limit counter LIMIT#01JACCOUNTA.*the counter of 2026-12-01 is gone/),
    ]);
    // The scan read B's counter after the void, P2's record before it.
    const early = afterwards([counter(A, 350), counter(B, 0)]).map((i) =>
      i.pk === payoutKey(B, P2).pk ? payout(B, P2, { limitDay: DAY }) : i,
    );
    const result = judged(early);
    expect(result.unexplained).toEqual([]);
    // Its account waits on the void's statement line the same way.
    expect(result.awaiting).toEqual([
      expect.stringMatching(/^account ACCOUNT#01JACCOUNTB.*no statement line yet at version 3/),
      expect.stringMatching(/^limit counter LIMIT#01JACCOUNTB.*gave back 300.*: none/),
    ]);
  });

  it('reports limits an operator set through a refused request: the override, its record, the account', () => {
    const ak = accountKey(A);
    const change = { by: 'ops-sub', at: T1, reason: 'fuzz' };
    const limits = { daily: 100, perMovement: 50, timezone: 'UTC' };
    const defaults = { daily: 1e12, perMovement: 1e12, timezone: 'UTC' };
    const after = [
      ...changed(afterwards([counter(A, 350), counter(B, 0)]), ak.pk, ak.sk, { termsVersion: 1 }),
      item(limitsKey(A), { version: 1, override: { daily: 100, perMovement: 50 }, ...change }),
      item(accountControlKey(A, T1, 'c3'), {
        accountId: A,
        action: 'SET_LIMITS',
        previous: defaults,
        limits,
        ...change,
      }),
    ];
    expect(judged(after).unexplained).toEqual([
      expect.stringMatching(/^account ACCOUNT#01JACCOUNTA.*termsVersion \(none\) -> 1/),
      expect.stringMatching(
        /^control record CONTROL#01JACCOUNTA.*a new "SET_LIMITS" of .* by "ops-sub": "fuzz" \(limits .*"daily":1000000000000.* -> .*"daily":100,/,
      ),
      expect.stringMatching(
        /^limits override CONTROL#01JACCOUNTA0+ LIMITS: limits set: .*"daily":100/,
      ),
    ]);
  });

  it('reports a limits override a refused request changed', () => {
    const set = { version: 1, override: { daily: 100 }, by: 'ops-sub', at: T0, reason: 'run' };
    const before = [...countedBefore(), item(limitsKey(A), set)];
    const after = [
      ...afterwards([counter(A, 350), counter(B, 0)]),
      item(limitsKey(A), { ...set, override: { daily: 1e12 } }),
    ];
    expect(compareSnapshots(snapshot(before), snapshot(after)).unexplained).toEqual([
      expect.stringMatching(
        /^limits override CONTROL#01JACCOUNTA0+ LIMITS: the limits override changed: override \{"daily":100\} -> \{"daily":1000000000000\}/,
      ),
    ]);
  });
});

describe('the state comparison, items of a kind it does not know', () => {
  const other = (tx: string): Item => item({ pk: `SOMETHING#${A}`, sk: tx }, { transactionId: tx });
  it('accepts one written for a transaction from before', () => {
    const result = compare([...backgroundOnly(), other(W1)]);
    expect(result.unexplained).toEqual([]);
  });
  it('reports one written for any other transaction', () => {
    expect(compare([...backgroundOnly(), other(NEW)]).unexplained).toEqual([
      expect.stringMatching(/^other item SOMETHING#01JACCOUNTA.*: a new item/),
    ]);
  });
});

describe('readableTransactions', () => {
  it('finds a payout and a non-payout transaction of each account', () => {
    const found = readableTransactions(snapshot(backgroundOnly()), { alice: A, bob: B });
    expect(found).toEqual({
      payouts: { alice: P1, bob: P2 },
      nonPayouts: { alice: W1, bob: null },
    });
  });
});
