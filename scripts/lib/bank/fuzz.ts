/**
 * Property-based fuzzing of every route through real HTTP (fast-check generates, a raw-socket
 * client sends exactly the bytes generated). Each request is built from parts — method, path
 * and path parameter, query (limit, cursor), Authorization, Content-Type, Idempotency-Key,
 * body (types, sizes, encodings, malformed JSON) — each part valid or not, and the expected
 * refusal codes follow from the invalid parts. Requests to routes that change state always
 * carry at least one definitely invalid part, so none may succeed.
 *
 * Checked for every answer: no 5xx; a refusal is a 4xx in the contract's error shape with a
 * code from README's error table at that code's status, a request id, no internals, and
 * `Cache-Control: no-store`; the code is one the request's invalid parts explain; a valid read
 * answers 200; no state-changing request succeeds. Around the whole run: every account item,
 * statement line, pending entry, owner link and control record is unchanged (only refusal
 * markers may appear).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { decodeJwt, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Route } from './contract';
import type { Violation, MovementType, Owner } from './model';
import { sendRaw, type RawRequest, type RawResponse } from './raw-http';
import type { DemoUser, Identity } from './stack';

export interface FuzzSetup {
  apiUrl: string;
  users: Record<DemoUser, Identity>;
  /** An account of each customer, in USD, with far less than 10^12 on it. */
  accounts: Record<Owner, string>;
  /** A key that moved money, to resend with another amount (must be 422). */
  reusable: {
    accountId: string;
    owner: Owner;
    type: MovementType;
    key: string;
    amount: number;
  } | null;
  /** A cursor the API returned. */
  cursor: string;
  codes: Map<string, number>;
  routes: Route[];
  dynamodb: DynamoDBClient;
  tableName: string;
}

export interface FuzzCase {
  label: string;
  request: RawRequest;
  /** The route changes state: the request must be refused. */
  mutating: boolean;
  invalid: string[];
  uncertain: string[];
  /** Codes the request's faults explain (empty: not judged). */
  allowed: string[];
  /** Every part is valid and the route only reads: 200 expected. */
  expectOk: boolean;
}

export interface FuzzResult {
  requests: number;
  seed: number;
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  byRoute: Record<string, number>;
  violations: Violation[];
  /** Refusals by serverless-offline's HTTP layer, not by the service (see emulatorRefusal). */
  emulatorRefusals: Record<string, number>;
  /** Requests not answered within 30 s, sent once more (violations only if that failed too). */
  slowOrFailed: number;
  examples: Array<{ label: string; status: number; code?: string }>;
  stateUnchanged: boolean;
  durationMs: number;
}

const ROOT = path.resolve(__dirname, '..', '..', '..');
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const MAX_BODY = 8 * 1024;

// ---- parts -------------------------------------------------------------------------------

interface Part<T> {
  value: T;
  invalid?: string;
  uncertain?: string;
  codes?: string[];
}

type AuthValue = { header: string | null; user: DemoUser | null };

/** Header-safe text: printable ASCII and latin1 bytes (never CR, LF, NUL or DEL). */
const headerText = (maxLength: number): fc.Arbitrary<string> =>
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
const token = (max: number): fc.Arbitrary<string> =>
  fc.stringMatching(new RegExp(`^[A-Za-z0-9!#$%&'*+.^_\`|~-]{1,${max}}$`));

const printable = (min: number, max: number): fc.Arbitrary<string> =>
  fc
    .array(fc.integer({ min: 0x21, max: 0x7e }), { minLength: min, maxLength: max })
    .map((codes) => String.fromCharCode(...codes));

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** Tokens that must all be refused: expired, foreign, mis-signed, unsigned... */
async function craftBadTokens(users: Record<DemoUser, Identity>): Promise<Array<[string, string]>> {
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

function authParts(
  users: Record<DemoUser, Identity>,
  badTokens: Array<[string, string]>,
): { any: fc.Arbitrary<Part<AuthValue>>; bad: fc.Arbitrary<Part<AuthValue>> } {
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
  return { any: fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: bad }), bad };
}

type AccountValue = { segment: string; kind: 'own' | 'unknown' | 'malformed' | 'encoded' };

