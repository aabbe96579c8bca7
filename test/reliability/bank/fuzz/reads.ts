/**
 * The parameters of the reads that take some, each valid or not: the history's query (limit,
 * cursor, reference, and the statement's filters from, to, type, status), a monthly statement's
 * period and query (limit, cursor), a balance's instant (at).
 *
 * A cursor is valid only for the listing that made it: the unfiltered history's (and a reference
 * lookup's, with or without filters) name a place by sequence, the filtered history's a place by
 * `postedAt`, a statement's the line after which it goes on. Values are percent-encoded as a
 * client sends them; the local stack reads a bare `+` as a space (URLSearchParams), API Gateway
 * may not.
 *
 * A balance at an instant and a statement read the statement, which may answer 503
 * `STATEMENT_CATCHING_UP` while the sequencer places a movement: their parts say so
 * (`transient`), and a statement's cursor is judged after that read.
 */
import fc from 'fast-check';
import { EVENT_TYPES } from '../../../../lib/domain/event-ports';
import { MOVEMENT_TYPES } from '../../../../lib/domain/movement-types';
import { b64url, printable, ULID } from './parts';
import type { Part } from './types';

export type QueryValue = string;
/** One parameter as sent, `name=value` (several when it is repeated), valid or not. */
type Param = Part<string>;

/** The 503 a read of the statement may answer while the sequencer lags. */
export const CATCHING_UP = ['STATEMENT_CATCHING_UP'];
const VALIDATION = ['VALIDATION_ERROR'];
const DAY = 86_400_000;

const refused = (value: string, invalid: string, transient?: string[]): Param => ({
  value,
  invalid,
  codes: VALIDATION,
  ...(transient === undefined ? {} : { transient }),
});
const defined = <T>(value: T | undefined): value is T => value !== undefined;
/** Absent three times in four. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
const validOrNot = <T>(forms: { valid: fc.Arbitrary<T>; bad: fc.Arbitrary<T> }) =>
  fc.oneof({ weight: 3, arbitrary: forms.valid }, { weight: 1, arbitrary: forms.bad });

/** The first instant of the UTC day: the same seed draws the same requests all day. */
export const dayOf = (date: Date): Date => new Date(Math.floor(date.getTime() / DAY) * DAY);

// ---- limit ---------------------------------------------------------------------------------------

export function limitParams(): { valid: fc.Arbitrary<Param>; bad: fc.Arbitrary<Param> } {
  const valid = fc.integer({ min: 1, max: 100 }).map((n): Param => ({ value: `limit=${n}` }));
  const bad = fc
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
    .map((value) => refused(`limit=${value}`, `limit=${value}`));
  return { valid, bad };
}

const anyLimit = (): fc.Arbitrary<Param | undefined> => {
  const limit = limitParams();
  return fc.option(
    fc.oneof({ weight: 2, arbitrary: limit.valid }, { weight: 1, arbitrary: limit.bad }),
    { nil: undefined },
  );
};

/** The same `limit` once more: the local stack (and API Gateway) join the two with a comma. */
const LIMIT_TWICE: Param = { value: 'limit=7', uncertain: 'limit given twice', codes: VALIDATION };

// ---- cursors -------------------------------------------------------------------------------------

/** Which listing made a cursor: the history by sequence, the filtered one, a statement; none. */
type CursorKind = 'history' | 'filtered' | 'statement' | 'none';
interface Cursor {
  kind: CursorKind;
  /** As sent (percent-encoded where needed). */
  value: string;
}

/** The unfiltered history's: one the API returned, or a place before a sequence. */
const historyCursors = (cursor: string): fc.Arbitrary<Cursor> =>
  fc.oneof(
    fc.constant<Cursor>({ kind: 'history', value: cursor }),
    fc
      .integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
      .map((before): Cursor => ({ kind: 'history', value: b64url({ before }) })),
  );

/** The filtered history's: a place by `postedAt` (UTC, milliseconds) and sequence. */
const filteredCursors: fc.Arbitrary<Cursor> = fc
  .record({
    ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
    sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  })
  .map(
    ({ ms, sequence }): Cursor => ({
      kind: 'filtered',
      value: b64url({ postedAt: new Date(ms).toISOString(), sequence }),
    }),
  );

