/**
 * The parts a fuzzed request is built from — Authorization, path parameters, Content-Type,
 * Idempotency-Key, body and its fields, transport details — each valid or not, an invalid one
 * naming its fault and the codes a refusal for it may carry. The reads' queries (and a
 * statement's period) are in reads.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { decodeJwt, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { MovementType } from '../../../../lib/domain/movement-types';
import type { DemoUser, Identity } from '../stack';
import type { FuzzCase, Part } from './types';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** The largest body the contract accepts (8 KB). */
export const MAX_BODY = 8 * 1024;

export type AuthValue = { header: string | null; user: DemoUser | null };

/** A part's forms: any (valid or not), only valid ones, only invalid ones. */
export interface Forms<T> {
  any: fc.Arbitrary<Part<T>>;
  valid: fc.Arbitrary<Part<T>>;
  bad: fc.Arbitrary<Part<T>>;
}
/** Header-safe text: printable ASCII and latin1 bytes (never CR, LF, NUL or DEL). */
export const headerText = (maxLength: number): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
        { weight: 1, arbitrary: fc.integer({ min: 0xa0, max: 0xff }) },
        { weight: 1, arbitrary: fc.constant(0x09) },
      ),
      { maxLength },
    )
    .map((codes) => String.fromCharCode(...codes).trim());

/** An RFC 7230 token (header names, media types, cookie names). */
export const token = (max: number): fc.Arbitrary<string> =>
  fc.stringMatching(new RegExp(`^[A-Za-z0-9!#$%&'*+.^_\`|~-]{1,${max}}$`));

