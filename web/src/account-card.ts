/**
 * One account: its balance (posted, available, pending), withdraw, payout and transfer forms,
 * its payouts and its history. Every number on it comes from the API as it is: the card never
 * adds or subtracts money. After every attempt to move money, answered or not, and whenever a
 * payout resolves, it reads the balance and the history again and shows those.
 */
import { MOVEMENT_TYPES, signOf } from '../../lib/domain/movement-types';
import type { MovementType } from '../../lib/domain/types';
import type { Account, Balance } from '../../lib/wire/types';
import { ApiError, type Api, type ReceivedEntry } from './api';
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
import { AttemptStore } from './attempts';
import { isRetryable, messageFor } from './messages';
import { amountExample, formatMinor, parseAmount } from './money';
import { PayoutPanel } from './payouts';
import { TransferForm } from './transfer-form';

export interface CardContext {
  api: Api;
  /** More than one account: each card's inputs are told apart by their section. */
  several: boolean;
  /** Called on any 401: the session is over. */
  onSessionEnded(): void;
  /** A transfer from this card arrived in `toAccountId`: its card (if shown) reads it again. */
  onTransferred(toAccountId: string): void;
}

/** The numbers a balance line shows, as the API sent them. */
type Numbers = Pick<Balance, 'balance' | 'available' | 'pending' | 'updatedAt'> & {
  currency?: string;
};

const dateFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });
const AUTO_REFRESH_MS = 2000;
const AUTO_REFRESH_LIMIT = 5;

export class AccountCard {
  readonly element: HTMLElement;
  private readonly balanceValue: HTMLElement;
  private readonly availableValue: HTMLElement;
  private readonly pendingValue: HTMLElement;
  private readonly balanceNote: HTMLElement;
  private readonly payouts: PayoutPanel;
  private readonly transfers: TransferForm;
  private readonly form: HTMLFormElement;
  private readonly amountInput: HTMLInputElement;
  private readonly withdrawButton: HTMLButtonElement;
  private readonly pendingNote: HTMLElement;
  /** The unanswered withdrawal, kept in sessionStorage so a retry after a reload reuses its key. */
  private readonly attempts: AttemptStore<'amount'>;
  private readonly alert: HTMLElement;
  private readonly status: HTMLElement;
  private readonly historyBody: HTMLElement;
  private readonly historyEmpty: HTMLElement;
  private readonly loadMoreButton: HTMLButtonElement;

  private entries: ReceivedEntry[] = [];
  private nextCursor: string | null = null;
  private pagesShown = 0;
  private generation = 0;
  private withdrawing = false;
  private autoRefreshes = 0;
  private autoRefreshTimer: number | undefined;
  private closed = false;
  /** Set by a refresh that found an unanswered attempt in the history: its amount, shown. */
  private settled: string | null = null;

