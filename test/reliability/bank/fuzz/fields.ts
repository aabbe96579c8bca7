/**
 * Request bodies built field by field, for the routes whose bodies have more than an amount
 * (transfers, payouts, freeze and unfreeze, the withdrawals switch, fee schedules, limits,
 * reversals):
 * each field is valid, absent or wrong in a way the contract names, and the body is refused if
 * any field is. Path parts for a transaction id too (a payout's, a movement's to reverse).
 */
import fc from 'fast-check';
import {
  hopelessBodies,
  malformedIds,
  MAX_BODY,
  printable,
  ULID,
  type BodyValue,
  type Forms,
} from './parts';
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
export const value =
  (name: string) =>
  (raw: unknown): Part<Field> => ({ value: { name, raw: JSON.stringify(raw) } });
export const wrong =
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
export const absent = (name: string, required: boolean): Part<Field> =>
  required
    ? { value: { name, raw: undefined }, invalid: `no ${name}`, codes: [V] }
    : { value: { name, raw: undefined } };

/** Values that are not strings at all. */
export const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);

/** A well-formed amount refused once the service reads what it exceeds: what, and the codes. */
export interface TooMuch {
  what: string;
  codes: string[];
}

/** A debit the account cannot cover. */
export const BEYOND_FUNDS: TooMuch = {
  what: 'far above what the account has',
  codes: ['INSUFFICIENT_FUNDS'],
};

/**
 * A reversal of more than the original moved (the accounts here hold far less than 10^10, so no
 * movement moved that much): refused by the cap, or first by the funds when it takes money back.
 */
export const BEYOND_ORIGINAL: TooMuch = {
  what: 'far above the original',
  codes: ['REVERSAL_EXCEEDS_ORIGINAL', 'INSUFFICIENT_FUNDS'],
};

/**
 * An amount: 1 to 10^12 minor units, a JSON integer. `tooMuch`: a well-formed amount far above
 * what the route allows is a fault too; `optional`: absence is valid (a reversal's default).
 */
