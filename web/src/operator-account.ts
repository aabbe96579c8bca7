/**
 * One account as an operator sees it: its numbers and limits, its fee schedule and limits (to
 * set), its history with a Reverse control on every line that can still be reversed, and its
 * monthly statement (the customer's, statement.ts). Like the customer's card, it shows only what
 * the API sent and reads everything again after every change.
 */
import { endsSession, type Api, type ReceivedBalance, type ReceivedEntry } from './api';
import { BalanceView } from './balance-view';
import { h, say, uid } from './dom';
import { FeesForm } from './fees-form';
import { AutoRefresh, HistoryTable, typeLabel } from './history';
import { LimitsForm } from './limits-form';
import { messageWithDetail } from './messages';
import { formatMinor } from './money';
import { isReversible, ReverseForm } from './reverse-form';
import { StatementPanel } from './statement';

export interface OperatorContext {
  api: Api;
  /** Called on any 401: the session is over. */
  onSessionEnded(): void;
}

export class OperatorAccountView {
  readonly element: HTMLElement;
  private readonly numbers: BalanceView;
  private readonly alert: HTMLElement;
  /** What a reversal did, said above the history it changed. */
  private readonly status: HTMLElement;
  private readonly fees: FeesForm;
  private readonly limits: LimitsForm;
  private readonly history: HistoryTable;
  private readonly reverse: ReverseForm;
  private readonly statement: StatementPanel;
  private readonly autoRefresh: AutoRefresh;
  private generation = 0;
  private closed = false;

  /** `balance`: the account's numbers just read, which also name its currency. */
  constructor(
    private readonly balance: ReceivedBalance,
    private readonly context: OperatorContext,
  ) {
    const { accountId, currency } = balance;
    const headingId = uid('ops-account');
    this.numbers = new BalanceView(currency);
    this.alert = h('div', { class: 'message error', role: 'alert' });
    this.status = h('div', { class: 'message success', role: 'status' });
    const host = {
      api: context.api,
      accountId,
      currency,
      sessionEnded: (error: unknown) => this.sessionEnded(error),
    };
    this.fees = new FeesForm(host);
    this.limits = new LimitsForm({
      ...host,
      showLimits: (limits) => this.numbers.showLimits(limits),
    });
    this.reverse = new ReverseForm({
      ...host,
      status: this.status,
      showNumbers: (numbers) => this.numbers.show({ ...numbers, currency }),
      refresh: () => this.refresh(),
      sawKey: (key) => this.history.entries.some((entry) => entry.idempotencyKey === key),
      focusLine: (transactionId) => this.history.focusLine(transactionId),
    });
    this.autoRefresh = new AutoRefresh(() => {
      if (!this.closed) void this.refresh();
    });
    this.history = new HistoryTable({
      api: context.api,
      accountId,
      currency,
      onLoadMore: () => this.autoRefresh.cancel(),
      onLoadMoreFailed: (error) => {
        if (this.sessionEnded(error) || this.closed) return;
        say(this.alert, `${messageWithDetail(error, 'read')} More history could not be loaded.`);
      },
      action: { heading: 'Action', cell: (entry) => this.reverseButton(entry) },
    });
    this.statement = new StatementPanel(host);
    this.element = h(
      'section',
      {
        class: 'card account operator',
        'aria-labelledby': headingId,
        'data-account-id': accountId,
      },
      h(
        'div',
        { class: 'account-head' },
        h(
          'h2',
          { id: headingId },
          `${currency} account `,
          h('span', { class: 'muted' }, accountId),
        ),
      ),
      this.numbers.element,
      this.alert,
      h(
        'div',
        { class: 'movements' },
        this.fees.element,
        this.limits.element,
        this.reverse.element,
      ),
      this.status,
      this.history.element,
      this.statement.element,
    );
  }

  get accountId(): string {
    return this.balance.accountId;
  }

  /** Shows the numbers just read, then reads the fees, the limits and the history. */
  async start(): Promise<void> {
    await Promise.all([this.fees.load(), this.limits.load(), this.refresh(this.balance)]);
  }

  close(): void {
    this.closed = true;
    this.autoRefresh.cancel();
    this.statement.close();
  }

  /** Reads the balance and the first page of history again and shows exactly those. */
  async refresh(justRead?: ReceivedBalance): Promise<boolean> {
    const generation = ++this.generation;
    this.autoRefresh.cancel();
    this.element.setAttribute('aria-busy', 'true');
    this.statement.reread();
    try {
      const [balance, page] = await Promise.all([
        justRead ?? this.context.api.balance(this.accountId),
        this.context.api.transactions(this.accountId),
      ]);
      if (generation !== this.generation || this.closed) return true;
      this.numbers.show(balance);
      this.numbers.showLimits(balance.limits ?? null);
      this.statement.setTimezone(balance.limits?.timezone ?? 'UTC');
      this.history.show(page);
      const pending = page.transactions.some((entry) => entry.balanceAfter === null);
      this.autoRefresh.after(pending, this.history.pagesShown === 1);
      return true;
    } catch (error) {
      if (generation !== this.generation || this.closed || this.sessionEnded(error)) return false;
      this.numbers.showNone('Balance unavailable right now.');
      say(this.alert, `${messageWithDetail(error, 'read')} The account could not be read.`);
      return false;
    } finally {
      if (generation === this.generation) this.element.setAttribute('aria-busy', 'false');
    }
  }

  /** "Reverse", named for its line ("Reverse the withdrawal of $50.00"), on reversible lines. */
  private reverseButton(entry: ReceivedEntry): HTMLElement | null {
    if (!isReversible(entry)) return null;
    const amount = formatMinor(entry.amount, entry.currency || this.balance.currency);
    const button = h(
      'button',
      { type: 'button', class: 'secondary small' },
      'Reverse',
      h(
        'span',
        { class: 'visually-hidden' },
        ` the ${typeLabel(entry.type).toLowerCase()} of ${amount}`,
      ),
    );
    button.addEventListener('click', () => this.reverse.open(entry, button));
    return button;
  }

  private sessionEnded(error: unknown): boolean {
    return endsSession(error, this, () => this.context.onSessionEnded());
  }
}
