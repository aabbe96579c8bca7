/**
 * The operator's reversal of one history line: the amount (by default what is left to reverse),
 * the reason, and whether the customer's balance may go below zero. One request per attempt with
 * its own Idempotency-Key, the same key again when the same reversal is retried after no answer
 * (web/src/attempts.ts), like a customer's withdrawal. The API's refusals are shown as they came.
 */
import type { Api, ReceivedEntry, ReversalAnswer } from './api';
import { AttemptStore } from './attempts';
import type { Numbers } from './balance-view';
import { amountField, h, reasonOf, refuseField, say, setFormBusy, showNote, uid } from './dom';
import { dateFormat, typeLabel } from './history';
import { isRetryable, messageWithDetail } from './messages';
import { formatMinor, minorToInput, parseAmount } from './money';

export interface ReverseHost {
  api: Api;
  currency: string;
  /** Where the outcome is said once the form has closed: beside the history. */
  status: HTMLElement;
  showNumbers(numbers: Numbers): void;
  /** Reads the balance and history again; false when they could not be read. */
  refresh(): Promise<boolean>;
  /** Whether a line with this Idempotency-Key is on the history's first page, just read. */
  sawKey(key: string): boolean;
  /** Puts focus on a history line (the form closed, and the control that opened it is gone). */
  focusLine(transactionId: string): void;
  sessionEnded(error: unknown): boolean;
}

type Fields = 'amount' | 'reason' | 'allowNegative';

/** What is left to reverse of a line, as far as its `reversedBy` knows (the API has the last word). */
export function remainingOf(entry: ReceivedEntry): number {
  const reversed = (entry.reversedBy ?? []).reduce((sum, link) => sum + link.amount, 0);
  return Math.max(entry.amount - reversed, 0);
}

/** A line a reversal may name: posted, not itself a reversal, with something left to reverse. */
export function isReversible(entry: ReceivedEntry): boolean {
  return (
    (entry.status ?? 'POSTED') === 'POSTED' &&
    entry.balanceAfter !== null &&
    !entry.reversalOf &&
    !entry.type.startsWith('REVERSAL') &&
    remainingOf(entry) > 0
  );
}

export class ReverseForm {
  readonly element: HTMLFormElement;
  private readonly summary: HTMLElement;
  private readonly amountInput: HTMLInputElement;
  private readonly reasonInput: HTMLInputElement;
  private readonly negativeInput: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly pendingNote: HTMLElement;
  /** The form's refusals, beside its fields. */
  private readonly alert = h('div', { class: 'message error', role: 'alert' });
  private entry: ReceivedEntry | null = null;
  private trigger: HTMLElement | null = null;
  private sending = false;