function accountParts(): {
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
      fc
        .constantFrom(
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
          'A'.repeat(300),
        )
        .map(
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

type BodyValue = Buffer | null;

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** Bodies that no route accepts: malformed JSON, non-objects, oversized. */
function hopelessBodies(): fc.Arbitrary<Part<BodyValue>> {
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
function movementBodies(type: MovementType): {
  any: fc.Arbitrary<Part<BodyValue>>;
  bad: fc.Arbitrary<Part<BodyValue>>;
} {
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
  return { any: fc.oneof({ weight: 2, arbitrary: valid }, { weight: 3, arbitrary: bad }), bad };
}

function openAccountBodies(ownerIds: string[]): {
  any: fc.Arbitrary<Part<BodyValue>>;
  bad: fc.Arbitrary<Part<BodyValue>>;
} {
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
  return { any: fc.oneof(valid, bad), bad };
}

type ContentTypeValue = string | null;

function contentTypeParts(): {
  any: fc.Arbitrary<Part<ContentTypeValue>>;
  bad: fc.Arbitrary<Part<ContentTypeValue>>;
} {
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
    bad,
  };
}

type KeyValue = string | null;

function keyParts(): { any: fc.Arbitrary<Part<KeyValue>>; bad: fc.Arbitrary<Part<KeyValue>> } {
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
  return { any: fc.oneof({ weight: 5, arbitrary: valid }, { weight: 2, arbitrary: bad }), bad };
}

type QueryValue = string;

function queryParts(cursor: string): fc.Arbitrary<Part<QueryValue>> {
  const limitValid = fc
    .integer({ min: 1, max: 100 })
    .map((n): Part<string> => ({ value: String(n) }));
  const limitBad = fc
    .oneof(
      fc.constantFrom(
        '0',
        '101',
        '-1',
        '1.5',
        'abc',
        '1e1',
        '0x10',
        '1000',
        '99999999999999999999',
        '%00',
        '%201',
        '１',
        '+5',
        '5%20',
      ),
      printable(1, 10)
        .filter((t) => !/^[0-9]{1,3}$/.test(t) || Number(t) < 1 || Number(t) > 100)
        .map(encodeURIComponent),
    )
    .map(
      (value): Part<string> => ({ value, invalid: `limit=${value}`, codes: ['VALIDATION_ERROR'] }),
    );
  const cursorBad = fc
    .oneof(
      fc.constantFrom(
        b64url({ before: 0 }),
        b64url({ before: -1 }),
        b64url({ before: 1.5 }),
        b64url({ before: '5' }),
        b64url({ before: 5, account: 'x' }),
        b64url({}),
        b64url([5]),
        b64url('null'),
        b64url({ before: Number.MAX_SAFE_INTEGER + 2 }),
        `${cursor}=`,
        `${cursor}%3D%3D`,
        cursor.replace(/[A-Za-z]/, '+'),
        'A'.repeat(201),
        '%FF',
        '....',
      ),
      printable(1, 60)
        .filter((t) => !/^[A-Za-z0-9_-]+$/.test(t))
        .map(encodeURIComponent),
    )
    .map(
      (value): Part<string> => ({
        value,
        invalid: `cursor=${value.slice(0, 40)}`,
        codes: ['VALIDATION_ERROR'],
      }),
    );
  const cursorValid = fc.oneof(
    fc.constant<Part<string>>({ value: cursor }),
    fc
      .integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
      .map((before): Part<string> => ({ value: b64url({ before }) })),
  );
  return fc
    .record({
      limit: fc.option(
        fc.oneof({ weight: 2, arbitrary: limitValid }, { weight: 1, arbitrary: limitBad }),
        { nil: undefined },
      ),
      cursor: fc.option(fc.oneof(cursorValid, cursorBad), { nil: undefined }),
      noise: fc.option(printable(1, 10).map(encodeURIComponent), { nil: undefined }),
      repeated: fc.boolean(),
    })
    .map(({ limit, cursor: c, noise, repeated }): Part<QueryValue> => {
      const params: string[] = [];
      const invalid: string[] = [];
      const codes: string[] = [];
      let uncertain: string | undefined;
      if (limit !== undefined) {
        params.push(`limit=${limit.value}`);
        if (limit.invalid !== undefined) invalid.push(limit.invalid);
        if (repeated && limit.invalid === undefined) {
          params.push('limit=7');
          uncertain = 'limit given twice';
          codes.push('VALIDATION_ERROR');
        }
      }
      if (c !== undefined) {
        params.push(`cursor=${c.value}`);
        if (c.invalid !== undefined) invalid.push(c.invalid);
      }
      if (noise !== undefined) params.push(`x-${noise}=1`);
      if (invalid.length > 0) codes.push('VALIDATION_ERROR');
      return {
        value: params.length > 0 ? `?${params.join('&')}` : '',
        invalid: invalid.length > 0 ? invalid.join(', ') : undefined,
        uncertain,
        codes,
      };
    });
}

const extraHeaders = fc.array(
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
const oddCookie = fc.oneof(
  { weight: 29, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: headerText(40).map((text): [string, string] => ['Cookie', text]) },
);

// ---- cases -------------------------------------------------------------------------------

interface Draft {
  label: string;
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

function finish(d: Draft): FuzzCase {
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
    label: d.label,
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
  };
}

export async function fuzzCases(setup: FuzzSetup): Promise<fc.Arbitrary<FuzzCase>> {
  const badTokens = await craftBadTokens(setup.users);
  const auth = authParts(setup.users, badTokens);
  const account = accountParts();
  const ct = contentTypeParts();
  const key = keyParts();
  const transport = fc
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
  const owners: Owner[] = ['alice', 'bob'];
  const other = (owner: Owner): Owner => (owner === 'alice' ? 'bob' : 'alice');

  // Withdrawals and deposits: never valid as a whole.
  const movement = fc
    .tuple(fc.constantFrom<MovementType>('WITHDRAWAL', 'DEPOSIT'), fc.constantFrom(...owners))
    .chain(([type, owner]) => {
      const body = movementBodies(type);
      const id = setup.accounts[owner];
      const parts = {
        auth: auth.any,
        account: account.any(id),
        body: body.any,
        ct: ct.any,
        key: key.any,
        transport,
        force: fc.record({
          which: fc.nat({ max: 4 }),
          auth: auth.bad,
          account: account.bad(id),
          body: body.bad,
          ct: ct.bad,
          key: key.bad,
        }),
      };
      return fc.record(parts).map((r) => {
        const build = (p: typeof r): FuzzCase => {
          const user = p.auth.value.user;
          let roleInvalid: Draft['roleInvalid'];
          if (user !== null && type === 'WITHDRAWAL' && user === 'ops') {
            roleInvalid = {
              what: 'an operator withdrawing',
              codes: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND'],
            };
          } else if (user !== null && type === 'WITHDRAWAL' && user === other(owner)) {
            roleInvalid = {
              what: "withdrawal from another customer's account",
              codes: ['ACCOUNT_NOT_FOUND'],
            };
          } else if (user !== null && type === 'DEPOSIT' && user !== 'ops') {
            roleInvalid = { what: 'a customer depositing', codes: ['FORBIDDEN'] };
          }
          // A valid key may collide with an earlier fuzz request's key.
          const keyPart: Part<KeyValue> =
            p.key.invalid === undefined ? { ...p.key, codes: ['IDEMPOTENCY_KEY_REUSED'] } : p.key;
          return finish({
            label: `POST /accounts/{id}/${type === 'WITHDRAWAL' ? 'withdrawals' : 'deposits'}`,
            method: 'POST',
            path: `/accounts/${p.account.value.segment}/${type === 'WITHDRAWAL' ? 'withdrawals' : 'deposits'}`,
            query: '',
            auth: p.auth,
            contentType: p.ct,
            key: keyPart,
            body: p.body,
            extra: p.transport.extra,
            chunked: p.transport.chunked,
            headerCase: p.transport.headerCase,
            mutating: true,
            roleInvalid,
            parts: [p.account, p.body, p.ct, keyPart],
          });
        };
        const first = build(r);
        if (first.invalid.length > 0) return first;
        const f = r.force;
        const forced = [
          { ...r, auth: f.auth },
          { ...r, account: f.account },
          { ...r, body: f.body },
          { ...r, ct: f.ct },
          { ...r, key: f.key },
        ][f.which];
        return build(forced ?? { ...r, auth: f.auth });
      });
    });

  // A key that moved money, sent again with another request: 422.
  const reuse =
    setup.reusable === null
      ? movement
      : fc
          .tuple(fc.integer({ min: 1, max: 500 }), fc.boolean(), transport)
          .map(([delta, withCurrency, t]): FuzzCase => {
            const r = setup.reusable;
            if (r === null) throw new Error('unreachable');
            const body = withCurrency
              ? { amount: r.amount, currency: 'USD' }
              : { amount: r.amount + delta };
            return finish({
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
              extra: t.extra,
              chunked: t.chunked,
              headerCase: t.headerCase,
              mutating: true,
              roleInvalid: {
                what: `key ${r.key} reused with ${JSON.stringify(body)}`,
                codes: ['IDEMPOTENCY_KEY_REUSED'],
              },
              parts: [],
            });
          });

  // Opening an account: never valid as a whole.
  const ownerIds = [setup.users.alice.sub, setup.users.bob.sub];
  const openBodies = openAccountBodies(ownerIds);
  const open = fc
    .record({
      auth: auth.any,
      body: openBodies.any,
      ct: ct.any,
      transport,
      force: fc.record({
        which: fc.nat({ max: 2 }),
        auth: auth.bad,
        body: openBodies.bad,
        ct: ct.bad,
      }),
    })
    .map((r) => {
      const build = (p: typeof r): FuzzCase => {
        const user = p.auth.value.user;
        return finish({
          label: 'POST /accounts',
          method: 'POST',
          path: '/accounts',
          query: '',
          auth: p.auth,
          contentType: p.ct,
          body: p.body,
          extra: p.transport.extra,
          chunked: p.transport.chunked,
          headerCase: p.transport.headerCase,
          mutating: true,
          roleInvalid:
            user !== null && user !== 'ops'
              ? { what: 'a customer opening an account', codes: ['FORBIDDEN'] }
              : undefined,
          parts: [p.body, p.ct],
        });
      };
      const first = build(r);
      if (first.invalid.length > 0) return first;
      const f = r.force;
      return build(
        [
          { ...r, auth: f.auth },
          { ...r, body: f.body },
          { ...r, ct: f.ct },
        ][f.which] ?? { ...r, auth: f.auth },
      );
    });

  // Reads of an account.
  const read = fc
    .tuple(fc.constantFrom('', '/balance', '/transactions'), fc.constantFrom(...owners))
    .chain(([suffix, owner]) =>
      fc
        .record({
          auth: auth.any,
          account: account.any(setup.accounts[owner]),
          query:
            suffix === '/transactions'
              ? queryParts(setup.cursor)
              : fc.constant<Part<QueryValue>>({ value: '' }),
          body: fc.option(hopelessBodies(), { nil: undefined }),
          transport,
        })
        .map((p): FuzzCase => {
          const user = p.auth.value.user;
          const body =
            p.body === undefined
              ? undefined
              : { value: p.body.value, uncertain: 'a body on a GET' };
          return finish({
            label: `GET /accounts/{id}${suffix}`,
            method: 'GET',
            path: `/accounts/${p.account.value.segment}${suffix}`,
            query: p.query.value,
            auth: p.auth,
            body,
            extra: p.transport.extra,
            chunked: false,
            headerCase: p.transport.headerCase,
            mutating: false,
            roleInvalid:
              user !== null && user !== 'ops' && user !== owner
                ? { what: "another customer's account", codes: ['ACCOUNT_NOT_FOUND'] }
                : undefined,
            parts: [
              p.account,
              p.query,
              body === undefined ? undefined : { value: null, uncertain: body.uncertain },
            ],
          });
        }),
    );

  const list = fc.record({ auth: auth.any, transport }).map(
    (p): FuzzCase =>
      finish({
        label: 'GET /accounts',
        method: 'GET',
        path: '/accounts',
        query: '',
        auth: p.auth,
        extra: p.transport.extra,
        chunked: false,
        headerCase: p.transport.headerCase,
        mutating: false,
        parts: [],
      }),
  );

  const health = fc
    .record({
      transport,
      query: fc.option(printable(1, 20).map(encodeURIComponent), { nil: undefined }),
    })
    .map(
      (p): FuzzCase =>
        finish({
          label: 'GET /health',
          method: 'GET',
          path: '/health',
          query: p.query === undefined ? '' : `?${p.query}`,
          auth: { value: { header: null, user: null } },
          extra: p.transport.extra,
          chunked: false,
          headerCase: p.transport.headerCase,
          mutating: false,
          parts: [],
        }),
    );

  // No such route: another method on a known path, or a path that matches none.
  const known = new Set(setup.routes.map((r) => `${r.method} ${r.path}`));
  const paths = [...new Set(setup.routes.map((r) => r.path))];
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
          '/v1/accounts',
          '/health/x',
          '/Health',
        ),
      ),
      auth: auth.any,
      body: fc.option(hopelessBodies(), { nil: undefined }),
      transport,
    })
    .filter((r) => !known.has(`${r.method} ${r.path}`))
    .map((p): FuzzCase => {
      const path = p.path.replace('{accountId}', setup.accounts.alice);
      return finish({
        label: `${p.method} (no such route)`,
        method: p.method,
        path,
        query: '',
        auth: p.auth,
        contentType: { value: 'application/json' },
        body: p.body === undefined ? undefined : { value: p.body.value },
        extra: p.transport.extra,
        chunked: p.transport.chunked,
        headerCase: p.transport.headerCase,
        mutating: false,
        roleInvalid: { what: 'no such route', codes: ['NOT_FOUND'] },
        parts: [],
      });
    });

  // Routes this fuzzer has no model of (added to serverless.yml later): reads with any token,
  // writes only with a token that must be refused.
  const modelled = new Set([
    'GET /health',
    'GET /accounts',
    'POST /accounts',
    'GET /accounts/{accountId}',
    'GET /accounts/{accountId}/balance',
    'GET /accounts/{accountId}/transactions',
    'POST /accounts/{accountId}/withdrawals',
    'POST /accounts/{accountId}/deposits',
  ]);
  const others = setup.routes.filter((r) => !modelled.has(`${r.method} ${r.path}`));
  const everyCode = [...setup.codes.keys()].filter((code) => (setup.codes.get(code) ?? 500) < 500);
  const generic =
    others.length === 0
      ? list
      : fc
          .record({
            route: fc.constantFrom(...others),
            goodAuth: auth.any,
            badAuth: auth.bad,
            body: fc.option(hopelessBodies(), { nil: undefined }),
            transport,
          })
          .map((p): FuzzCase => {
            const writes = p.route.method !== 'GET';
            const a = writes ? p.badAuth : p.goodAuth;
            return finish({
              label: `${p.route.method} ${p.route.path}`,
              method: p.route.method,
              path: p.route.path.replace('{accountId}', setup.accounts.alice),
              query: '',
              auth: a,
              contentType: { value: 'application/json' },
              body: p.body === undefined ? undefined : { value: p.body.value },
              extra: p.transport.extra,
              chunked: p.transport.chunked,
              headerCase: p.transport.headerCase,
              mutating: writes,
              parts: [
                { value: null, uncertain: 'a route the fuzzer has no model of', codes: everyCode },
              ],
            });
          });

  return fc.oneof(
    { weight: 10, arbitrary: movement },
    { weight: 1, arbitrary: reuse },
    { weight: 2, arbitrary: open },
    { weight: 5, arbitrary: read },
    { weight: 1, arbitrary: list },
    { weight: 1, arbitrary: health },
    { weight: 2, arbitrary: unknown },
    { weight: 2, arbitrary: generic },
  );
}

