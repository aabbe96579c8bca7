/**
 * What every route model of routes.ts is built from: the parts drawn once per fuzz (tokens,
 * path parameters, headers, transport details), how a part may be drawn (any form, valid only,
 * invalid only), who may call a route, and the two shapes of a request (a POST or PUT that must
 * be refused, a GET that may succeed).
 */
import fc from 'fast-check';
import type { Owner } from '../model';
import type { DemoUser } from '../stack';
import type { Contract } from './contract';
import {
  accountParts,
  authParts,
  contentTypeParts,
  craftBadTokens,
  finish,
  hopelessBodies,
  keyParts,
  printable,
  transportParts,
  type AccountValue,
  type AuthValue,
  type BodyValue,
  type ContentTypeValue,
  type Draft,
  type KeyValue,
  type Transport,
} from './parts';
import { dayOf } from './reads';
import type { FuzzCase, FuzzSetup, Part } from './types';

export const OWNERS: Owner[] = ['alice', 'bob'];
const USERS: DemoUser[] = ['alice', 'bob', 'ops'];
export const other = (owner: Owner): Owner => (owner === 'alice' ? 'bob' : 'alice');

/** A route's cases on each customer's account, each built once: building parts per draw is slow. */
export const perOwner = <T>(build: (owner: Owner) => fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof(...OWNERS.map(build));

export interface Kit {
  setup: FuzzSetup;
  contract: Contract;
  accounts: Record<Owner, string>;
  payouts: Record<Owner, string | null>;
  nonPayouts: Record<Owner, string | null>;
  auth: ReturnType<typeof authParts>;
  account: ReturnType<typeof accountParts>;
  ct: ReturnType<typeof contentTypeParts>;
  key: ReturnType<typeof keyParts>;
  transport: fc.Arbitrary<Transport>;
  /** Now and then a body on a GET (the service ignores it, the emulator may not). */
  getBody: fc.Arbitrary<Part<BodyValue> | undefined>;
  /** Now and then a query parameter no route knows (ignored). */
  noise: fc.Arbitrary<string>;
  /** What instants and months are drawn around: the fuzz's day (UTC). */
  now: Date;
}

export async function kitOf(setup: FuzzSetup, contract: Contract): Promise<Kit> {
  const badTokens = await craftBadTokens(setup.users);
  return {
    setup,
    contract,
    accounts: setup.accounts,
    payouts: setup.payouts ?? { alice: null, bob: null },
    nonPayouts: setup.nonPayouts ?? { alice: null, bob: null },
    auth: authParts(setup.users, badTokens),
    account: accountParts(),
    ct: contentTypeParts(),
    key: keyParts(),
    transport: transportParts,
    now: dayOf(setup.now ?? new Date()),
    getBody: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: hopelessBodies().map(
          (b): Part<BodyValue> => ({ value: b.value, uncertain: 'a body on a GET' }),
        ),
      },
    ),
    noise: fc.oneof(
      { weight: 3, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: printable(1, 10).map((t) => `?x-${encodeURIComponent(t)}=1`) },
    ),
  };
}

/** How a part of a request may be drawn: any form, valid forms only, invalid forms only. */
export type PartSpec<T> = { any: fc.Arbitrary<T>; valid?: fc.Arbitrary<T>; bad?: fc.Arbitrary<T> };
export type Spec<P> = { [K in keyof P]: PartSpec<P[K]> };

export const plain = <T>(arbitrary: fc.Arbitrary<T>): PartSpec<T> => ({ any: arbitrary });

/** Who may call: valid tokens of `allowed`; the faults: bad tokens and the other users. */
export function callers(kit: Kit, ...allowed: DemoUser[]): PartSpec<Part<AuthValue>> {
  const others = USERS.filter((u) => !allowed.includes(u));
  return {
    any: kit.auth.any,
    valid: kit.auth.as(...allowed),
    bad: others.length === 0 ? kit.auth.bad : fc.oneof(kit.auth.bad, kit.auth.as(...others)),
  };
}