export const printable = (min: number, max: number): fc.Arbitrary<string> =>
  fc
    .array(fc.integer({ min: 0x21, max: 0x7e }), { minLength: min, maxLength: max })
    .map((codes) => String.fromCharCode(...codes));

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** Tokens that must all be refused: expired, foreign, mis-signed, unsigned... */
export async function craftBadTokens(
  users: Record<DemoUser, Identity>,
): Promise<Array<[string, string]>> {
  const real = users.alice.token;
  const claims = decodeJwt(real);
  const [header, payload, signature] = real.split('.');
  const now = Math.floor(Date.now() / 1000);
  const bad: Array<[string, string]> = [
    ['truncated signature', real.slice(0, -6)],
    [
      'payload swapped (sub of bob), signature kept',
      `${header}.${b64url({ ...claims, sub: users.bob.sub })}.${signature}`,
    ],
    ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${String(payload)}.`],
    ['no signature part', `${header}.${payload}`],
  ];
  const publicPem = readFileSync(
    path.join(ROOT, 'node_modules/cognito-local/lib/keys/cognitoLocal.public.json'),
    'utf8',
  );
  const hsHeader = b64url({ alg: 'HS256', typ: 'JWT', kid: 'CognitoLocal' });
  const hsSignature = createHmac('sha256', publicPem)
    .update(`${hsHeader}.${String(payload)}`)
    .digest('base64url');
  bad.push([
    'HS256 with the public key as secret',
    `${hsHeader}.${String(payload)}.${hsSignature}`,
  ]);
  let jwk: JWK;
  try {
    const file = path.join(ROOT, 'node_modules/cognito-local/lib/keys/cognitoLocal.private.json');
    jwk = (JSON.parse(readFileSync(file, 'utf8')) as { jwk: JWK }).jwk;
  } catch {
    return bad;
  }
  const { alg: _alg, ...bareKey } = jwk;
  const sign = async (body: JWTPayload, alg = 'RS256', kid = 'CognitoLocal'): Promise<string> =>
    new SignJWT(body)
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .sign(await importJWK(bareKey, alg));
  const { exp: _exp, ...noExp } = claims;
  bad.push(
    ['expired', await sign({ ...claims, iat: now - 7200, exp: now - 3600 })],
    ['not yet valid', await sign({ ...claims, nbf: now + 3600 })],
    ['another issuer', await sign({ ...claims, iss: `${String(claims.iss)}-other` })],
    ['another app client', await sign({ ...claims, client_id: 'not-our-client' })],
    ['an id token', await sign({ ...claims, token_use: 'id' })],
    ['no exp', await sign(noExp)],
    ['no sub', await sign({ ...claims, sub: undefined })],
    ['unknown kid', await sign(claims, 'RS256', 'another-key')],
    ['RS512', await sign(claims, 'RS512')],
  );
  return bad;
}

export function authParts(
  users: Record<DemoUser, Identity>,
  badTokens: Array<[string, string]>,
): {
  any: fc.Arbitrary<Part<AuthValue>>;
  bad: fc.Arbitrary<Part<AuthValue>>;
  /** A valid token of one of these users. */
  as: (...who: DemoUser[]) => fc.Arbitrary<Part<AuthValue>>;
} {
  const as = (...who: DemoUser[]): fc.Arbitrary<Part<AuthValue>> =>
    fc
      .tuple(
        fc.constantFrom<DemoUser>(...who),
        fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer   '),
      )
      .map(
        ([user, scheme]): Part<AuthValue> => ({
          value: { header: `${scheme}${users[user].token}`, user },
        }),
      );
  const valid = fc
    .tuple(
      fc.constantFrom<DemoUser>('alice', 'bob', 'ops'),
      fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer   '),
    )
    .map(
      ([user, scheme]): Part<AuthValue> => ({
        value: { header: `${scheme}${users[user].token}`, user },
      }),
    );
  const bad = fc.oneof(
    fc.constant<Part<AuthValue>>({
      value: { header: null, user: null },
      invalid: 'no Authorization',
      codes: ['UNAUTHORIZED'],
    }),
    fc.constantFrom(...badTokens).map(
      ([what, token]): Part<AuthValue> => ({
        value: { header: `Bearer ${token}`, user: null },
        invalid: `token: ${what}`,
        codes: ['UNAUTHORIZED'],
      }),
    ),
    fc
      .constantFrom(
        ['empty', ''],
        ['scheme only', 'Bearer'],
        ['Basic', 'Basic YWxpY2U6YWxpY2UtbG9jYWwtcGFzcy0x'],
        ['token without scheme', users.alice.token],
        ['two tokens', `Bearer ${users.alice.token} ${users.ops.token}`],
        ['oversized', `Bearer ${'a'.repeat(9000)}`],
        ['token in quotes', `Bearer "${users.alice.token}"`],
      )
      .map(
        ([what, header]): Part<AuthValue> => ({
          value: { header, user: null },
          invalid: `Authorization: ${what}`,
          codes: ['UNAUTHORIZED'],
        }),
      ),
    headerText(200).map(
      (text): Part<AuthValue> => ({
        value: { header: text, user: null },
        invalid: 'Authorization: garbage',
        codes: ['UNAUTHORIZED'],
      }),
    ),
    headerText(120).map(
      (text): Part<AuthValue> => ({
        value: { header: `Bearer ${text}`, user: null },
        invalid: 'Bearer garbage',
        codes: ['UNAUTHORIZED'],
      }),
    ),
  );
  return {
    any: fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: bad }),
    bad,
    as,
  };
}

/**
 * Path segments an id of ours could never be, near `id`: a character off, the wrong case,
 * encodings, dot segments, words, a very long one (of `filler`).
 */
export const malformedIds = (id: string, filler: string): string[] => [
  id.toLowerCase(),
  `${id}0`,
  id.slice(1),
  `${id.slice(0, -1)}I`,
  `${id.slice(0, -1)}U`,
  '%20',
  '..',
  '.',
  '%2E%2E',
  `${id}%2F`,
  `${id}%00`,
  `${id}%C3%A9`,
  '%F0%9F%92%B8',
  '%FF%FE',
  '%',
  'null',
  'undefined',
  '0',
  '-1',
  filler.repeat(300),
];

export type AccountValue = { segment: string; kind: 'own' | 'unknown' | 'malformed' | 'encoded' };

export function accountParts(): {
  any: (id: string) => fc.Arbitrary<Part<AccountValue>>;
  bad: (id: string) => fc.Arbitrary<Part<AccountValue>>;
} {
  const bad = (id: string): fc.Arbitrary<Part<AccountValue>> =>
    fc.oneof(
      fc
        .stringMatching(ULID)
        .filter((candidate) => candidate !== id)
        .map(
          (segment): Part<AccountValue> => ({
            value: { segment, kind: 'unknown' },
            invalid: 'no such account',
            codes: ['ACCOUNT_NOT_FOUND'],
          }),
        ),
      fc.constantFrom(...malformedIds(id, 'A')).map(
        (segment): Part<AccountValue> => ({
          value: { segment, kind: 'malformed' },
          invalid: `account id ${JSON.stringify(segment.slice(0, 40))}`,
          codes: ['ACCOUNT_NOT_FOUND', 'NOT_FOUND'],
        }),
      ),
      printable(1, 40).map(
        (text): Part<AccountValue> => ({
          value: { segment: encodeURIComponent(text), kind: 'malformed' },
          invalid: 'account id: random text',
          codes: ['ACCOUNT_NOT_FOUND', 'NOT_FOUND'],
        }),
      ),
    );
  const any = (id: string): fc.Arbitrary<Part<AccountValue>> =>
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constant<Part<AccountValue>>({ value: { segment: id, kind: 'own' } }),
      },
      {
        weight: 1,
        arbitrary: fc.nat({ max: 25 }).map(
          (i): Part<AccountValue> => ({
            value: {
              segment: `${id.slice(0, i)}%${id.charCodeAt(i).toString(16).toUpperCase()}${id.slice(i + 1)}`,
              kind: 'encoded',
            },
            uncertain: 'a percent-encoded character in the account id',
            codes: ['ACCOUNT_NOT_FOUND', 'NOT_FOUND'],
          }),
        ),
      },
      { weight: 2, arbitrary: bad(id) },
    );
  return { any, bad };
}

export type BodyValue = Buffer | null;

export const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** Bodies that no route accepts: malformed JSON, non-objects, oversized. */
export function hopelessBodies(): fc.Arbitrary<Part<BodyValue>> {
  return fc.oneof(
    fc
      .constantFrom(
        '{',
        '{"amount":}',
        "{'amount':5}",
        '{"amount":5,}',
        '{"amount":NaN}',
        '{"amount":Infinity}',
        '{"amount":5}garbage',
        '/*c*/{"amount":5}',
        '{"amount":0x10}',
        '{"amount":05}',
        '{"amount":+5}',
        '{"amount":.5}',
        '{amount:5}',
        '{"amount":"5"',
        'null',
        'true',
        '5',
        '"amount"',
        '[]',
        '[{"amount":5}]',
      )
      .map(
        (text): Part<BodyValue> => ({
          value: Buffer.from(text),
          invalid: `body ${text}`,
          codes: ['VALIDATION_ERROR'],
        }),
      ),
    fc
      .uint8Array({ minLength: 1, maxLength: 200 })
      .filter((bytes) => {
        try {
          const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
          return typeof parsed !== 'object' || parsed === null || Array.isArray(parsed);
        } catch {
          return true;
        }
      })
      .map(
        (bytes): Part<BodyValue> => ({
          value: Buffer.from(bytes),
          invalid: 'body: random bytes',
          codes: ['VALIDATION_ERROR'],
        }),
      ),
    fc.oneof(fc.array(fc.integer()), fc.string(), fc.integer(), fc.constant(null)).map(
      (value): Part<BodyValue> => ({
        value: json(value),
        invalid: 'body not an object',
        codes: ['VALIDATION_ERROR'],
      }),
    ),
    fc.integer({ min: 500, max: 1500 }).map(
      (depth): Part<BodyValue> => ({
        value: Buffer.from(`{"amount":${'['.repeat(depth)}${']'.repeat(depth)}}`),
        invalid: `amount nested ${depth} deep`,
        codes: ['VALIDATION_ERROR'],
      }),
    ),
    fc.integer({ min: MAX_BODY + 1, max: 40_000 }).map((size): Part<BodyValue> => {
      const base = '{"amount":5}';
      return {
        value: Buffer.from(base + ' '.repeat(size - base.length)),
        invalid: `body of ${size} bytes`,
        codes: ['PAYLOAD_TOO_LARGE'],
      };
    }),
    fc.integer({ min: 2800, max: 6000 }).map(
      (count): Part<BodyValue> => ({
        value: Buffer.from(`{"amount":5,"memo":"${'€'.repeat(count)}"}`),
        invalid: `body of ${count} euro signs (${count * 3}+ bytes)`,
        codes: ['PAYLOAD_TOO_LARGE', 'VALIDATION_ERROR'],
      }),
    ),
    fc.constant<Part<BodyValue>>({
      value: Buffer.from('{"amount":5}', 'utf16le'),
      invalid: 'body in UTF-16LE',
      codes: ['VALIDATION_ERROR'],
    }),
  );
}

/** Movement bodies: valid ones, and ones the contract refuses (with the refusal's code). */
export function movementBodies(type: MovementType): Forms<BodyValue> {
  const invalidAmount = fc.oneof(
    fc.oneof(
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.nat()),
      fc.object({ maxDepth: 2 }),
    ),
    fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: -1_000_000, max: 0 }),
    fc.integer({ min: 1_000_000_000_001, max: Number.MAX_SAFE_INTEGER }),
  );
  const bad = fc.oneof(
    invalidAmount.map(
      (amount): Part<BodyValue> => ({
        value: json({ amount }),
        invalid: `amount ${JSON.stringify(amount)?.slice(0, 40) ?? 'undefined'}`,
        codes: ['VALIDATION_ERROR'],
      }),
    ),
    fc
      .constantFrom(
        '1e400',
        '-0',
        '1.5e0',
        '12345678901234567890',
        '1e13',
        '0.0',
        '-1e3',
        '1.0000000001',
      )
      .map(
        (literal): Part<BodyValue> => ({
          value: Buffer.from(`{"amount":${literal}}`),
          invalid: `amount ${literal}`,
          codes: ['VALIDATION_ERROR'],
        }),
      ),
    fc.constantFrom({}, { currency: 'USD' }, { Amount: 5 }, { amount: 5, amount2: 1 }).map(
      (value): Part<BodyValue> => ({
        value: json(value),
        invalid: `body ${JSON.stringify(value)}`,
        codes: ['VALIDATION_ERROR'],
      }),
    ),
    fc
      .tuple(
        fc
          .string({ minLength: 1, maxLength: 20 })
          .filter((k) => k !== 'amount' && k !== 'currency' && k !== '__proto__'),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map(
        ([key, value]): Part<BodyValue> => ({
          value: Buffer.from(
            `{"amount":5,${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}}`,
          ),
          invalid: `unknown field ${JSON.stringify(key)}`,
          codes: ['VALIDATION_ERROR'],
        }),
      ),
    fc
      .oneof(
        fc.string({ maxLength: 6 }).filter((c) => !/^[A-Z]{3}$/.test(c)),
        fc.integer(),
        fc.constant(null),
      )
      .map(
        (currency): Part<BodyValue> => ({
          value: json({ amount: 5, currency }),
          invalid: `currency ${JSON.stringify(currency)}`,
          codes: ['VALIDATION_ERROR'],
        }),
      ),
    fc.constantFrom('EUR', 'GBP', 'JPY', 'CHF').map(
      (currency): Part<BodyValue> => ({
        value: json({ amount: 5, currency }),
        invalid: `currency ${currency} on a USD account`,
        codes: ['CURRENCY_MISMATCH'],
      }),
    ),
    ...(type === 'WITHDRAWAL'
      ? [
          fc.integer({ min: 10_000_000_000, max: 1_000_000_000_000 }).map(
            (amount): Part<BodyValue> => ({
              value: json({ amount }),
              invalid: `withdrawal of ${amount}, far above the balance`,
              codes: ['INSUFFICIENT_FUNDS'],
            }),
          ),
        ]
      : []),
    hopelessBodies(),
  );
  const valid = fc.oneof(
    fc.integer({ min: 1, max: 50 }).map((amount): Part<BodyValue> => ({ value: json({ amount }) })),
    fc
      .integer({ min: 1, max: 50 })
      .map((amount): Part<BodyValue> => ({ value: json({ amount, currency: 'USD' }) })),
    fc
      .integer({ min: 1, max: 5 })
      .map(
        (amount): Part<BodyValue> => ({ value: Buffer.from(` \n{ "amount" : ${amount}e1 }\t`) }),
      ),
    fc.integer({ min: 1, max: 50 }).map(
      (amount): Part<BodyValue> => ({
        value: Buffer.from(`\uFEFF{"amount":${amount}}`),
        uncertain: 'a byte-order mark before the JSON',
        codes: ['VALIDATION_ERROR'],
      }),
    ),
  );
  return {
    any: fc.oneof({ weight: 2, arbitrary: valid }, { weight: 3, arbitrary: bad }),
    valid,
    bad,
  };
}

export function openAccountBodies(ownerIds: string[]): Forms<BodyValue> {
  const badOwner = fc.oneof(
    fc.constantFrom('', ' ', 'a b', 'x'.repeat(129), 'é', '\t'),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 2 }),
  );
  const bad = fc.oneof(
    badOwner.map(
      (ownerId): Part<BodyValue> => ({
        value: json({ ownerId, currency: 'USD' }),
        invalid: `ownerId ${JSON.stringify(ownerId)?.slice(0, 40) ?? ''}`,
        codes: ['VALIDATION_ERROR'],
      }),
    ),
    fc
      .oneof(
        fc.string({ maxLength: 5 }).filter((c) => !/^[A-Z]{3}$/.test(c)),
        fc.integer(),
      )
      .map(
        (currency): Part<BodyValue> => ({
          value: json({ ownerId: 'fuzz-owner', currency }),
          invalid: `currency ${JSON.stringify(currency)}`,
          codes: ['VALIDATION_ERROR'],
        }),
      ),
    fc
      .constantFrom(
        {},
        { ownerId: 'fuzz-owner' },
        { currency: 'USD' },
        { ownerId: 'x', currency: 'USD', balance: 1_000_000 },
      )
      .map(
        (value): Part<BodyValue> => ({
          value: json(value),
          invalid: `body ${JSON.stringify(value)}`,
          codes: ['VALIDATION_ERROR'],
        }),
      ),
    hopelessBodies(),
  );
  const valid = fc.constantFrom(...ownerIds, 'fuzz-owner').map(
    (ownerId): Part<BodyValue> => ({
      value: json({ ownerId, currency: 'USD' }),
    }),
  );
  return { any: fc.oneof(valid, bad), valid, bad };
}

export type ContentTypeValue = string | null;

export function contentTypeParts(): Forms<ContentTypeValue> {
  const bad = fc.oneof(
    fc
      .constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/xml',
        'application/jsonx',
        'application/json-patch+json',
        'application/problem+json',
        'text/json',
        'json',
        '*/*',
        'application/octet-stream',
        'multipart/form-data; boundary=x',
        'application/ json',
      )
      .map(
        (value): Part<ContentTypeValue> => ({
          value,
          invalid: `Content-Type ${value}`,
          codes: ['UNSUPPORTED_MEDIA_TYPE'],
        }),
      ),
    fc
      .tuple(token(12), token(20))
      .map(([type, subtype]) => `${type}/${subtype}`)
      .filter((text) => !/^application\/json\s*(;.*)?$/i.test(text))
      .map(
        (value): Part<ContentTypeValue> => ({
          value,
          invalid: `Content-Type ${value}`,
          codes: ['UNSUPPORTED_MEDIA_TYPE'],
        }),
      ),
    headerText(60)
      .filter((text) => !/^application\/json\s*(;.*)?$/i.test(text) && text.length > 0)
      .map(
        (value): Part<ContentTypeValue> => ({
          value,
          invalid: 'Content-Type garbage',
          codes: ['UNSUPPORTED_MEDIA_TYPE'],
        }),
      ),
  );
  const valid = fc
    .constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json;charset=UTF-8',
      'application/json ; x=y',
    )
    .map((value): Part<ContentTypeValue> => ({ value }));
  const missing = fc.constant<Part<ContentTypeValue>>({
    value: null,
    // serverless-offline fills in application/json when a body has none (API Gateway does not).
    uncertain: 'no Content-Type',
    codes: ['UNSUPPORTED_MEDIA_TYPE'],
  });
  return {
    any: fc.oneof(
      { weight: 5, arbitrary: valid },
      { weight: 2, arbitrary: bad },
      { weight: 1, arbitrary: missing },
    ),
    valid,
    bad,
  };
}

export type KeyValue = string | null;

export function keyParts(): Forms<KeyValue> {
  const bad = fc.oneof(
    fc.constantFrom<Part<KeyValue>>(
      { value: null, invalid: 'no Idempotency-Key', codes: ['IDEMPOTENCY_KEY_REQUIRED'] },
      { value: '', invalid: 'empty Idempotency-Key', codes: ['IDEMPOTENCY_KEY_REQUIRED'] },
      { value: '   ', invalid: 'blank Idempotency-Key', codes: ['IDEMPOTENCY_KEY_REQUIRED'] },
    ),
    fc.integer({ min: 256, max: 1000 }).map(
      (length): Part<KeyValue> => ({
        value: `fz-${'k'.repeat(length - 3)}`,
        invalid: `Idempotency-Key of ${length} characters`,
        codes: ['VALIDATION_ERROR'],
      }),
    ),
    fc.tuple(printable(1, 20), fc.constantFrom('\t', 'é', '\u00a0', 'ÿ'), printable(1, 20)).map(
      ([a, odd, b]): Part<KeyValue> => ({
        value: `fz-${a}${odd}${b}`,
        invalid: 'Idempotency-Key with a non-printable or non-ASCII character',
        codes: ['VALIDATION_ERROR'],
      }),
    ),
  );
  const valid = fc.oneof(
    printable(1, 60).map((text): Part<KeyValue> => ({ value: `fz-${text}` })),
    fc.constant<Part<KeyValue>>({ value: `fz-${'x'.repeat(252)}` }),
    printable(1, 20).map((text): Part<KeyValue> => ({ value: `fz ${text} with spaces` })),
  );
  return {
    any: fc.oneof({ weight: 5, arbitrary: valid }, { weight: 2, arbitrary: bad }),
    valid,
    bad,
  };
}

export const extraHeaders = fc.array(
  fc.oneof(
    fc.tuple(
      printable(1, 12).map((t) => `X-Fuzz-${t.replace(/[^A-Za-z0-9-]/g, 'x')}`),
      headerText(60),
    ),
    fc.tuple(
      fc.constantFrom(
        'User-Agent',
        'Accept',
        'Origin',
        'X-Forwarded-For',
        'Accept-Language',
        'X-Amzn-Trace-Id',
        'Referer',
      ),
      headerText(80),
    ),
    fc.tuple(
      fc.constant('Cookie'),
      fc
        .array(
          fc.tuple(
            fc.stringMatching(/^[A-Za-z0-9_]{1,10}$/),
            fc.stringMatching(/^[A-Za-z0-9_-]{0,20}$/),
          ),
          {
            minLength: 1,
            maxLength: 3,
          },
        )
        .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('; ')),
    ),
    fc.constant<[string, string]>(['Accept-Encoding', 'gzip, deflate, br']),
  ),
  { maxLength: 4 },
);

/** Rarely: a Cookie header hapi cannot parse (locally refused before the service; see emulatorRefusal). */
export const oddCookie = fc.oneof(
  { weight: 29, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: headerText(40).map((text): [string, string] => ['Cookie', text]) },
);

// ---- cases -------------------------------------------------------------------------------

export interface Transport {
  extra: Array<[string, string]>;
  chunked: boolean;
  headerCase: boolean;
}

/** Extra headers, an odd Cookie now and then, chunked or not, header names upper-cased or not. */
export const transportParts: fc.Arbitrary<Transport> = fc
  .record({
    extra: extraHeaders,
    cookie: oddCookie,
    chunked: fc.boolean(),
    headerCase: fc.boolean(),
  })
  .map(({ extra, cookie, chunked, headerCase }) => ({
    extra: cookie === undefined ? extra : [...extra, cookie],
    chunked,
    headerCase,
  }));

export interface Draft {
  /** The openapi.yaml route aimed at; null: no such route. */
  route: string | null;
  /** Defaults to the route. */
  label?: string;
  method: string;
  path: string;
  query: string;
  auth: Part<AuthValue>;
  contentType?: Part<ContentTypeValue>;
  key?: Part<KeyValue>;
  body?: Part<BodyValue>;
  extra: Array<[string, string]>;
  chunked: boolean;
  headerCase: boolean;
  mutating: boolean;
  roleInvalid?: { what: string; codes: string[] };
  parts: Array<Part<unknown> | undefined>;
}

export function finish(d: Draft): FuzzCase {
  const headers: Array<[string, string]> = [];
  const name = (n: string): string => (d.headerCase ? n.toUpperCase() : n);
  if (d.auth.value.header !== null) headers.push([name('Authorization'), d.auth.value.header]);
  if (d.contentType?.value !== undefined && d.contentType.value !== null) {
    headers.push([name('Content-Type'), d.contentType.value]);
  }
  if (d.key?.value !== undefined && d.key.value !== null)
    headers.push([name('Idempotency-Key'), d.key.value]);
  headers.push(...d.extra);
  const invalid: string[] = [];
  const uncertain: string[] = [];
  const allowed = new Set<string>();
  for (const part of [d.auth, ...d.parts]) {
    if (part === undefined) continue;
    if (part.invalid !== undefined) invalid.push(part.invalid);
    if (part.uncertain !== undefined) uncertain.push(part.uncertain);
    for (const code of part.codes ?? []) allowed.add(code);
  }
  if (d.roleInvalid !== undefined) {
    invalid.push(d.roleInvalid.what);
    for (const code of d.roleInvalid.codes) allowed.add(code);
  }
  return {
    label: d.label ?? d.route ?? '(no such route)',
    route: d.route,
    request: {
      method: d.method,
      target: `${d.path}${d.query}`,
      headers,
      body: d.body?.value ?? null,
      chunked: d.chunked && d.body?.value != null,
    },
    mutating: d.mutating,
    invalid,
    uncertain,
    allowed: [...allowed],
    expectOk: !d.mutating && invalid.length === 0 && uncertain.length === 0,
    transient: transientOf(d),
  };
}

/**
 * The 503 codes the parts may bring, unless the request is refused before the read they put
 * off: by its caller, or by an invalid part judged first (one that does not say otherwise).
 */
function transientOf(d: Draft): string[] {
  const parts = [d.auth, ...d.parts].filter((p): p is Part<unknown> => p !== undefined);
  const refusedFirst =
    d.roleInvalid !== undefined ||
    parts.some((p) => p.invalid !== undefined && p.transient === undefined);
  return refusedFirst ? [] : [...new Set(parts.flatMap((p) => p.transient ?? []))];
}
