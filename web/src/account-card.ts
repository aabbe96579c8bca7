/**
 * One account: its balance (posted, available, pending) and limits, withdraw, payout and
 * transfer forms, its payouts, its history (with filters) and its monthly statement. Every
 * number on it comes from the API as it is: the card never adds or subtracts money. After every
 * attempt to move money, answered or not, and whenever a payout resolves, it reads the balance
 * (with the limits), the history and the statement shown (with its chart) again and shows those.
 */
import type { Account } from '../../lib/wire/types';
import {
  endsSession,
  type Api,
  type HistoryQuery,
  type ReceivedBalance,
  type ReceivedEntry,
} from './api';
import { AttemptStore } from './attempts';
import { BalanceView } from './balance-view';
import { CsvButton } from './csv-download';
import { amountField, h, refuseField, say, setFormBusy, showNote, uid } from './dom';
import { FeeQuote, feePreview, withFee } from './fees';
import { AutoRefresh, HistoryTable } from './history';
import { HistoryFilterForm } from './history-filters';
import { knownFee, LimitsRoom, refusalMessage } from './limits';
import { isRetryable, messageFor } from './messages';
import { amountExample, formatMinor, parseAmount } from './money';
import { PayoutPanel } from './payouts';
import { StatementPanel } from './statement';
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

export class AccountCard {
  readonly element: HTMLElement;
  private readonly numbers: BalanceView;
  private readonly fees: FeeQuote;
  /** The limits as last read with the balance: a movement above them is not sent. */
  private readonly room: LimitsRoom;
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
  private readonly history: HistoryTable;
  private readonly filters: HistoryFilterForm;
  private readonly statement: StatementPanel;
  private readonly autoRefresh: AutoRefresh;
  /** The history's filters as last applied; null: the plain history. */
  private query: HistoryQuery | null = null;
  /** The account's timezone (its limits'), whose days and months filters and statements count. */
  private timezone = 'UTC';

  private generation = 0;
  private withdrawing = false;
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

