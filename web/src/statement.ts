/**
 * An account's monthly statement (GET …/statements/{YYYY-MM}): a month picked from the last
 * two years, its boundaries and timezone, opening and closing balances, totals per movement type,
 * fees and count, the balance chart, its lines ("Load more"), and a CSV download. Every number
 * is the API's. Once a month is shown, it is read again with the balance after every movement
 * (`reread`), while the month is not over.
 */
import { MOVEMENT_TYPES } from '../../lib/domain/movement-types';
import type { Api, ReceivedStatement, TransactionPage } from './api';
import { BalanceChart, readSeries } from './balance-chart';
import { CsvButton } from './csv-download';
import { h, replaceChildren, say, uid } from './dom';
import { HistoryTable, isOutgoing, isKnownType, typeLabel } from './history';
import { messageFor } from './messages';
import { formatMinor } from './money';
import { formatIn, monthLabel, recentMonths } from './periods';

/** Months offered in the picker, the current one first. */
const MONTHS_OFFERED = 24;
/** Lines per page of the statement's table. */
const LINES_PAGE = 25;
/** A line can still be placed in a month a moment after it ends (the sequencer's lag). */
const SETTLING_MS = 60_000;

export interface StatementHost {
  api: Api;
  accountId: string;
  currency: string;
  /** True when the error ended the session (a 401): the panel says nothing more. */
  sessionEnded(error: unknown): boolean;
}

/** The types in the contract's order, then any this page does not know, by name. */
function typesOf(totals: Record<string, number>): string[] {
  const known = MOVEMENT_TYPES.filter((type) => type in totals);
  return [
    ...known,
    ...Object.keys(totals)
      .filter((type) => !isKnownType(type))
      .sort(),
  ];
}

/** "December 2026 in UTC: from Dec 1, 2026, 12:00 AM to Jan 1, 2027, 12:00 AM (not included)." */
export function periodText(
  statement: Pick<ReceivedStatement, 'period' | 'timezone' | 'from' | 'to'>,
): string {
  const { period, timezone, from, to } = statement;
  return `${monthLabel(period)} in ${timezone}: from ${formatIn(from, timezone)} to ${formatIn(to, timezone)} (not included).`;
}

export class StatementPanel {
  readonly element: HTMLElement;
  private readonly month: HTMLSelectElement;
  private readonly alert: HTMLElement;
  private readonly status: HTMLElement;
  private readonly content: HTMLElement;
  private readonly period: HTMLElement;
  private readonly numbers: HTMLElement;
  private readonly chart: BalanceChart;
  private readonly lines: HistoryTable;
  private timezone = 'UTC';
  private shown: ReceivedStatement | null = null;
  private generation = 0;
  private closed = false;

  constructor(private readonly host: StatementHost) {
    const headingId = uid('statement-heading');
    this.month = h('select', { id: uid('statement-month'), name: 'month' });
    this.fillMonths();
    this.alert = h('div', { class: 'message error', role: 'alert' });
    this.status = h('div', { class: 'message success', role: 'status' });
    this.period = h('p', { class: 'hint', 'data-testid': 'statement-period' });
    this.numbers = h('dl', { class: 'statement-numbers' });
    this.chart = new BalanceChart(host.currency);
    this.lines = new HistoryTable({
      api: host.api,
      accountId: host.accountId,
      currency: host.currency,
      title: 'Lines',
      headingLevel: 'h4',
      caption: "The month's lines, oldest first",
      load: (cursor) => this.linesPage(cursor),
      onLoadMore: () => undefined,
      onLoadMoreFailed: (error) => this.failed(error, 'More lines could not be loaded.'),
    });
    const download = new CsvButton({
      label: 'Download statement (CSV)',
      filename: () => `statement-${this.shown?.period ?? ''}-${host.accountId.slice(-4)}.csv`,
      read: () => host.api.statementCsv(host.accountId, this.shown?.period ?? this.month.value),
      alert: this.alert,
      status: this.status,
      sessionEnded: (error) => host.sessionEnded(error),
    });
    this.content = h(
      'div',
      { class: 'statement-content', hidden: true },
      this.period,
      this.numbers,
      this.chart.element,
      h('div', { class: 'actions' }, download.element),
      this.lines.element,
    );
    this.element = h(
      'section',
      { class: 'statement', 'aria-labelledby': headingId, 'aria-busy': 'false' },
      h('h3', { id: headingId }, 'Monthly statement'),
      this.pickForm(),
      this.alert,
      this.status,
      this.content,
    );
  }