export function amountField(options: { tooMuch?: TooMuch; optional?: boolean } = {}): FieldModel {
  const name = 'amount';
  const { tooMuch, optional = false } = options;
  return {
    name,
    valid: fc.oneof(
      fc.integer({ min: 1, max: 50 }).map(value(name)),
      fc.integer({ min: 1, max: 5 }).map((n) => ({ value: { name, raw: `${n}e1` } })),
      ...(optional ? [fc.constant(absent(name, false))] : []),
    ),
    bad: fc.oneof(
      ...(optional ? [] : [fc.constant(absent(name, true))]),
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
      // A well-formed amount refused only once the service reads something (the funds, the
      // original): drawn as often as all the malformed ones together.
      ...(tooMuch !== undefined
        ? [
            {
              weight: 3,
              arbitrary: fc.integer({ min: 10_000_000_000, max: 1_000_000_000_000 }).map(
                (amount): Part<Field> => ({
                  value: { name, raw: String(amount) },
                  invalid: `amount ${amount}, ${tooMuch.what}`,
                  codes: tooMuch.codes,
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

/** A movement's optional reference: 1-36 printable ASCII characters, no space at either end. */
export function referenceField(): FieldModel {
  const name = 'reference';
  return {
    name,
    valid: fc.oneof(
      fc.constant(absent(name, false)),
      fc
        .oneof(
          printable(1, 1),
          fc.tuple(printable(1, 1), ascii(0, 34), printable(1, 1)).map((p) => p.join('')),
          fc.constant(`R${' '.repeat(34)}~`),
        )
        .map(value(name)),
    ),
    bad: fc
      .oneof(
        fc.constantFrom('', ' ', ' INV-1', 'INV-1 ', 'INV	1', 'café', 'r'.repeat(37)),
        printable(37, 80),
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

/** A JSON boolean: the withdrawals switch's `paused`, a reversal's optional `allowNegative`. */
export function booleanField(name: string, required: boolean): FieldModel {
  return {
    name,
    valid: required
      ? fc.boolean().map(value(name))
      : fc.oneof(fc.constant(absent(name, false)), fc.boolean().map(value(name))),
    bad: fc.oneof(
      ...(required ? [fc.constant(absent(name, true))] : []),
      fc.constantFrom<unknown>('true', 'false', 1, 0, null, [], {}, 'yes').map(wrong(name)),
    ),
  };
}

// ---- a fee rule: {flat?, bps?, min?, max?}, each an integer, min <= max ----------------------

/** The largest fee amount (`flat`, `min`, `max`): the largest amount, 10^12. */
const MAX_FEE = 1_000_000_000_000;
const RULE_FIELDS = ['flat', 'bps', 'min', 'max'] as const;
type RuleField = (typeof RULE_FIELDS)[number];

/** Valid rules: any subset of the fields, within their bounds, `min` never above `max`. */
const validRule = fc
  .record(
    {
      flat: fc.oneof(fc.nat({ max: 1000 }), fc.constant(MAX_FEE)),
      bps: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0, 10_000)),
      min: fc.nat({ max: 500 }),
      max: fc.oneof(fc.nat({ max: 100_000 }), fc.constant(MAX_FEE)),
    },
    { requiredKeys: [] },
  )
  .map((rule) =>
    rule.min !== undefined && rule.max !== undefined && rule.min > rule.max
      ? { ...rule, min: rule.max, max: rule.min }
      : rule,
  );

/** A value no field of a rule takes (`bps` also refuses 10001). */
const badRuleValue = (field: RuleField): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom<unknown>(-1, 1.5, '5', null, true, [], {}, MAX_FEE + 1),
    ...(field === 'bps' ? [fc.integer({ min: 10_001, max: 1_000_000 })] : []),
  );

/** Rules the contract refuses, each naming what is wrong with it. */
const badRule = (name: string): fc.Arbitrary<Part<Field>> =>
  fc.oneof(
    fc
      .constantFrom<unknown>(5, 'flat', null, [], true, [{ flat: 1 }])
      .map(wrong(name, [V], (t) => `${name} ${t} (not a rule)`)),
    {
      // A bad number is what a client gets wrong most: drawn as often as the rest together.
      weight: 3,
      arbitrary: fc.oneof(
        ...RULE_FIELDS.map((field) =>
          fc.tuple(validRule, badRuleValue(field)).map(([rule, bad]) =>
            wrong(
              name,
              [V],
              () => `${name}.${field} ${JSON.stringify(bad)}`,
            )({
              ...rule,
              [field]: bad,
            }),
          ),
        ),
      ),
    },
    fc.tuple(fc.nat({ max: 1000 }), fc.integer({ min: 1, max: 1000 })).map(([max, above]) =>
      wrong(
        name,
        [V],
        () => `${name}: min ${max + above} above max ${max}`,
      )({
        min: max + above,
        max,
      }),
    ),
    fc
      .tuple(
        validRule,
        fc
          .oneof(
            fc.constantFrom('percent', 'Flat', 'fee', 'currency'),
            fc.string({ minLength: 1, maxLength: 8 }),
          )
          .filter((k) => !(RULE_FIELDS as readonly string[]).includes(k) && k !== '__proto__'),
      )
      .map(([rule, key]) =>
        wrong(
          name,
          [V],
          () => `${name}: unknown field ${JSON.stringify(key)}`,
        )({
          ...rule,
          [key]: 1,
        }),
      ),
  );

/** A movement type's fee rule in a fee schedule: absent (no fee), or a rule. */
export function feeRuleField(name: 'WITHDRAWAL' | 'PAYOUT'): FieldModel {
  return {
    name,
    valid: fc.oneof(fc.constant(absent(name, false)), validRule.map(value(name))),
    bad: badRule(name),
  };
}

// ---- an account's limits: {daily?, perMovement?, timezone?, reason}, at least one limit ---------

/** The largest limit: the largest amount, 10^12 minor units. */
const MAX_LIMIT = 1_000_000_000_000;

/** A limit in minor units (`daily`, `perMovement`): absent (unchanged), or 1 to 10^12, an integer. */
export function limitAmountField(name: 'daily' | 'perMovement'): FieldModel {
  return {
    name,
    valid: fc.oneof(
      fc.constant(absent(name, false)),
      fc
        .oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(1, MAX_LIMIT))
        .map(value(name)),
      fc.integer({ min: 1, max: 9 }).map((n) => ({ value: { name, raw: `${n}e3` } })),
    ),
    bad: fc.oneof(
      fc
        .oneof(
          fc.constantFrom<unknown>(0, -1, 1.5, '5', null, true, [], {}, MAX_LIMIT + 1),
          fc.integer({ min: -1_000_000, max: 0 }),
          fc.integer({ min: MAX_LIMIT + 1, max: Number.MAX_SAFE_INTEGER }),
          fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
        )
        .map(wrong(name, [V], (t) => `${name} ${t.slice(0, 40)} (out of range)`)),
      fc.constantFrom('1e13', '1e400', '-0', '0.0', '1.5e0').map(literal(name)),
    ),
  };
}

/** IANA names this runtime knows (its day is a calendar day there); case is not significant. */
const KNOWN_TIMEZONES = [
  'UTC',
  'utc',
  'GMT',
  'Europe/Paris',
  'europe/paris',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'America/Argentina/Buenos_Aires',
  'Pacific/Kiritimati',
  'Etc/GMT-14',
];
/**
 * Names no runtime knows, or that the contract's pattern refuses. Not offsets such as `+0200`:
 * the pattern lets them through, and Node 24's Intl takes them as zones (Node 20's does not).
 */
const UNKNOWN_TIMEZONES = [
  'Mars/Olympus_Mons',
  'Europe/Pariss',
  'Paris',
  'UTC+1',
  'GMT+25',
  'Etc/GMT+13',
  'Etc/Unknown',
  'Europe//Paris',
  'UTC0',
  'Local',
  'Z',
  '+02:00',
  'Europe/../UTC',
  'America/New York',
  '',
  ' UTC',
  'UTC\n',
  'Zürich',
  'x'.repeat(65),
];

/** An account's timezone: absent (unchanged), or an IANA name. */
export function timezoneField(): FieldModel {
  const name = 'timezone';
  return {
    name,
    valid: fc.oneof(
      fc.constant(absent(name, false)),
      fc.constantFrom(...KNOWN_TIMEZONES).map(value(name)),
    ),
    bad: fc
      .oneof(fc.constantFrom<unknown>(...UNKNOWN_TIMEZONES), notAString)
      .map(wrong(name, [V], (t) => `timezone ${t.slice(0, 30)} (unknown)`)),
  };
}

/** A limits change names at least one limit: a body with none of them is refused. */
export const LIMIT_FIELDS = ['daily', 'perMovement', 'timezone'];
export const atLeastOneLimit: BodyRule = (present) =>
  LIMIT_FIELDS.some((f) => present.has(f))
    ? undefined
    : { invalid: 'no daily, perMovement or timezone', codes: [V] };

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
      fc.constantFrom(
        'Amount',
        'memo',
        'accountId',
        'frozen',
        'balance',
        'status',
        'toAccount',
        // A fee schedule knows withdrawals and payouts only.
        'DEPOSIT',
        'TRANSFER_OUT',
      ),
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

/** A rule over a body's fields together (which are present): a fault, or undefined. */
export type BodyRule = (present: Set<string>) => { invalid: string; codes: string[] } | undefined;

/** The JSON object of these fields, with every fault its fields and `rules` find. */
export function renderBody(fields: Array<Part<Field>>, rules: BodyRule[] = []): Part<BodyValue> {
  const present = fields.filter((f) => f.value.raw !== undefined);
  const text = `{${present.map((f) => `${JSON.stringify(f.value.name)}:${f.value.raw}`).join(',')}}`;
  const invalid = fields.flatMap((f) => (f.invalid === undefined ? [] : [f.invalid]));
  const uncertain = fields.flatMap((f) => (f.uncertain === undefined ? [] : [f.uncertain]));
  const codes = new Set(fields.flatMap((f) => f.codes ?? []));
  const names = new Set(present.map((f) => f.value.name));
  for (const rule of rules) {
    const fault = rule(names);
    if (fault === undefined) continue;
    invalid.push(fault.invalid);
    for (const code of fault.codes) codes.add(code);
  }
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
 * least one fault. `rules` judge the fields together (a body with none of several optional ones).
 */
export function objectBodies(fields: FieldModel[], rules: BodyRule[] = []): Forms<BodyValue> {
  const render = (parts: Array<Part<Field>>) => renderBody(parts, rules);
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
  // Valid fields may still break a rule together: those bodies are not valid ones.
  const valid = fc
    .tuple(...fields.map((f) => f.valid))
    .map(render)
    .filter((body) => body.invalid === undefined);
  return { any, valid, bad };
}

// ---- a transaction id in the path: a payout's, or a movement's to reverse -------------------

export type TransactionValue = { segment: string };

/** What a transaction id in the path looks up, and what naming none of them is answered with. */
export interface TransactionLookup {
  /** "payout", "transaction". */
  noun: string;
  missing: string[];
  /** Codes a real id may still be answered with (not in the statement yet, not reversible). */
  ownCodes?: string[];
}

export const PAYOUT_LOOKUP: TransactionLookup = { noun: 'payout', missing: ['PAYOUT_NOT_FOUND'] };

/**
 * `{transactionId}` of a route: `own`, a real one (when there is one), or one that names none —
 * made up, one of `others` (another account's payout, a transaction that is not a payout), or
 * not a ULID at all.
 */
export function transactionParts(
  own: string | null,
  others: Array<{ id: string; what: string }>,
  lookup: TransactionLookup = PAYOUT_LOOKUP,
): {
  any: fc.Arbitrary<Part<TransactionValue>>;
  valid?: fc.Arbitrary<Part<TransactionValue>>;
  bad: fc.Arbitrary<Part<TransactionValue>>;
} {
  const { noun, missing, ownCodes } = lookup;
  const sample = own ?? '01ARZ3NDEKTSV4RRFFQ69G5FAV';
  const bad = fc.oneof(
    fc
      .stringMatching(ULID)
      .filter((id) => id !== own)
      .map(
        (segment): Part<TransactionValue> => ({
          value: { segment },
          invalid: `no such ${noun}`,
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
    fc.constantFrom(...malformedIds(sample, 'P'), '%7BtransactionId%7D').map(
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
  const valid = fc.constant<Part<TransactionValue>>({
    value: { segment: own },
    ...(ownCodes !== undefined ? { codes: ownCodes } : {}),
  });
  const any = fc.oneof(
    { weight: 5, arbitrary: valid },
    {
      weight: 1,
      arbitrary: fc.nat({ max: 25 }).map(
        (i): Part<TransactionValue> => ({
          value: {
            segment: `${own.slice(0, i)}%${own.charCodeAt(i).toString(16).toUpperCase()}${own.slice(i + 1)}`,
          },
          uncertain: 'a percent-encoded character in the transaction id',
          codes: [...missing, ...(ownCodes ?? []), 'NOT_FOUND'],
        }),
      ),
    },
    { weight: 3, arbitrary: bad },
  );
  return { any, valid, bad };
}