  constructor(
    private readonly account: Account,
    private readonly context: CardContext,
  ) {
    const headingId = uid('account');
    const withdrawHeadingId = uid('withdraw-heading');
    const amountId = uid('amount');
    const hintId = uid('amount-hint');
    const currency = account.currency;
    const tail = account.accountId.slice(-4);

    this.balanceValue = h('p', { class: 'balance-value', 'data-testid': 'balance' }, '…');
    this.availableValue = h('dd', { 'data-testid': 'available' }, '…');
    this.pendingValue = h('dd', { 'data-testid': 'pending' }, '…');
    this.balanceNote = h('p', { class: 'balance-note' }, 'Loading balance…');
    // With several accounts the visible label is the same in each card; the section tells
    // them apart, and the name stays exactly "Amount".
    this.amountInput = amountField(currency, {
      id: amountId,
      name: 'amount',
      hintId,
      ariaLabel: context.several ? 'Amount' : undefined,
    });
    this.withdrawButton = h('button', { type: 'submit', class: 'primary' }, 'Withdraw');
    this.pendingNote = h('p', { class: 'pending-note', hidden: true });
    this.attempts = new AttemptStore(`mm.pending.${account.accountId}`, ['amount']);
    this.alert = h('div', { class: 'message error', role: 'alert' });
    this.status = h('div', { class: 'message success', role: 'status' });
    this.form = h(
      'form',
      { class: 'movement withdraw', novalidate: true, 'aria-labelledby': withdrawHeadingId },
      h('h3', { id: withdrawHeadingId }, 'Withdraw'),
      h('label', { for: amountId }, 'Amount'),
      h(
        'div',
        { class: 'amount-row' },
        h(
          'div',
          { class: 'amount-field' },
          h('span', { class: 'currency', 'aria-hidden': 'true' }, currency),
          this.amountInput,
        ),
        this.withdrawButton,
      ),
      h(
        'p',
        { class: 'hint', id: hintId },
        `In ${currency}, for example ${amountExample(currency)}.`,
      ),
      this.pendingNote,
    );
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.withdraw();
    });

    this.historyBody = h('tbody');
    this.historyEmpty = h('p', { class: 'empty', hidden: true }, 'No transactions yet.');
    this.loadMoreButton = h(
      'button',
      { type: 'button', class: 'secondary', hidden: true },
      'Load more',
    );
    this.loadMoreButton.addEventListener('click', () => void this.loadMore());

    const host = {
      api: context.api,
      account,
      alert: this.alert,
      status: this.status,
      refresh: () => this.refresh(),
      sessionEnded: (error: unknown) => this.sessionEnded(error),
    };
    this.payouts = new PayoutPanel({
      ...host,
      showNumbers: (numbers) => this.showNumbers({ ...numbers, currency }),
    });
    this.transfers = new TransferForm({
      ...host,
      onTransferred: (toAccountId) => context.onTransferred(toAccountId),
    });

    this.element = h(
      'section',
      { class: 'card account', 'aria-labelledby': headingId, 'data-account-id': account.accountId },
      h(
        'div',
        { class: 'account-head' },
        h(
          'h2',
          { id: headingId },
          `${currency} account `,
          h('span', { class: 'muted' }, `•••• ${tail}`),
        ),
      ),
      h(
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
        this.balanceNote,
      ),
      this.alert,
      this.status,
      h('div', { class: 'movements' }, this.form, this.payouts.form, this.transfers.form),
      this.payouts.list,
      h(
        'div',
        { class: 'history' },
        h('h3', {}, 'History'),
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, `Transactions, newest first`),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Date'),
              h('th', { scope: 'col' }, 'Type'),
              h('th', { scope: 'col', class: 'num' }, 'Amount'),
              h('th', { scope: 'col', class: 'num' }, 'Balance after'),
            ),
          ),
          this.historyBody,
        ),
        this.historyEmpty,
        this.loadMoreButton,
      ),
    );
    this.showPendingNote();
  }

  get accountId(): string {
    return this.account.accountId;
  }

  /** Stops timers; the card is about to leave the page. */
  close(): void {
    this.closed = true;
    window.clearTimeout(this.autoRefreshTimer);
    this.payouts.close();
    this.transfers.close();
  }

  /**
   * Reads the balance and the first page of history from the API and shows exactly those.
   * `justRead`: a balance the API sent a moment ago (GET /accounts, on load), not read again.
   */
  async refresh(justRead?: Balance): Promise<boolean> {
    const generation = ++this.generation;
    this.settled = null;
    window.clearTimeout(this.autoRefreshTimer);
    this.element.setAttribute('aria-busy', 'true');
    try {
      const [balance, page] = await Promise.all([
        justRead ?? this.context.api.balance(this.account.accountId),
        this.context.api.transactions(this.account.accountId),
      ]);
      if (generation !== this.generation || this.closed) return true;
      this.showNumbers(balance);
      this.entries = page.transactions;
      this.nextCursor = page.nextCursor;
      this.pagesShown = 1;
      this.renderHistory();
      this.payouts.sawHistory(page.transactions);
      this.transfers.sawHistory(page.transactions);
      this.settled = this.settlePendingFrom(page.transactions);
      if (this.settled && !this.withdrawing) {
        say(this.status, `Your earlier withdrawal of ${this.settled} did go through.`);
      }
      this.scheduleAutoRefresh();
      return true;
    } catch (error) {
      if (generation !== this.generation || this.closed) return false;
      if (this.sessionEnded(error)) return false;
      // What the service holds now is unknown: show no number rather than a stale one.
      this.showNoNumbers('Balance unavailable right now.');
      say(this.alert, `${messageFor(error)} The balance could not be loaded.`);
      return false;
    } finally {
      if (generation === this.generation) this.element.setAttribute('aria-busy', 'false');
    }
  }

  private async withdraw(): Promise<void> {
    if (this.withdrawing) return;
    say(this.alert, '');
    say(this.status, '');
    const currency = this.account.currency;
    const parsed = parseAmount(this.amountInput.value, currency);
    if (!parsed.ok) return refuseField(this.alert, this.amountInput, parsed.message);
    this.amountInput.removeAttribute('aria-invalid');
    const attempt = this.attempts.begin({ amount: parsed.minor.toString() });
    this.setWithdrawing(true);

    const shown = formatMinor(parsed.minor, currency);
    let alertText = '';
    let statusText = '';
    try {
      const { replayed } = await this.context.api.withdraw(
        this.account.accountId,
        parsed.minor,
        attempt.key,
      );
      this.attempts.set(null);
      this.amountInput.value = '';
      statusText = replayed
        ? `Your withdrawal of ${shown} had already gone through; it was not made twice.`
        : `Withdrew ${shown}.`;
    } catch (error) {
      if (this.sessionEnded(error)) return;
      if (!isRetryable(error)) this.attempts.set(null);
      alertText = messageFor(error);
    }
    // Whatever happened, show what the service holds now, not what we expect it to hold.
    const fresh = await this.refresh();
    if (this.closed) return;
    if (alertText && this.settled) {
      // The answer was lost on the way, but the history shows this very attempt.
      alertText = '';
      statusText = `The service's answer was lost, but your withdrawal of ${this.settled} went through.`;
    }
    this.setWithdrawing(false);
    if (alertText) say(this.alert, fresh ? alertText : `${alertText} ${this.alert.textContent}`);
    if (statusText && fresh) say(this.status, statusText);
    else if (statusText) say(this.status, `${statusText} The new balance could not be loaded yet.`);
  }

  private async loadMore(): Promise<void> {
    if (!this.nextCursor) return;
    window.clearTimeout(this.autoRefreshTimer);
    const generation = this.generation;
    this.loadMoreButton.disabled = true;
    try {
      const page = await this.context.api.transactions(this.account.accountId, this.nextCursor);
      if (generation !== this.generation || this.closed) return;
      const seen = new Set(this.entries.map((entry) => entry.transactionId));
      this.entries.push(...page.transactions.filter((entry) => !seen.has(entry.transactionId)));
      this.nextCursor = page.nextCursor;
      this.pagesShown += 1;
      this.renderHistory();
    } catch (error) {
      if (this.sessionEnded(error)) return;
      say(this.alert, `${messageFor(error)} More history could not be loaded.`);
    } finally {
      this.loadMoreButton.disabled = false;
    }
  }

  /** The posted balance, available and pending, exactly as one API answer had them. */
  private showNumbers(numbers: Numbers): void {
    const { balance, available, pending } = numbers;
    if (![balance, available, pending].every((n) => Number.isSafeInteger(n))) {
      this.showNoNumbers('The service sent a balance this page cannot read.');
      return;
    }
    const currency = numbers.currency || this.account.currency;
    this.balanceValue.textContent = formatMinor(balance, currency);
    this.availableValue.textContent = formatMinor(available, currency);
    this.pendingValue.textContent = formatMinor(pending, currency);
    this.balanceNote.textContent = `As of ${dateFormat.format(new Date(numbers.updatedAt))}`;
  }

  private showNoNumbers(note: string): void {
    this.balanceValue.textContent = '—';
    this.availableValue.textContent = '—';
    this.pendingValue.textContent = '—';
    this.balanceNote.textContent = note;
  }

  private renderHistory(): void {
    const currency = this.account.currency;
    const rows = this.entries.map((entry) => {
      const outgoing = isOutgoing(entry.type);
      const voided = entry.status === 'VOIDED';
      // A voided payout moved nothing: its amount is shown struck through, without a sign.
      const amount = Number.isSafeInteger(entry.amount)
        ? `${voided ? '' : outgoing ? '−' : '+'}${formatMinor(entry.amount, entry.currency || currency)}`
        : '—';
      const after =
        entry.balanceAfter === null
          ? h('span', { class: 'badge pending' }, 'pending')
          : Number.isSafeInteger(entry.balanceAfter)
            ? formatMinor(entry.balanceAfter, entry.currency || currency)
            : '—';
      return h(
        'tr',
        {
          'data-transaction-id': entry.transactionId,
          'data-status': entry.status ?? 'POSTED',
        },
        h('td', {}, dateFormat.format(new Date(entry.createdAt))),
        h(
          'td',
          { class: 'type' },
          typeLabel(entry.type),
          voided ? h('span', { class: 'badge voided' }, 'voided') : null,
          detailOf(entry) ? h('span', { class: 'detail' }, detailOf(entry)) : null,
        ),
        h(
          'td',
          { class: `num ${voided ? 'void' : outgoing ? 'out' : 'in'}` },
          amount,
          voided ? h('span', { class: 'visually-hidden' }, ' (voided: not taken)') : null,
        ),
        h('td', { class: 'num' }, after),
      );
    });
    replaceChildren(this.historyBody, ...rows);
    this.historyEmpty.hidden = this.entries.length > 0;
    this.loadMoreButton.hidden = this.nextCursor === null;
  }

  /** Entries still pending settle within moments: look again a few times while only page 1 shows. */
  private scheduleAutoRefresh(): void {
    // An open payout's hold stays pending until the gateway answers: the payout list polls for
    // that. Once it resolved, its line still pending means the statement is catching up.
    const anyPending = this.entries.some(
      (entry) =>
        entry.balanceAfter === null &&
        !(entry.type === 'PAYOUT' && this.payouts.isOpen(entry.transactionId)),
    );
    if (!anyPending) {
      this.autoRefreshes = 0;
      return;
    }
    if (this.pagesShown > 1 || this.withdrawing || this.autoRefreshes >= AUTO_REFRESH_LIMIT) return;
    this.autoRefreshes += 1;
    this.autoRefreshTimer = window.setTimeout(() => {
      if (!this.withdrawing && !this.closed) void this.refresh();
    }, AUTO_REFRESH_MS);
  }

  private setWithdrawing(on: boolean): void {
    this.withdrawing = on;
    setFormBusy(this.form, this.withdrawButton, [this.amountInput], on);
    this.showPendingNote();
  }

  /** A 401 anywhere ends the session for the whole page. */
  private sessionEnded(error: unknown): boolean {
    if (error instanceof ApiError && error.status === 401) {
      this.close();
      this.context.onSessionEnded();
      return true;
    }
    return false;
  }

  /**
   * If an unanswered attempt shows up in the history, it went through: forget it, and return
   * its amount for the message. (Called only once no request of this card is in flight.)
   */
  private settlePendingFrom(entries: ReceivedEntry[]): string | null {
    const pending = this.attempts.get();
    if (!pending || !entries.some((entry) => entry.idempotencyKey === pending.key)) return null;
    this.attempts.set(null);
    this.showPendingNote();
    return formatMinor(BigInt(pending.amount), this.account.currency);
  }

  private showPendingNote(): void {
    const pending = this.withdrawing ? null : this.attempts.get();
    const amount = pending && formatMinor(BigInt(pending.amount), this.account.currency);
    showNote(
      this.pendingNote,
      amount &&
        `A withdrawal of ${amount} got no final answer. Withdrawing ${amount} again retries it safely: it cannot be taken twice.`,
    );
  }
}

