/**
 * Statements on the page (issue 21): days and months in the account's timezone, the history's
 * filters as the API's query, the balance chart's points, scale and words, the series read from
 * the server (lines, or daily balances for a busy month), and the CSV download; in plain node
 * with the API's answers stubbed.
 */
import { Api, ApiError, type ReceivedEntry, type ReceivedStatement } from '../../web/src/api';
import {
  BOX,
  CHART_LINES_MAX,
  chartLayout,
  chartSummary,
  dayEnds,
  DAY_READS_AT_ONCE,
  mapLimit,
  pointRows,
  readSeries,
  seriesFromLines,
  type SeriesApi,
} from '../../web/src/balance-chart';
import { downloadCsv, downloadMessage, type SaveFile } from '../../web/src/csv-download';
import { filterProblem, filterQuery, NO_FILTER } from '../../web/src/history-filters';
import {
  dayOf,
  daysOfMonth,
  monthLabel,
  nextDay,
  recentMonths,
  startOfDay,
} from '../../web/src/periods';
import { periodText } from '../../web/src/statement';
import { answers } from '../support/stub-fetch';

const ACCOUNT = '01J00000000000000000000000';

afterEach(() => jest.restoreAllMocks());

/** Every request `fetch` got: method, URL and headers; each answered with the next response. */
function requests(...responses: Array<() => Response>): Array<{ url: string; headers: Headers }> {
  const seen: Array<{ url: string; headers: Headers }> = [];
  jest.spyOn(globalThis, 'fetch').mockImplementation(async (url, init) => {
    seen.push({ url: String(url), headers: new Headers(init?.headers) });
    const next = responses.shift();
    if (!next) throw new Error('no more answers');
    return next();
  });
  return seen;
}

function line(sequence: number, postedAt: string, balanceAfter: number | null): ReceivedEntry {
  return {
    transactionId: `01J0000000000000000000${String(sequence).padStart(4, '0')}`,
    accountId: ACCOUNT,
    type: 'DEPOSIT',
    amount: 100,
    currency: 'USD',
    balanceAfter,
    sequence: balanceAfter === null ? null : sequence,
    idempotencyKey: `key-${sequence}`,
    createdAt: postedAt,
    postedAt,
    status: 'POSTED',
  };
}

const december: ReceivedStatement = {
  accountId: ACCOUNT,
  currency: 'USD',
  period: '2026-12',
  timezone: 'UTC',
  from: '2026-12-01T00:00:00.000Z',
  to: '2027-01-01T00:00:00.000Z',
  openingBalance: 10_000,
  closingBalance: 4_000,
  totals: { DEPOSIT: 2_000, WITHDRAWAL: 8_000 },
  fees: 0,
  count: 3,
  transactions: [
    line(7, '2026-12-02T00:00:00.000Z', 12_000),
    line(8, '2026-12-11T00:00:00.000Z', 9_000),
    line(9, '2026-12-21T00:00:00.000Z', 4_000),
  ],
  nextCursor: null,
};
const AFTER_DECEMBER = Date.parse('2027-02-01T00:00:00Z');