/** A statement's: the sequence after which its lines go on (0: from its first). */
const statementCursors: fc.Arbitrary<Cursor> = fc
  .integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
  .map((after): Cursor => ({ kind: 'statement', value: b64url({ after }) }));

/** Cursors no listing made. */
const madeUpCursors = (cursor: string): fc.Arbitrary<Cursor> =>
  fc
    .oneof(
      fc.constantFrom(
        b64url({ before: 0 }),
        b64url({ before: -1 }),
        b64url({ before: 1.5 }),
        b64url({ before: '5' }),
        b64url({ before: 5, account: 'x' }),
        b64url({ after: -1 }),
        b64url({ after: 1.5 }),
        b64url({ after: 5, before: 5 }),
        b64url({ postedAt: '2026-01-01T00:00:00Z', sequence: 1 }),
        b64url({ postedAt: '2026-01-01T00:00:00.000Z', sequence: 0 }),
        b64url({ postedAt: '2026-01-01T00:00:00.000Z', sequence: 1, before: 1 }),
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
    .map((value): Cursor => ({ kind: 'none', value }));

const NAMES: Record<CursorKind, string> = {
  history: "the unfiltered history's",
  filtered: "the filtered history's",
  statement: "a statement's",
  none: 'made up',
};

/**
 * The cursor as a parameter of a listing that takes cursors of kind `takes`. `transient`: the
 * listing reads the statement before it judges its cursor.
 */
function cursorParam(cursor: Cursor, takes: CursorKind, transient?: string[]): Param {
  const value = `cursor=${cursor.value}`;
  if (cursor.kind === takes) return { value };
  return refused(value, `cursor=${cursor.value.slice(0, 40)} (${NAMES[cursor.kind]})`, transient);
}

/** An empty cursor: refused with the limit, before anything is read. */
const EMPTY_CURSOR = refused('cursor=', 'cursor= (empty)');

// ---- instants --------------------------------------------------------------------------------

/** An instant as written, and when valid the millisecond it names. */
export interface Instant {
  text: string;
  ms: number | null;
}

const OFFSETS = ['Z', '+00:00', '-05:00', '+05:30', '+14:00', '-12:00', '+01:00'];

/** The instant `ms` written in an offset, to the minute, second, millisecond or nanosecond. */
function written(ms: number, offset: string, precision: number): Instant {
  const sign = offset.startsWith('-') ? -1 : 1;
  const minutes =
    offset === 'Z' ? 0 : sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4)));
  const local = new Date(ms + minutes * 60_000).toISOString();
  const digits = [16, 19, 23, 23][precision] ?? 23;
  const text = `${local.slice(0, digits)}${precision === 3 ? '456789' : ''}${offset}`;
  return { text, ms: Date.parse(text) };
}

const FIXED_INSTANTS = [
  '1970-01-01T00:00:00Z',
  '2000-01-01T00:00:00Z',
  '2024-02-29T12:00:00Z',
  '2026-03-01T00:00:00-05:00',
  '9998-06-01T00:00:00+14:00',
  '9999-12-31T00:00:00Z',
];

/** Instants that are none: no timezone, no such day or time, out of range, other notations. */
const BAD_INSTANTS = [
  '2026-01-01T00:00:00',
  '2026-01-01',
  '2026-02-30T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2025-02-29T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T24:00:00+01:00',
  '2026-01-01T23:60:00Z',
  '2026-01-01T10:00:60Z',
  '2026-01-01T25:00:00Z',
  '2026-01-01T10:00:00+24:00',
  '2026-13-01T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-01-00T00:00:00Z',
  '2026-01-01t00:00:00z',
  '2026-01-01 00:00:00Z',
  '2026-01-01T00:00:00+0100',
  '2026-01-01T00:00:00+01',
  '2026-01-01T00:00:00.1234567891Z',
  '1969-12-31T23:59:59Z',
  '1970-01-01T00:30:00+01:00',
  '9999-12-31T00:00:00.001Z',
  '+002026-01-01T00:00:00Z',
  '1767225600000',
  'now',
  '',
  '2026-W01',
  '２０２６-01-01T00:00:00Z',
  'Thu, 01 Jan 2026 00:00:00 GMT',
];

