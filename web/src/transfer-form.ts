/**
 * A transfer from this account to another one, named by its account id. Like a withdrawal: one
 * request with its own Idempotency-Key, the same key again when the same transfer is retried
 * after no answer; afterwards the card reads its balance and history again.
 */
import type { Account } from '../../lib/wire/types';
import type { Api, ReceivedEntry } from './api';
import { AttemptStore } from './attempts';
import {
  accountIdField,
  amountField,
  h,
  refuseField,
  say,
  setFormBusy,
  showNote,
  uid,
} from './dom';
import { type LimitsRoom, refusalMessage } from './limits';
import { isRetryable, messageFor } from './messages';
import { amountExample, formatMinor, parseAmount } from './money';

export interface TransferHost {
  api: Api;
  account: Account;
  /** The account's limits as last read: a transfer above them is not sent. */
  room: LimitsRoom;
  alert: HTMLElement;
  status: HTMLElement;
  refresh(): Promise<boolean>;
  sessionEnded(error: unknown): boolean;
  /** Money arrived in another account: its card, if it is on the page, reads it again. */
  onTransferred(toAccountId: string): void;
}

/** Account ids are ULIDs: 26 characters of Crockford's base 32. */
export const ACCOUNT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export class TransferForm {
  readonly form: HTMLFormElement;
  private readonly amountInput: HTMLInputElement;
  private readonly toInput: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly pendingNote: HTMLElement;
  private readonly attempts: AttemptStore<'amount' | 'to'>;
  private sending = false;
  private closed = false;
  private keysSeen = new Set<string>();

  constructor(private readonly host: TransferHost) {
    const currency = host.account.currency;
    const headingId = uid('transfer-heading');
    const amountId = uid('transfer-amount');
    const toId = uid('transfer-to');
    const hintId = uid('transfer-hint');
    this.attempts = new AttemptStore(`mm.pending-transfer.${host.account.accountId}`, [
      'amount',
      'to',
    ]);
    this.amountInput = amountField(currency, {
      id: amountId,
      name: 'transfer-amount',
      hintId,
      ariaLabel: 'Transfer amount',
    });
    this.toInput = accountIdField({ id: toId, name: 'to-account', hintId });
    this.button = h('button', { type: 'submit', class: 'primary' }, 'Transfer');
    this.pendingNote = h('p', { class: 'pending-note', hidden: true });
    this.form = h(
      'form',
      { class: 'movement transfer-form', novalidate: true, 'aria-labelledby': headingId },
      h('h3', { id: headingId }, 'Transfer'),
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
      h('div', { class: 'field' }, h('label', { for: toId }, 'To account'), this.toInput),
      h(
        'p',
        { class: 'hint', id: hintId },
        `In ${currency}, for example ${amountExample(currency)}, to another ${currency} account's id (26 characters).`,
      ),
      h('div', { class: 'actions' }, this.button),
      this.pendingNote,
    );
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send();
    });
    this.showPendingNote();
  }

  close(): void {
    this.closed = true;
  }

  /** The first page of history, just read: an unanswered transfer found there went through. */
  sawHistory(entries: ReceivedEntry[]): void {
    this.keysSeen = new Set(
      entries.filter((entry) => entry.type === 'TRANSFER_OUT').map((entry) => entry.idempotencyKey),
    );
    const attempt = this.attempts.get();
    if (attempt && !this.sending && this.keysSeen.has(attempt.key)) {
      this.attempts.set(null);
      this.showPendingNote();
    }
  }

  private async send(): Promise<void> {
    if (this.sending) return;
    const { alert, status, account } = this.host;
    say(alert, '');
    say(status, '');
    const parsed = parseAmount(this.amountInput.value, account.currency, 'transfer');
    if (!parsed.ok) return refuseField(this.host.alert, this.amountInput, parsed.message);
    this.amountInput.removeAttribute('aria-invalid');
    const to = this.toInput.value.trim().toUpperCase();
    if (!ACCOUNT_ID.test(to)) {
      return refuseField(
        this.host.alert,
        this.toInput,
        to === ''
          ? 'Enter the id of the account to transfer to.'
          : 'That is not an account id: an account id has 26 letters and digits.',
      );
    }
    if (to === account.accountId) {
      return refuseField(
        this.host.alert,
        this.toInput,
        'Choose another account: this is the account it would come from.',
      );
    }
    this.toInput.removeAttribute('aria-invalid');

    this.setSending(true);
    const overLimit = await this.limitRefusal(parsed.minor, to);
    if (this.closed) return;
    if (overLimit) {
      this.setSending(false);
      return refuseField(alert, this.amountInput, overLimit);
    }
    const attempt = this.attempts.begin({ amount: parsed.minor.toString(), to });
    const shown = formatMinor(parsed.minor, account.currency);
    const toShown = `•••• ${to.slice(-4)}`;
    let alertText = '';
    let statusText = '';
    let arrived = false;
    try {
      const { replayed } = await this.host.api.transfer(
        account.accountId,
        to,
        parsed.minor,
        attempt.key,
      );
      this.attempts.set(null);
      this.amountInput.value = '';
      this.toInput.value = '';
      arrived = true;
      statusText = replayed
        ? `Your transfer of ${shown} to account ${toShown} had already gone through; it was not made twice.`
        : `Transferred ${shown} to account ${toShown}.`;
    } catch (error) {
      if (this.host.sessionEnded(error)) return;
      if (isRetryable(error)) {
        // It may have gone through: the history read below tells.
        alertText = messageFor(error, 'transfer');
      } else {
        // A definite refusal: nothing moved. Said at once.
        this.attempts.set(null);
        say(alert, refusalMessage(error, 'transfer', account.currency));
      }
    }
    await this.host.refresh();
    if (alertText && this.keysSeen.has(attempt.key)) {
      this.attempts.set(null);
      alertText = '';
      arrived = true;
      statusText = `The service's answer was lost, but your transfer of ${shown} to account ${toShown} went through.`;
    }
    this.setSending(false);
    if (this.closed) return;
    if (arrived) this.host.onTransferred(to);
    if (alertText) say(alert, alertText);
    if (statusText) say(status, statusText);
  }

  /**
   * Why this transfer is not sent (above the limits as last read; a transfer has no fee), or
   * null. Not asked when it retries an unanswered transfer, which may have used the room itself.
   */
  private async limitRefusal(amount: bigint, to: string): Promise<string | null> {
    const pending = this.attempts.get();
    if (pending?.amount === amount.toString() && pending.to === to) return null;
    return this.host.room.refusal(
      { action: 'transfer', amount, fee: 0n },
      this.host.account.currency,
    );
  }

  private setSending(on: boolean): void {
    this.sending = on;
    setFormBusy(this.form, this.button, [this.amountInput, this.toInput], on);
    this.showPendingNote();
  }

  private showPendingNote(): void {
    const attempt = this.sending ? null : this.attempts.get();
    showNote(
      this.pendingNote,
      attempt &&
        `A transfer of ${formatMinor(BigInt(attempt.amount), this.host.account.currency)} to account •••• ${attempt.to.slice(-4)} got no final answer. Transferring the same amount to the same account again retries it safely: it cannot be made twice.`,
    );
  }
}