describe("days and months in the account's timezone", () => {
  it("finds a day's first instant on both sides of a clock change", () => {
    expect(startOfDay('2026-03-01', 'UTC').toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(startOfDay('2026-01-15', 'Europe/Paris').toISOString()).toBe('2026-01-14T23:00:00.000Z');
    expect(startOfDay('2026-07-15', 'Europe/Paris').toISOString()).toBe('2026-07-14T22:00:00.000Z');
    // New York moves its clocks on 2026-03-08 at 02:00: that day starts at -05:00, the next at -04:00.
    expect(startOfDay('2026-03-08', 'America/New_York').toISOString()).toBe(
      '2026-03-08T05:00:00.000Z',
    );
    expect(startOfDay('2026-03-09', 'America/New_York').toISOString()).toBe(
      '2026-03-09T04:00:00.000Z',
    );
    expect(startOfDay('2026-03-01', 'Asia/Kolkata').toISOString()).toBe('2026-02-28T18:30:00.000Z');
    // Santiago's clocks jump from 00:00 to 01:00 on 2026-09-06: that day starts at the jump.
    expect(startOfDay('2026-09-06', 'America/Santiago').toISOString()).toBe(
      '2026-09-06T04:00:00.000Z',
    );
    expect(dayOf(new Date('2026-09-06T03:59:59.999Z'), 'America/Santiago')).toBe('2026-09-05');
  });

  it('counts days and months on the calendar', () => {
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
    expect(daysOfMonth('2028-02')).toHaveLength(29);
    expect(daysOfMonth('2026-12')[30]).toBe('2026-12-31');
    expect(dayOf(new Date('2026-12-31T23:30:00Z'), 'Europe/Paris')).toBe('2027-01-01');
    expect(recentMonths(new Date('2027-01-01T00:30:00Z'), 'UTC', 3)).toEqual([
      '2027-01',
      '2026-12',
      '2026-11',
    ]);
    // Still December in New York.
    expect(recentMonths(new Date('2027-01-01T00:30:00Z'), 'America/New_York', 2)).toEqual([
      '2026-12',
      '2026-11',
    ]);
    expect(monthLabel('2026-12')).toBe('December 2026');
  });

  it("states a statement's boundaries on the account's clock", () => {
    const paris = {
      period: '2026-12',
      timezone: 'Europe/Paris',
      from: '2026-11-30T23:00:00.000Z',
      to: '2026-12-31T23:00:00.000Z',
    };
    expect(periodText(paris)).toBe(
      'December 2026 in Europe/Paris: from Dec 1, 2026, 12:00 AM to Jan 1, 2027, 12:00 AM (not included).',
    );
  });
});

describe("the history's filters", () => {
  it('filter nothing when empty: the plain history', () => {
    expect(filterQuery(NO_FILTER, 'UTC')).toBeNull();
  });

  it("send days as instants in the account's timezone, the last day included", () => {
    const filter = { ...NO_FILTER, from: '2026-03-01', to: '2026-03-31' };
    expect(filterQuery(filter, 'UTC')).toEqual({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
    });
    expect(filterQuery(filter, 'Europe/Paris')).toEqual({
      from: '2026-02-28T23:00:00.000Z',
      // Paris is on summer time by April 1.
      to: '2026-03-31T22:00:00.000Z',
    });
  });

  it('send types comma-separated and the status', () => {
    const filter = { ...NO_FILTER, types: ['WITHDRAWAL' as const, 'PAYOUT' as const] };
    expect(filterQuery(filter, 'UTC')).toEqual({ type: 'WITHDRAWAL,PAYOUT' });
    expect(filterQuery({ ...NO_FILTER, status: 'VOIDED' }, 'UTC')).toEqual({ status: 'VOIDED' });
  });

  it('refuse a last day before the first, or a date the API would not take', () => {
    expect(filterProblem({ ...NO_FILTER, from: '2026-03-02', to: '2026-03-01' })).toEqual({
      field: 'to',
      message: 'The last day comes before the first day.',
    });
    expect(filterProblem({ ...NO_FILTER, from: '1/3/2026' })).toMatchObject({ field: 'from' });
    expect(filterProblem({ ...NO_FILTER, from: '2026-03-01', to: '2026-03-01' })).toBeNull();
  });

  it('reach the API as its query parameters, with the cursor', async () => {
    const api = new Api('https://api.example', () => 'token');
    const calls = answers(() => Response.json({ transactions: [], nextCursor: null }));
    const query = filterQuery({ ...NO_FILTER, from: '2026-03-01', types: ['DEPOSIT'] }, 'UTC');
    await api.transactions(ACCOUNT, 'c1', query ?? {});
    const url = new URL((calls[0] ?? '').replace(/^GET /, ''));
    expect(url.pathname).toBe(`/accounts/${ACCOUNT}/transactions`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      limit: '10',
      from: '2026-03-01T00:00:00.000Z',
      type: 'DEPOSIT',
      cursor: 'c1',
    });
  });
});

