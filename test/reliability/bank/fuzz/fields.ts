/**
 * Request bodies built field by field, for the routes whose bodies have more than an amount
 * (transfers, payouts, freeze and unfreeze, the withdrawals switch): each field is valid, absent
 * or wrong in a way the contract names, and the body is refused if any field is. Path parts for
 * a payout's transaction id too.
 */
import fc from 'fast-check';
import { hopelessBodies, MAX_BODY, printable, ULID, type BodyValue, type Forms } from './parts';
import type { Part } from './types';

/** One field of a JSON object: absent, or the JSON text sent for it (not always a JSON value). */
export interface Field {
  name: string;
  raw: string | undefined;
}

export interface FieldModel {
  name: string;
  /** Values the contract accepts (absence included, for an optional field). */
  valid: fc.Arbitrary<Part<Field>>;
  /** Values it refuses, each naming its fault. */
  bad: fc.Arbitrary<Part<Field>>;
}

const V = 'VALIDATION_ERROR';

/** A field's JSON values: valid ones plain, bad ones with their fault and codes. */
const value =
  (name: string) =>
  (raw: unknown): Part<Field> => ({ value: { name, raw: JSON.stringify(raw) } });
const wrong =
  (name: string, codes: string[] = [V], what?: (raw: string) => string) =>
  (raw: unknown): Part<Field> => {
    const text = JSON.stringify(raw) ?? 'null';
    return {
      value: { name, raw: text },
      invalid: what?.(text) ?? `${name} ${text.slice(0, 40)}`,
      codes,
    };
  };
const literal =
  (name: string, codes: string[] = [V]) =>
  (raw: string): Part<Field> => ({
    value: { name, raw },
    invalid: `${name} ${raw.slice(0, 40)}`,
    codes,
  });
const absent = (name: string, required: boolean): Part<Field> =>
  required
    ? { value: { name, raw: undefined }, invalid: `no ${name}`, codes: [V] }
    : { value: { name, raw: undefined } };

/** Values that are not strings at all. */
const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);

/** An amount: 1 to 10^12 minor units, a JSON integer. `debit`: more than any balance here. */
export function amountField(debit: boolean): FieldModel {
  const name = 'amount';
  return {
    name,
    valid: fc.oneof(
      fc.integer({ min: 1, max: 50 }).map(value(name)),
      fc.integer({ min: 1, max: 5 }).map((n) => ({ value: { name, raw: `${n}e1` } })),
    ),
    bad: fc.oneof(
      fc.constant(absent(name, true)),
      fc
        .oneof(
          fc.string({ maxLength: 10 }),
          fc.boolean(),
          fc.constant(null),
          fc.array(fc.nat(), { maxLength: 3 }),
          fc.object({ maxDepth: 1 }),
          fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
          fc.integer({ min: -1_000_000, max: 0 }),
          fc.integer({ min: 1_000_000_000_001, max: Number.MAX_SAFE_INTEGER }),
        )
        .map(wrong(name)),
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
        .map(literal(name)),
      // A well-formed amount the account cannot cover: refused only once the funds are read,
      // so it is drawn as often as all the malformed ones together.
      ...(debit
        ? [
            {
              weight: 3,
              arbitrary: fc.integer({ min: 10_000_000_000, max: 1_000_000_000_000 }).map(
                (amount): Part<Field> => ({
                  value: { name, raw: String(amount) },
                  invalid: `amount ${amount}, far above what the account has`,
                  codes: ['INSUFFICIENT_FUNDS'],
                }),
              ),
            },
          ]
        : []),
    ),
  };
}

/** An optional currency: the accounts here are USD. */
export function currencyField(): FieldModel {
  const name = 'currency';
  return {
    name,
    valid: fc.oneof(fc.constant(absent(name, false)), fc.constant('USD').map(value(name))),
    bad: fc.oneof(
      fc
        .oneof(
          fc.string({ maxLength: 6 }).filter((c) => !/^[A-Z]{3}$/.test(c)),
          fc.integer(),
          fc.constant(null),
          fc.constantFrom('usd', 'US', 'USDD', ' USD'),
        )
        .map(wrong(name)),
      fc
        .constantFrom('EUR', 'GBP', 'JPY', 'CHF')
        .map(wrong(name, ['CURRENCY_MISMATCH'], (t) => `currency ${t} on USD accounts`)),
    ),
  };
}

