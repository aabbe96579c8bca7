/**
 * Payouts on an account card: a form that requests one (the API holds the amount and answers
 * 202), and a list of the account's recent payouts whose open ones are polled about every second
 * until the gateway's answer has posted or voided them. When one resolves, the card reads the
 * balance and the history again: the page never works a balance out for itself.
 */
import type { Account, Balance, Payout, PayoutStatus } from '../../lib/wire/types';
import { ApiError, type Api, type ReceivedEntry } from './api';
import { AttemptStore } from './attempts';
import {
  amountField,
  h,
  refuseField,
  replaceChildren,
  say,
  setFormBusy,
  showNote,
  uid,
} from './dom';
import { FeeQuote, feePreview, withFee } from './fees';
import { knownFee, type LimitsRoom, refusalMessage } from './limits';
import { isRetryable, messageFor } from './messages';
import { amountExample, formatMinor, parseAmount } from './money';

/** What the panel needs from its card. */
export interface PayoutHost {
  api: Api;
  account: Account;
  /** The card's message regions: one alert, one status. */
  alert: HTMLElement;
  status: HTMLElement;
  /** The account's fee schedule, for the fee shown before the request. */
  fees: FeeQuote;
  /** The account's limits as last read: a payout above them is not requested. */
  room: LimitsRoom;
  /** The numbers of a money answer from the API, shown until the next read. */
  showNumbers(numbers: Pick<Balance, 'balance' | 'available' | 'pending' | 'updatedAt'>): void;
  /** Reads the balance and history again; false when they could not be read. */
  refresh(): Promise<boolean>;
  /** A 401: the session is over (returns true, and the card is closed). */
  sessionEnded(error: unknown): boolean;
}

/** A payout as the list shows it. */
type Shown = Pick<
  Payout,
  'transactionId' | 'amount' | 'currency' | 'destination' | 'status' | 'createdAt' | 'voidReason'
>;

const POLL_MS = 1000;
/** After this many polls of one payout (about two minutes), every SLOW_POLL_MS instead. */
const FAST_POLLS = 120;
const SLOW_POLL_MS = 5000;
const MAX_BACKOFF_MS = 10_000;
/** The list shows this many payouts, newest first. */
const LIST_LIMIT = 10;
const DESTINATION = /^[\x21-\x7E]{1,128}$/;

const dateFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });

const STATUS_LABEL: Record<PayoutStatus, string> = {
  PENDING: 'Pending',
  POSTED: 'Posted',
  VOIDED: 'Voided',
};

export class PayoutPanel {
  /** The request form, placed beside the withdrawal form. */
  readonly form: HTMLFormElement;
  /** The list of payouts. */
  readonly list: HTMLElement;
  private readonly amountInput: HTMLInputElement;
  private readonly destinationInput: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly pendingNote: HTMLElement;
  private readonly items: HTMLElement;
  private readonly empty: HTMLElement;

  private readonly payouts = new Map<string, Shown>();
  private readonly timers = new Map<string, number>();
  private readonly polls = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly attempts: AttemptStore<'amount' | 'destination'>;
  private sending = false;
  private closed = false;
  /** The idempotency keys of the payouts on the last history page read. */
  private keysSeen = new Set<string>();