// ---- checks ------------------------------------------------------------------------------

const INTERNALS = /node_modules|\.ts:\d+|\n\s+at |Exception:|TypeError|ReferenceError|aws-sdk/i;

export function checkAnswer(
  c: FuzzCase,
  response: RawResponse | Error,
  codes: Map<string, number>,
): Violation[] {
  const out: Violation[] = [];
  const where = `${c.request.method} ${c.request.target.slice(0, 160)} [${c.invalid.join('; ') || 'all parts valid'}]`;
  const flag = (invariant: string, detail: string): void => {
    out.push({ invariant, detail: `${detail} — ${where}` });
  };
  if (response instanceof Error) {
    const headers = c.request.headers.map(([n, v]) => `${n}: ${v.slice(0, 60)}`).join(' | ');
    flag(
      'every request is answered',
      `${response.message} (headers ${headers}; body ${c.request.body?.length ?? 0} bytes${c.request.chunked ? ', chunked' : ''})`,
    );
    return out;
  }
  const status = response.status;
  if (status >= 500) flag('no 5xx', `${status} ${response.text.slice(0, 200)}`);
  if (emulatorRefusal(response) !== null) return out;
  if (c.request.method === 'HEAD') return out;
  if (status >= 400) {
    const body = response.json as
      | { error?: { code?: unknown; message?: unknown; requestId?: unknown } }
      | undefined;
    const error = body?.error;
    const code = typeof error?.code === 'string' ? error.code : undefined;
    if (
      code === undefined ||
      typeof error?.message !== 'string' ||
      typeof error.requestId !== 'string'
    ) {
      flag(
        "every refusal is in the contract's error shape",
        `${status} ${response.text.slice(0, 200) || '(empty body)'}`,
      );
      return out;
    }
    const expectedStatus = codes.get(code);
    if (expectedStatus === undefined)
      flag("every refusal's code is in the contract's list", `${status} ${code}`);
    else if (expectedStatus !== status)
      flag(
        'every code comes with its status',
        `${code} answered with ${status}, the contract says ${expectedStatus}`,
      );
    if (status < 500 && c.allowed.length > 0 && !c.allowed.includes(code)) {
      flag(
        'the refusal names a fault the request has',
        `${status} ${code} (${String(error.message)}); expected one of ${c.allowed.join(', ')}`,
      );
    }
    if (error.requestId.length === 0)
      flag('every refusal carries a request id', `${code} with an empty requestId`);
    if (INTERNALS.test(error.message))
      flag('no internals in errors', `${code}: ${error.message.slice(0, 200)}`);
    if (response.headers['cache-control'] !== 'no-store') {
      flag(
        'answers carry Cache-Control: no-store',
        `${status} ${code} with cache-control ${String(response.headers['cache-control'])}`,
      );
    }
  } else if (c.mutating && status < 300) {
    flag(
      'a malformed request that changes state is refused',
      `${status} ${response.text.slice(0, 200)}`,
    );
  }
  if (c.expectOk && status !== 200 && c.request.method !== 'OPTIONS') {
    flag('a valid read is answered 200', `${status} ${response.text.slice(0, 200)}`);
  }
  return out;
}

