/**
 * The fuzzer's models of the statement's reads (issue 21): the history's filters and cursors, a
 * monthly statement's period and page, a balance at an instant. Every query the model draws is
 * given to the service's own parsing and domain (on an in-memory store), which must take exactly
 * those the model calls valid; the route models reach each fault and allow a 503
 * STATEMENT_CATCHING_UP only where the statement is read; and the checker holds the service's
 * real answers to openapi.yaml.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { monotonicFactory } from 'ulid';
import { ValidationError } from '../../lib/domain/errors';
import { listTransactions } from '../../lib/domain/history';
import { balanceAndLimits } from '../../lib/domain/limits';
import { deposit } from '../../lib/domain/movements';
import { listTransactionsByReference } from '../../lib/domain/reference-lookup';
import { sequenceChanges } from '../../lib/domain/sequencer';
import {
  balanceAt,
  filteredHistory,
  isFiltered,
  monthlyStatement,
} from '../../lib/domain/statements';
import type { Caller } from '../../lib/domain/types';
import {
  entryView,
  historyFilterOf,
  instantOf,
  limitsStatusView,
  pageOf,
  eventQueryOf,
  periodOf,
  referenceOf,
} from '../../lib/http-schemas';
import { memoryMovementDeps } from '../support/memory-deps';
import { contractErrorCodes } from '../reliability/bank/contract';
import { checkAnswer, fuzzCasesByRoute, type FuzzCase } from '../reliability/bank/fuzz';
import { loadContract } from '../reliability/bank/fuzz/contract';
import { positionOfCursor } from '../../lib/domain/event-feed';
import { decodeAttemptCursor } from '../../lib/persistence/webhook-store';
import {
  attemptsQuery,
  balanceQuery,
  eventsParams,
  historyQuery,
  joined,
  periodParts,
  statementQuery,
  type QueryValue,
} from '../reliability/bank/fuzz/reads';
import type { Part } from '../reliability/bank/fuzz/types';
import { parseResponse, type RawResponse } from '../reliability/bank/raw-http';
import { FUZZ_DAY, fuzzSetup } from '../support/fuzz-setup';
import { memoryLedgerStore } from '../support/memory-store';
import { accountOf } from '../support/store-contract';

const HISTORY = 'GET /accounts/{accountId}/transactions';
const STATEMENT = 'GET /accounts/{accountId}/statements/{period}';
const BALANCE = 'GET /accounts/{accountId}/balance';
const CATCHING_UP = ['STATEMENT_CATCHING_UP'];

// ---- the service, on an in-memory store ----------------------------------------------------------

const alice: Caller = { userId: 'user-alice', username: 'alice', isOperator: false };
const ops: Caller = { userId: 'ops-user', username: 'ops', isOperator: true };
const account = accountOf({ ownerId: alice.userId, balance: 0, version: 0 });
const store = memoryLedgerStore({ accounts: [account] });
const nextId = monotonicFactory();
const HOUR = 3_600_000;
/** The movements are made an hour into the fuzz's day, the reads two hours later. */
const clock = { now: FUZZ_DAY.getTime() + HOUR };
const deps = memoryMovementDeps(store, {
  newId: () => nextId(),
  now: () => new Date(clock.now),
});

beforeAll(async () => {
  // Two movements in the statement, with their running figures: real lines to show.
  for (const amount of [500, 250]) {
    const key = `k-${amount}`;
    await deposit(deps, {
      caller: ops,
      accountId: account.accountId,
      amount,
      idempotencyKey: key,
      requestId: key,
      reference: 'INV-1',
    });
    const after = await store.getAccount(account.accountId);
    await sequenceChanges(store, [{ id: amount, before: null, after }], deps.now);
  }
  clock.now += 2 * HOUR;
});

/** The query as the local stack hands it over: decoded, a repeated parameter joined by commas. */
function localQuery(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new URL(`http://x/${query}`).searchParams) {
    out[name] = out[name] ? `${out[name]},${value}` : value;
  }
  return out;
}

/** Whether the service takes it: true, or false when it refuses it with VALIDATION_ERROR. */
async function takes(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (error instanceof ValidationError) return false;
    throw error;
  }
}

