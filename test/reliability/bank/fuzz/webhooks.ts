/**
 * The models of the event feed and the webhook routes (issue 22): reading the feed (a customer
 * their own accounts', an operator any), registering, reading, listing and deleting endpoints,
 * an operator's redelivery and an endpoint's delivery attempts.
 *
 * The fuzz registers no endpoint (every registration is refused), so the endpoint ids it sends
 * name none: a well-formed unknown id, or a segment that is no id at all. Registrations,
 * deletions and redeliveries are therefore always refused; reads of the feed and of the
 * caller's own list may be valid (200).
 */
import fc from 'fast-check';
import { EVENT_TYPES } from '../../../../lib/domain/event-ports';
import type { Owner } from '../model';
import { absent, notAString, objectBodies, value, wrong, type FieldModel } from './fields';
import {
  alwaysRefused,
  callers,
  get,
  ignoredKey,
  perOwner,
  plain,
  post,
  postSpec,
  remove,
  roleFault,
  type Kit,
} from './kit';
import { malformedIds, printable, ULID, type BodyValue, type Forms } from './parts';
import { attemptsQuery, eventsParams, joined, type QueryValue } from './reads';
import type { FuzzCase, Part } from './types';

export const EVENT_ROUTES = {
  listEvents: 'GET /events',
  registerEndpoint: 'POST /webhook-endpoints',
  listEndpoints: 'GET /webhook-endpoints',
  getEndpoint: 'GET /webhook-endpoints/{endpointId}',
  deleteEndpoint: 'DELETE /webhook-endpoints/{endpointId}',
  redeliver: 'POST /webhook-endpoints/{endpointId}/redeliveries',
  listAttempts: 'GET /webhook-endpoints/{endpointId}/attempts',
} as const;

const V = 'VALIDATION_ERROR';
const ENDPOINT_NOT_FOUND = ['WEBHOOK_ENDPOINT_NOT_FOUND'];
const SAMPLE_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

// ---- an endpoint id in the path: never one that exists -----------------------------------------

export type EndpointValue = { segment: string };

/** `{endpointId}`: a ULID no endpoint has, or a segment no id is (the router may not route it). */
export function endpointIds(): fc.Arbitrary<Part<EndpointValue>> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.stringMatching(ULID).map(
        (segment): Part<EndpointValue> => ({
          value: { segment },
          invalid: 'no such endpoint',
          codes: ENDPOINT_NOT_FOUND,
        }),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...malformedIds(SAMPLE_ID, 'E'), '%7BendpointId%7D').map(
        (segment): Part<EndpointValue> => ({
          value: { segment },
          invalid: `endpoint id ${JSON.stringify(segment.slice(0, 40))}`,
          codes: [...ENDPOINT_NOT_FOUND, 'NOT_FOUND'],
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: printable(1, 40).map(
        (text): Part<EndpointValue> => ({
          value: { segment: encodeURIComponent(text) },
          invalid: 'endpoint id: random text',
          codes: [...ENDPOINT_NOT_FOUND, 'NOT_FOUND'],
        }),
      ),
    },
  );
}

// ---- a registration's body: url, eventTypes, accountId -----------------------------------------

/** URLs every deployment takes: https to a public name or address. */
export const VALID_URLS = [
  'https://example.com/webhooks',
  'https://hooks.example.org:8443/in?source=ledger#frag',
  'https://8.8.8.8/hook',
  'https://[2001:4860:4860::8888]/hook',
  'HTTPS://Example.COM/Hook',
  `https://example.com/${'p'.repeat(2000)}`,
];

/**
 * URLs no deployment takes: not https, not absolute, with credentials, too long, or an address
 * literal inside (the local stack's own http://127.0.0.1, http://localhost and [::1] excepted,
 * which it allows: those are not drawn).
 */
export const BAD_URLS = [
  '',
  'not a url',
  'example.com/hook',
  '/hook',
  'https://',
  'ftp://example.com/hook',
  'http://example.com/hook',
  'javascript:alert(1)',
  'https://user:secret@example.com/hook',
  'https://:secret@example.com/hook',
  'https://10.0.0.5/hook',
  'https://172.16.0.1/hook',
  'https://192.168.1.1/hook',
  'https://169.254.169.254/latest/meta-data',
  'https://100.64.0.1/hook',
  'https://0.0.0.0/hook',
  'https://127.0.0.2/hook',
  'https://[::]/hook',
  'https://[fe80::1]/hook',
  'https://[fd00::1]/hook',
  'https://[::ffff:10.0.0.1]/hook',
  'https://a.localhost/hook',
  'https://localhost./hook',
  `https://example.com/${'p'.repeat(2100)}`,
];

