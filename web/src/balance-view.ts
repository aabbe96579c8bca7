/**
 * An account's numbers: the posted balance, what is available and what payouts hold, each
 * exactly as one API answer had them, and when. No number is worked out on the page.
 */
import type { Balance } from '../../lib/wire/types';
import { h } from './dom';
import { dateFormat } from './history';
import { formatMinor } from './money';

/** The numbers a balance line shows, as the API sent them. */
export type Numbers = Pick<Balance, 'balance' | 'available' | 'pending' | 'updatedAt'> & {
  currency?: string;
};

export class BalanceView {
  readonly element: HTMLElement;
  private readonly balanceValue: HTMLElement;
  private readonly availableValue: HTMLElement;
  private readonly pendingValue: HTMLElement;
  private readonly note: HTMLElement;

  constructor(private readonly currency: string) {
    this.balanceValue = h('p', { class: 'balance-value', 'data-testid': 'balance' }, '…');
    this.availableValue = h('dd', { 'data-testid': 'available' }, '…');
    this.pendingValue = h('dd', { 'data-testid': 'pending' }, '…');
    this.note = h('p', { class: 'balance-note' }, 'Loading balance…');
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

  /** What the service holds is unknown: no number rather than a stale one. */
  showNone(note: string): void {
    this.balanceValue.textContent = '—';
    this.availableValue.textContent = '—';
    this.pendingValue.textContent = '—';
    this.note.textContent = note;
  }
}