/** The history's query as handlers/transactions.ts reads it. */
const historyTakes = (query: Record<string, string>) =>
  takes(async () => {
    const page = pageOf(query);
    const reference = referenceOf(query);
    const filter = historyFilterOf(query);
    const { accountId } = account;
    if (isFiltered(filter)) {
      return filteredHistory(deps, alice, accountId, { ...filter, reference }, page);
    }
    return reference === undefined
      ? listTransactions(deps, alice, accountId, page)
      : listTransactionsByReference(deps, alice, accountId, reference, page);
  });

/** Parts the model is sure of, judged by the service: the ones it takes and the model's word. */
async function judged(
  parts: Array<Part<QueryValue>>,
  service: (query: Record<string, string>) => Promise<boolean>,
) {
  const sure = parts.filter((p) => p.uncertain === undefined);
  const verdicts = await Promise.all(
    sure.map(async (p) => ({
      query: p.value,
      invalid: p.invalid,
      taken: await service(localQuery(p.value)),
    })),
  );
  return {
    sure: sure.length,
    valid: verdicts.filter((v) => v.invalid === undefined).length,
    wrong: verdicts.filter((v) => v.taken !== (v.invalid === undefined)),
  };
}

describe('the fuzz model of the reads, against the service', () => {
  it("draws the history's queries the service takes as valid, and those it refuses as bad", async () => {
    const parts = fc.sample(historyQuery(fuzzSetup.cursor, FUZZ_DAY), { numRuns: 800, seed: 7 });
    const { sure, valid, wrong } = await judged(parts, historyTakes);
    expect(wrong).toEqual([]);
    expect(sure).toBeGreaterThan(400);
    expect(valid).toBeGreaterThan(100);
    // Among the valid: both statuses, a type repeated, instants in offsets and to the nanosecond.
    const taken = parts.filter((p) => p.invalid === undefined && p.uncertain === undefined);
    for (const form of [
      /status=(POSTED,VOIDED|VOIDED,POSTED)/,
      /type=[A-Z_]+&type=/,
      /from=[^&]*%2B14%3A00/,
      /to=[^&]*\.\d{9}/,
      /from=[^&]*&to=/,
    ]) {
      expect([String(form), taken.some((p) => form.test(p.value))]).toEqual([String(form), true]);
    }
  });

  it("draws a statement's periods and queries the service takes as valid, and refuses the others", async () => {
    const periods = fc.sample(periodParts(FUZZ_DAY).any, { numRuns: 3000, seed: 7 });
    // This month, the last, the next, the first and the last the service keeps; and months none.
    const drawn = (segment: string, valid: boolean) =>
      periods.some((p) => p.value.segment === segment && (p.invalid === undefined) === valid);
    for (const month of ['2026-12', '2026-11', '2027-01', '2000-01', '9998-12']) {
      expect([month, drawn(month, true)]).toEqual([month, true]);
    }
    for (const month of ['2026-13', '2026-00', '1999-12', '9999-01', '2026-1', '26-01', '%20']) {
      expect([month, drawn(month, false)]).toEqual([month, true]);
    }
    expect(drawn('2026-01-01', false)).toBe(true);
    // The router decodes the segment; one it cannot route (NOT_FOUND alone) never reaches it.
    const routed = periods.filter((p) => p.uncertain === undefined && p.codes?.[0] !== 'NOT_FOUND');
    const refused = (segment: string) => {
      try {
        periodOf({ period: decodeURIComponent(segment) });
        return false;
      } catch (error) {
        if (error instanceof ValidationError) return true;
        throw error;
      }
    };
    const wrong = routed.filter((p) => refused(p.value.segment) !== (p.invalid !== undefined));
    expect(wrong).toEqual([]);
    expect(routed.filter((p) => p.invalid !== undefined).length).toBeGreaterThan(50);

    const queries = fc.sample(statementQuery(fuzzSetup.cursor), { numRuns: 500, seed: 7 });
    const page = await judged(queries, (query) =>
      takes(() => monthlyStatement(deps, alice, account.accountId, '2026-12', pageOf(query))),
    );
    expect(page.wrong).toEqual([]);
    expect(page.valid).toBeGreaterThan(100);
  });

  it("draws a balance's instants the service takes as valid, and those it refuses as bad", async () => {
    const queries = fc.sample(balanceQuery(FUZZ_DAY), { numRuns: 500, seed: 7 });
    const { valid, wrong } = await judged(queries, (query) =>
      takes(async () => {
        const at = instantOf(query, 'at');
        if (at !== undefined) await balanceAt(deps, alice, account.accountId, at);
      }),
    );
    expect(wrong).toEqual([]);
    expect(valid).toBeGreaterThan(100);
    expect(queries.filter((q) => q.invalid !== undefined).length).toBeGreaterThan(50);
  });
});

