/**
 * The balance over a month, drawn from the server's statement: a step line starting at the
 * opening balance, stepping to each line's `balanceAfter` at its `postedAt`. A month of more
 * than CHART_LINES_MAX lines is drawn from the balance at the end of each day instead
 * (GET …/balance?at=, DAY_READS_AT_ONCE at a time): at most 31 reads, however busy the month.
 * Plain SVG; screen readers get its summary as its name (opening, closing, lowest, highest) and
 * a table of its points.
 */
import type { Api, ReceivedEntry, ReceivedStatement } from './api';
import { h, replaceChildren, svg } from './dom';
import { formatMinor } from './money';
import { daysOfMonth, formatIn, monthLabel, nextDay, startOfDay } from './periods';

/** Read every line up to this many (three of the API's largest pages); above, daily points. */
export const CHART_LINES_MAX = 300;
/** The API's largest page of statement lines. */
export const CHART_PAGE = 100;
/** Daily balances read at once: a month is 28 to 31 reads, spread over a few connections. */
export const DAY_READS_AT_ONCE = 4;

export interface ChartPoint {
  /** Milliseconds since the epoch. */
  at: number;
  balance: number;
}

export interface BalanceSeries {
  /** Each line's balance after it, or the balance at the end of each day. */
  kind: 'lines' | 'daily';
  period: string;
  timezone: string;
  /** The month's first instant and the next month's (ms): the x axis. */
  from: number;
  to: number;
  /** Where the line stops: the month's end, or now in a month not over yet. */
  end: number;
  /** The opening balance at `from` first, then each step, in time order. */
  points: ChartPoint[];
}

type StatementHead = Pick<
  ReceivedStatement,
  'period' | 'timezone' | 'from' | 'to' | 'openingBalance'
>;

function series(
  kind: BalanceSeries['kind'],
  head: StatementHead,
  steps: ChartPoint[],
  now: number,
): BalanceSeries {
  const from = Date.parse(head.from);
  const to = Date.parse(head.to);
  const points = [{ at: from, balance: head.openingBalance }, ...steps];
  const last = points[points.length - 1]?.at ?? from;
  return {
    kind,
    period: head.period,
    timezone: head.timezone,
    from,
    to,
    end: Math.max(Math.min(to, now), last),
    points,
  };
}

/** The step line from the month's lines (oldest first); lines without a balance are skipped. */
export function seriesFromLines(
  head: StatementHead,
  lines: readonly ReceivedEntry[],
  now: number,
): BalanceSeries {
  const from = Date.parse(head.from);
  const steps = lines
    .filter((line) => line.balanceAfter !== null && Number.isSafeInteger(line.balanceAfter))
    .map((line) => ({
      at: Math.max(from, Date.parse(line.postedAt ?? line.createdAt)),
      balance: line.balanceAfter as number,
    }));
  return series('lines', head, steps, now);
}

/** The line through the balance at the end of each day (already read, in order). */
export function seriesFromDays(
  head: StatementHead,
  dayEnds: readonly ChartPoint[],
  now: number,
): BalanceSeries {
  return series('daily', head, [...dayEnds], now);
}

/** The last instant of each day of the month that has begun by `now` (now itself for today). */
export function dayEnds(head: Pick<StatementHead, 'period' | 'timezone'>, now: number): number[] {
  return daysOfMonth(head.period)
    .filter((day) => startOfDay(day, head.timezone).getTime() <= now)
    .map((day) => Math.min(startOfDay(nextDay(day), head.timezone).getTime() - 1, now));
}

/** Runs `task` on every item, at most `limit` at once; the results in the items' order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export type SeriesApi = Pick<Api, 'statement' | 'balanceAt'>;

/**
 * The month's series, from its statement's first page: every line when there are at most
 * CHART_LINES_MAX (reading the pages after the first), else the balance at each day's end.
 */
export async function readSeries(
  api: SeriesApi,
  first: ReceivedStatement,
  now: number,
): Promise<BalanceSeries> {
  const { accountId, period } = first;
  if (first.count > CHART_LINES_MAX) {
    const balances = await mapLimit(dayEnds(first, now), DAY_READS_AT_ONCE, async (at) => ({
      at,
      balance: (await api.balanceAt(accountId, new Date(at).toISOString())).balance,
    }));
    return seriesFromDays(first, balances, now);
  }
  const lines = [...first.transactions];
  // Bounded even if movements keep landing in the month while it is read.
  for (
    let cursor = first.nextCursor, pages = 0;
    cursor && pages <= CHART_LINES_MAX / CHART_PAGE;
    pages++
  ) {
    const page = await api.statement(accountId, period, { cursor, limit: CHART_PAGE });
    lines.push(...page.transactions);
    cursor = page.nextCursor;
  }
  return seriesFromLines(first, lines, now);
}

/** The drawing's size (SVG user units; the SVG scales to its box) and its margins. */
export const BOX = { width: 640, height: 220, left: 96, right: 12, top: 14, bottom: 30 };