export function urlField(): FieldModel {
  const name = 'url';
  return {
    name,
    valid: fc.constantFrom(...VALID_URLS).map(value(name)),
    bad: fc.oneof(
      fc.constant(absent(name, true)),
      notAString.map(wrong(name)),
      fc
        .constantFrom(...BAD_URLS)
        .map(wrong(name, [V], (t) => `url ${t.length > 60 ? `of ${t.length - 2} characters` : t}`)),
    ),
  };
}

export function eventTypesField(): FieldModel {
  const name = 'eventTypes';
  return {
    name,
    valid: fc.shuffledSubarray([...EVENT_TYPES], { minLength: 1 }).map(value(name)),
    bad: fc.oneof(
      fc.constant(absent(name, true)),
      fc
        .constantFrom<unknown>(
          [],
          'payout.posted',
          null,
          {},
          ['payout.posted', 'payout.posted'],
          ['PAYOUT.POSTED'],
          ['payout'],
          ['payout.held', 'x.y'],
          [1],
          [null],
          [...EVENT_TYPES, 'payout.held'],
        )
        .map(wrong(name)),
    ),
  };
}

/** `accountId`: none, or `own` (whether the caller may name it is the caller's part); or no id. */
export function scopeField(own: string): FieldModel {
  const name = 'accountId';
  const notFound = ['ACCOUNT_NOT_FOUND'];
  return {
    name,
    valid: fc.oneof(fc.constant(absent(name, false)), fc.constant(value(name)(own))),
    bad: fc.oneof(
      fc.constant(wrong(name, [V], () => 'accountId empty')('')),
      notAString.map(wrong(name)),
      fc
        .stringMatching(ULID)
        .filter((id) => id !== own)
        .map(wrong(name, notFound, () => 'accountId: no such account')),
      fc
        .constantFrom(own.toLowerCase(), `${own}0`, own.slice(1), ` ${own}`, 'x'.repeat(8000))
        .map(wrong(name, notFound, (t) => `accountId ${t.slice(0, 30)} (not an id)`)),
    ),
  };
}

const registrationBodies = (own: string): Forms<BodyValue> =>
  objectBodies([urlField(), eventTypesField(), scopeField(own)]);

export function eventIdField(): FieldModel {
  const name = 'eventId';
  return {
    name,
    valid: fc
      .oneof(
        fc.stringMatching(ULID),
        fc.stringMatching(/^[A-Za-z0-9._:-]{1,300}$/),
        fc.constant('x'.repeat(300)),
      )
      .map(value(name)),
    bad: fc.oneof(
      fc.constant(absent(name, true)),
      notAString.map(wrong(name)),
      fc
        .constantFrom('', ' ', 'a b', 'caf\u00e9', 'a/b', 'a#b', 'x'.repeat(301), `${SAMPLE_ID}\n`)
        .map(wrong(name, [V], (t) => `eventId ${t.length > 40 ? `of ${t.length - 2}` : t}`)),
    ),
  };
}

// ---- the models ---------------------------------------------------------------------------------

/** `accountId` of a feed read: none, whose it is (to judge the caller by), or none's. */
interface FeedScope {
  param?: Part<string>;
  owner: Owner | null;
}

function feedScopes(kit: Kit, owner: Owner): fc.Arbitrary<FeedScope> {
  const id = kit.accounts[owner];
  const none = (segment: string, what: string, codes: string[]): FeedScope => ({
    param: { value: `accountId=${segment}`, invalid: what, codes },
    owner: null,
  });
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant<FeedScope>({ owner: null }) },
    {
      weight: 4,
      arbitrary: fc.constant<FeedScope>({ param: { value: `accountId=${id}` }, owner }),
    },
    {
      weight: 1,
      arbitrary: fc
        .stringMatching(ULID)
        .filter((other) => !Object.values(kit.accounts).includes(other))
        .map((other) => none(other, 'accountId: no such account', ['ACCOUNT_NOT_FOUND'])),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('', ...malformedIds(id, 'A'))
        .map((segment) =>
          none(segment, `accountId=${segment.slice(0, 30)} (not an id)`, ['ACCOUNT_NOT_FOUND', V]),
        ),
    },
  );
}

/** `GET /events`: a customer reads their own accounts' events (another's is not found). */
function eventFeed(kit: Kit): fc.Arbitrary<FuzzCase> {
  return perOwner((owner) =>
    fc
      .record({
        auth: kit.auth.any,
        scope: feedScopes(kit, owner),
        params: eventsParams(kit.now),
        body: kit.getBody,
        transport: kit.transport,
      })
      .map((p): FuzzCase => {
        const query = joined([...p.params, p.scope.param]);
        const role = roleFault('reader', p.auth.value.user, p.scope.owner, 'reading events');
        return get(EVENT_ROUTES.listEvents, '/events', query.value, p, role, [query, p.body]);
      }),
  );
}