export function instants(now: Date): { valid: fc.Arbitrary<Instant>; bad: fc.Arbitrary<Instant> } {
  const around = (from: number, to: number) =>
    fc
      .tuple(fc.integer({ min: from, max: to }), fc.constantFrom(...OFFSETS), fc.nat({ max: 3 }))
      .map(([ms, offset, precision]) => written(ms, offset, precision));
  const day = dayOf(now).getTime();
  const valid = fc.oneof(
    around(day - 45 * DAY, day + 45 * DAY),
    around(Date.UTC(2000, 0, 2), Date.UTC(2100, 0, 1)),
    fc.constantFrom(...FIXED_INSTANTS).map((text): Instant => ({ text, ms: Date.parse(text) })),
  );
  const bad = fc
    .oneof(
      fc.constantFrom(...BAD_INSTANTS),
      printable(1, 30).filter((t) => !/^\d{4}-\d{2}-\d{2}T/.test(t)),
    )
    .map((text): Instant => ({ text, ms: null }));
  return { valid, bad };
}

/**
 * An instant as parameter `name`: encoded (a `+` as %2B), now and then with a bare `+`, which
 * the local stack reads as a space. `transient`: what a valid one may bring.
 */
function instantParam(name: string, instant: Instant, bare: boolean, transient?: string[]): Param {
  const encoded = encodeURIComponent(instant.text);
  if (instant.ms === null)
    return refused(`${name}=${encoded}`, `${name} ${JSON.stringify(instant.text)}`);
  const offered = transient === undefined ? {} : { transient };
  if (bare && instant.text.includes('+')) {
    return {
      value: `${name}=${encoded.replace(/%2B/g, '+')}`,
      uncertain: `a bare + in ${name}`,
      codes: VALIDATION,
      ...offered,
    };
  }
  return { value: `${name}=${encoded}`, ...offered };
}

/** `from` and `to`: each drawn alone, or a valid pair in order, reversed or equal. */
function instantRange(now: Date): fc.Arbitrary<{ from?: Instant; to?: Instant }> {
  const { valid, bad } = instants(now);
  const any = fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: bad });
  const pair = fc
    .tuple(valid, valid, fc.constantFrom('ordered', 'reversed', 'equal'))
    .map(([a, b, how]) => {
      const [early, late] = (a.ms ?? 0) <= (b.ms ?? 0) ? [a, b] : [b, a];
      if (how === 'equal') return { from: a, to: a };
      return how === 'ordered' ? { from: early, to: late } : { from: late, to: early };
    });
  const alone = fc.record({ from: sometimes(any), to: sometimes(any) }).map((r) => ({
    ...(r.from === undefined ? {} : { from: r.from }),
    ...(r.to === undefined ? {} : { to: r.to }),
  }));
  return fc.oneof({ weight: 3, arbitrary: alone }, { weight: 1, arbitrary: pair });
}

/** `to` must come after `from` (both valid); else the fault. */
function orderFault(from?: Instant, to?: Instant): Param | undefined {
  if (from?.ms == null || to?.ms == null || to.ms > from.ms) return undefined;
  return refused('', `to ${to.text} not after from ${from.text}`);
}

// ---- type and status ----------------------------------------------------------------------------

/** A comma-separated list parameter, or the same parameter repeated (joined with commas). */
const listParam = (name: string, items: readonly string[], repeated: boolean): string =>
  repeated
    ? items.map((item) => `${name}=${encodeURIComponent(item)}`).join('&')
    : `${name}=${items.map(encodeURIComponent).join(',')}`;

