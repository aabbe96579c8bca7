/**
 * What an operator sees above their own accounts: the ledger summary (the system accounts per
 * currency, GET /ledger/summary) with a refresh, and any account opened by its id, to set its
 * fees and reverse its movements. The API alone decides who is an operator: the panel is shown
 * only once it has answered the summary.
 */
import type { LedgerSummary } from '../../lib/wire/types';
import { ApiError, endsSession } from './api';
import { accountIdField, h, refuseField, replaceChildren, say, setFormBusy, uid } from './dom';
import { dateFormat } from './history';
import { messageWithDetail } from './messages';
import { formatMinor } from './money';
import { OperatorAccountView, type OperatorContext } from './operator-account';
import { ACCOUNT_ID } from './transfer-form';

type SystemAccount = keyof LedgerSummary['currencies'][string]['systemAccounts'];

/** The summary's columns: the compiler asks for a label when a system account is added. */
const SYSTEM_ACCOUNT_LABELS: Record<SystemAccount, string> = {
  funding: 'Funding',
  clearing: 'Clearing',
  revenue: 'Revenue',
};
const SYSTEM_ACCOUNTS = Object.keys(SYSTEM_ACCOUNT_LABELS) as SystemAccount[];

/** The operator's part of the page, or `null` from `forCaller` for anyone else. */
export class OperationsPanel {
  readonly element: HTMLElement;
  private readonly summaryBody: HTMLElement;
  private readonly summaryEmpty: HTMLElement;
  private readonly summaryStatus: HTMLElement;
  private readonly summaryAlert: HTMLElement;
  private readonly refreshButton: HTMLButtonElement;
  private readonly lookupAlert: HTMLElement;
  private readonly accountSlot: HTMLElement;
  private account: OperatorAccountView | null = null;

  /**
   * Asks the API for the ledger summary: a 403 means the caller is no operator (null); an answer
   * means the panel, showing it. Other failures show the panel with the error and a refresh, for
   * the caller's token says they may be one. A 401 ends the session (null).
   */
  static async forCaller(context: OperatorContext): Promise<OperationsPanel | null> {
    let summary: LedgerSummary | null = null;
    let failure: unknown = null;
    try {
      summary = await context.api.ledgerSummary();
    } catch (error) {
      if (endsSession(error, { close: () => undefined }, context.onSessionEnded)) return null;
      if (error instanceof ApiError && error.status === 403) return null;
      failure = error;
    }
    const panel = new OperationsPanel(context);
    if (summary) panel.showSummary(summary);
    else
      say(
        panel.summaryAlert,
        `${messageWithDetail(failure, 'read')} The summary could not be read.`,
      );
    return panel;
  }

  private constructor(private readonly context: OperatorContext) {
    const summaryHeadingId = uid('summary-heading');
    this.summaryBody = h('tbody');
    this.summaryEmpty = h('p', { class: 'empty', hidden: true }, 'No money has moved yet.');
    this.summaryStatus = h('div', { class: 'message success', role: 'status' });
    this.summaryAlert = h('div', { class: 'message error', role: 'alert' });
    this.refreshButton = h('button', { type: 'button', class: 'secondary' }, 'Refresh summary');
    this.refreshButton.addEventListener('click', () => void this.refreshSummary());
    this.lookupAlert = h('div', { class: 'message error', role: 'alert' });
    this.accountSlot = h('div', { class: 'ops-account' });
    this.element = h(
      'div',
      { class: 'operations' },
      h(
        'section',
        { class: 'card ledger-summary', 'aria-labelledby': summaryHeadingId },
        h('h2', { id: summaryHeadingId }, 'Ledger summary'),
        h(
          'p',
          { class: 'hint' },
          'The system accounts per currency. Funding is below zero by the money that came in; clearing holds what left through withdrawals and payouts; revenue holds the fees.',
        ),
        this.summaryAlert,
        this.summaryStatus,
        h(
          'table',
          { class: 'summary' },
          h('caption', { class: 'visually-hidden' }, 'System account balances by currency'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Currency'),
              ...SYSTEM_ACCOUNTS.map((name) =>
                h('th', { scope: 'col', class: 'num' }, SYSTEM_ACCOUNT_LABELS[name]),
              ),
            ),
          ),
          this.summaryBody,
        ),
        this.summaryEmpty,
        h('div', { class: 'actions' }, this.refreshButton),
      ),
      this.lookupForm(),
      this.accountSlot,
    );
  }

  close(): void {
    this.account?.close();
  }

  private async refreshSummary(): Promise<void> {
    say(this.summaryAlert, '');
    say(this.summaryStatus, '');
    this.refreshButton.disabled = true;
    try {
      this.showSummary(await this.context.api.ledgerSummary());
    } catch (error) {
      if (endsSession(error, this, this.context.onSessionEnded)) return;
      say(this.summaryAlert, `${messageWithDetail(error, 'read')} The summary could not be read.`);
    } finally {
      this.refreshButton.disabled = false;
    }
  }

  /** The summary exactly as the API sent it, one row per currency. */
  private showSummary(summary: LedgerSummary): void {
    const rows = Object.entries(summary.currencies).map(([currency, { systemAccounts }]) =>
      h(
        'tr',
        { 'data-currency': currency },
        h('th', { scope: 'row' }, currency),
        ...SYSTEM_ACCOUNTS.map((name) =>
          h(
            'td',
            { class: 'num', 'data-system-account': name },
            formatMinor(systemAccounts[name], currency),
          ),
        ),
      ),
    );
    replaceChildren(this.summaryBody, ...rows);
    this.summaryEmpty.hidden = rows.length > 0;
    say(this.summaryStatus, `Summary read at ${dateFormat.format(new Date())}.`);
  }

  private lookupForm(): HTMLElement {
    const headingId = uid('lookup-heading');
    const inputId = uid('lookup-account');
    const hintId = uid('lookup-hint');
    const input = accountIdField({ id: inputId, name: 'account-id', hintId });
    const button = h('button', { type: 'submit', class: 'primary' }, 'Open account');
    const form = h(
      'form',
      { class: 'card lookup', novalidate: true, 'aria-labelledby': headingId },
      h('h2', { id: headingId }, 'An account'),
      this.lookupAlert,
      h('label', { for: inputId }, 'Account id'),
      h('div', { class: 'amount-row' }, input, button),
      h(
        'p',
        { class: 'hint', id: hintId },
        'Its 26-character id: to see its history, set its fees and reverse its movements.',
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.open(input, button, form);
    });
    return form;
  }

  private async open(
    input: HTMLInputElement,
    button: HTMLButtonElement,
    form: HTMLFormElement,
  ): Promise<void> {
    say(this.lookupAlert, '');
    const accountId = input.value.trim().toUpperCase();
    if (!ACCOUNT_ID.test(accountId)) {
      return refuseField(
        this.lookupAlert,
        input,
        'That is not an account id: an account id has 26 letters and digits.',
      );
    }
    input.removeAttribute('aria-invalid');
    setFormBusy(form, button, [input], true);
    try {
      const balance = await this.context.api.balance(accountId);
      this.account?.close();
      this.account = new OperatorAccountView(balance, this.context);
      replaceChildren(this.accountSlot, this.account.element);
      await this.account.start();
    } catch (error) {
      if (endsSession(error, this, this.context.onSessionEnded)) return;
      say(this.lookupAlert, messageWithDetail(error, 'read'));
      input.focus();
    } finally {
      setFormBusy(form, button, [input], false);
    }
  }
}