/** A registration, always refused (a success would register an endpoint that receives events). */
function register(kit: Kit): fc.Arbitrary<FuzzCase> {
  return perOwner((owner) => {
    const own = kit.accounts[owner];
    const auth = callers(kit, 'alice', 'bob', 'ops');
    const spec = postSpec(kit, auth, registrationBodies(own), ignoredKey(kit));
    return alwaysRefused(spec, (p) => {
      // A body scoped to the owner's account: the caller must be its owner or an operator.
      const scoped = p.body.value?.includes(`"accountId":${JSON.stringify(own)}`) === true;
      const role = roleFault(
        'reader',
        p.auth.value.user,
        scoped ? owner : null,
        'registering an endpoint',
      );
      return post(EVENT_ROUTES.registerEndpoint, '/webhook-endpoints', p, role, [p.body, p.ct]);
    });
  });
}

/** The caller's own endpoints: any valid caller is answered 200. */
function listEndpoints(kit: Kit): fc.Arbitrary<FuzzCase> {
  return fc
    .record({ auth: kit.auth.any, query: kit.noise, body: kit.getBody, transport: kit.transport })
    .map((p) =>
      get(EVENT_ROUTES.listEndpoints, '/webhook-endpoints', p.query, p, undefined, [p.body]),
    );
}

/** A read of one endpoint (or its attempts) by any caller: never found. */
function endpointRead(
  kit: Kit,
  route: string,
  suffix: string,
  query: fc.Arbitrary<Part<QueryValue>> = kit.noise.map((v): Part<QueryValue> => ({ value: v })),
): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      auth: kit.auth.any,
      endpoint: endpointIds(),
      query,
      body: kit.getBody,
      transport: kit.transport,
    })
    .map((p): FuzzCase => {
      const path = `/webhook-endpoints/${p.endpoint.value.segment}${suffix}`;
      return get(route, path, p.query.value, p, undefined, [p.endpoint, p.query, p.body]);
    });
}

/** A deletion by any caller, of an endpoint that is not there: always refused. */
function deletion(kit: Kit): fc.Arbitrary<FuzzCase> {
  const ids = endpointIds();
  const spec = {
    auth: callers(kit, 'alice', 'bob', 'ops'),
    endpoint: { any: ids, bad: ids },
    transport: plain(kit.transport),
  };
  return alwaysRefused(spec, (p) => {
    const path = `/webhook-endpoints/${p.endpoint.value.segment}`;
    return remove(EVENT_ROUTES.deleteEndpoint, path, p, undefined, [p.endpoint]);
  });
}

/** An operator's redelivery, always refused (a customer is FORBIDDEN before anything else). */
function redelivery(kit: Kit): fc.Arbitrary<FuzzCase> {
  const ids = endpointIds();
  const spec = {
    ...postSpec(kit, callers(kit, 'ops'), objectBodies([eventIdField()]), ignoredKey(kit)),
    endpoint: { any: ids, bad: ids },
  };
  return alwaysRefused(spec, (p) => {
    const role = roleFault('operator', p.auth.value.user, null, 'redelivering an event');
    const path = `/webhook-endpoints/${p.endpoint.value.segment}/redeliveries`;
    return post(EVENT_ROUTES.redeliver, path, p, role, [p.endpoint, p.body, p.ct]);
  });
}

type Weighted = { weight: number; arbitrary: fc.Arbitrary<FuzzCase> };

/** Each route's cases, weighted by how much there is to get wrong on it. */
export function eventRouteModels(kit: Kit): Record<string, Weighted> {
  const R = EVENT_ROUTES;
  return {
    [R.listEvents]: { weight: 4, arbitrary: eventFeed(kit) },
    [R.registerEndpoint]: { weight: 4, arbitrary: register(kit) },
    [R.listEndpoints]: { weight: 1, arbitrary: listEndpoints(kit) },
    [R.getEndpoint]: { weight: 2, arbitrary: endpointRead(kit, R.getEndpoint, '') },
    [R.deleteEndpoint]: { weight: 2, arbitrary: deletion(kit) },
    [R.redeliver]: { weight: 3, arbitrary: redelivery(kit) },
    [R.listAttempts]: {
      weight: 2,
      arbitrary: endpointRead(kit, R.listAttempts, '/attempts', attemptsQuery(kit.setup.cursor)),
    },
  };
}