function typeParams(): { valid: fc.Arbitrary<Param>; bad: fc.Arbitrary<Param> } {
  const valid = fc
    .tuple(
      fc.oneof(
        fc.shuffledSubarray([...MOVEMENT_TYPES], { minLength: 1, maxLength: 3 }),
        fc.constant([...MOVEMENT_TYPES]),
      ),
      fc.boolean(),
    )
    .map(([types, repeated]): Param => ({ value: listParam('type', types, repeated) }));
  const bad = fc
    .oneof(
      fc.constantFrom(
        ['deposit'],
        ['Deposit'],
        ['DEPOSITS'],
        ['FEE'],
        ['PENDING'],
        [''],
        ['DEPOSIT', ''],
        ['', 'DEPOSIT'],
        ['DEPOSIT', '', 'PAYOUT'],
        ['DEPOSIT WITHDRAWAL'],
        ['DEPOSIT;WITHDRAWAL'],
        [' DEPOSIT'],
        ['PAYOUT', 'payout'],
      ),
      fc
        .stringMatching(/^[A-Z_]{1,14}$/)
        .filter((t) => !(MOVEMENT_TYPES as readonly string[]).includes(t))
        .map((t) => ['DEPOSIT', t]),
    )
    .map((types) =>
      refused(listParam('type', types, false), `type=${JSON.stringify(types.join(','))}`),
    );
  return { valid, bad };
}

function statusParams(): { valid: fc.Arbitrary<Param>; bad: fc.Arbitrary<Param> } {
  const valid = fc
    .tuple(
      fc.constantFrom(['POSTED'], ['VOIDED'], ['POSTED', 'VOIDED'], ['VOIDED', 'POSTED']),
      fc.boolean(),
    )
    .map(([statuses, repeated]): Param => ({ value: listParam('status', statuses, repeated) }));
  const bad = fc
    .constantFrom(
      ['PENDING'],
      ['posted'],
      ['REVERSED'],
      ['UNKNOWN'],
      [''],
      ['POSTED', ''],
      ['POSTED', 'PENDING'],
      ['POSTED VOIDED'],
    )
    .map((statuses) =>
      refused(listParam('status', statuses, false), `status=${JSON.stringify(statuses.join(','))}`),
    );
  return { valid, bad };
}

// ---- reference -----------------------------------------------------------------------------------

/** `reference`: the lookup by a movement's reference (1-36 printable ASCII, no space at an end). */
function referenceParams(): { valid: fc.Arbitrary<Param>; bad: fc.Arbitrary<Param> } {
  const valid = fc
    .oneof(printable(1, 36), fc.constantFrom('INV 2026/42', 'a+b', '%', '#'))
    .map((text): Param => ({ value: `reference=${encodeURIComponent(text)}` }));
  const bad = fc
    .constantFrom('', ' ', ' INV', 'INV ', 'caf\u00e9', 'tab\t', 'r'.repeat(37))
    .map((text) =>
      refused(
        `reference=${encodeURIComponent(text)}`,
        `reference=${JSON.stringify(text.slice(0, 20))}`,
      ),
    );
  return { valid, bad };
}

// ---- whole queries ---------------------------------------------------------------------------

const noiseParam = fc.option(
  printable(1, 10).map((t): Param => ({ value: `x-${encodeURIComponent(t)}=1` })),
  { nil: undefined },
);

/**
 * The parameters as one query part: refused if any is; the 503s they may bring, unless one of
 * them is refused before the statement is read.
 */
export function joined(params: Array<Param | undefined>): Part<QueryValue> {
  const present = params.filter(defined);
  const sent = present.filter((p) => p.value !== '');
  const invalid = present.flatMap((p) => (p.invalid === undefined ? [] : [p.invalid]));
  const uncertain = present.flatMap((p) => (p.uncertain === undefined ? [] : [p.uncertain]));
  const codes = [...new Set(present.flatMap((p) => p.codes ?? []))];
  const refusedFirst = present.some((p) => p.invalid !== undefined && p.transient === undefined);
  const transient = [...new Set(present.flatMap((p) => p.transient ?? []))];
  return {
    value: sent.length > 0 ? `?${sent.map((p) => p.value).join('&')}` : '',
    ...(invalid.length > 0 ? { invalid: invalid.join(', ') } : {}),
    ...(uncertain.length > 0 ? { uncertain: uncertain.join(', ') } : {}),
    codes,
    ...(refusedFirst || transient.length === 0 ? {} : { transient }),
  };
}