/** The history's name for each movement type: the compiler asks for one when a type is added. */
const TYPE_LABELS: Record<MovementType, string> = {
  DEPOSIT: 'Deposit',
  WITHDRAWAL: 'Withdrawal',
  TRANSFER_IN: 'Transfer in',
  TRANSFER_OUT: 'Transfer out',
  PAYOUT: 'Payout',
  REVERSAL_IN: 'Reversal (refund)',
  REVERSAL_OUT: 'Reversal (taken back)',
};

/** A type whose rules this page knows; an API newer than the page may send another. */
const isKnownType = (type: string): type is MovementType =>
  (MOVEMENT_TYPES as readonly string[]).includes(type);

/** Takes money out of the account once posted: its rule's direction (lib/domain/movement-types). */
const isOutgoing = (type: string): boolean => isKnownType(type) && signOf(type) < 0;

function typeLabel(type: string): string {
  return isKnownType(type) ? TYPE_LABELS[type] : type.charAt(0) + type.slice(1).toLowerCase();
}

/** Where a payout went, or the other account of a transfer: "to" for money out, "from" for in. */
function detailOf(entry: ReceivedEntry): string | null {
  const other =
    entry.destination ??
    (entry.counterpartyAccountId && `•••• ${entry.counterpartyAccountId.slice(-4)}`);
  if (!other || !isKnownType(entry.type)) return null;
  return `${isOutgoing(entry.type) ? 'to' : 'from'} ${other}`;
}