    this.numbers = new BalanceView(currency);
    this.fees = new FeeQuote(context.api, account.accountId);
    this.room = new LimitsRoom(() => this.refresh());
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
      feePreview(this.amountInput, this.fees, 'WITHDRAWAL', currency),
      this.pendingNote,
    );
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.withdraw();
    });

    this.autoRefresh = new AutoRefresh(() => {
      if (!this.withdrawing && !this.closed) void this.refresh();
    });
    this.filters = new HistoryFilterForm({
      alert: this.alert,
      timezone: () => this.timezone,
      apply: (query) => {
        this.query = query;
        void this.refresh();
      },
      extraActions: [this.historyDownload().element],
    });
    this.statement = new StatementPanel({
      api: context.api,
      accountId: account.accountId,
      currency,
      sessionEnded: (error) => this.sessionEnded(error),
    });
    this.history = new HistoryTable({
      api: context.api,
      accountId: account.accountId,
      currency,
      above: [this.filters.element],
      load: (cursor) => context.api.transactions(account.accountId, cursor, this.query ?? {}),
      onLoadMore: () => this.autoRefresh.cancel(),
      onLoadMoreFailed: (error) => {
        if (this.sessionEnded(error) || this.closed) return;
        say(this.alert, `${messageFor(error)} More history could not be loaded.`);
      },
    });

    const host = {
      api: context.api,
      account,
      room: this.room,
      alert: this.alert,
      status: this.status,
      refresh: () => this.refresh(),
      sessionEnded: (error: unknown) => this.sessionEnded(error),
    };
    this.payouts = new PayoutPanel({
      ...host,
      fees: this.fees,
      showNumbers: (numbers) => this.numbers.show({ ...numbers, currency }),
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
      this.numbers.element,
      this.alert,
      this.status,
      h('div', { class: 'movements' }, this.form, this.payouts.form, this.transfers.form),
      this.payouts.list,
      this.history.element,
      this.statement.element,
    );
    this.showPendingNote();
    // The list's numbers, shown until the card's first read brings them with the limits.
    this.numbers.show(account);
  }

  get accountId(): string {
    return this.account.accountId;
  }

  /** Stops timers; the card is about to leave the page. */
  close(): void {
    this.closed = true;
    this.autoRefresh.cancel();
    this.payouts.close();
    this.transfers.close();
    this.statement.close();
  }

  /**
   * Reads the balance (with the limits) and the first page of history (filtered, if filters are
   * on), and shows exactly those; the statement shown is read again beside them.
   */
  async refresh(): Promise<boolean> {
    const generation = ++this.generation;
    this.settled = null;
    this.autoRefresh.cancel();
    this.element.setAttribute('aria-busy', 'true');
    // The fee schedule, unless a recent read is at hand: the fee preview follows it on its own.
    void this.fees.load();
    this.statement.reread();
    const { api } = this.context;
    const { accountId } = this.account;
    const query = this.query;
    try {
      // The plain first page is read even when filters are on: it alone has the movements still
      // pending, which the payouts, the transfers and an unanswered withdrawal are checked against.
      const [balance, page, filtered] = await Promise.all([
        api.balance(accountId),
        api.transactions(accountId),
        query && api.transactions(accountId, null, query),
      ]);
      if (generation !== this.generation || this.closed) return true;
      this.showBalance(balance);
      this.history.show(
        filtered ?? page,
        filtered
          ? {
              caption: 'Transactions matching the filters, newest first',
              empty: 'No transactions match these filters.',
            }
          : {},
      );
      this.payouts.sawHistory(page.transactions);
      this.transfers.sawHistory(page.transactions);
      this.settled = this.settlePendingFrom(page.transactions);
      if (this.settled && !this.withdrawing) {
        say(this.status, `Your earlier withdrawal of ${this.settled} did go through.`);
      }
      this.scheduleAutoRefresh(page.transactions);
      return true;
    } catch (error) {
      if (generation !== this.generation || this.closed) return false;
      if (this.sessionEnded(error)) return false;
      // What the service holds now is unknown: show no number rather than a stale one.
      this.numbers.showNone('Balance unavailable right now.');
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
    this.setWithdrawing(true);
    const overLimit = await this.limitRefusal(parsed.minor);
    if (this.closed) return;
    if (overLimit) {
      this.setWithdrawing(false);
      return refuseField(this.alert, this.amountInput, overLimit);
    }
    const attempt = this.attempts.begin({ amount: parsed.minor.toString() });

    const shown = formatMinor(parsed.minor, currency);
    let alertText = '';
    let statusText = '';
    try {
      const { replayed, fee } = await this.context.api.withdraw(
        this.account.accountId,
        parsed.minor,
        attempt.key,
      );
      this.attempts.set(null);
      this.amountInput.value = '';
      // The fee charged is the API's: the schedule may have changed since the preview.
      if (BigInt(fee) !== this.fees.feeOf('WITHDRAWAL', parsed.minor)) void this.fees.load(true);
      statusText = replayed
        ? `${withFee(`Your withdrawal of ${shown}`, fee, currency)} had already gone through; it was not made twice.`
        : `${withFee(`Withdrew ${shown}`, fee, currency)}.`;
    } catch (error) {
      if (this.sessionEnded(error)) return;
      if (!isRetryable(error)) this.attempts.set(null);
      alertText = refusalMessage(error, 'withdrawal', currency);
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

  private showBalance(balance: ReceivedBalance): void {
    this.numbers.show(balance);
    this.numbers.showLimits(balance.limits ?? null);
    this.room.saw(balance.limits);
    // An API older than limits has no timezone for the account: its statements count in UTC.
    this.timezone = balance.limits?.timezone ?? 'UTC';
    this.statement.setTimezone(this.timezone);
    this.filters.showTimezone();
  }

  /** Every line of the history as shown (filtered or not), as a CSV file. */
  private historyDownload(): CsvButton {
    const { accountId } = this.account;
    return new CsvButton({
      label: 'Download history (CSV)',
      filename: () => this.filters.filename(accountId),
      read: () => this.context.api.historyCsv(accountId, this.query ?? {}),
      alert: this.alert,
      status: this.status,
      sessionEnded: (error) => this.sessionEnded(error),
    });
  }

  /**
   * Why this withdrawal is not sent (above the limits as last read), or null. Not asked when it
   * retries an unanswered attempt: that one may have gone through and used the room itself, and
   * the server answers the retry as it answered the attempt.
   */
  private async limitRefusal(amount: bigint): Promise<string | null> {
    if (this.attempts.get()?.amount === amount.toString()) return null;
    const fee = knownFee(this.fees.feeOf('WITHDRAWAL', amount));
    return this.room.refusal({ action: 'withdrawal', amount, fee }, this.account.currency);
  }

  /** Entries still pending settle within moments: look again a few times while only page 1 shows. */
  private scheduleAutoRefresh(entries: readonly ReceivedEntry[]): void {
    // An open payout's hold stays pending until the gateway answers: the payout list polls for
    // that. Once it resolved, its line still pending means the statement is catching up.
    const anyPending = entries.some(
      (entry) =>
        entry.balanceAfter === null &&
        !(entry.type === 'PAYOUT' && this.payouts.isOpen(entry.transactionId)),
    );
    this.autoRefresh.after(anyPending, this.history.pagesShown === 1 && !this.withdrawing);
  }

  private setWithdrawing(on: boolean): void {
    this.withdrawing = on;
    setFormBusy(this.form, this.withdrawButton, [this.amountInput], on);
    this.showPendingNote();
  }

  private sessionEnded(error: unknown): boolean {
    return endsSession(error, this, () => this.context.onSessionEnded());
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