/**
 * `GET …/transactions`: limit, cursor, reference and the filters. With any filter and no
 * reference, only the filtered history's cursors are taken; otherwise only the unfiltered's
 * (a reference lookup goes on below any place in the statement).
 */
export function historyQuery(cursor: string, now: Date): fc.Arbitrary<Part<QueryValue>> {
  const reference = referenceParams();
  return fc
    .record({
      limit: anyLimit(),
      cursor: fc.option(
        fc.record({
          which: fc.constantFrom('fits', 'fits', 'fits', 'other', 'made up'),
          history: historyCursors(cursor),
          filtered: filteredCursors,
          madeUp: madeUpCursors(cursor),
        }),
        { nil: undefined, freq: 3 },
      ),
      reference: fc.option(
        fc.oneof(
          { weight: 3, arbitrary: reference.valid },
          { weight: 1, arbitrary: reference.bad },
        ),
        { nil: undefined, freq: 4 },
      ),
      range: instantRange(now),
      bare: fc.boolean(),
      type: sometimes(validOrNot(typeParams())),
      status: sometimes(validOrNot(statusParams())),
      noise: noiseParam,
      repeated: fc.boolean(),
    })
    .map((q) => {
      const { from, to } = q.range;
      const filtered = [from, to, q.type, q.status].some(defined);
      const takes = filtered && q.reference === undefined ? 'filtered' : 'history';
      // Mostly a cursor of the listing asked for, sometimes the other listing's, or one made up.
      const sent =
        q.cursor &&
        {
          fits: takes === 'filtered' ? q.cursor.filtered : q.cursor.history,
          other: takes === 'filtered' ? q.cursor.history : q.cursor.filtered,
          'made up': q.cursor.madeUp,
        }[q.cursor.which];
      return joined([
        q.limit,
        q.repeated && q.limit?.invalid === undefined ? q.limit && LIMIT_TWICE : undefined,
        sent && cursorParam(sent, takes),
        q.reference,
        from && instantParam('from', from, q.bare),
        to && instantParam('to', to, q.bare),
        orderFault(from, to),
        q.type,
        q.status,
        q.noise,
      ]);
    });
}

/**
 * `GET …/statements/{period}`: limit and cursor. The cursor is judged after the statement is
 * read (which may answer 503 first); an empty one with the limit, before.
 */
export function statementQuery(cursor: string): fc.Arbitrary<Part<QueryValue>> {
  const cursors = fc.oneof(
    { weight: 3, arbitrary: statementCursors },
    { weight: 1, arbitrary: historyCursors(cursor) },
    { weight: 1, arbitrary: filteredCursors },
    { weight: 2, arbitrary: madeUpCursors(cursor) },
  );
  return fc
    .record({
      limit: anyLimit(),
      cursor: fc.option(
        fc.oneof(
          { weight: 9, arbitrary: cursors.map((c) => cursorParam(c, 'statement', CATCHING_UP)) },
          { weight: 1, arbitrary: fc.constant(EMPTY_CURSOR) },
        ),
        { nil: undefined, freq: 2 },
      ),
      noise: noiseParam,
      repeated: fc.boolean(),
    })
    .map((q) =>
      joined([
        q.limit,
        q.repeated && q.limit?.invalid === undefined ? q.limit && LIMIT_TWICE : undefined,
        q.cursor,
        q.noise,
      ]),
    );
}

/** `GET …/balance`: now and then `at`, an instant past or future (then the statement is read). */
export function balanceQuery(now: Date): fc.Arbitrary<Part<QueryValue>> {
  return fc
    .record({
      at: fc.option(validOrNot(instants(now)), { nil: undefined, freq: 2 }),
      bare: fc.boolean(),
      noise: noiseParam,
    })
    .map((q) => joined([q.at && instantParam('at', q.at, q.bare, CATCHING_UP), q.noise]));
}

// ---- a statement's period --------------------------------------------------------------------

export type PeriodValue = { segment: string };

const monthOf = (date: Date, months = 0): string => {
  const shifted = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
  return shifted.toISOString().slice(0, 7);
};