describe('the fuzz model of the event feed and the delivery attempts, against the service', () => {
  it("draws the feed's queries the service takes as valid, and those it refuses as bad", async () => {
    const parts = fc.sample(eventsParams(FUZZ_DAY).map(joined), { numRuns: 800, seed: 7 });
    const { sure, valid, wrong } = await judged(parts, (query) =>
      takes(async () => {
        // As handlers/events.ts and listEvents read it (the cursor before anything is read).
        const { after } = eventQueryOf(query);
        if (after !== undefined) positionOfCursor(after);
      }),
    );
    expect(wrong).toEqual([]);
    expect(sure).toBeGreaterThan(400);
    expect(valid).toBeGreaterThan(100);
    const taken = parts.filter((p) => p.invalid === undefined);
    for (const form of [/after=[A-Za-z0-9_-]+/, /type=[a-z_.]+&type=/, /type=[a-z_.]+,/]) {
      expect([String(form), taken.some((p) => form.test(p.value))]).toEqual([String(form), true]);
    }
    expect(parts.some((p) => p.invalid !== undefined && /after=/.test(p.value))).toBe(true);
  });

  it("draws an endpoint's attempt cursors the service takes, and refuses every other", async () => {
    const parts = fc.sample(attemptsQuery(fuzzSetup.cursor), { numRuns: 500, seed: 7 });
    const { valid, wrong } = await judged(parts, (query) =>
      takes(async () => {
        const { cursor } = pageOf(query);
        if (cursor !== undefined) decodeAttemptCursor(cursor);
      }),
    );
    expect(wrong).toEqual([]);
    expect(valid).toBeGreaterThan(100);
    expect(parts.some((p) => p.invalid === undefined && /cursor=/.test(p.value))).toBe(true);
    expect(parts.some((p) => p.invalid !== undefined && /cursor=/.test(p.value))).toBe(true);
  });
});

// ---- the route models ---------------------------------------------------------------------------

let byRoute: Record<string, fc.Arbitrary<FuzzCase>> = {};
const samples = new Map<string, FuzzCase[]>();
beforeAll(async () => {
  byRoute = await fuzzCasesByRoute(fuzzSetup);
});
function sampleOf(route: string): FuzzCase[] {
  const model = byRoute[route];
  if (model === undefined) throw new Error(`no fuzz model of ${route}`);
  if (!samples.has(route)) samples.set(route, fc.sample(model, { numRuns: 600, seed: 4242 }));
  return samples.get(route) ?? [];
}
const some = (route: string, predicate: (c: FuzzCase) => boolean): boolean =>
  sampleOf(route).some(predicate);
const has = (c: FuzzCase, what: RegExp): boolean => c.invalid.some((i) => what.test(i));
const only = (c: FuzzCase, what: RegExp): boolean => c.invalid.length === 1 && has(c, what);
const query = (c: FuzzCase): string => c.request.target.split('?')[1] ?? '';