/**
 * A refusal by the local HTTP layer before any handler ran: hapi (inside serverless-offline)
 * answers a header it cannot parse (Cookie, Content-Type) or a path it cannot decode with a
 * Boom body, Node's parser an invalid request with an empty 400. API Gateway does not parse
 * these, so in AWS the same request reaches the handler. Counted apart, not held against the
 * service. Returns the refusal's message, or null.
 */
export function emulatorRefusal(response: RawResponse): string | null {
  if (response.status !== 400) return null;
  if (response.text === '') return '(empty 400 from the HTTP parser)';
  const body = response.json as
    | { statusCode?: unknown; error?: unknown; message?: unknown }
    | undefined;
  if (body?.statusCode === 400 && body.error === 'Bad Request')
    return `hapi: ${String(body.message)}`;
  return null;
}

// ---- state snapshot ----------------------------------------------------------------------

type Snapshot = Map<string, string>;

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    if (value instanceof Set) return canonical([...(value as Set<unknown>)].sort());
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a.localeCompare(b),
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * Items whose kind the fuzz must not change, by key: accounts (balance, version — every movement
 * increments it — last movement, frozen flag), owner links, operator controls, anything new.
 * Left out: idempotency markers (a refusal may record one) and the sequencer's statement lines
 * and pending entries (it may still be placing earlier movements; a movement the fuzz caused
 * would show in the account's version, and in the ledger the bank run verifies afterwards).
 */
const UNSNAPSHOTTED = ['MARKER#', 'LEDGER#', 'PENDING#'];

export async function snapshotState(client: DynamoDBClient, tableName: string): Promise<Snapshot> {
  const doc = DynamoDBDocumentClient.from(client);
  const out: Snapshot = new Map();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      const pk = String(item.pk);
      if (UNSNAPSHOTTED.some((prefix) => pk.startsWith(prefix))) continue;
      out.set(`${pk} ${String(item.sk)}`, canonical(item));
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out;
}

export function snapshotDiff(before: Snapshot, after: Snapshot): string[] {
  const diff: string[] = [];
  for (const [key, value] of after) {
    const old = before.get(key);
    if (old === undefined) diff.push(`added ${key}: ${value.slice(0, 200)}`);
    else if (old !== value)
      diff.push(`changed ${key}: ${old.slice(0, 200)} -> ${value.slice(0, 200)}`);
  }
  for (const key of before.keys()) if (!after.has(key)) diff.push(`removed ${key}`);
  return diff;
}

// ---- run ---------------------------------------------------------------------------------

export async function runFuzz(
  setup: FuzzSetup,
  options: { requests: number; seed: number; concurrency?: number; log?: (line: string) => void },
): Promise<FuzzResult> {
  const started = performance.now();
  const url = new URL(setup.apiUrl);
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
  const port = Number(url.port);
  const arbitrary = await fuzzCases(setup);
  const concurrency = options.concurrency ?? 8;
  const result: FuzzResult = {
    requests: 0,
    seed: options.seed,
    byStatus: {},
    byCode: {},
    byRoute: {},
    violations: [],
    emulatorRefusals: {},
    slowOrFailed: 0,
    examples: [],
    stateUnchanged: true,
    durationMs: 0,
  };
  const before = await snapshotState(setup.dynamodb, setup.tableName);

  // fast-check generates the requests (reproducibly from the seed); a pool sends them, and
  // every answer is recorded rather than stopping at the first failure, so the report lists all.
  const cases = fc.sample(arbitrary, { numRuns: options.requests, seed: options.seed });
  const send = async (c: FuzzCase): Promise<RawResponse | Error> => {
    const attempt = (timeoutMs: number): Promise<RawResponse | Error> =>
      sendRaw(host, port, c.request, timeoutMs).catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error)),
      );
    const first = await attempt(30_000);
    if (!(first instanceof Error)) return first;
    // Slow is not wrong (a loaded machine, a Lambda worker starting): one more try, longer.
    result.slowOrFailed += 1;
    return attempt(90_000);
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < cases.length; index = next++) {
      const c = cases[index];
      if (c === undefined) continue;
      const response = await send(c);
      result.requests += 1;
      result.byRoute[c.label] = (result.byRoute[c.label] ?? 0) + 1;
      if (!(response instanceof Error)) {
        result.byStatus[response.status] = (result.byStatus[response.status] ?? 0) + 1;
        const emulator = emulatorRefusal(response);
        if (emulator !== null) {
          result.emulatorRefusals[emulator] = (result.emulatorRefusals[emulator] ?? 0) + 1;
        }
        const code = (response.json as { error?: { code?: unknown } } | undefined)?.error?.code;
        if (typeof code === 'string') result.byCode[code] = (result.byCode[code] ?? 0) + 1;
        if (result.examples.length < 40 && index % 25 === 0) {
          result.examples.push({
            label: c.label,
            status: response.status,
            code: typeof code === 'string' ? code : undefined,
          });
        }
      }
      for (const v of checkAnswer(c, response, setup.codes)) {
        result.violations.push({
          ...v,
          detail: `${v.detail} (fuzz case #${index}, seed ${options.seed})`,
        });
      }
      if (result.requests % 250 === 0) {
        options.log?.(`  fuzz: ${result.requests}/${options.requests} requests`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));

  const after = await snapshotState(setup.dynamodb, setup.tableName);
  const diff = snapshotDiff(before, after);
  result.stateUnchanged = diff.length === 0;
  for (const line of diff.slice(0, 50)) {
    result.violations.push({
      invariant: 'balances and ledgers are unchanged by refused requests',
      detail: line,
    });
  }
  result.durationMs = Math.round(performance.now() - started);
  return result;
}