/** Path segments no period is: each reaches the route (one segment) and is refused there. */
const BAD_PERIODS = [
  '2026-13',
  '2026-00',
  '1999-12',
  '9999-01',
  '0000-01',
  '2026-1',
  '26-01',
  '2026-01-01',
  '2026-001',
  '02026-01',
  '202601',
  '2026_01',
  '2026-1a',
  '+2026-01',
  'YYYY-MM',
  'latest',
  '%20',
  '2026-01%20',
  '%202026-01',
  '2026-01%00',
  encodeURIComponent('２０２６-01'),
  encodeURIComponent('2026\u201001'),
  encodeURIComponent('2026-０1'),
];

/**
 * A statement's month (`YYYY-MM`, years 2000 to 9998): this month, the last, the next, the
 * bounds, any; or one that is none. A segment the router cannot match (none, two) is NOT_FOUND.
 */
export function periodParts(now: Date): {
  any: fc.Arbitrary<Part<PeriodValue>>;
  bad: fc.Arbitrary<Part<PeriodValue>>;
} {
  const valid = fc
    .oneof(
      fc.constantFrom(monthOf(now), monthOf(now, -1), monthOf(now, 1), '2000-01', '9998-12'),
      fc
        .tuple(fc.integer({ min: 2000, max: 9998 }), fc.integer({ min: 1, max: 12 }))
        .map(([year, month]) => `${year}-${String(month).padStart(2, '0')}`),
    )
    .map((segment): Part<PeriodValue> => ({ value: { segment }, transient: CATCHING_UP }));
  const encoded = fc.constant<Part<PeriodValue>>({
    value: { segment: `${monthOf(now).slice(0, 4)}%2D${monthOf(now).slice(5)}` },
    uncertain: 'a percent-encoded character in the period',
    codes: VALIDATION,
    transient: CATCHING_UP,
  });
  const bad = fc.oneof(
    fc.constantFrom(...BAD_PERIODS).map(
      (segment): Part<PeriodValue> => ({
        value: { segment },
        invalid: `period ${JSON.stringify(segment)}`,
        codes: VALIDATION,
      }),
    ),
    fc.constantFrom('', '2026/01', '2026-01/x').map(
      (segment): Part<PeriodValue> => ({
        value: { segment },
        invalid: `period ${JSON.stringify(segment)} (no route)`,
        codes: ['NOT_FOUND'],
      }),
    ),
    printable(1, 20)
      .filter((t) => !/^\d{4}-\d{2}$/.test(t) && !/^\.+$/.test(t))
      .map(
        (text): Part<PeriodValue> => ({
          value: { segment: encodeURIComponent(text) },
          invalid: 'period: random text',
          codes: ['VALIDATION_ERROR', 'NOT_FOUND'],
        }),
      ),
  );
  const any = fc.oneof(
    { weight: 5, arbitrary: valid },
    { weight: 1, arbitrary: encoded },
    { weight: 3, arbitrary: bad },
  );
  return { any, bad };
}

// ---- the event feed and an endpoint's delivery attempts -----------------------------------------

/**
 * A place in the event feed, as `nextCursor` names it: the base64url of an instant (UTC, to the
 * millisecond), `#` and an event id (printable ASCII; `~` the end of an instant). Around the fuzz's
 * day, or anywhere from 2000 to 2100.
 */
function feedPositions(now: Date): fc.Arbitrary<string> {
  const day = dayOf(now).getTime();
  return fc
    .record({
      ms: fc.oneof(
        fc.integer({ min: day - 45 * DAY, max: day + DAY }),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
      ),
      id: fc.oneof(fc.stringMatching(ULID), fc.constant('~'), printable(0, 40)),
    })
    .map(({ ms, id }) => `${new Date(ms).toISOString()}#${id}`);
}

/** Texts no `nextCursor` is: not base64url, too long, or base64url of something else. */
const BAD_FEED_CURSORS = [
  b64url('2026-01-01T00:00:00Z#x'),
  b64url('2026-01-01T00:00:00.000Z'),
  b64url('2026-01-01T25:00:00.000Z#x'),
  b64url('2026-13-01T00:00:00.000Z#x'),
  b64url('2026-01-01T00:00:00.000Z#a b'),
  b64url('2026-01-01T00:00:00.000Z#caf\u00e9'),
  b64url(`2026-01-01T00:00:00.000Z#${'x'.repeat(301)}`),
  b64url({ before: 5 }),
  b64url({ after: 5 }),
  b64url('null'),
  'A'.repeat(401),
  '%2B',
  'a%2Fb',
  'abc%3D',
  '....',
  '%FF',
];

