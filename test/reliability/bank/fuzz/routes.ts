/**
 * One model per route of openapi.yaml: which identities, path parameters, headers and bodies
 * the route accepts and what each fault is answered with. A request to a route that changes
 * state always carries at least one definitely invalid part (when every part came out valid,
 * one is replaced by an invalid one), so none may succeed. Reads may be valid: then 200.
 */
import fc from 'fast-check';
import type { MovementType, Owner } from '../model';
import type { DemoUser } from '../stack';
import { loadContract, routeKey } from './contract';
import {
  accountIdField,
  amountField,
  currencyField,
  destinationField,
  objectBodies,
  pausedField,
  reasonField,
  transactionParts,
} from './fields';
import {
  accountParts,
  authParts,
  contentTypeParts,
  craftBadTokens,
  finish,
  hopelessBodies,
  json,
  keyParts,
  movementBodies,
  openAccountBodies,
  printable,
  queryParts,
  transportParts,
  type AccountValue,
  type AuthValue,
  type BodyValue,
  type Draft,
  type KeyValue,
  type QueryValue,
} from './parts';
import type { FuzzCase, FuzzSetup, Part } from './types';

/** The routes this file models, as openapi.yaml spells them. */
export const ROUTES = {
  health: 'GET /health',
  listAccounts: 'GET /accounts',
  openAccount: 'POST /accounts',
  getAccount: 'GET /accounts/{accountId}',
  getBalance: 'GET /accounts/{accountId}/balance',
  withdraw: 'POST /accounts/{accountId}/withdrawals',
  deposit: 'POST /accounts/{accountId}/deposits',
  transfer: 'POST /transfers',
  requestPayout: 'POST /accounts/{accountId}/payouts',
  getPayout: 'GET /accounts/{accountId}/payouts/{transactionId}',
  listTransactions: 'GET /accounts/{accountId}/transactions',
  freeze: 'POST /accounts/{accountId}/freeze',
  unfreeze: 'POST /accounts/{accountId}/unfreeze',
  getWithdrawalSwitch: 'GET /controls/withdrawals',
  setWithdrawalSwitch: 'POST /controls/withdrawals',
} as const;

export const MODELLED_ROUTES: ReadonlySet<string> = new Set(Object.values(ROUTES));

/** Routes of the contract (openapi.yaml) or of the deployment (serverless.yml) with no model. */
export function unmodelledRoutes(routes: Array<{ method: string; path: string }>): string[] {
  return routes.map((r) => routeKey(r.method, r.path)).filter((key) => !MODELLED_ROUTES.has(key));
}

const other = (owner: Owner): Owner => (owner === 'alice' ? 'bob' : 'alice');
const OWNERS: Owner[] = ['alice', 'bob'];
const USERS: DemoUser[] = ['alice', 'bob', 'ops'];

/**
 * Who may call: `owner` (the account's owner only), `reader` (the owner or an operator),
 * `operator` (operators only, also on their own account). A fault names its codes.
 */
function roleFault(
  rule: 'owner' | 'reader' | 'operator',
  user: DemoUser | null,
  owner: Owner | null,
  what: string,
): Draft['roleInvalid'] {
  if (user === null) return undefined;
  if (rule === 'operator') {
    return user === 'ops'
      ? undefined
      : {
          what: `a customer ${what}${owner === user ? ' (their own account)' : ''}`,
          codes: ['FORBIDDEN'],
        };
  }
  if (owner === null || user === owner) return undefined;
  if (user === 'ops') {
    return rule === 'reader'
      ? undefined
      : { what: `an operator ${what}`, codes: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND'] };
  }
  return { what: `${user} ${what} on ${owner}'s account`, codes: ['ACCOUNT_NOT_FOUND'] };
}

/** How a part of a request may be drawn: any form, valid forms only, invalid forms only. */
type PartSpec<T> = { any: fc.Arbitrary<T>; valid?: fc.Arbitrary<T>; bad?: fc.Arbitrary<T> };
type Spec<P> = { [K in keyof P]: PartSpec<P[K]> };

function recordOf<P>(spec: Spec<P>, form: (s: PartSpec<unknown>) => fc.Arbitrary<unknown>) {
  const out: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, part] of Object.entries(spec)) {
    out[name] = form(part as PartSpec<unknown>);
  }
  return fc.record(out) as unknown as fc.Arbitrary<P>;
}

