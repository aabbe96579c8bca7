/**
 * An account's numbers: the posted balance, what is available and what payouts hold, each
 * exactly as one API answer had them, and when; and its withdrawal limits with today's use, as
 * the balance's answer had them. No number is worked out on the page.
 */
import type { LimitsStatus, ReceivedBalance } from './api';
import { h, uid } from './dom';
import { dateFormat } from './history';
import { formatMinor } from './money';

/** The numbers a balance line shows, as the API sent them. */
export type Numbers = Pick<ReceivedBalance, 'balance' | 'available' | 'pending' | 'updatedAt'> & {
  currency?: string;
};

const LIMIT_FIELDS = [
  [
    'daily',
    'Daily limit',
    'daily-limit',
    'Most that may leave the account in one day, fees included',
  ],
  [
    'usedToday',
    'Used today',
    'used-today',
    'Withdrawals, payouts and transfers out today, with their fees',
  ],
  [
    'remainingToday',
    'Remaining today',
    'remaining-today',
    'What may still leave the account today',
  ],
  ['perMovement', 'Per movement', 'per-movement', 'Most one movement may take, its fee included'],
] as const;
type LimitField = (typeof LIMIT_FIELDS)[number][0];

export class BalanceView {
  readonly element: HTMLElement;
  private readonly balanceValue: HTMLElement;
  private readonly availableValue: HTMLElement;
  private readonly pendingValue: HTMLElement;
  private readonly note: HTMLElement;
  private readonly limits: HTMLElement;
  private readonly limitValues: Record<LimitField, HTMLElement>;
  private readonly limitsNote: HTMLElement;

  constructor(private readonly currency: string) {
    this.balanceValue = h('p', { class: 'balance-value', 'data-testid': 'balance' }, '…');
    this.availableValue = h('dd', { 'data-testid': 'available' }, '…');
    this.pendingValue = h('dd', { 'data-testid': 'pending' }, '…');
    this.note = h('p', { class: 'balance-note' }, 'Loading balance…');
    const limitsLabelId = uid('limits-label');
    this.limitValues = {} as Record<LimitField, HTMLElement>;
    for (const [field, , testId] of LIMIT_FIELDS) {
      this.limitValues[field] = h('dd', { 'data-testid': testId }, '…');
    }
    this.limitsNote = h('p', { class: 'balance-note' }, 'Reading the limits…');
    this.limits = h(
      'div',
      { class: 'limits', role: 'group', 'aria-labelledby': limitsLabelId },
      h('p', { class: 'balance-label', id: limitsLabelId }, 'Withdrawal limits'),
      h(
        'dl',
        { class: 'balance-parts' },
        ...LIMIT_FIELDS.map(([field, label, , title]) =>
          h('div', {}, h('dt', { title }, label), this.limitValues[field]),
        ),
      ),
      this.limitsNote,
    );
    this.element = h(
      'div',
      { class: 'balance' },
      h('p', { class: 'balance-label' }, 'Balance'),
      this.balanceValue,
      h(
        'dl',
        { class: 'balance-parts' },
        h(
          'div',
          {},
          h('dt', { title: 'What you can withdraw, pay out or transfer now' }, 'Available'),
          this.availableValue,
        ),
        h(
          'div',
          {},
          h(
            'dt',
            { title: 'Held for payouts the payment network has not answered yet' },
            'Pending',
          ),
          this.pendingValue,
        ),
      ),
      this.note,
      this.limits,
    );
  }

  /** The posted balance, available and pending, exactly as one API answer had them. */
  show(numbers: Numbers): void {
    const { balance, available, pending } = numbers;
    if (![balance, available, pending].every((n) => Number.isSafeInteger(n))) {
      this.showNone('The service sent a balance this page cannot read.');
      return;
    }
    const currency = numbers.currency || this.currency;
    this.balanceValue.textContent = formatMinor(balance, currency);
    this.availableValue.textContent = formatMinor(available, currency);
    this.pendingValue.textContent = formatMinor(pending, currency);
    this.note.textContent = `As of ${dateFormat.format(new Date(numbers.updatedAt))}`;
  }

  /**
   * The limits and today's use as one balance (or limits) answer had them; null: an API without
   * limits, none shown. Other answers (a payout's, a reversal's) have none: those shown stay until
   * the next read, which follows them.
   */
  showLimits(limits: LimitsStatus | null): void {
    this.limits.hidden = limits === null;
    if (limits === null) return;
    if (!LIMIT_FIELDS.every(([field]) => Number.isSafeInteger(limits[field]))) {
      this.showNoLimits('The service sent limits this page cannot read.');
      return;
    }
    for (const [field] of LIMIT_FIELDS) {
      this.limitValues[field].textContent = formatMinor(limits[field], this.currency);
    }
    this.limitsNote.textContent = `Today is ${limits.day} in ${limits.timezone}; the day starts at midnight there.`;
  }

  /** What the service holds is unknown: no number rather than a stale one. */
  showNone(note: string): void {
    this.balanceValue.textContent = '—';
    this.availableValue.textContent = '—';
    this.pendingValue.textContent = '—';
    this.note.textContent = note;
    this.showNoLimits('');
  }

  private showNoLimits(note: string): void {
    for (const [field] of LIMIT_FIELDS) this.limitValues[field].textContent = '—';
    this.limitsNote.textContent = note;
  }
}