export interface ChartLayout {
  low: number;
  high: number;
  x(at: number): number;
  y(balance: number): number;
  /** The step line's SVG path. */
  path: string;
}

const round = (value: number): number => Math.round(value * 10) / 10;

/** Where each point goes: time across the whole month, balance from lowest (bottom) to highest. */
export function chartLayout(chart: BalanceSeries, box = BOX): ChartLayout {
  const balances = chart.points.map((point) => point.balance);
  const low = Math.min(...balances);
  const high = Math.max(...balances);
  // A flat line is drawn across the middle.
  const [bottom, top] = low === high ? [low - 1, high + 1] : [low, high];
  const width = box.width - box.left - box.right;
  const height = box.height - box.top - box.bottom;
  const x = (at: number) => round(box.left + ((at - chart.from) / (chart.to - chart.from)) * width);
  const y = (balance: number) => round(box.top + ((top - balance) / (top - bottom)) * height);
  const [first, ...rest] = chart.points;
  const steps = rest.map((point) => `H${x(point.at)}V${y(point.balance)}`).join('');
  const path = first ? `M${x(first.at)} ${y(first.balance)}${steps}H${x(chart.end)}` : '';
  return { low, high, x, y, path };
}

/** The chart in words: its accessible name. */
export function chartSummary(chart: BalanceSeries, currency: string): string {
  const balances = chart.points.map((point) => point.balance);
  const money = (minor: number) => formatMinor(minor, currency);
  const opening = balances[0] ?? 0;
  const closing = balances[balances.length - 1] ?? opening;
  const how = chart.kind === 'daily' ? ' Drawn from the balance at the end of each day.' : '';
  return `Balance over ${monthLabel(chart.period)}: opening ${money(opening)}, closing ${money(closing)}, lowest ${money(Math.min(...balances))}, highest ${money(Math.max(...balances))}.${how}`;
}

/** The chart's points as table rows: when (on the account's clock) and the balance. */
export function pointRows(chart: BalanceSeries, currency: string): Array<[string, string]> {
  return chart.points.map((point, index) => [
    `${index === 0 ? 'Opening, ' : chart.kind === 'daily' ? 'End of day, ' : ''}${formatIn(point.at, chart.timezone)}`,
    formatMinor(point.balance, currency),
  ]);
}

/** The chart on the page: the SVG, and its points as a table under a disclosure. */
export class BalanceChart {
  readonly element: HTMLElement;

  constructor(private readonly currency: string) {
    this.element = h('figure', { class: 'balance-chart' });
  }

  /** Nothing drawn (yet): a note says why. */
  showNote(text: string): void {
    replaceChildren(this.element, h('p', { class: 'hint' }, text));
  }

  show(chart: BalanceSeries): void {
    const layout = chartLayout(chart);
    const money = (minor: number) => formatMinor(minor, this.currency);
    const day = (at: number) => formatIn(at, chart.timezone).replace(/, \d+:\d+ [AP]M$/, '');
    const label = (x: number, y: number, text: string, anchor = 'end') =>
      svg('text', { x: String(x), y: String(y), 'text-anchor': anchor }, text);
    const rule = (balance: number) =>
      svg('line', {
        class: 'rule',
        x1: String(BOX.left),
        x2: String(BOX.width - BOX.right),
        y1: String(layout.y(balance)),
        y2: String(layout.y(balance)),
      });
    const baseline = BOX.height - 8;
    const picture = svg(
      'svg',
      {
        role: 'img',
        'aria-label': chartSummary(chart, this.currency),
        'data-testid': 'balance-chart',
        viewBox: `0 0 ${BOX.width} ${BOX.height}`,
      },
      rule(layout.high),
      rule(layout.low),
      label(BOX.left - 8, layout.y(layout.high) + 4, money(layout.high)),
      layout.low !== layout.high &&
        label(BOX.left - 8, layout.y(layout.low) + 4, money(layout.low)),
      label(BOX.left, baseline, day(chart.from), 'start'),
      label(BOX.width - BOX.right, baseline, day(chart.to - 1)),
      svg('path', { class: 'line', d: layout.path, 'data-points': String(chart.points.length) }),
    );
    replaceChildren(this.element, picture, this.table(chart));
  }

  private table(chart: BalanceSeries): HTMLElement {
    const rows = pointRows(chart, this.currency);
    return h(
      'details',
      { class: 'chart-data' },
      h('summary', {}, `The chart's ${rows.length} points`),
      h(
        'table',
        { class: 'chart-points' },
        h('caption', { class: 'visually-hidden' }, `Balance over ${monthLabel(chart.period)}`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'When'),
            h('th', { scope: 'col', class: 'num' }, 'Balance'),
          ),
        ),
        h(
          'tbody',
          {},
          ...rows.map(([when, balance]) =>
            h('tr', {}, h('td', {}, when), h('td', { class: 'num' }, balance)),
          ),
        ),
      ),
    );
  }
}