  constructor(private readonly host: PayoutHost) {
    const currency = host.account.currency;
    const headingId = uid('payout-heading');
    const amountId = uid('payout-amount');
    const destinationId = uid('payout-destination');
    const hintId = uid('payout-hint');
    this.attempts = new AttemptStore(`mm.pending-payout.${host.account.accountId}`, [
      'amount',
      'destination',
    ]);

    // The visible label is "Amount", under the "Pay out" heading; the name says which amount.
    this.amountInput = amountField(currency, {
      id: amountId,
      name: 'payout-amount',
      hintId,
      ariaLabel: 'Payout amount',
    });
    this.destinationInput = h('input', {
      id: destinationId,
      name: 'destination',
      type: 'text',
      autocomplete: 'off',
      autocapitalize: 'none',
      spellcheck: 'false',
      maxlength: '128',
      'aria-describedby': hintId,
    });
    this.button = h('button', { type: 'submit', class: 'primary' }, 'Request payout');
    this.pendingNote = h('p', { class: 'pending-note', hidden: true });
    this.form = h(
      'form',
      { class: 'movement payout-form', novalidate: true, 'aria-labelledby': headingId },
      h('h3', { id: headingId }, 'Pay out'),
      h(
        'div',
        { class: 'field' },
        h('label', { for: amountId }, 'Amount'),
        h(
          'div',
          { class: 'amount-field' },
          h('span', { class: 'currency', 'aria-hidden': 'true' }, currency),
          this.amountInput,
        ),
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: destinationId }, 'Destination'),
        this.destinationInput,
      ),
      h(
        'p',
        { class: 'hint', id: hintId },
        `In ${currency}, for example ${amountExample(currency)}, to a destination such as bank-acct-1234. Held until the payment network answers.`,
      ),
      feePreview(this.amountInput, host.fees, 'PAYOUT', currency),
      h('div', { class: 'actions' }, this.button),
      this.pendingNote,
    );
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.request();
    });

    const listHeadingId = uid('payouts');
    this.items = h('ul', {
      class: 'payout-list',
      'aria-labelledby': listHeadingId,
      'data-testid': 'payouts',
    });
    this.empty = h('p', { class: 'empty' }, 'No payouts yet.');
    this.list = h(
      'div',
      { class: 'payouts' },
      h('h3', { id: listHeadingId }, 'Payouts'),
      this.items,
      this.empty,
    );
    this.showPendingNote();
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) window.clearTimeout(timer);
    this.timers.clear();
  }

  /** Whether the page is still waiting for this payout's outcome (polling it). */
  isOpen(transactionId: string): boolean {
    return this.payouts.get(transactionId)?.status === 'PENDING';
  }

  /**
   * The first page of history, just read: payouts the list does not know yet join it (open ones
   * are polled), and an unanswered request found there went through (its key is forgotten). The
   * list's own payouts keep the status their polls found.
   */
  sawHistory(entries: ReceivedEntry[]): void {
    this.keysSeen = new Set();
    for (const entry of entries) {
      if (entry.type !== 'PAYOUT') continue;
      this.keysSeen.add(entry.idempotencyKey);
      if (this.payouts.has(entry.transactionId)) continue;
      this.payouts.set(entry.transactionId, {
        transactionId: entry.transactionId,
        amount: entry.amount,
        currency: entry.currency || this.host.account.currency,
        destination: entry.destination ?? '',
        status: entry.status ?? 'POSTED',
        createdAt: entry.createdAt,
        voidReason: null,
      });
      if (entry.status === 'PENDING') this.schedulePoll(entry.transactionId, 0);
    }
    this.render();
    const attempt = this.attempts.get();
    if (attempt && !this.sending && this.keysSeen.has(attempt.key)) {
      this.attempts.set(null);
      this.showPendingNote();
    }
  }

  private async request(): Promise<void> {
    if (this.sending) return;
    const { alert, status, account } = this.host;
    say(alert, '');
    say(status, '');
    const parsed = parseAmount(this.amountInput.value, account.currency, 'payout');
    if (!parsed.ok) return refuseField(this.host.alert, this.amountInput, parsed.message);
    this.amountInput.removeAttribute('aria-invalid');
    const destination = this.destinationInput.value.trim();
    if (!DESTINATION.test(destination)) {
      return refuseField(
        this.host.alert,
        this.destinationInput,
        destination === ''
          ? 'Enter where the payout goes, for example bank-acct-1234.'
          : 'The destination must be 1 to 128 letters, digits or symbols, without spaces.',
      );
    }
    this.destinationInput.removeAttribute('aria-invalid');

    this.setSending(true);
    const overLimit = await this.limitRefusal(parsed.minor, destination);
    if (this.closed) return;
    if (overLimit) {
      this.setSending(false);
      return refuseField(alert, this.amountInput, overLimit);
    }
    const attempt = this.attempts.begin({ amount: parsed.minor.toString(), destination });
    const shown = formatMinor(parsed.minor, account.currency);
    let alertText = '';
    let statusText = '';
    try {
      const answer = await this.host.api.requestPayout(
        account.accountId,
        parsed.minor,
        destination,
        attempt.key,
      );
      this.attempts.set(null);
      this.amountInput.value = '';
      this.destinationInput.value = '';
      const payout = answer.payout;
      if (BigInt(answer.fee) !== this.host.fees.feeOf('PAYOUT', parsed.minor)) {
        void this.host.fees.load(true);
      }
      // The API's own numbers right after the hold: available down, pending up.
      this.host.showNumbers({
        balance: answer.balance,
        available: answer.available,
        pending: answer.pending,
        updatedAt: payout.updatedAt,
      });
      const known = this.payouts.get(payout.transactionId);
      this.payouts.set(payout.transactionId, {
        ...payout,
        // A replay may answer with an older view than a poll already found.
        status: known && known.status !== 'PENDING' ? known.status : payout.status,
      });
      this.render();
      if (payout.status === 'PENDING') this.schedulePoll(payout.transactionId, POLL_MS);
      // Said at once: the numbers above are this answer's, and the polling has begun.
      say(
        status,
        answer.replayed
          ? `Your payout of ${shown} to ${destination} had already been requested; it was not made twice.`
          : `${withFee(`Payout of ${shown} to ${destination} requested`, answer.fee, account.currency)}. It is pending until the payment network answers.`,
      );
    } catch (error) {
      if (this.host.sessionEnded(error)) return;
      if (isRetryable(error)) {
        // It may have gone through: the history read below tells.
        alertText = messageFor(error, 'payout');
      } else {
        // A definite refusal: nothing was held. Said at once.
        this.attempts.set(null);
        say(alert, refusalMessage(error, 'payout', account.currency));
      }
    }
    // Whatever happened, show what the service holds now.
    await this.host.refresh();
    if (alertText && this.keysSeen.has(attempt.key)) {
      // The answer was lost on the way, but the history shows this very request.
      this.attempts.set(null);
      alertText = '';
      statusText = `The service's answer was lost, but your payout of ${shown} to ${destination} was requested.`;
    }
    this.setSending(false);
    if (this.closed) return;
    if (alertText) say(alert, alertText);
    if (statusText) say(status, statusText);
  }

  /**
   * Why this payout is not requested (above the limits as last read), or null. Not asked when it
   * retries an unanswered request, which may have used the room itself: the server answers it.
   */
  private async limitRefusal(amount: bigint, destination: string): Promise<string | null> {
    const pending = this.attempts.get();
    if (pending?.amount === amount.toString() && pending.destination === destination) return null;
    const fee = knownFee(this.host.fees.feeOf('PAYOUT', amount));
    return this.host.room.refusal({ action: 'payout', amount, fee }, this.host.account.currency);
  }

  private schedulePoll(transactionId: string, delayMs: number): void {
    if (this.closed || this.timers.has(transactionId)) return;
    const timer = window.setTimeout(() => {
      this.timers.delete(transactionId);
      void this.poll(transactionId);
    }, delayMs);
    this.timers.set(transactionId, timer);
  }

  private async poll(transactionId: string): Promise<void> {
    const shown = this.payouts.get(transactionId);
    if (this.closed || !shown || shown.status !== 'PENDING') return;
    const count = (this.polls.get(transactionId) ?? 0) + 1;
    this.polls.set(transactionId, count);
    let payout;
    try {
      payout = await this.host.api.payout(this.host.account.accountId, transactionId);
    } catch (error) {
      if (this.closed || this.host.sessionEnded(error)) return;
      if (error instanceof ApiError && error.code === 'PAYOUT_NOT_FOUND') {
        say(this.host.alert, messageFor(error, 'payout'));
        return;
      }
      // No answer now: look again, a little later each time.
      const failures = (this.failures.get(transactionId) ?? 0) + 1;
      this.failures.set(transactionId, failures);
      this.schedulePoll(transactionId, Math.min(POLL_MS * 2 ** failures, MAX_BACKOFF_MS));
      return;
    }
    if (this.closed) return;
    this.failures.delete(transactionId);
    this.payouts.set(transactionId, { ...payout });
    this.render();
    if (payout.status === 'PENDING') {
      this.schedulePoll(transactionId, count < FAST_POLLS ? POLL_MS : SLOW_POLL_MS);
      return;
    }
    // Resolved: the balance moved (posted) or the hold was released (voided). Read both again.
    const amount = formatMinor(payout.amount, payout.currency || this.host.account.currency);
    const text =
      payout.status === 'POSTED'
        ? `Your payout of ${amount} to ${payout.destination} was sent.`
        : `Your payout of ${amount} to ${payout.destination} was voided (${voidReasonText(payout.voidReason)}): the ${amount} held for it is available again.`;
    say(this.host.status, text);
    const fresh = await this.host.refresh();
    if (this.closed || fresh) return;
    if (this.host.status.textContent === text) {
      say(this.host.status, `${text} The new balance could not be loaded yet.`);
    }
  }

  private render(): void {
    const payouts = [...this.payouts.values()]
      .sort((a, b) =>
        a.createdAt === b.createdAt
          ? b.transactionId.localeCompare(a.transactionId)
          : b.createdAt.localeCompare(a.createdAt),
      )
      .slice(0, LIST_LIMIT);
    const rows = payouts.map((payout) => {
      const status = payout.status;
      return h(
        'li',
        {
          class: `payout ${status.toLowerCase()}`,
          'data-testid': 'payout',
          'data-payout-id': payout.transactionId,
          'data-status': status,
        },
        h(
          'span',
          { class: 'payout-main' },
          h(
            'span',
            { class: 'payout-amount' },
            Number.isSafeInteger(payout.amount)
              ? formatMinor(payout.amount, payout.currency || this.host.account.currency)
              : '—',
          ),
          h('span', { class: 'muted' }, ' to '),
          h('span', { class: 'payout-destination' }, payout.destination || 'unknown destination'),
        ),
        h(
          'span',
          { class: 'payout-meta' },
          h('span', { class: 'muted' }, dateFormat.format(new Date(payout.createdAt))),
          status === 'VOIDED' && payout.voidReason
            ? h('span', { class: 'muted' }, ` · ${voidReasonText(payout.voidReason)}`)
            : null,
          ' ',
          h(
            'span',
            { class: `badge ${status.toLowerCase()}`, 'data-testid': 'payout-status' },
            STATUS_LABEL[status],
          ),
        ),
      );
    });
    replaceChildren(this.items, ...rows);
    this.items.hidden = rows.length === 0;
    this.empty.hidden = rows.length > 0;
  }

  private setSending(on: boolean): void {
    this.sending = on;
    setFormBusy(this.form, this.button, [this.amountInput, this.destinationInput], on);
    this.showPendingNote();
  }

  private showPendingNote(): void {
    const attempt = this.sending ? null : this.attempts.get();
    showNote(
      this.pendingNote,
      attempt &&
        `A payout of ${formatMinor(BigInt(attempt.amount), this.host.account.currency)} to ${attempt.destination} got no final answer. Requesting the same payout again retries it safely: it cannot be paid twice.`,
    );
  }
}

function voidReasonText(reason: string | null): string {
  switch (reason) {
    case 'destination_refused':
      return 'the destination refused it';
    case 'hold_expired':
      return 'no answer from the payment network in time';
    case 'cancelled':
      return 'it was cancelled';
    case null:
    case '':
      return 'no reason given';
    default:
      return reason.replace(/_/g, ' ');
  }
}