/**
 * Cases of a route that changes state, each refused whatever the draw. Half draw every part
 * from all its forms (often several faults at once; when all came out valid, the part `which`
 * is replaced by an invalid form); half draw only valid parts and then exactly one fault, so
 * faults the service finds late (the key, the funds, the currency, the caller's role) are
 * reached and must be the one named.
 */
function alwaysRefused<P extends Record<string, unknown>>(
  spec: Spec<P>,
  build: (p: P) => FuzzCase,
): fc.Arbitrary<FuzzCase> {
  const faultable = Object.keys(spec).filter((name) => spec[name]?.bad !== undefined);
  const faults = fc.record(
    Object.fromEntries(faultable.map((name) => [name, spec[name]?.bad ?? fc.constant(null)])),
  );
  const refused = (p: P, which: string, f: Record<string, unknown>): FuzzCase => {
    const forced = build({ ...p, [which]: f[which] });
    if (forced.invalid.length === 0) {
      throw new Error(`fuzz model: ${forced.label} stayed valid with an invalid ${which}`);
    }
    return forced;
  };
  const mixed = fc
    .record({ p: recordOf(spec, (s) => s.any), which: fc.constantFrom(...faultable), f: faults })
    .map(({ p, which, f }) => {
      const first = build(p);
      return first.invalid.length > 0 ? first : refused(p, which, f);
    });
  const single = fc
    .record({
      p: recordOf(spec, (s) => s.valid ?? s.any),
      which: fc.constantFrom(...faultable),
      f: faults,
    })
    .map(({ p, which, f }) => refused(p, which, f));
  return fc.oneof(mixed, single);
}

/** A header a route ignores (an Idempotency-Key where none is needed): never a fault. */
const ignored = <T>(part: fc.Arbitrary<Part<T>>): fc.Arbitrary<Part<T>> =>
  part.map((p) => ({ value: p.value }));