/** The account `id` in the path: itself, or a fault in its place. */
export function own(kit: Kit, id: string): PartSpec<Part<AccountValue>> {
  return {
    any: kit.account.any(id),
    valid: fc.constant<Part<AccountValue>>({ value: { segment: id, kind: 'own' } }),
    bad: kit.account.bad(id),
  };
}

/** Parts a POST is drawn from, in this order: caller, body, Content-Type, key, transport. */
export function postSpec(
  kit: Kit,
  auth: PartSpec<Part<AuthValue>>,
  body: PartSpec<Part<BodyValue>>,
  key: PartSpec<Part<KeyValue>> = kit.key,
) {
  return { auth, body, ct: kit.ct, key, transport: plain(kit.transport) };
}

/** The same, with the account `id` in the path drawn after the caller. */
export function accountPostSpec(
  kit: Kit,
  auth: PartSpec<Part<AuthValue>>,
  id: string,
  body: PartSpec<Part<BodyValue>>,
  key: PartSpec<Part<KeyValue>> = kit.key,
) {
  return { auth, account: own(kit, id), body, ct: kit.ct, key, transport: plain(kit.transport) };
}

/** A header a route needs not (an Idempotency-Key on a control): drawn, never a fault. */
export const ignoredKey = (kit: Kit): PartSpec<Part<KeyValue>> => plain(ignored(kit.key.any));

/** A valid key may collide with an earlier fuzz request's key (then 422). */
export const mayCollide = (p: Part<KeyValue>): Part<KeyValue> =>
  p.invalid === undefined ? { ...p, codes: ['IDEMPOTENCY_KEY_REUSED'] } : p;

/** A header a route ignores (an Idempotency-Key where none is needed): never a fault. */
export const ignored = <T>(part: fc.Arbitrary<Part<T>>): fc.Arbitrary<Part<T>> =>
  part.map((p) => ({ value: p.value }));

/**
 * Who may call: `owner` (the account's owner only), `reader` (the owner or an operator),
 * `operator` (operators only, also on their own account). A fault names its codes.
 */
export function roleFault(
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
export function alwaysRefused<P extends Record<string, unknown>>(
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

/** The drawn parts of a POST. */
export interface PostParts {
  auth: Part<AuthValue>;
  ct: Part<ContentTypeValue>;
  key: Part<KeyValue>;
  body: Part<BodyValue>;
  transport: Transport;
}

/** A request to a route that changes state (a POST, a PUT): it must be refused. */
const change =
  (method: 'POST' | 'PUT') =>
  (
    route: string,
    path: string,
    p: PostParts,
    roleInvalid: Draft['roleInvalid'],
    parts: Draft['parts'],
  ): FuzzCase =>
    finish({
      route,
      method,
      path,
      query: '',
      auth: p.auth,
      contentType: p.ct,
      key: p.key,
      body: p.body,
      ...p.transport,
      mutating: true,
      roleInvalid,
      parts,
    });

export const post = change('POST');
export const put = change('PUT');

/** The drawn parts of a GET. */
export interface GetParts {
  auth: Part<AuthValue>;
  body?: Part<BodyValue>;
  transport: Transport;
}

/** A GET: valid, it is answered 200. */
export function get(
  route: string,
  path: string,
  query: string,
  p: GetParts,
  roleInvalid: Draft['roleInvalid'],
  parts: Draft['parts'],
): FuzzCase {
  return finish({
    route,
    method: 'GET',
    path,
    query,
    auth: p.auth,
    body: p.body,
    ...p.transport,
    chunked: false,
    mutating: false,
    roleInvalid,
    parts,
  });
}

/** The drawn parts of a DELETE (no body: the contract gives it none). */
export interface DeleteParts {
  auth: Part<AuthValue>;
  transport: Transport;
}

/** A DELETE: it changes state, so it must be refused. */
export function remove(
  route: string,
  path: string,
  p: DeleteParts,
  roleInvalid: Draft['roleInvalid'],
  parts: Draft['parts'],
): FuzzCase {
  return finish({
    route,
    method: 'DELETE',
    path,
    query: '',
    auth: p.auth,
    ...p.transport,
    chunked: false,
    mutating: true,
    roleInvalid,
    parts,
  });
}
