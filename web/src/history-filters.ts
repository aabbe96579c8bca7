/**
 * The history's filters: from and to (calendar days in the account's timezone, both included),
 * movement types and status, sent as GET …/transactions?from=&to=&type=&status= (openapi.yaml).
 * Clearing them returns to the plain history. The filtered history can be downloaded as CSV.
 */
import { MOVEMENT_TYPES } from '../../lib/domain/movement-types';
import type { MovementType } from '../../lib/domain/types';
import type { HistoryQuery } from './api';
import { h, refuseField, say, uid } from './dom';
import { typeLabel } from './history';
import { nextDay, startOfDay } from './periods';

/** Statement lines only have these (a payout still pending is in the plain history). */
export const FILTER_STATUSES = ['POSTED', 'VOIDED'] as const;
export type FilterStatus = (typeof FILTER_STATUSES)[number];
const STATUS_LABELS: Record<FilterStatus, string> = {
  POSTED: 'Posted',
  VOIDED: 'Voided (payouts that did not go out)',
};

/** The filters as a person set them; empty fields filter nothing. */
export interface HistoryFilter {
  /** First day, YYYY-MM-DD, or '' for none. */
  from: string;
  /** Last day (included), YYYY-MM-DD, or '' for none. */
  to: string;
  types: MovementType[];
  status: FilterStatus | '';
}

export const NO_FILTER: HistoryFilter = { from: '', to: '', types: [], status: '' };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The query the API takes for these filters; null when they filter nothing (the plain history).
 * `to` is a last day included, so the API's `to` (excluded) is the next day's first instant.
 */
export function filterQuery(filter: HistoryFilter, timezone: string): HistoryQuery | null {
  const query: HistoryQuery = {};
  if (filter.from) query.from = startOfDay(filter.from, timezone).toISOString();
  if (filter.to) query.to = startOfDay(nextDay(filter.to), timezone).toISOString();
  if (filter.types.length) query.type = filter.types.join(',');
  if (filter.status) query.status = filter.status;
  return Object.keys(query).length ? query : null;
}

/** Why the API would refuse these dates, or null. */
export function filterProblem(
  filter: HistoryFilter,
): { field: 'from' | 'to'; message: string } | null {
  for (const field of ['from', 'to'] as const) {
    if (filter[field] && !DAY.test(filter[field])) {
      return { field, message: 'Enter the date as year-month-day, for example 2026-03-01.' };
    }
  }
  if (filter.from && filter.to && filter.to < filter.from) {
    return { field: 'to', message: 'The last day comes before the first day.' };
  }
  return null;
}

export interface FilterFormHost {
  alert: HTMLElement;
  /** The account's timezone, whose calendar days the dates are. */
  timezone(): string;
  /** New filters (null: none): the history reads its first page again with them. */
  apply(query: HistoryQuery | null): void;
  /** Controls after Apply and Clear (the CSV download of the history). */
  extraActions: HTMLElement[];
}

/** The filter form above the history. */
export class HistoryFilterForm {
  readonly element: HTMLFormElement;
  private readonly from: HTMLInputElement;
  private readonly to: HTMLInputElement;
  private readonly types: Map<MovementType, HTMLInputElement>;
  private readonly status: HTMLSelectElement;
  private readonly hint: HTMLElement;
  /** The filters as last applied (the history shown). */
  private applied: HistoryFilter = NO_FILTER;

  constructor(private readonly host: FilterFormHost) {
    const hintId = uid('filter-hint');
    const date = (name: string) =>
      h('input', { id: uid(name), name, type: 'date', 'aria-describedby': hintId });
    this.from = date('filter-from');
    this.to = date('filter-to');
    this.types = new Map(
      MOVEMENT_TYPES.map((type) => [
        type,
        h('input', { id: uid('filter-type'), type: 'checkbox', value: type }),
      ]),
    );
    this.status = h(
      'select',
      { id: uid('filter-status'), name: 'status' },
      h('option', { value: '' }, 'Any status'),
      ...FILTER_STATUSES.map((status) => h('option', { value: status }, STATUS_LABELS[status])),
    );
    this.hint = h('p', { class: 'hint', id: hintId });
    this.element = this.build();
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  /** The filters as the form holds them now. */
  read(): HistoryFilter {
    const status = this.status.value;
    return {
      from: this.from.value.trim(),
      to: this.to.value.trim(),
      types: MOVEMENT_TYPES.filter((type) => this.types.get(type)?.checked),
      status: FILTER_STATUSES.find((known) => known === status) ?? '',
    };
  }

  /** The query for what the form holds (null: no filter), or null with the field refused. */
  private query(): { query: HistoryQuery | null } | null {
    const filter = this.read();
    const problem = filterProblem(filter);
    for (const input of [this.from, this.to]) input.removeAttribute('aria-invalid');
    if (problem) {
      refuseField(this.host.alert, problem.field === 'from' ? this.from : this.to, problem.message);
      return null;
    }
    return { query: filterQuery(filter, this.host.timezone()) };
  }

  /** A file name for the history as shown: `history-<account's last 4>[-from][-to].csv`. */
  filename(accountId: string): string {
    const { from, to } = this.applied;
    return `${['history', accountId.slice(-4), from, to].filter(Boolean).join('-')}.csv`;
  }

  /** Says in which timezone the days are counted (known once the balance was read). */
  showTimezone(): void {
    this.hint.textContent = `Days in ${this.host.timezone()}, both included. A movement is listed here a second or two after it is made.`;
  }

  private submit(): void {
    say(this.host.alert, '');
    const asked = this.query();
    if (!asked) return;
    this.applied = asked.query ? this.read() : NO_FILTER;
    this.host.apply(asked.query);
  }

  private clear(): void {
    say(this.host.alert, '');
    this.from.value = '';
    this.to.value = '';
    for (const input of this.types.values()) input.checked = false;
    this.status.value = '';
    for (const input of [this.from, this.to]) input.removeAttribute('aria-invalid');
    this.applied = NO_FILTER;
    this.host.apply(null);
  }

  private build(): HTMLFormElement {
    const labelled = (label: string, input: HTMLElement) =>
      h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
    const clear = h('button', { type: 'button', class: 'secondary' }, 'Clear filters');
    clear.addEventListener('click', () => this.clear());
    this.showTimezone();
    return h(
      'form',
      { class: 'history-filters', novalidate: true },
      h(
        'fieldset',
        {},
        h('legend', {}, 'Filter the history'),
        h(
          'div',
          { class: 'filter-fields' },
          labelled('From', this.from),
          labelled('To', this.to),
          labelled('Status', this.status),
        ),
        h(
          'fieldset',
          { class: 'filter-types' },
          h('legend', {}, 'Types'),
          ...[...this.types].map(([type, input]) =>
            h('div', { class: 'check' }, input, h('label', { for: input.id }, typeLabel(type))),
          ),
        ),
        this.hint,
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'submit', class: 'secondary' }, 'Apply filters'),
          clear,
          ...this.host.extraActions,
        ),
      ),
    );
  }
}