/** A payout's destination: 1-128 printable ASCII characters, no spaces. */
export function destinationField(): FieldModel {
  const name = 'destination';
  return {
    name,
    valid: fc
      .oneof(
        printable(1, 40).map((t) => `fz-${t}`.slice(0, 128)),
        fc.constant('x'.repeat(128)),
        fc.constant('~'),
      )
      .map(value(name)),
    bad: fc.oneof(
      fc.constant(absent(name, true)),
      fc
        .oneof(
          fc.constantFrom('', ' ', 'bank 123', ' bank', 'bank\t1', 'bänk', 'bank\n', '€'),
          fc.constant('x'.repeat(129)),
          printable(1, 20).map((t) => `${t} ${t}`),
          notAString,
        )
        .map(wrong(name)),
    ),
  };
}

/** Printable ASCII, spaces included: what a reference's inside and a metadata value may hold. */
const ascii = (min: number, max: number): fc.Arbitrary<string> =>
  fc
    .array(fc.integer({ min: 0x20, max: 0x7e }), { minLength: min, maxLength: max })
    .map((codes) => String.fromCharCode(...codes));

/** A movement's optional reference: 1-64 printable ASCII characters, no space at either end. */
export function referenceField(): FieldModel {
  const name = 'reference';
  return {
    name,
    valid: fc.oneof(
      fc.constant(absent(name, false)),
      fc
        .oneof(
          printable(1, 1),
          fc.tuple(printable(1, 1), ascii(0, 62), printable(1, 1)).map((p) => p.join('')),
          fc.constant(`R${' '.repeat(62)}~`),
        )
        .map(value(name)),
    ),
    bad: fc
      .oneof(
        fc.constantFrom('', ' ', ' INV-1', 'INV-1 ', 'INV	1', 'café', 'r'.repeat(65)),
        printable(65, 80),
        notAString,
      )
      .map(wrong(name)),
  };
}

/** A movement's optional description: 1-140 code points, no control characters. */
export function descriptionField(): FieldModel {
  const name = 'description';
  return {
    name,
    valid: fc.oneof(
      fc.constant(absent(name, false)),
      fc
        .oneof(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
          fc.constantFrom('\u{1F4B8}'.repeat(140), 'd'.repeat(140), 'Zürich \u2028 café'),
        )
        .filter((t) => t.length > 0 && [...t].length <= 140 && !/[\p{Cc}\p{Cs}]/u.test(t))
        .map(value(name)),
    ),
    bad: fc
      .oneof(
        fc.constantFrom('', 'one\ntwo', 'tab\t', 'del\u007f', 'c1\u0085', 'd'.repeat(141)),
        fc.constant('\u{1F4B8}'.repeat(141)),
        notAString,
      )
      .map(wrong(name, [V], (t) => `description ${t.length > 40 ? `of ${t.length} bytes` : t}`)),
  };
}

/** Optional metadata: at most 5 keys of 1-20 `[A-Za-z0-9_.-]`, values 0-40 printable ASCII. */
export function metadataField(): FieldModel {
  const name = 'metadata';
  // `__proto__` matches the pattern but is refused (a parse would drop it): never drawn as valid.
  const key = fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/).filter((k) => k !== '__proto__');
  const entries = (min: number, max: number, ofKey = key, ofValue = ascii(0, 40)) =>
    fc.dictionary(ofKey, ofValue, { minKeys: min, maxKeys: max, noNullPrototype: true });
  return {
    name,
    valid: fc.oneof(fc.constant(absent(name, false)), entries(0, 5).map(value(name))),
    bad: fc
      .oneof(
        entries(6, 8),
        entries(1, 1, fc.constantFrom('', 'a b', 'k'.repeat(21), 'é', '{}')),
        entries(1, 1, key, fc.constantFrom('v'.repeat(41), 'é', 'tab\t')),
        fc.dictionary(key, fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)), {
          minKeys: 1,
          maxKeys: 3,
        }),
        fc.constantFrom<unknown>('k=v', ['v'], 5, null, true),
      )
      .map(wrong(name)),
  };
}

/** The three optional details every money route's body takes. */
export const detailsFields = (): FieldModel[] => [
  referenceField(),
  descriptionField(),
  metadataField(),
];

