/**
 * One model per route of openapi.yaml: which identities, path parameters, headers and bodies
 * the route accepts and what each fault is answered with. A request to a route that changes
 * state always carries at least one definitely invalid part (when every part came out valid,
 * one is replaced by an invalid one), so none may succeed. Reads may be valid: then 200.
 */
import fc from 'fast-check';
import type { Owner } from '../model';
import { loadContract, routeKey, type Contract } from './contract';
import {
  accountIdField,
  amountField,
  atLeastOneLimit,
  BEYOND_FUNDS,
  BEYOND_ORIGINAL,
  booleanField,
  currencyField,
  destinationField,
  detailsFields,
  feeRuleField,
  limitAmountField,
  objectBodies,
  reasonField,
  renderBody,
  timezoneField,
  transactionParts,
} from './fields';
import {
  accountPostSpec,
  alwaysRefused,
  callers,
  get,
  ignored,
  ignoredKey,
  kitOf,
  mayCollide,
  other,
  OWNERS,
  perOwner,
  post,
  postSpec,
  put,
  roleFault,
  type Kit,
} from './kit';
import {
  finish,
  hopelessBodies,
  json,
  movementBodies,
  openAccountBodies,
  printable,
  type BodyValue,
  type Forms,
} from './parts';
import { balanceQuery, historyQuery, periodParts, statementQuery, type QueryValue } from './reads';
import type { FuzzCase, FuzzSetup, Part } from './types';
import { EVENT_ROUTES, eventRouteModels } from './webhooks';

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
  getStatement: 'GET /accounts/{accountId}/statements/{period}',
  freeze: 'POST /accounts/{accountId}/freeze',
  unfreeze: 'POST /accounts/{accountId}/unfreeze',
  getWithdrawalSwitch: 'GET /controls/withdrawals',
  ledgerSummary: 'GET /ledger/summary',
  setWithdrawalSwitch: 'POST /controls/withdrawals',
  getFees: 'GET /accounts/{accountId}/fees',
  setFees: 'PUT /accounts/{accountId}/fees',
  getLimits: 'GET /accounts/{accountId}/limits',
  setLimits: 'PUT /accounts/{accountId}/limits',
  reverseTransaction: 'POST /transactions/{transactionId}/reversals',
  ...EVENT_ROUTES,
} as const;

export const MODELLED_ROUTES: ReadonlySet<string> = new Set(Object.values(ROUTES));

/** Routes of the contract (openapi.yaml) or of the deployment (serverless.yml) with no model. */
export function unmodelledRoutes(routes: Array<{ method: string; path: string }>): string[] {
  return routes.map((r) => routeKey(r.method, r.path)).filter((key) => !MODELLED_ROUTES.has(key));
}

// ---- movements on one account -----------------------------------------------------------------

/** The movements on one account: the route, its path's last segment, and who may start one. */
const ACCOUNT_MOVEMENTS = {
  WITHDRAWAL: { route: ROUTES.withdraw, suffix: 'withdrawals', by: 'owner', doing: 'withdrawing' },
  DEPOSIT: { route: ROUTES.deposit, suffix: 'deposits', by: 'operator', doing: 'depositing' },
} as const;

/** A withdrawal's or deposit's bodies: the hand-made ones, and ones built field by field with details. */
function accountMovementBodies(type: keyof typeof ACCOUNT_MOVEMENTS): Forms<BodyValue> {
  const made = movementBodies(type);
  const tooMuch = type === 'WITHDRAWAL' ? { tooMuch: BEYOND_FUNDS } : {};
  const fields = [amountField(tooMuch), currencyField(), ...detailsFields()];
  const built = objectBodies(fields);
  return {
    any: fc.oneof(made.any, built.any),
    valid: fc.oneof(made.valid, built.valid),
    bad: fc.oneof(made.bad, built.bad),
  };
}