  constructor(private readonly host: ReverseHost) {
    const headingId = uid('reverse-heading');
    const amountId = uid('reverse-amount');
    const hintId = uid('reverse-hint');
    const reasonId = uid('reverse-reason');
    const negativeId = uid('reverse-negative');
    this.summary = h('p', { class: 'hint', id: hintId });
    this.amountInput = amountField(host.currency, {
      id: amountId,
      name: 'reverse-amount',
      hintId,
    });
    this.reasonInput = h('input', { id: reasonId, name: 'reverse-reason', maxlength: '500' });
    this.negativeInput = h('input', { id: negativeId, name: 'allow-negative', type: 'checkbox' });
    this.button = h('button', { type: 'submit', class: 'primary' }, 'Reverse');
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    cancel.addEventListener('click', () => this.close());
    this.pendingNote = h('p', { class: 'pending-note', hidden: true });
    this.element = h(
      'form',
      {
        class: 'movement reverse-form',
        novalidate: true,
        hidden: true,
        'aria-labelledby': headingId,
      },
      h('h3', { id: headingId }, 'Reverse a movement'),
      this.summary,
      h(
        'div',
        { class: 'field' },
        h('label', { for: amountId }, 'Amount to reverse'),
        h(
          'div',
          { class: 'amount-field' },
          h('span', { class: 'currency', 'aria-hidden': 'true' }, host.currency),
          this.amountInput,
        ),
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: reasonId }, 'Reason for the reversal'),
        this.reasonInput,
      ),
      h(
        'div',
        { class: 'check' },
        this.negativeInput,
        h('label', { for: negativeId }, 'Allow the balance to go below zero'),
      ),
      this.alert,
      h('div', { class: 'actions' }, this.button, ' ', cancel),
      this.pendingNote,
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send();
    });
  }

  /** Opens the form for this line, its amount what is left to reverse; focus goes to it. */
  open(entry: ReceivedEntry, trigger: HTMLElement): void {
    if (this.sending) return;
    this.entry = entry;
    this.trigger = trigger;
    say(this.alert, '');
    say(this.host.status, '');
    const remaining = remainingOf(entry);
    this.summary.textContent = `${describe(entry, this.host.currency)}: ${formatMinor(remaining, this.host.currency)} left to reverse.`;
    const attempt = this.attempts()?.get();
    // An unanswered attempt is offered again as it was, so sending it again reuses its key.
    this.amountInput.value = attempt
      ? minorToInput(BigInt(attempt.amount), this.host.currency)
      : minorToInput(remaining, this.host.currency);
    this.reasonInput.value = attempt?.reason ?? '';
    this.negativeInput.checked = attempt?.allowNegative === 'true';
    for (const input of [this.amountInput, this.reasonInput]) input.removeAttribute('aria-invalid');
    this.showPendingNote();
    this.element.hidden = false;
    this.amountInput.focus();
    this.amountInput.select();
  }

  /** Closes the form; focus goes back to the control that opened it, or else to its line. */
  close(): void {
    this.element.hidden = true;
    const { trigger, entry } = this;
    this.entry = null;
    this.trigger = null;
    if (trigger?.isConnected) trigger.focus();
    else if (entry) this.host.focusLine(entry.transactionId);
  }

  private attempts(): AttemptStore<Fields> | null {
    return this.entry
      ? new AttemptStore(`mm.pending-reversal.${this.entry.transactionId}`, [
          'amount',
          'reason',
          'allowNegative',
        ])
      : null;
  }

  private async send(): Promise<void> {
    const entry = this.entry;
    const attempts = this.attempts();
    if (this.sending || !entry || !attempts) return;
    const { status, currency } = this.host;
    const alert = this.alert;
    say(alert, '');
    say(status, '');
    const parsed = parseAmount(this.amountInput.value, currency, 'reversal');
    if (!parsed.ok) return refuseField(alert, this.amountInput, parsed.message);
    this.amountInput.removeAttribute('aria-invalid');
    const reason = reasonOf(this.reasonInput, alert, 'reversal');
    if (reason === null) return;
    const allowNegative = this.negativeInput.checked;
    const attempt = attempts.begin({
      amount: parsed.minor.toString(),
      reason,
      allowNegative: String(allowNegative),
    });
    this.setSending(true);
    const shown = formatMinor(parsed.minor, currency);
    let answer: ReversalAnswer | null = null;
    let alertText = '';
    try {
      answer = await this.host.api.reverse(
        entry.transactionId,
        { amount: Number(parsed.minor), reason, ...(allowNegative ? { allowNegative } : {}) },
        attempt.key,
      );
      attempts.set(null);
    } catch (error) {
      if (this.host.sessionEnded(error)) return;
      if (!isRetryable(error)) attempts.set(null);
      alertText = messageWithDetail(error, 'reversal');
    }
    if (answer) this.host.showNumbers({ ...answer, updatedAt: answer.transaction.createdAt });
    // Whatever happened, show what the service holds now.
    await this.host.refresh();
    this.setSending(false);
    const what = describe(entry, currency);
    if (alertText && this.host.sawKey(attempt.key)) {
      attempts.set(null);
      alertText = '';
      say(status, `The service's answer was lost, but the reversal of ${shown} went through.`);
    }
    if (alertText) {
      say(alert, alertText);
      this.showPendingNote();
      return;
    }
    if (answer) say(status, reversedText(answer, what, currency));
    this.close();
  }

  private setSending(on: boolean): void {
    this.sending = on;
    setFormBusy(this.element, this.button, [this.amountInput, this.reasonInput], on);
    this.negativeInput.disabled = on;
    this.showPendingNote();
  }

  private showPendingNote(): void {
    const attempt = this.sending ? null : this.attempts()?.get();
    showNote(
      this.pendingNote,
      attempt
        ? `A reversal of ${formatMinor(BigInt(attempt.amount), this.host.currency)} got no final answer. Reversing the same amount with the same reason again retries it safely: it cannot be made twice.`
        : null,
    );
  }
}

/** "The withdrawal of $50.00 on Dec 5, 2026, 10:00 AM". */
function describe(entry: ReceivedEntry, currency: string): string {
  const amount = formatMinor(entry.amount, entry.currency || currency);
  const date = dateFormat.format(new Date(entry.createdAt));
  return `The ${typeLabel(entry.type).toLowerCase()} of ${amount} on ${date}`;
}

function reversedText(answer: ReversalAnswer, what: string, currency: string): string {
  const amount = formatMinor(answer.transaction.amount, currency);
  const left = formatMinor(answer.reversed.remaining, currency);
  const done = answer.replayed
    ? `This reversal of ${amount} had already been made; it was not made twice.`
    : `Reversed ${amount}.`;
  return `${done} ${what}: ${left} left to reverse.`;
}