/** An operator's reason: 1-500 characters once trimmed. */
export function reasonField(): FieldModel {
  const name = 'reason';
  return {
    name,
    valid: fc
      .oneof(
        printable(1, 60).map((t) => `fuzz ${t}`),
        fc.constantFrom(
          '  INC-42  ',
          'é',
          'line one\nline two',
          'r'.repeat(500),
          ` ${'r'.repeat(500)} `,
        ),
      )
      .map(value(name)),
    bad: fc.oneof(
      fc.constant(absent(name, true)),
      fc
        .oneof(
          fc.constantFrom('', ' ', '\t\n', '\u00a0', ' \u2003 '),
          fc.integer({ min: 501, max: 3000 }).map((n) => 'r'.repeat(n)),
          notAString,
        )
        .map(
          wrong(name, [V], (t) => `reason ${t.length > 40 ? `of ${t.length - 2} characters` : t}`),
        ),
    ),
  };
}

/** The withdrawals switch: a JSON boolean. */
export function pausedField(): FieldModel {
  const name = 'paused';
  return {
    name,
    valid: fc.boolean().map(value(name)),
    bad: fc.oneof(
      fc.constant(absent(name, true)),
      fc.constantFrom<unknown>('true', 'false', 1, 0, null, [], {}, 'yes').map(wrong(name)),
    ),
  };
}

/**
 * An account id in a body (a transfer's two sides): `valid` is the id given; a value that is
 * not a ULID names no account (404), an empty or non-string one is a validation error.
 */
export function accountIdField(
  name: 'fromAccountId' | 'toAccountId',
  valid: string,
  alsoBad: Array<{ id: string; what: string; codes: string[] }>,
): FieldModel {
  const notFound = ['ACCOUNT_NOT_FOUND'];
  return {
    name,
    valid: fc.constant(value(name)(valid)),
    bad: fc.oneof(
      fc.constant(absent(name, true)),
      fc.constant(wrong(name, [V], () => `${name} empty`)('')),
      notAString.map(wrong(name)),
      fc
        .stringMatching(ULID)
        .filter((id) => id !== valid && alsoBad.every((b) => b.id !== id))
        .map(wrong(name, notFound, () => `${name}: no such account`)),
      fc
        .constantFrom(
          valid.toLowerCase(),
          `${valid}0`,
          valid.slice(1),
          ` ${valid}`,
          `${valid.slice(0, -1)}U`,
          'null',
          'x'.repeat(8000),
        )
        .map(wrong(name, notFound, (t) => `${name} ${t.slice(0, 30)} (not an id)`)),
      printable(1, 30)
        .filter((t) => !ULID.test(t))
        .map(wrong(name, notFound, () => `${name}: random text`)),
      ...(alsoBad.length > 0
        ? [
            fc.constantFrom(...alsoBad).map(
              (b): Part<Field> => ({
                value: { name, raw: JSON.stringify(b.id) },
                invalid: b.what,
                codes: b.codes,
              }),
            ),
          ]
        : []),
    ),
  };
}

/** A field the contract does not know: every body refuses unknown fields. */
function unknownField(known: string[]): fc.Arbitrary<Part<Field>> {
  return fc
    .oneof(
      fc.constantFrom('Amount', 'memo', 'accountId', 'frozen', 'balance', 'status', 'toAccount'),
      fc.string({ minLength: 1, maxLength: 12 }),
    )
    .filter((name) => !known.includes(name) && name !== '__proto__')
    .chain((name) =>
      fc.jsonValue({ maxDepth: 1 }).map(
        (v): Part<Field> => ({
          value: { name, raw: JSON.stringify(v) ?? 'null' },
          invalid: `unknown field ${JSON.stringify(name)}`,
          codes: [V],
        }),
      ),
    );
}

function render(fields: Array<Part<Field>>): Part<BodyValue> {
  const present = fields.filter((f) => f.value.raw !== undefined);
  const text = `{${present.map((f) => `${JSON.stringify(f.value.name)}:${f.value.raw}`).join(',')}}`;
  const invalid = fields.flatMap((f) => (f.invalid === undefined ? [] : [f.invalid]));
  const uncertain = fields.flatMap((f) => (f.uncertain === undefined ? [] : [f.uncertain]));
  const codes = new Set(fields.flatMap((f) => f.codes ?? []));
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_BODY) {
    invalid.push(`a body of ${bytes} bytes`);
    codes.add('PAYLOAD_TOO_LARGE');
  }
  return {
    value: Buffer.from(text),
    invalid: invalid.length > 0 ? invalid.join(', ') : undefined,
    uncertain: uncertain.length > 0 ? uncertain.join(', ') : undefined,
    codes: [...codes],
  };
}