describe('the fuzz model of the reads, route by route', () => {
  it("reads a month's statement as its owner or an operator, of months valid or not", () => {
    expect(some(STATEMENT, (c) => c.expectOk && c.request.target.includes('/statements/'))).toBe(
      true,
    );
    expect(some(STATEMENT, (c) => c.expectOk && c.request.target.includes('cursor='))).toBe(true);
    expect(some(STATEMENT, (c) => only(c, /^bob reading a statement on alice's account$/))).toBe(
      true,
    );
    expect(some(STATEMENT, (c) => only(c, /^period "/))).toBe(true);
    expect(some(STATEMENT, (c) => has(c, /\(no route\)$/) && c.allowed.includes('NOT_FOUND'))).toBe(
      true,
    );
    expect(some(STATEMENT, (c) => only(c, /^limit=/))).toBe(true);
    expect(some(STATEMENT, (c) => only(c, /^cursor=.*\(the unfiltered history's\)$/))).toBe(true);
    expect(some(STATEMENT, (c) => only(c, /^cursor=.*\(made up\)$/))).toBe(true);
  });

  it('allows 503 STATEMENT_CATCHING_UP exactly where the statement may be read before a refusal', () => {
    const statements = sampleOf(STATEMENT);
    // A valid read may be put off; so may one whose cursor is judged after the read.
    for (const c of statements.filter((s) => s.expectOk)) expect(c.transient).toEqual(CATCHING_UP);
    expect(
      statements.some((c) => only(c, /^cursor=.*\(made up\)$/) && c.transient.length > 0),
    ).toBe(true);
    // Any other fault (a caller, an account, a period, a limit, an empty cursor) is refused first.
    const late = /^cursor=.+ \((made up|the unfiltered history's|the filtered history's)\)$/;
    const first = statements.filter((s) => s.invalid.some((i) => !late.test(i)));
    expect(first.length).toBeGreaterThan(100);
    for (const c of first) {
      expect({ invalid: c.invalid, transient: c.transient }).toEqual({
        invalid: c.invalid,
        transient: [],
      });
    }
    const balances = sampleOf(BALANCE);
    expect(balances.some((c) => c.expectOk && /[?&]at=/.test(c.request.target))).toBe(true);
    for (const c of balances.filter((b) => b.expectOk)) {
      expect(c.transient).toEqual(/[?&]at=/.test(c.request.target) ? CATCHING_UP : []);
    }
    expect(balances.some((c) => only(c, /^at "/) && c.transient.length === 0)).toBe(true);
    // A 503 of the service's error table, and nowhere else.
    expect(contractErrorCodes().get('STATEMENT_CATCHING_UP')).toBe(503);
    for (const route of Object.keys(byRoute).filter((r) => r !== STATEMENT && r !== BALANCE)) {
      const with503 = sampleOf(route).filter((c) => c.transient.length > 0);
      expect({ route, with503 }).toEqual({ route, with503: [] });
    }
  });

  it('filters the history by instants, types and statuses, valid or not, with the cursors each listing takes', () => {
    for (const fault of [
      /^from "/,
      /^to "/,
      /^to .* not after from /,
      /^type="/,
      /^status="/,
      /^reference=/,
      /^limit=/,
    ]) {
      expect([String(fault), some(HISTORY, (c) => only(c, fault))]).toEqual([String(fault), true]);
    }
    const filtered = (c: FuzzCase) => /(^|&)(from|to|type|status)=/.test(query(c));
    const referenced = (c: FuzzCase) => /(^|&)reference=/.test(query(c));
    // A filter with the filtered history's cursor, and one with a reference and the unfiltered's.
    expect(
      some(HISTORY, (c) => c.expectOk && filtered(c) && !referenced(c) && /cursor=/.test(query(c))),
    ).toBe(true);
    expect(
      some(HISTORY, (c) => c.expectOk && filtered(c) && referenced(c) && /cursor=/.test(query(c))),
    ).toBe(true);
    expect(
      some(HISTORY, (c) => only(c, /^cursor=.*\(the unfiltered history's\)$/) && filtered(c)),
    ).toBe(true);
    expect(
      some(HISTORY, (c) => only(c, /^cursor=.*\(the filtered history's\)$/) && !filtered(c)),
    ).toBe(true);
  });
});

// ---- the checker, on the service's real answers -------------------------------------------------

const contract = loadContract();
const codes = new Map([...contract.codes, ...contractErrorCodes()]);
const REQUEST_ID = '5f0c6f4e-8a39-4c55-9d4b-0f1f2a3b4c5d';

function answer(status: number, body: unknown, headers: Record<string, string> = {}): RawResponse {
  const text = JSON.stringify(body);
  const json = JSON.parse(text) as unknown;
  return {
    status,
    headers: { 'cache-control': 'no-store', ...headers },
    body: Buffer.from(text),
    text,
    json,
  };
}
const refusal = (status: number, code: string, headers: Record<string, string> = {}) =>
  answer(status, { error: { code, message: 'Later.', requestId: REQUEST_ID } }, headers);

/** A valid read of `route`, as the model draws it. */
const validRead = (route: string): FuzzCase => {
  const found = sampleOf(route).find((c) => c.expectOk && c.transient.length > 0);
  if (found === undefined) throw new Error(`no valid read of ${route} that may be put off`);
  return found;
};
const check = (c: FuzzCase, r: RawResponse): string[] =>
  checkAnswer(c, r, codes, contract).map((v) => v.invariant);

describe('checkAnswer, on the reads of the statement', () => {
  it('holds a balance, a balance at an instant and a statement to their documented bodies', async () => {
    const { accountId } = account;
    const { account: now, limits } = await balanceAndLimits(deps, alice, accountId);
    const { currency, balance, available, pending, updatedAt } = now;
    const current = { accountId, currency, balance, available, pending, updatedAt };
    const balanceNow = { ...current, limits: limitsStatusView(limits) };
    const at = await balanceAt(deps, alice, accountId, '2026-12-06T02:00:00Z');
    expect(at).toMatchObject({ balance: 750, sequence: 2 });
    const statement = await monthlyStatement(deps, alice, accountId, '2026-12', { limit: 1 });
    const body = { ...statement, transactions: statement.transactions.map(entryView) };
    expect(body.transactions[0]?.postedAt).toEqual(expect.any(String));
    expect(body.nextCursor).toEqual(expect.any(String));

    expect(check(validRead(BALANCE), answer(200, balanceNow))).toEqual([]);
    expect(check(validRead(BALANCE), answer(200, at))).toEqual([]);
    expect(check(validRead(STATEMENT), answer(200, body))).toEqual([]);
    // One of the balance's two shapes exactly, not a blend; a statement with all its figures.
    const broken = [
      [BALANCE, { ...at, available }],
      [BALANCE, { ...at, sequence: -1 }],
      [STATEMENT, { ...body, totals: { ...body.totals, FEE: 1 } }],
      [STATEMENT, { ...body, fees: undefined }],
      [STATEMENT, { ...body, transactions: [{ ...body.transactions[0], postedAt: 'today' }] }],
    ] as const;
    for (const [route, wrong] of broken) {
      expect([route, check(validRead(route), answer(200, wrong))]).toEqual([
        route,
        ['every answer conforms to openapi.yaml'],
      ]);
    }
  });

  it('allows a 503 STATEMENT_CATCHING_UP with Retry-After only where the case allows it', () => {
    const later = refusal(503, 'STATEMENT_CATCHING_UP', { 'retry-after': '1' });
    expect(check(validRead(STATEMENT), later)).toEqual([]);
    expect(check(validRead(BALANCE), later)).toEqual([]);
    expect(check(validRead(STATEMENT), refusal(503, 'STATEMENT_CATCHING_UP'))).toEqual([
      'a transient refusal says when to retry',
    ]);
    // Elsewhere, or a 503 of another code, is a 5xx.
    const balanceNow = sampleOf(BALANCE).find((c) => c.expectOk && c.transient.length === 0);
    const fees = sampleOf('GET /accounts/{accountId}/fees').find((c) => c.expectOk);
    for (const c of [balanceNow, fees]) {
      expect(check(c as FuzzCase, later)).toEqual(['no 5xx', 'a valid read is answered 200']);
    }
    expect(
      check(validRead(STATEMENT), refusal(503, 'SERVICE_UNAVAILABLE', { 'retry-after': '1' })),
    ).toEqual(['no 5xx', 'a valid read is answered 200']);
  });

  it("holds a refusal to the document's Error", () => {
    const bobReads = sampleOf(STATEMENT).find((c) =>
      only(c, /^bob reading a statement on alice's account$/),
    ) as FuzzCase;
    expect(check(bobReads, refusal(404, 'ACCOUNT_NOT_FOUND'))).toEqual([]);
    const odd = answer(404, {
      error: { code: 'ACCOUNT_NOT_FOUND', message: 'No.', requestId: REQUEST_ID, at: 1 },
    });
    expect(check(bobReads, odd)).toEqual(['every answer conforms to openapi.yaml']);
  });
});

describe('parseResponse', () => {
  it('reads a compressed body as the client would (the local stack gzips 1 KB or more)', () => {
    const text = JSON.stringify({ transactions: [], nextCursor: null, pad: 'x'.repeat(2000) });
    const zipped = gzipSync(text);
    const head = `HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${zipped.length}\r\n\r\n`;
    const response = parseResponse(Buffer.concat([Buffer.from(head, 'latin1'), zipped]));
    expect(response.text).toBe(text);
    expect(response.json).toEqual(JSON.parse(text));
  });
});