describe('the balance chart', () => {
  it("steps from the opening balance to each line's balance after it, to the month's end", () => {
    const chart = seriesFromLines(december, december.transactions, AFTER_DECEMBER);
    expect(chart.points).toEqual([
      { at: Date.parse('2026-12-01T00:00:00Z'), balance: 10_000 },
      { at: Date.parse('2026-12-02T00:00:00Z'), balance: 12_000 },
      { at: Date.parse('2026-12-11T00:00:00Z'), balance: 9_000 },
      { at: Date.parse('2026-12-21T00:00:00Z'), balance: 4_000 },
    ]);
    expect(chart.end).toBe(Date.parse(december.to));
    // In a month not over yet, the line stops now.
    const midMonth = Date.parse('2026-12-25T00:00:00Z');
    expect(seriesFromLines(december, december.transactions, midMonth).end).toBe(midMonth);
  });

  it('leaves out lines without a balance', () => {
    const lines = [...december.transactions, line(10, '2026-12-22T00:00:00.000Z', null)];
    expect(seriesFromLines(december, lines, AFTER_DECEMBER).points).toHaveLength(4);
  });

  it('places time across the month and balances from lowest (bottom) to highest (top)', () => {
    const chart = seriesFromLines(december, december.transactions, AFTER_DECEMBER);
    const layout = chartLayout(chart);
    const plotWidth = BOX.width - BOX.left - BOX.right;
    expect(layout.x(chart.from)).toBe(BOX.left);
    expect(layout.x(chart.to)).toBe(BOX.left + plotWidth);
    expect(layout.y(12_000)).toBe(BOX.top);
    expect(layout.y(4_000)).toBe(BOX.height - BOX.bottom);
    expect([layout.low, layout.high]).toEqual([4_000, 12_000]);
    const y = (balance: number) => layout.y(balance);
    const x = (iso: string) => layout.x(Date.parse(iso));
    expect(layout.path).toBe(
      `M${BOX.left} ${y(10_000)}` +
        `H${x('2026-12-02T00:00:00Z')}V${y(12_000)}` +
        `H${x('2026-12-11T00:00:00Z')}V${y(9_000)}` +
        `H${x('2026-12-21T00:00:00Z')}V${y(4_000)}` +
        `H${BOX.left + plotWidth}`,
    );
  });

  it('draws a month without movements as a flat line across the middle', () => {
    const quiet = { ...december, transactions: [] };
    const layout = chartLayout(seriesFromLines(quiet, [], AFTER_DECEMBER));
    const middle = BOX.top + (BOX.height - BOX.top - BOX.bottom) / 2;
    expect(layout.path).toBe(`M${BOX.left} ${middle}H${BOX.width - BOX.right}`);
  });

  it('says what it shows, for screen readers, with a table of its points', () => {
    const chart = seriesFromLines(december, december.transactions, AFTER_DECEMBER);
    expect(chartSummary(chart, 'USD')).toBe(
      'Balance over December 2026: opening $100.00, closing $40.00, lowest $40.00, highest $120.00.',
    );
    expect(pointRows(chart, 'USD')).toEqual([
      ['Opening, Dec 1, 2026, 12:00 AM', '$100.00'],
      ['Dec 2, 2026, 12:00 AM', '$120.00'],
      ['Dec 11, 2026, 12:00 AM', '$90.00'],
      ['Dec 21, 2026, 12:00 AM', '$40.00'],
    ]);
  });
});