/**
 * Object bodies from field models: `any` mixes valid and bad fields (and, now and then, an
 * unknown field or a body no route accepts); `valid` has only valid fields; `bad` always has at
 * least one fault.
 */
export function objectBodies(fields: FieldModel[]): Forms<BodyValue> {
  const known = fields.map((f) => f.name);
  const mixed = fields.map((f) =>
    fc.oneof({ weight: 4, arbitrary: f.valid }, { weight: 1, arbitrary: f.bad }),
  );
  const extra = unknownField(known);
  const any = fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.tuple(...mixed), fc.option(extra, { freq: 10, nil: undefined }))
        .map(([parts, more]) => render(more === undefined ? parts : [...parts, more])),
    },
    { weight: 1, arbitrary: hopelessBodies() },
  );
  const bad = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          fc.nat({ max: fields.length - 1 }),
          fc.tuple(...mixed),
          fc.tuple(...fields.map((f) => f.bad)),
        )
        .map(([which, parts, faults]) =>
          render(parts.map((p, i) => (i === which ? (faults[i] ?? p) : p))),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.tuple(...mixed), extra)
        .map(([parts, more]) => render([...parts, more])),
    },
    { weight: 2, arbitrary: hopelessBodies() },
  );
  const valid = fc.tuple(...fields.map((f) => f.valid)).map(render);
  return { any, valid, bad };
}

// ---- a payout's transaction id in the path ---------------------------------------------------

export type TransactionValue = { segment: string };

/**
 * `{transactionId}` of `GET /accounts/{accountId}/payouts/{transactionId}`: the account's own
 * payout (when it has one), or one that names no payout of this account — made up, another
 * account's payout, a transaction that is not a payout, or not a ULID at all.
 */
export function transactionParts(
  own: string | null,
  others: Array<{ id: string; what: string }>,
): { any: fc.Arbitrary<Part<TransactionValue>>; bad: fc.Arbitrary<Part<TransactionValue>> } {
  const missing = ['PAYOUT_NOT_FOUND'];
  const sample = own ?? '01ARZ3NDEKTSV4RRFFQ69G5FAV';
  const bad = fc.oneof(
    fc
      .stringMatching(ULID)
      .filter((id) => id !== own)
      .map(
        (segment): Part<TransactionValue> => ({
          value: { segment },
          invalid: 'no such payout',
          codes: missing,
        }),
      ),
    ...(others.length > 0
      ? [
          fc.constantFrom(...others).map(
            (o): Part<TransactionValue> => ({
              value: { segment: o.id },
              invalid: o.what,
              codes: missing,
            }),
          ),
        ]
      : []),
    fc
      .constantFrom(
        sample.toLowerCase(),
        `${sample}0`,
        sample.slice(1),
        `${sample.slice(0, -1)}I`,
        `${sample.slice(0, -1)}O`,
        '%20',
        '.',
        `${sample}%2F`,
        `${sample}%00`,
        `${sample}%C3%A9`,
        '%F0%9F%92%B8',
        '%FF%FE',
        '%',
        'null',
        '0',
        '-1',
        'P'.repeat(300),
        '%7BtransactionId%7D',
      )
      .map(
        (segment): Part<TransactionValue> => ({
          value: { segment },
          invalid: `transaction id ${JSON.stringify(segment.slice(0, 40))}`,
          codes: [...missing, 'NOT_FOUND'],
        }),
      ),
    printable(1, 40).map(
      (text): Part<TransactionValue> => ({
        value: { segment: encodeURIComponent(text) },
        invalid: 'transaction id: random text',
        codes: [...missing, 'NOT_FOUND'],
      }),
    ),
  );
  if (own === null) return { any: bad, bad };
  const any = fc.oneof(
    { weight: 5, arbitrary: fc.constant<Part<TransactionValue>>({ value: { segment: own } }) },
    {
      weight: 1,
      arbitrary: fc.nat({ max: 25 }).map(
        (i): Part<TransactionValue> => ({
          value: {
            segment: `${own.slice(0, i)}%${own.charCodeAt(i).toString(16).toUpperCase()}${own.slice(i + 1)}`,
          },
          uncertain: 'a percent-encoded character in the transaction id',
          codes: [...missing, 'NOT_FOUND'],
        }),
      ),
    },
    { weight: 3, arbitrary: bad },
  );
  return { any, bad };
}