  /** The account's timezone, whose months the picker offers (the API counts months in it). */
  setTimezone(timezone: string): void {
    if (timezone === this.timezone) return;
    this.timezone = timezone;
    this.fillMonths();
  }

  /** After a movement: the month shown is read again, unless it is over (nothing can change). */
  reread(): void {
    if (!this.shown || Date.now() > Date.parse(this.shown.to) + SETTLING_MS) return;
    void this.show(this.shown.period);
  }

  close(): void {
    this.closed = true;
  }

  /** Reads the month's statement and shows it, then reads and draws its chart. */
  async show(period: string): Promise<void> {
    const generation = ++this.generation;
    const { api, accountId } = this.host;
    this.element.setAttribute('aria-busy', 'true');
    const current = () => generation === this.generation && !this.closed;
    try {
      const statement = await api.statement(accountId, period, { limit: LINES_PAGE });
      if (!current()) return;
      this.showNumbers(statement);
      await this.drawChart(statement, current);
    } catch (error) {
      if (current())
        this.failed(error, `The statement for ${monthLabel(period)} could not be read.`);
    } finally {
      if (generation === this.generation) this.element.setAttribute('aria-busy', 'false');
    }
  }

  /** Reads the chart's series (more lines, or daily balances) and draws it, or says why not. */
  private async drawChart(statement: ReceivedStatement, current: () => boolean): Promise<void> {
    try {
      const chart = await readSeries(this.host.api, statement, Date.now());
      if (current()) this.chart.show(chart);
    } catch (error) {
      if (!current() || this.host.sessionEnded(error)) return;
      this.chart.showNote(`${messageFor(error, 'read')} The chart could not be drawn.`);
    }
  }

  private showNumbers(statement: ReceivedStatement): void {
    const first = this.shown?.period !== statement.period;
    this.shown = statement;
    this.content.hidden = false;
    say(this.alert, '');
    this.period.textContent = periodText(statement);
    const money = (minor: number) => formatMinor(minor, statement.currency || this.host.currency);
    const item = (label: string, testId: string, value: string) =>
      h('div', {}, h('dt', {}, label), h('dd', { 'data-testid': testId }, value));
    replaceChildren(
      this.numbers,
      item('Opening balance', 'statement-opening', money(statement.openingBalance)),
      item('Closing balance', 'statement-closing', money(statement.closingBalance)),
      ...typesOf(statement.totals).map((type) =>
        item(
          typeLabel(type),
          `statement-total-${type}`,
          `${isOutgoing(type) ? '−' : '+'}${money(statement.totals[type] ?? 0)}`,
        ),
      ),
      item('Fees', 'statement-fees', money(statement.fees)),
      item('Lines', 'statement-count', String(statement.count)),
    );
    if (first) this.chart.showNote('Drawing the chart…');
    this.lines.show(
      { transactions: statement.transactions, nextCursor: statement.nextCursor },
      { empty: `No movements in ${monthLabel(statement.period)}.` },
    );
  }

  private async linesPage(cursor: string): Promise<TransactionPage> {
    const period = this.shown?.period ?? this.month.value;
    const page = await this.host.api.statement(this.host.accountId, period, {
      cursor,
      limit: LINES_PAGE,
    });
    return { transactions: page.transactions, nextCursor: page.nextCursor };
  }

  private failed(error: unknown, what: string): void {
    if (this.closed || this.host.sessionEnded(error)) return;
    say(this.alert, `${messageFor(error, 'read')} ${what}`);
  }

  private fillMonths(): void {
    const chosen = this.month.value;
    const months = recentMonths(new Date(), this.timezone, MONTHS_OFFERED);
    replaceChildren(
      this.month,
      ...months.map((month) => h('option', { value: month }, monthLabel(month))),
    );
    if (months.includes(chosen)) this.month.value = chosen;
  }

  private pickForm(): HTMLFormElement {
    const form = h(
      'form',
      { class: 'statement-pick', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: this.month.id }, 'Month'), this.month),
      h('button', { type: 'submit', class: 'secondary' }, 'Show statement'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      say(this.status, '');
      void this.show(this.month.value);
    });
    return form;
  }
}