describe('the series read from the server', () => {
  it('reads the pages after the first, 100 lines at a time, when the month has few lines', async () => {
    const first = {
      ...december,
      count: 4,
      transactions: december.transactions.slice(0, 2),
      nextCursor: 'p2',
    };
    const statement = jest.fn(async () => ({
      ...december,
      transactions: december.transactions.slice(2),
      nextCursor: null,
    }));
    const balanceAt = jest.fn();
    const chart = await readSeries(
      { statement, balanceAt } as unknown as SeriesApi,
      first,
      AFTER_DECEMBER,
    );
    expect(statement).toHaveBeenCalledWith(ACCOUNT, '2026-12', { cursor: 'p2', limit: 100 });
    expect(balanceAt).not.toHaveBeenCalled();
    expect(chart.kind).toBe('lines');
    expect(chart.points.map((point) => point.balance)).toEqual([10_000, 12_000, 9_000, 4_000]);
  });

  it("reads the balance at each day's end for a busy month, a few at a time", async () => {
    const busy = { ...december, count: CHART_LINES_MAX + 1, nextCursor: 'p2' };
    let inFlight = 0;
    let most = 0;
    const asked: string[] = [];
    const balanceAt = jest.fn(async (_account: string, at: string) => {
      asked.push(at);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return { balance: Number(at.slice(8, 10)) * 100, currency: 'USD' };
    });
    const statement = jest.fn();
    const chart = await readSeries(
      { statement, balanceAt } as unknown as SeriesApi,
      busy,
      AFTER_DECEMBER,
    );
    expect(statement).not.toHaveBeenCalled();
    expect(asked).toHaveLength(31);
    expect(asked[0]).toBe('2026-12-01T23:59:59.999Z');
    expect(asked[30]).toBe('2026-12-31T23:59:59.999Z');
    expect(most).toBe(DAY_READS_AT_ONCE);
    expect(chart.kind).toBe('daily');
    expect(chart.points[0]).toEqual({ at: Date.parse(december.from), balance: 10_000 });
    expect(chart.points[31]).toEqual({
      at: Date.parse('2026-12-31T23:59:59.999Z'),
      balance: 3_100,
    });
    expect(chartSummary(chart, 'USD')).toMatch(/Drawn from the balance at the end of each day\.$/);
  });

  it("reads only the days begun, today's balance now", () => {
    const now = Date.parse('2026-12-03T10:00:00Z');
    expect(dayEnds(december, now)).toEqual([
      Date.parse('2026-12-01T23:59:59.999Z'),
      Date.parse('2026-12-02T23:59:59.999Z'),
      now,
    ]);
  });

  it('keeps the order of the results, whatever order they come in', async () => {
    const results = await mapLimit([30, 10, 20], 2, async (ms) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    });
    expect(results).toEqual([30, 10, 20]);
  });

  it("asks the API for a month's statement and for a balance at an instant", async () => {
    const api = new Api('https://api.example', () => 'token');
    const calls = answers(
      () => Response.json(december),
      () =>
        Response.json({ accountId: ACCOUNT, currency: 'USD', balance: 5, at: 'x', sequence: 3 }),
      () => Response.json({ ...december, totals: { DEPOSIT: '2000' } }),
      () => Response.json({ ...december, totals: { DEPOSIT: '2000' } }),
      () => Response.json({ ...december, totals: { DEPOSIT: '2000' } }),
    );
    await expect(api.statement(ACCOUNT, '2026-12', { cursor: 'c', limit: 25 })).resolves.toEqual(
      december,
    );
    await expect(api.balanceAt(ACCOUNT, '2026-12-01T23:59:59.999Z')).resolves.toMatchObject({
      balance: 5,
    });
    // An unreadable statement is no statement (tried three times, as every read).
    await expect(api.statement(ACCOUNT, '2026-12', { limit: 25 })).rejects.toMatchObject({
      code: 'BAD_RESPONSE',
    });
    expect(calls.slice(0, 2)).toEqual([
      `GET https://api.example/accounts/${ACCOUNT}/statements/2026-12?limit=25&cursor=c`,
      `GET https://api.example/accounts/${ACCOUNT}/balance?at=2026-12-01T23%3A59%3A59.999Z`,
    ]);
  });
});