function movement(kit: Kit, type: keyof typeof ACCOUNT_MOVEMENTS): fc.Arbitrary<FuzzCase> {
  const { route, suffix, by, doing } = ACCOUNT_MOVEMENTS[type];
  const body = accountMovementBodies(type);
  return perOwner((owner) => {
    const id = kit.accounts[owner];
    const auth = by === 'owner' ? callers(kit, owner) : callers(kit, 'ops');
    const spec = accountPostSpec(kit, auth, id, body);
    return alwaysRefused(spec, (p) => {
      const key = mayCollide(p.key);
      const role = roleFault(by, p.auth.value.user, owner, doing);
      const path = `/accounts/${p.account.value.segment}/${suffix}`;
      return post(route, path, { ...p, key }, role, [p.account, p.body, p.ct, key]);
    });
  });
}

/** A key that moved money, sent again with another request: 422. */
function reuse(kit: Kit): fc.Arbitrary<FuzzCase> {
  const r = kit.setup.reusable;
  if (r === null) return movement(kit, 'WITHDRAWAL');
  const withdrawal = r.type === 'WITHDRAWAL';
  return fc
    .tuple(
      fc.integer({ min: 1, max: 500 }),
      fc.constantFrom('amount', 'currency', 'reference', 'metadata'),
      kit.transport,
    )
    .map(([delta, changed, t]): FuzzCase => {
      // The same key with another amount, or the same amount and one more field: its fingerprint.
      const more = {
        amount: { amount: r.amount + delta },
        currency: { currency: 'USD' },
        reference: { reference: `ref-${delta}` },
        metadata: { metadata: { delta: String(delta) } },
      }[changed];
      const body = { amount: r.amount, ...more };
      return finish({
        route: withdrawal ? ROUTES.withdraw : ROUTES.deposit,
        label: 'POST (a used Idempotency-Key, another request)',
        method: 'POST',
        path: `/accounts/${r.accountId}/${withdrawal ? 'withdrawals' : 'deposits'}`,
        query: '',
        auth: {
          value: {
            header: `Bearer ${kit.setup.users[withdrawal ? r.owner : 'ops'].token}`,
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
}

// ---- transfers: the source is the caller's, the destination anyone's ---------------------------

function transferBodies(from: string, to: string, owner: Owner) {
  return objectBodies([
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
    amountField({ tooMuch: BEYOND_FUNDS }),
    currencyField(),
    ...detailsFields(),
  ]);
}

function transfer(kit: Kit): fc.Arbitrary<FuzzCase> {
  return perOwner((owner) => {
    const body = transferBodies(kit.accounts[owner], kit.accounts[other(owner)], owner);
    const spec = postSpec(kit, callers(kit, owner), body);
    return alwaysRefused(spec, (p) => {
      const key = mayCollide(p.key);
      const role = roleFault('owner', p.auth.value.user, owner, 'transferring');
      return post(ROUTES.transfer, '/transfers', { ...p, key }, role, [p.body, p.ct, key]);
    });
  });
}

// ---- payouts: the owner holds funds for the gateway, the owner or an operator reads them --------

function payout(kit: Kit): fc.Arbitrary<FuzzCase> {
  const body = objectBodies([
    amountField({ tooMuch: BEYOND_FUNDS }),
    destinationField(),
    currencyField(),
    ...detailsFields(),
  ]);
  return perOwner((owner) => {
    const spec = accountPostSpec(kit, callers(kit, owner), kit.accounts[owner], body);
    return alwaysRefused(spec, (p) => {
      const key = mayCollide(p.key);
      const role = roleFault('owner', p.auth.value.user, owner, 'paying out');
      const path = `/accounts/${p.account.value.segment}/payouts`;
      return post(ROUTES.requestPayout, path, { ...p, key }, role, [p.account, p.body, p.ct, key]);
    });
  });
}

function payoutRead(kit: Kit): fc.Arbitrary<FuzzCase> {
  return perOwner((owner) => {
    const others: Array<{ id: string; what: string }> = [];
    const foreign = kit.payouts[other(owner)];
    if (foreign !== null) others.push({ id: foreign, what: `${other(owner)}'s payout` });
    const notPayout = kit.nonPayouts[owner];
    if (notPayout !== null) others.push({ id: notPayout, what: 'a transaction that is no payout' });
    const tx = transactionParts(kit.payouts[owner], others);
    return fc
      .record({
        auth: kit.auth.any,
        account: kit.account.any(kit.accounts[owner]),
        tx: tx.any,
        query: kit.noise,
        body: kit.getBody,
        transport: kit.transport,
      })
      .map((p): FuzzCase => {
        const path = `/accounts/${p.account.value.segment}/payouts/${p.tx.value.segment}`;
        const role = roleFault('reader', p.auth.value.user, owner, 'reading a payout');
        return get(ROUTES.getPayout, path, p.query, p, role, [p.account, p.tx, p.body]);
      });
  });
}

// ---- operators' controls: freeze and unfreeze (a reason required), the withdrawals switch ------

function control(kit: Kit, frozen: boolean): fc.Arbitrary<FuzzCase> {
  const body = objectBodies([reasonField()]);
  const action = frozen ? 'freeze' : 'unfreeze';
  return perOwner((owner) => {
    const auth = callers(kit, 'ops');
    const spec = accountPostSpec(kit, auth, kit.accounts[owner], body, ignoredKey(kit));
    return alwaysRefused(spec, (p) => {
      const role = roleFault('operator', p.auth.value.user, owner, `asking to ${action}`);
      const path = `/accounts/${p.account.value.segment}/${action}`;
      const route = frozen ? ROUTES.freeze : ROUTES.unfreeze;
      return post(route, path, p, role, [p.account, p.body, p.ct]);
    });
  });
}

/** An operator's read with no parameters: refused for anyone but an operator. */
function operatorRead(kit: Kit, route: string, path: string, doing: string) {
  return fc
    .record({ auth: kit.auth.any, query: kit.noise, body: kit.getBody, transport: kit.transport })
    .map((p): FuzzCase => {
      const role = roleFault('operator', p.auth.value.user, null, doing);
      return get(route, path, p.query, p, role, [p.body]);
    });
}

function switchSet(kit: Kit): fc.Arbitrary<FuzzCase> {
  const body = objectBodies([booleanField('paused', true), reasonField()]);
  const spec = postSpec(kit, callers(kit, 'ops'), body, ignoredKey(kit));
  return alwaysRefused(spec, (p) => {
    const role = roleFault('operator', p.auth.value.user, null, 'pausing or resuming withdrawals');
    return post(ROUTES.setWithdrawalSwitch, '/controls/withdrawals', p, role, [p.body, p.ct]);
  });
}

// ---- fees: the schedule read by the owner or an operator, replaced by operators -------------

/** A PUT of an account's whole fee schedule, always refused (a fee changed would move money). */
function feesSet(kit: Kit): fc.Arbitrary<FuzzCase> {
  const body = objectBodies([feeRuleField('WITHDRAWAL'), feeRuleField('PAYOUT'), reasonField()]);
  const ofOwner = (owner: Owner): fc.Arbitrary<FuzzCase> => {
    const auth = callers(kit, 'ops');
    const spec = accountPostSpec(kit, auth, kit.accounts[owner], body, ignoredKey(kit));
    return alwaysRefused(spec, (p) => {
      const role = roleFault('operator', p.auth.value.user, owner, 'setting fees');
      const path = `/accounts/${p.account.value.segment}/fees`;
      return put(ROUTES.setFees, path, p, role, [p.account, p.body, p.ct]);
    });
  };
  return perOwner(ofOwner);
}

// ---- limits: read by the owner or an operator, changed by operators -------------------------

/**
 * A limits change's bodies: the fields each valid or not, at least one limit among them, and now
 * and then a body with a reason alone (no limit to change).
 */
function limitsBodies(): Forms<BodyValue> {
  const fields = [
    limitAmountField('daily'),
    limitAmountField('perMovement'),
    timezoneField(),
    reasonField(),
  ];
  const built = objectBodies(fields, [atLeastOneLimit]);
  const reasonOnly = reasonField().valid.map((reason) => renderBody([reason], [atLeastOneLimit]));
  const bad = fc.oneof({ weight: 6, arbitrary: built.bad }, { weight: 1, arbitrary: reasonOnly });
  return {
    any: fc.oneof({ weight: 6, arbitrary: built.any }, { weight: 1, arbitrary: reasonOnly }),
    valid: built.valid,
    bad,
  };
}

/** A PUT of an account's limits, always refused (a lower limit would refuse the run's movements). */
function limitsSet(kit: Kit): fc.Arbitrary<FuzzCase> {
  const body = limitsBodies();
  return perOwner((owner) => {
    const auth = callers(kit, 'ops');
    const spec = accountPostSpec(kit, auth, kit.accounts[owner], body, ignoredKey(kit));
    return alwaysRefused(spec, (p) => {
      const role = roleFault('operator', p.auth.value.user, owner, 'setting limits');
      const path = `/accounts/${p.account.value.segment}/limits`;
      return put(ROUTES.setLimits, path, p, role, [p.account, p.body, p.ct]);
    });
  });
}

// ---- reversals: operators reverse a posted movement by its transaction id ---------------------

/** Movements of the fuzz's accounts, to name in a reversal's path. */
function reversibleIds(kit: Kit): string[] {
  const ids = OWNERS.flatMap((owner) => [kit.nonPayouts[owner], kit.payouts[owner]]);
  return ids.filter((id): id is string => id !== null);
}

/**
 * A reversal, always refused. Its transaction is now and then a real one, so that the faults the
 * service finds late (the key, the amount beyond the original) are reached; such an id may still
 * be answered as not in the statement yet, or as a movement that is not reversible.
 */
function reversal(kit: Kit): fc.Arbitrary<FuzzCase> {
  const body = objectBodies([
    amountField({ tooMuch: BEYOND_ORIGINAL, optional: true }),
    reasonField(),
    booleanField('allowNegative', false),
  ]);
  const lookup = {
    noun: 'transaction',
    missing: ['TRANSACTION_NOT_FOUND'],
    ownCodes: ['TRANSACTION_NOT_FOUND', 'NOT_REVERSIBLE'],
  };
  const of = (id: string | null): fc.Arbitrary<FuzzCase> => {
    const spec = {
      ...postSpec(kit, callers(kit, 'ops'), body),
      tx: transactionParts(id, [], lookup),
    };
    return alwaysRefused(spec, (p) => {
      const key = mayCollide(p.key);
      const role = roleFault('operator', p.auth.value.user, null, 'reversing a movement');
      const path = `/transactions/${p.tx.value.segment}/reversals`;
      return post(ROUTES.reverseTransaction, path, { ...p, key }, role, [p.tx, p.body, p.ct, key]);
    });
  };
  const ids = reversibleIds(kit);
  return ids.length > 0 ? fc.oneof(...ids.map(of)) : of(null);
}

// ---- accounts: opening one (operators only), reading one, listing them, and /health -----------

function openAccount(kit: Kit): fc.Arbitrary<FuzzCase> {
  const ownerIds = [kit.setup.users.alice.sub, kit.setup.users.bob.sub];
  const spec = postSpec(kit, callers(kit, 'ops'), openAccountBodies(ownerIds), ignoredKey(kit));
  return alwaysRefused(spec, (p) => {
    const role = roleFault('operator', p.auth.value.user, null, 'opening an account');
    return post(ROUTES.openAccount, '/accounts', p, role, [p.body, p.ct]);
  });
}

/** A read of one account, by its owner or an operator; its query a parameter no route knows. */
function accountRead(
  kit: Kit,
  route: string,
  suffix: string,
  query: fc.Arbitrary<Part<QueryValue>> = kit.noise.map((value): Part<QueryValue> => ({ value })),
): fc.Arbitrary<FuzzCase> {
  return perOwner((owner) =>
    fc
      .record({
        auth: kit.auth.any,
        account: kit.account.any(kit.accounts[owner]),
        query,
        body: kit.getBody,
        transport: kit.transport,
      })
      .map((p): FuzzCase => {
        const path = `/accounts/${p.account.value.segment}${suffix}`;
        const role = roleFault('reader', p.auth.value.user, owner, 'reading');
        return get(route, path, p.query.value, p, role, [p.account, p.query, p.body]);
      }),
  );
}

/** A monthly statement, read like the account: its period and its page (limit, cursor). */
function statementRead(kit: Kit): fc.Arbitrary<FuzzCase> {
  const period = periodParts(kit.now);
  const query = statementQuery(kit.setup.cursor);
  return perOwner((owner) =>
    fc
      .record({
        auth: kit.auth.any,
        account: kit.account.any(kit.accounts[owner]),
        period: period.any,
        query,
        body: kit.getBody,
        transport: kit.transport,
      })
      .map((p): FuzzCase => {
        const path = `/accounts/${p.account.value.segment}/statements/${p.period.value.segment}`;
        const role = roleFault('reader', p.auth.value.user, owner, 'reading a statement');
        const parts = [p.account, p.period, p.query, p.body];
        return get(ROUTES.getStatement, path, p.query.value, p, role, parts);
      }),
  );
}

function listAccounts(kit: Kit): fc.Arbitrary<FuzzCase> {
  return fc
    .record({ auth: kit.auth.any, query: kit.noise, body: kit.getBody, transport: kit.transport })
    .map((p) => get(ROUTES.listAccounts, '/accounts', p.query, p, undefined, [p.body]));
}

function health(kit: Kit): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      // No token needed: whatever Authorization is sent is ignored.
      auth: ignored(kit.auth.any),
      transport: kit.transport,
      query: fc.option(printable(1, 20).map(encodeURIComponent), { nil: undefined }),
    })
    .map((p) =>
      get(ROUTES.health, '/health', p.query === undefined ? '' : `?${p.query}`, p, undefined, []),
    );
}

// ---- no such route: another method on a known path, or a path that matches none --------------

/** Paths that look like routes and are none. */
const NEAR_MISSES = [
  '/ACCOUNTS',
  '/account',
  '/accounts/{accountId}/withdrawals/x',
  '/accounts/{accountId}/payouts/{transactionId}/cancel',
  '/transfers/{transactionId}',
  '/Transfers',
  '/transactions/{transactionId}',
  '/transactions/{transactionId}/reversals/x',
  '/transactions/{transactionId}/reversal',
  '/transactions',
  '/accounts/{accountId}/statements',
  '/accounts/{accountId}/statement/2026-01',
  '/accounts/{accountId}/statements/2026-01/x',
  '/accounts/{accountId}/statements/2026-01/csv',
  '/controls',
  '/controls/deposits',
  '/controls/withdrawals/x',
  '/v1/accounts',
  '/health/x',
  '/Health',
  '/event',
  '/events/{endpointId}',
  '/webhooks',
  '/webhook-endpoints/{endpointId}/redeliveries/x',
  '/webhook-endpoints/{endpointId}/redelivery',
  '/webhook-endpoints/{endpointId}/attempts/x',
];
const ACCOUNT_SUFFIXES = [
  'balance',
  'transactions',
  'withdrawals',
  'deposits',
  'payouts',
  'freeze',
  'fees',
  'limits',
  'statements',
  'history',
  'withdraw',
  'WITHDRAWALS',
  'Balance',
];

function unknownRoute(kit: Kit): fc.Arbitrary<FuzzCase> {
  const paths = [...new Set(kit.contract.routes.map((r) => r.path))];
  const matchesRoute = routeMatcher(kit.contract.routes);
  return fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      path: fc.oneof(
        fc.constantFrom(...paths),
        printable(1, 30).map((t) => `/x-${encodeURIComponent(t)}`),
        fc.constantFrom(...ACCOUNT_SUFFIXES).map((s) => `/accounts/{accountId}/${s}/extra`),
        fc.constantFrom(...NEAR_MISSES),
      ),
      // The catch-all needs no token: NOT_FOUND whatever Authorization says.
      auth: ignored(kit.auth.any),
      body: fc.option(hopelessBodies(), { nil: undefined }),
      transport: kit.transport,
    })
    .filter((r) => !matchesRoute(r.method, r.path))
    .map(
      (p): FuzzCase =>
        finish({
          route: null,
          label: `${p.method} (no such route)`,
          method: p.method,
          path: p.path
            .replace('{accountId}', kit.accounts.alice)
            .replace('{transactionId}', kit.payouts.alice ?? '01ARZ3NDEKTSV4RRFFQ69G5FAV')
            .replace('{period}', '2026-01')
            .replace('{endpointId}', '01ARZ3NDEKTSV4RRFFQ69G5FAV'),
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
}

// ---- all of them ---------------------------------------------------------------------------------

type Weighted = { weight: number; arbitrary: fc.Arbitrary<FuzzCase> };

/** Each modelled route's cases, weighted by how much there is to get wrong on it. */
function routeModels(kit: Kit): Record<string, Weighted> {
  return {
    [ROUTES.health]: { weight: 1, arbitrary: health(kit) },
    [ROUTES.listAccounts]: { weight: 1, arbitrary: listAccounts(kit) },
    [ROUTES.openAccount]: { weight: 2, arbitrary: openAccount(kit) },
    [ROUTES.getAccount]: { weight: 2, arbitrary: accountRead(kit, ROUTES.getAccount, '') },
    [ROUTES.getBalance]: {
      weight: 3,
      arbitrary: accountRead(kit, ROUTES.getBalance, '/balance', balanceQuery(kit.now)),
    },
    [ROUTES.listTransactions]: {
      weight: 5,
      arbitrary: accountRead(
        kit,
        ROUTES.listTransactions,
        '/transactions',
        historyQuery(kit.setup.cursor, kit.now),
      ),
    },
    [ROUTES.getStatement]: { weight: 4, arbitrary: statementRead(kit) },
    [ROUTES.withdraw]: { weight: 5, arbitrary: movement(kit, 'WITHDRAWAL') },
    [ROUTES.deposit]: { weight: 4, arbitrary: movement(kit, 'DEPOSIT') },
    [ROUTES.transfer]: { weight: 5, arbitrary: transfer(kit) },
    [ROUTES.requestPayout]: { weight: 5, arbitrary: payout(kit) },
    [ROUTES.getPayout]: { weight: 3, arbitrary: payoutRead(kit) },
    [ROUTES.freeze]: { weight: 2, arbitrary: control(kit, true) },
    [ROUTES.unfreeze]: { weight: 2, arbitrary: control(kit, false) },
    [ROUTES.getWithdrawalSwitch]: {
      weight: 1,
      arbitrary: operatorRead(
        kit,
        ROUTES.getWithdrawalSwitch,
        '/controls/withdrawals',
        'reading the withdrawals switch',
      ),
    },
    [ROUTES.ledgerSummary]: {
      weight: 1,
      arbitrary: operatorRead(kit, ROUTES.ledgerSummary, '/ledger/summary', 'reading the ledger'),
    },
    [ROUTES.setWithdrawalSwitch]: { weight: 2, arbitrary: switchSet(kit) },
    [ROUTES.getFees]: { weight: 2, arbitrary: accountRead(kit, ROUTES.getFees, '/fees') },
    [ROUTES.setFees]: { weight: 3, arbitrary: feesSet(kit) },
    [ROUTES.getLimits]: { weight: 2, arbitrary: accountRead(kit, ROUTES.getLimits, '/limits') },
    [ROUTES.setLimits]: { weight: 3, arbitrary: limitsSet(kit) },
    [ROUTES.reverseTransaction]: { weight: 4, arbitrary: reversal(kit) },
    ...eventRouteModels(kit),
  };
}

/** Every route of the contract and of the deployment must have a model. */
function assertEveryRouteModelled(contract: Contract, setup: FuzzSetup): void {
  const missing = [
    ...unmodelledRoutes(contract.routes),
    ...unmodelledRoutes(setup.routes.filter((r) => r.path !== '*')),
  ];
  if (missing.length > 0) {
    throw new Error(`the fuzzer has no model of ${[...new Set(missing)].join(', ')}`);
  }
}

export async function fuzzCases(setup: FuzzSetup): Promise<fc.Arbitrary<FuzzCase>> {
  const { kit, models } = await modelsOf(setup);
  return fc.oneof(
    ...Object.values(models),
    { weight: 1, arbitrary: reuse(kit) },
    { weight: 2, arbitrary: unknownRoute(kit) },
  );
}

/** Each route's own cases, apart: a sample of one route does not move when a route is added. */
export async function fuzzCasesByRoute(
  setup: FuzzSetup,
): Promise<Record<string, fc.Arbitrary<FuzzCase>>> {
  const { models } = await modelsOf(setup);
  return Object.fromEntries(Object.entries(models).map(([route, m]) => [route, m.arbitrary]));
}

async function modelsOf(setup: FuzzSetup) {
  const contract = loadContract();
  assertEveryRouteModelled(contract, setup);
  const kit = await kitOf(setup, contract);
  const models = routeModels(kit);
  for (const route of MODELLED_ROUTES) {
    if (models[route] === undefined) throw new Error(`fuzz model: ${route} has no arbitrary`);
  }
  return { kit, models };
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