function feedCursorParams(now: Date): { valid: fc.Arbitrary<Param>; bad: fc.Arbitrary<Param> } {
  const valid = feedPositions(now).map(
    (position): Param => ({ value: `after=${b64url(position)}` }),
  );
  const bad = fc
    .oneof(
      fc.constantFrom('', ...BAD_FEED_CURSORS),
      printable(1, 60)
        .filter((t) => !/^[A-Za-z0-9_-]+$/.test(t))
        .map(encodeURIComponent),
    )
    .map((value) => refused(`after=${value}`, `after=${value.slice(0, 40)}`));
  return { valid, bad };
}

function eventTypeParams(): { valid: fc.Arbitrary<Param>; bad: fc.Arbitrary<Param> } {
  const valid = fc
    .tuple(fc.shuffledSubarray([...EVENT_TYPES], { minLength: 1 }), fc.boolean())
    .map(([types, repeated]): Param => ({ value: listParam('type', types, repeated) }));
  const bad = fc
    .oneof(
      fc.constantFrom(
        ['payout'],
        ['PAYOUT.POSTED'],
        ['Payout.posted'],
        ['payout.unknown'],
        ['movement.committed '],
        [''],
        ['payout.posted', ''],
        ['payout.posted payout.held'],
        ['payout.posted;payout.held'],
        ['DEPOSIT'],
      ),
      fc
        .stringMatching(/^[a-z_]{1,10}\.[a-z_]{1,10}$/)
        .filter((t) => !(EVENT_TYPES as readonly string[]).includes(t))
        .map((t) => ['payout.held', t]),
    )
    .map((types) =>
      refused(listParam('type', types, false), `type=${JSON.stringify(types.join(','))}`),
    );
  return { valid, bad };
}

/**
 * `GET /events` but its `accountId` (whose the account is decides who may ask): limit, `after`
 * (a `nextCursor`: any place in the feed, or a text none is) and `type`.
 */
export function eventsParams(now: Date): fc.Arbitrary<Array<Param | undefined>> {
  return fc
    .record({
      limit: anyLimit(),
      after: sometimes(validOrNot(feedCursorParams(now))),
      type: sometimes(validOrNot(eventTypeParams())),
      noise: noiseParam,
    })
    .map((q) => [q.limit, q.after, q.type, q.noise]);
}

/** A place in an endpoint's attempts, as its `nextCursor` names it: instant, event id, attempt. */
const attemptCursors: fc.Arbitrary<Param> = fc
  .record({
    ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
    event: fc.stringMatching(ULID),
    attempt: fc.integer({ min: 1, max: 999_999 }),
  })
  .map(({ ms, event, attempt }): Param => {
    const place = `${new Date(ms).toISOString()}#${event}#${String(attempt).padStart(6, '0')}`;
    return { value: `cursor=${b64url(place)}` };
  });

/**
 * `GET /webhook-endpoints/{endpointId}/attempts`: limit and cursor, one of an attempt list or one
 * made for another listing or none (judged once the endpoint is found; an empty one first).
 */
export function attemptsQuery(cursor: string): fc.Arbitrary<Part<QueryValue>> {
  const foreign = fc
    .oneof(historyCursors(cursor), statementCursors, madeUpCursors(cursor))
    .map((c) => refused(`cursor=${c.value}`, `cursor=${c.value.slice(0, 40)} (no attempt list's)`));
  return fc
    .record({
      limit: anyLimit(),
      cursor: fc.option(
        fc.oneof(
          { weight: 3, arbitrary: attemptCursors },
          { weight: 4, arbitrary: foreign },
          { weight: 1, arbitrary: fc.constant(EMPTY_CURSOR) },
        ),
        { nil: undefined, freq: 2 },
      ),
      noise: noiseParam,
    })
    .map((q) => joined([q.limit, q.cursor, q.noise]));
}