describe('the CSV download', () => {
  const CSV = 'sequence,postedAt,type,amount\r\n7,2026-12-02T00:00:00.000Z,DEPOSIT,2000\r\n';

  it('asks the API for CSV with the bearer token, and saves exactly what it sent', async () => {
    const api = new Api('https://api.example', () => 'token-1');
    const seen = requests(() => new Response(CSV, { headers: { 'content-type': 'text/csv' } }));
    const saved: Array<{ blob: Blob; filename: string }> = [];
    const save: SaveFile = (blob, filename) => saved.push({ blob, filename });
    const outcome = await downloadCsv(
      () => api.statementCsv(ACCOUNT, '2026-12'),
      'statement-2026-12-0000.csv',
      save,
    );
    expect(outcome).toEqual({ ok: true, filename: 'statement-2026-12-0000.csv' });
    expect(downloadMessage(outcome)).toBe('Downloaded statement-2026-12-0000.csv.');
    expect(seen[0]?.url).toBe(`https://api.example/accounts/${ACCOUNT}/statements/2026-12`);
    expect(seen[0]?.headers.get('accept')).toBe('text/csv');
    expect(seen[0]?.headers.get('authorization')).toBe('Bearer token-1');
    expect(saved).toHaveLength(1);
    expect(saved[0]?.filename).toBe('statement-2026-12-0000.csv');
    expect(saved[0]?.blob.type).toBe('text/csv;charset=utf-8');
    await expect(saved[0]?.blob.text()).resolves.toBe(CSV);
  });

  it('follows the export\'s parts (Link rel="next") and keeps one header row', async () => {
    const api = new Api('https://api.example/prod', () => 'token-1');
    const header = 'sequence,type,amount\r\n';
    const seen = requests(
      () =>
        new Response(`${header}1,DEPOSIT,100\r\n`, {
          headers: { link: '<2026-12?cursor=abc>; rel="next"' },
        }),
      () =>
        new Response(`${header}2,"WITHDRAWAL","-50"`, {
          headers: {
            link: `</prod/accounts/${ACCOUNT}/statements/2026-12?cursor=def>; rel="next"`,
          },
        }),
      () => new Response(`${header}3,DEPOSIT,7\r\n`),
    );
    await expect(api.statementCsv(ACCOUNT, '2026-12')).resolves.toBe(
      `${header}1,DEPOSIT,100\r\n2,"WITHDRAWAL","-50"\r\n3,DEPOSIT,7\r\n`,
    );
    const statement = `https://api.example/prod/accounts/${ACCOUNT}/statements/2026-12`;
    expect(seen.map((request) => request.url)).toEqual([
      statement,
      `${statement}?cursor=abc`,
      `${statement}?cursor=def`,
    ]);
    expect(seen.every((request) => request.headers.get('accept') === 'text/csv')).toBe(true);
    expect(seen.every((request) => request.headers.get('authorization') === 'Bearer token-1')).toBe(
      true,
    );
  });

  it('never follows a link off the API with the token', async () => {
    const api = new Api('https://api.example', () => 'token-1');
    const seen = requests(
      () =>
        new Response('sequence\r\n1\r\n', {
          headers: { link: '<https://elsewhere.example/steal>; rel="next"' },
        }),
    );
    await expect(api.historyCsv(ACCOUNT)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
    expect(seen).toHaveLength(1);
  });

  it('exports the filtered history with its filters', async () => {
    const api = new Api('https://api.example', () => 'token-1');
    const seen = requests(() => new Response(CSV));
    await expect(
      api.historyCsv(ACCOUNT, { type: 'WITHDRAWAL,PAYOUT', status: 'POSTED' }),
    ).resolves.toBe(CSV);
    expect(seen[0]?.url).toBe(
      `https://api.example/accounts/${ACCOUNT}/transactions?type=WITHDRAWAL%2CPAYOUT&status=POSTED`,
    );
    expect(seen[0]?.headers.get('accept')).toBe('text/csv');
  });

  it('saves nothing and says why when the export is refused', async () => {
    const api = new Api('https://api.example', () => 'token-1');
    requests(() =>
      Response.json(
        { error: { code: 'ACCOUNT_NOT_FOUND', message: 'No such account.', requestId: 'r1' } },
        { status: 404 },
      ),
    );
    const save = jest.fn<void, Parameters<SaveFile>>();
    const outcome = await downloadCsv(() => api.historyCsv(ACCOUNT), 'history-0000.csv', save);
    expect(save).not.toHaveBeenCalled();
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toBeInstanceOf(ApiError);
    expect(downloadMessage(outcome)).toBe('No account has this id. Nothing was downloaded.');
  });

  it('saves nothing of an export whose later part fails', async () => {
    const api = new Api('https://api.example', () => 'token-1');
    const failing = () =>
      Response.json({ error: { code: 'INTERNAL_ERROR', message: 'Oops.' } }, { status: 500 });
    requests(
      () =>
        new Response('sequence\r\n1\r\n', { headers: { link: '<2026-12?cursor=a>; rel="next"' } }),
      // A read is tried three times before the page reports it.
      failing,
      failing,
      failing,
    );
    const save = jest.fn<void, Parameters<SaveFile>>();
    const outcome = await downloadCsv(() => api.statementCsv(ACCOUNT, '2026-12'), 'x.csv', save);
    expect(save).not.toHaveBeenCalled();
    expect(downloadMessage(outcome)).toBe(
      'Something went wrong on our side. Try again in a moment. Nothing was downloaded.',
    );
  });

  it("does not save an emulator's timeout report as a CSV", async () => {
    const api = new Api('https://api.example', () => 'token-1');
    const timeout = () => Response.json({ errorMessage: 'Task timed out' });
    requests(timeout, timeout, timeout);
    const save = jest.fn<void, Parameters<SaveFile>>();
    const outcome = await downloadCsv(() => api.statementCsv(ACCOUNT, '2026-12'), 'x.csv', save);
    expect(save).not.toHaveBeenCalled();
    expect(!outcome.ok && outcome.error).toMatchObject({ code: 'BAD_RESPONSE' });
  });
});