export async function fuzzCases(setup: FuzzSetup): Promise<fc.Arbitrary<FuzzCase>> {
  const contract = loadContract();
  const missing = [
    ...unmodelledRoutes(contract.routes),
    ...unmodelledRoutes(setup.routes.filter((r) => r.path !== '*')),
  ];
  if (missing.length > 0) {
    throw new Error(`the fuzzer has no model of ${[...new Set(missing)].join(', ')}`);
  }
  const badTokens = await craftBadTokens(setup.users);
  const auth = authParts(setup.users, badTokens);
  const account = accountParts();
  const ct = contentTypeParts();
  const key = keyParts();
  const transport = transportParts;
  const accounts = setup.accounts;
  const payouts = setup.payouts ?? { alice: null, bob: null };
  const nonPayouts = setup.nonPayouts ?? { alice: null, bob: null };

  // Who may call: valid tokens of `allowed`; the faults: bad tokens and the other users.
  const callers = (...allowed: DemoUser[]): PartSpec<Part<AuthValue>> => {
    const others = USERS.filter((u) => !allowed.includes(u));
    return {
      any: auth.any,
      valid: auth.as(...allowed),
      bad: others.length === 0 ? auth.bad : fc.oneof(auth.bad, auth.as(...others)),
    };
  };
  const own = (id: string): PartSpec<Part<AccountValue>> => ({
    any: account.any(id),
    valid: fc.constant<Part<AccountValue>>({ value: { segment: id, kind: 'own' } }),
    bad: account.bad(id),
  });
  const plain = <T>(arbitrary: fc.Arbitrary<T>): PartSpec<T> => ({ any: arbitrary });

  // A valid key may collide with an earlier fuzz request's key (then 422).
  const mayCollide = (p: Part<KeyValue>): Part<KeyValue> =>
    p.invalid === undefined ? { ...p, codes: ['IDEMPOTENCY_KEY_REUSED'] } : p;

  // ---- withdrawals and deposits ------------------------------------------------------------
  const movement = (type: MovementType): fc.Arbitrary<FuzzCase> => {
    const route = type === 'WITHDRAWAL' ? ROUTES.withdraw : ROUTES.deposit;
    const suffix = type === 'WITHDRAWAL' ? 'withdrawals' : 'deposits';
    const body = movementBodies(type);
    return fc.constantFrom(...OWNERS).chain((owner) => {
      const id = accounts[owner];
      return alwaysRefused(
        {
          auth: type === 'WITHDRAWAL' ? callers(owner) : callers('ops'),
          account: own(id),
          body,
          ct,
          key,
          transport: plain(transport),
        },
        (p) => {
          const keyPart = mayCollide(p.key);
          return finish({
            route,
            method: 'POST',
            path: `/accounts/${p.account.value.segment}/${suffix}`,
            query: '',
            auth: p.auth,
            contentType: p.ct,
            key: keyPart,
            body: p.body,
            ...p.transport,
            mutating: true,
            roleInvalid:
              type === 'WITHDRAWAL'
                ? roleFault('owner', p.auth.value.user, owner, 'withdrawing')
                : roleFault('operator', p.auth.value.user, owner, 'depositing'),
            parts: [p.account, p.body, p.ct, keyPart],
          });
        },
      );
    });
  };

  // A key that moved money, sent again with another request: 422.
  const reuse =
    setup.reusable === null
      ? movement('WITHDRAWAL')
      : fc
          .tuple(fc.integer({ min: 1, max: 500 }), fc.boolean(), transport)
          .map(([delta, withCurrency, t]): FuzzCase => {
            const r = setup.reusable;
            if (r === null) throw new Error('unreachable');
            const body = withCurrency
              ? { amount: r.amount, currency: 'USD' }
              : { amount: r.amount + delta };
            return finish({
              route: r.type === 'WITHDRAWAL' ? ROUTES.withdraw : ROUTES.deposit,
              label: 'POST (a used Idempotency-Key, another request)',
              method: 'POST',
              path: `/accounts/${r.accountId}/${r.type === 'WITHDRAWAL' ? 'withdrawals' : 'deposits'}`,
              query: '',
              auth: {
                value: {
                  header: `Bearer ${setup.users[r.type === 'WITHDRAWAL' ? r.owner : 'ops'].token}`,
                  user: null,
                },
              },
              contentType: { value: 'application/json' },
              key: { value: r.key },
              body: { value: json(body) },
              ...t,
              mutating: true,
              roleInvalid: {
                what: `key ${r.key} reused with ${JSON.stringify(body)}`,
                codes: ['IDEMPOTENCY_KEY_REUSED'],
              },
              parts: [],
            });
          });

  // ---- transfers: the source is the caller's, the destination anyone's -----------------------
  const transfer = fc.constantFrom(...OWNERS).chain((owner) => {
    const from = accounts[owner];
    const to = accounts[other(owner)];
    const body = objectBodies([
      accountIdField('fromAccountId', from, [
        {
          // Also the destination: then "the same account" may be what is answered.
          id: to,
          what: `fromAccountId: ${other(owner)}'s account`,
          codes: ['ACCOUNT_NOT_FOUND', 'FORBIDDEN', 'VALIDATION_ERROR'],
        },
      ]),
      accountIdField('toAccountId', to, [
        { id: from, what: 'a transfer to its own source account', codes: ['VALIDATION_ERROR'] },
      ]),
      amountField(true),
      currencyField(),
    ]);
    return alwaysRefused(
      { auth: callers(owner), body, ct, key, transport: plain(transport) },
      (p) => {
        const keyPart = mayCollide(p.key);
        return finish({
          route: ROUTES.transfer,
          method: 'POST',
          path: '/transfers',
          query: '',
          auth: p.auth,
          contentType: p.ct,
          key: keyPart,
          body: p.body,
          ...p.transport,
          mutating: true,
          roleInvalid: roleFault('owner', p.auth.value.user, owner, 'transferring'),
          parts: [p.body, p.ct, keyPart],
        });
      },
    );
  });

  // ---- payouts: the owner holds funds for the gateway ----------------------------------------
  const payoutBodies = objectBodies([amountField(true), destinationField(), currencyField()]);
  const payout = fc.constantFrom(...OWNERS).chain((owner) => {
    const id = accounts[owner];
    return alwaysRefused(
      {
        auth: callers(owner),
        account: own(id),
        body: payoutBodies,
        ct,
        key,
        transport: plain(transport),
      },
      (p) => {
        const keyPart = mayCollide(p.key);
        return finish({
          route: ROUTES.requestPayout,
          method: 'POST',
          path: `/accounts/${p.account.value.segment}/payouts`,
          query: '',
          auth: p.auth,
          contentType: p.ct,
          key: keyPart,
          body: p.body,
          ...p.transport,
          mutating: true,
          roleInvalid: roleFault('owner', p.auth.value.user, owner, 'paying out'),
          parts: [p.account, p.body, p.ct, keyPart],
        });
      },
    );
  });

  // Now and then a body on a GET (the service ignores it, the emulator may not), or a query
  // parameter no route knows (ignored).
  const getBody = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: hopelessBodies().map(
        (b): Part<BodyValue> => ({ value: b.value, uncertain: 'a body on a GET' }),
      ),
    },
  );
  const noise = fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: printable(1, 10).map((t) => `?x-${encodeURIComponent(t)}=1`) },
  );

  // ---- a payout's status: its owner, or an operator ------------------------------------------
  const payoutRead = fc.constantFrom(...OWNERS).chain((owner) => {
    const others: Array<{ id: string; what: string }> = [];
    const foreign = payouts[other(owner)];
    if (foreign !== null) others.push({ id: foreign, what: `${other(owner)}'s payout` });
    const notPayout = nonPayouts[owner];
    if (notPayout !== null) others.push({ id: notPayout, what: 'a transaction that is no payout' });
    const tx = transactionParts(payouts[owner], others);
    return fc
      .record({
        auth: auth.any,
        account: account.any(accounts[owner]),
        tx: tx.any,
        query: noise,
        body: getBody,
        transport,
      })
      .map(
        (p): FuzzCase =>
          finish({
            route: ROUTES.getPayout,
            method: 'GET',
            path: `/accounts/${p.account.value.segment}/payouts/${p.tx.value.segment}`,
            query: p.query,
            auth: p.auth,
            body: p.body,
            ...p.transport,
            chunked: false,
            mutating: false,
            roleInvalid: roleFault('reader', p.auth.value.user, owner, 'reading a payout'),
            parts: [p.account, p.tx, p.body],
          }),
      );
  });

  // ---- freeze and unfreeze: operators only, a reason required --------------------------------
  const reasonBodies = objectBodies([reasonField()]);
  const control = (frozen: boolean): fc.Arbitrary<FuzzCase> =>
    fc.constantFrom(...OWNERS).chain((owner) => {
      const id = accounts[owner];
      const action = frozen ? 'freeze' : 'unfreeze';
      return alwaysRefused(
        {
          auth: callers('ops'),
          account: own(id),
          body: reasonBodies,
          ct,
          key: plain(ignored(key.any)),
          transport: plain(transport),
        },
        (p) =>
          finish({
            route: frozen ? ROUTES.freeze : ROUTES.unfreeze,
            method: 'POST',
            path: `/accounts/${p.account.value.segment}/${action}`,
            query: '',
            auth: p.auth,
            contentType: p.ct,
            key: p.key,
            body: p.body,
            ...p.transport,
            mutating: true,
            roleInvalid: roleFault('operator', p.auth.value.user, owner, `asking to ${action}`),
            parts: [p.account, p.body, p.ct],
          }),
      );
    });

  // ---- the withdrawals switch: operators only ------------------------------------------------
  const switchRead = fc.record({ auth: auth.any, query: noise, body: getBody, transport }).map(
    (p): FuzzCase =>
      finish({
        route: ROUTES.getWithdrawalSwitch,
        method: 'GET',
        path: '/controls/withdrawals',
        query: p.query,
        auth: p.auth,
        body: p.body,
        ...p.transport,
        chunked: false,
        mutating: false,
        roleInvalid: roleFault(
          'operator',
          p.auth.value.user,
          null,
          'reading the withdrawals switch',
        ),
        parts: [p.body],
      }),
  );
  const switchBodies = objectBodies([pausedField(), reasonField()]);
  const switchSet = alwaysRefused(
    {
      auth: callers('ops'),
      body: switchBodies,
      ct,
      key: plain(ignored(key.any)),
      transport: plain(transport),
    },
    (p) =>
      finish({
        route: ROUTES.setWithdrawalSwitch,
        method: 'POST',
        path: '/controls/withdrawals',
        query: '',
        auth: p.auth,
        contentType: p.ct,
        key: p.key,
        body: p.body,
        ...p.transport,
        mutating: true,
        roleInvalid: roleFault(
          'operator',
          p.auth.value.user,
          null,
          'pausing or resuming withdrawals',
        ),
        parts: [p.body, p.ct],
      }),
  );

  // ---- opening an account: operators only ----------------------------------------------------
  const ownerIds = [setup.users.alice.sub, setup.users.bob.sub];
  const openBodies = openAccountBodies(ownerIds);
  const open = alwaysRefused(
    {
      auth: callers('ops'),
      body: openBodies,
      ct,
      key: plain(ignored(key.any)),
      transport: plain(transport),
    },
    (p) =>
      finish({
        route: ROUTES.openAccount,
        method: 'POST',
        path: '/accounts',
        query: '',
        auth: p.auth,
        contentType: p.ct,
        key: p.key,
        body: p.body,
        ...p.transport,
        mutating: true,
        roleInvalid: roleFault('operator', p.auth.value.user, null, 'opening an account'),
        parts: [p.body, p.ct],
      }),
  );

  // ---- reads of an account -------------------------------------------------------------------
  const read = (route: string, suffix: string): fc.Arbitrary<FuzzCase> =>
    fc.constantFrom(...OWNERS).chain((owner) =>
      fc
        .record({
          auth: auth.any,
          account: account.any(accounts[owner]),
          query:
            suffix === '/transactions'
              ? queryParts(setup.cursor)
              : noise.map((value): Part<QueryValue> => ({ value })),
          body: getBody,
          transport,
        })
        .map(
          (p): FuzzCase =>
            finish({
              route,
              method: 'GET',
              path: `/accounts/${p.account.value.segment}${suffix}`,
              query: p.query.value,
              auth: p.auth,
              body: p.body,
              ...p.transport,
              chunked: false,
              mutating: false,
              roleInvalid: roleFault('reader', p.auth.value.user, owner, 'reading'),
              parts: [p.account, p.query, p.body],
            }),
        ),
    );

  const list = fc.record({ auth: auth.any, query: noise, body: getBody, transport }).map(
    (p): FuzzCase =>
      finish({
        route: ROUTES.listAccounts,
        method: 'GET',
        path: '/accounts',
        query: p.query,
        auth: p.auth,
        body: p.body,
        ...p.transport,
        chunked: false,
        mutating: false,
        parts: [p.body],
      }),
  );

  const health = fc
    .record({
      // No token needed: whatever Authorization is sent is ignored.
      auth: ignored(auth.any),
      transport,
      query: fc.option(printable(1, 20).map(encodeURIComponent), { nil: undefined }),
    })
    .map(
      (p): FuzzCase =>
        finish({
          route: ROUTES.health,
          method: 'GET',
          path: '/health',
          query: p.query === undefined ? '' : `?${p.query}`,
          auth: p.auth,
          ...p.transport,
          chunked: false,
          mutating: false,
          parts: [],
        }),
    );

  // ---- no such route: another method on a known path, or a path that matches none ------------
  const paths = [...new Set(contract.routes.map((r) => r.path))];
  const matchesRoute = routeMatcher(contract.routes);
  const unknown = fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      path: fc.oneof(
        fc.constantFrom(...paths),
        printable(1, 30).map((t) => `/x-${encodeURIComponent(t)}`),
        fc
          .constantFrom(
            'balance',
            'transactions',
            'withdrawals',
            'deposits',
            'payouts',
            'freeze',
            'history',
            'withdraw',
            'WITHDRAWALS',
            'Balance',
          )
          .map((s) => `/accounts/{accountId}/${s}/extra`),
        fc.constantFrom(
          '/ACCOUNTS',
          '/account',
          '/accounts/{accountId}/withdrawals/x',
          '/accounts/{accountId}/payouts/{transactionId}/cancel',
          '/transfers/{transactionId}',
          '/Transfers',
          '/controls',
          '/controls/deposits',
          '/controls/withdrawals/x',
          '/v1/accounts',
          '/health/x',
          '/Health',
        ),
      ),
      // The catch-all needs no token: NOT_FOUND whatever Authorization says.
      auth: ignored(auth.any),
      body: fc.option(hopelessBodies(), { nil: undefined }),
      transport,
    })
    .filter((r) => !matchesRoute(r.method, r.path))
    .map(
      (p): FuzzCase =>
        finish({
          route: null,
          label: `${p.method} (no such route)`,
          method: p.method,
          path: p.path
            .replace('{accountId}', accounts.alice)
            .replace('{transactionId}', payouts.alice ?? '01ARZ3NDEKTSV4RRFFQ69G5FAV'),
          query: '',
          auth: p.auth,
          contentType: { value: 'application/json' },
          body: p.body === undefined ? undefined : { value: p.body.value },
          ...p.transport,
          mutating: false,
          roleInvalid: { what: 'no such route', codes: ['NOT_FOUND'] },
          parts: [],
        }),
    );

  const models: Record<string, { weight: number; arbitrary: fc.Arbitrary<FuzzCase> }> = {
    [ROUTES.health]: { weight: 1, arbitrary: health },
    [ROUTES.listAccounts]: { weight: 1, arbitrary: list },
    [ROUTES.openAccount]: { weight: 2, arbitrary: open },
    [ROUTES.getAccount]: { weight: 2, arbitrary: read(ROUTES.getAccount, '') },
    [ROUTES.getBalance]: { weight: 2, arbitrary: read(ROUTES.getBalance, '/balance') },
    [ROUTES.listTransactions]: {
      weight: 3,
      arbitrary: read(ROUTES.listTransactions, '/transactions'),
    },
    [ROUTES.withdraw]: { weight: 5, arbitrary: movement('WITHDRAWAL') },
    [ROUTES.deposit]: { weight: 4, arbitrary: movement('DEPOSIT') },
    [ROUTES.transfer]: { weight: 5, arbitrary: transfer },
    [ROUTES.requestPayout]: { weight: 5, arbitrary: payout },
    [ROUTES.getPayout]: { weight: 3, arbitrary: payoutRead },
    [ROUTES.freeze]: { weight: 2, arbitrary: control(true) },
    [ROUTES.unfreeze]: { weight: 2, arbitrary: control(false) },
    [ROUTES.getWithdrawalSwitch]: { weight: 1, arbitrary: switchRead },
    [ROUTES.setWithdrawalSwitch]: { weight: 2, arbitrary: switchSet },
  };
  for (const route of MODELLED_ROUTES) {
    if (models[route] === undefined) throw new Error(`fuzz model: ${route} has no arbitrary`);
  }
  return fc.oneof(
    ...Object.values(models),
    { weight: 1, arbitrary: reuse },
    { weight: 2, arbitrary: unknown },
  );
}

/**
 * Whether a request (method, path) reaches one of `routes`. A path parameter matches any one
 * segment: GET /accounts/{accountId}/payouts/extra IS a route, the payout read of "extra".
 */
export function routeMatcher(
  routes: Array<{ method: string; path: string }>,
): (method: string, path: string) => boolean {
  const patterns = routes.map((r) => ({
    method: r.method,
    path: new RegExp(
      `^${r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^/]+\}/g, '[^/]+')}$`,
    ),
  }));
  return (method, path) => patterns.some((r) => r.method === method && r.path.test(path));
}
