/**
 * An account's history as a table, newest first, exactly as the API sent it: each line's type,
 * sign and details (where a payout went, the other account of a transfer, the fee, the reversal
 * it is or the reversals it had, the reason, the customer's reference and description), with
 * "Load more" for the older pages. The sign comes from the type's rule (lib/domain/movement-types).
 */
import { MOVEMENT_TYPES, signOf } from '../../lib/domain/movement-types';
import type { MovementType } from '../../lib/domain/types';
import type { Api, ReceivedEntry, TransactionPage } from './api';
import { h, replaceChildren, uid, type Child } from './dom';
import { formatMinor } from './money';

export const dateFormat = new Intl.DateTimeFormat('en-US', {
  dateStyle: 'medium',
  timeStyle: 'short',
});

export interface HistoryOptions {
  api: Api;
  accountId: string;
  currency: string;
  /** "Load more" was pressed: the card stops its own re-reading of page 1. */
  onLoadMore(): void;
  /** "Load more" failed: the card says so (or ends the session on a 401). */
  onLoadMoreFailed(error: unknown): void;
  /** A last column of one control per line (the operator's Reverse), if any. */
  action?: { heading: string; cell(entry: ReceivedEntry): Child };
  /** The heading ("History") and the table's caption ("Transactions, newest first"). */
  title?: string;
  /** The heading's level: h3 in a card, h4 inside one of its parts (the statement). */
  headingLevel?: 'h3' | 'h4';
  caption?: string;
  /** Shown between the heading and the table (the filters). */
  above?: Child[];
  /** Reads the page after `cursor` for "Load more"; by default the plain history's next page. */
  load?(cursor: string): Promise<TransactionPage>;
}

/** What the table says around its lines: its caption, and the text when there are none. */
export interface TableWords {
  caption: string;
  empty: string;
}

export class HistoryTable {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly loadMoreButton: HTMLButtonElement;
  private readonly rowIdPrefix = uid('line');
  private shown: ReceivedEntry[] = [];
  private nextCursor: string | null = null;
  private pages = 0;
  private generation = 0;

  private readonly caption: HTMLElement;
  private readonly words: TableWords;

  constructor(private readonly options: HistoryOptions) {
    this.words = {
      caption: options.caption ?? 'Transactions, newest first',
      empty: 'No transactions yet.',
    };
    this.body = h('tbody');
    this.caption = h('caption', { class: 'visually-hidden' }, this.words.caption);
    this.empty = h('p', { class: 'empty', hidden: true }, this.words.empty);
    this.loadMoreButton = h(
      'button',
      { type: 'button', class: 'secondary', hidden: true },
      'Load more',
    );
    this.loadMoreButton.addEventListener('click', () => void this.loadMore());
    const action = options.action;
    this.element = h(
      'div',
      { class: 'history' },
      h(options.headingLevel ?? 'h3', {}, options.title ?? 'History'),
      ...(options.above ?? []),
      h(
        'table',
        { class: action ? 'with-action' : undefined },
        this.caption,
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
            action && h('th', { scope: 'col', class: 'num' }, action.heading),
          ),
        ),
        this.body,
      ),
      this.empty,
      this.loadMoreButton,
    );
  }

  /** The lines shown, newest first. */
  get entries(): readonly ReceivedEntry[] {
    return this.shown;
  }

  /** How many pages are shown: 1 after `show`, more after "Load more". */
  get pagesShown(): number {
    return this.pages;
  }

  /** The first page, just read: it replaces whatever was shown. `words`: other than the usual. */
  show(page: TransactionPage, words: Partial<TableWords> = {}): void {
    this.caption.textContent = words.caption ?? this.words.caption;
    this.empty.textContent = words.empty ?? this.words.empty;
    this.generation += 1;
    this.shown = page.transactions;
    this.nextCursor = page.nextCursor;
    this.pages = 1;
    this.render();
  }

  /** Draws the lines again (a line's control may depend on state kept elsewhere). */
  render(): void {
    const rows = this.shown.map((entry) => this.row(entry));
    replaceChildren(this.body, ...rows);
    this.empty.hidden = this.shown.length > 0;
    this.loadMoreButton.hidden = this.nextCursor === null;
  }

  /** Puts focus on a line (the one an operator just reversed), if it is shown. */
  focusLine(transactionId: string): void {
    const row = Array.from(this.body.querySelectorAll('tr')).find(
      (tr) => tr.dataset.transactionId === transactionId,
    );
    if (!row) return;
    row.setAttribute('tabindex', '-1');
    row.focus();
  }

  private async loadMore(): Promise<void> {
    if (!this.nextCursor) return;
    this.options.onLoadMore();
    const generation = this.generation;
    this.loadMoreButton.disabled = true;
    try {
      const { api, accountId, load } = this.options;
      const cursor = this.nextCursor;
      const page = await (load ? load(cursor) : api.transactions(accountId, cursor));
      if (generation !== this.generation) return;
      const seen = new Set(this.shown.map((entry) => entry.transactionId));
      this.shown.push(...page.transactions.filter((entry) => !seen.has(entry.transactionId)));
      this.nextCursor = page.nextCursor;
      this.pages += 1;
      this.render();
    } catch (error) {
      this.options.onLoadMoreFailed(error);
    } finally {
      this.loadMoreButton.disabled = false;
    }
  }

  private row(entry: ReceivedEntry): HTMLElement {
    const currency = entry.currency || this.options.currency;
    const outgoing = isOutgoing(entry.type);
    const voided = entry.status === 'VOIDED';
    // A voided payout moved nothing: its amount is shown struck through, without a sign.
    const amount = Number.isSafeInteger(entry.amount)
      ? `${voided ? '' : outgoing ? '−' : '+'}${formatMinor(entry.amount, currency)}`
      : '—';
    const after =
      entry.balanceAfter === null
        ? h('span', { class: 'badge pending' }, 'pending')
        : Number.isSafeInteger(entry.balanceAfter)
          ? formatMinor(entry.balanceAfter, currency)
          : '—';
    const linked = this.shown.some((other) => other.reversalOf === entry.transactionId);
    return h(
      'tr',
      {
        id: this.rowId(entry.transactionId, entry.type),
        tabindex: linked || entry.reversedBy?.length ? '-1' : undefined,
        'data-transaction-id': entry.transactionId,
        'data-type': entry.type,
        'data-status': entry.status ?? 'POSTED',
      },
      h('td', {}, dateFormat.format(new Date(entry.createdAt))),
      h(
        'td',
        { class: 'type' },
        typeLabel(entry.type),
        voided ? h('span', { class: 'badge voided' }, 'voided') : null,
        ...this.details(entry, currency).map((detail) => h('span', { class: 'detail' }, detail)),
      ),
      h(
        'td',
        { class: `num ${voided ? 'void' : outgoing ? 'out' : 'in'}` },
        amount,
        voided ? h('span', { class: 'visually-hidden' }, ' (voided: not taken)') : null,
      ),
      h('td', { class: 'num' }, after),
      this.options.action && h('td', { class: 'num action' }, this.options.action.cell(entry)),
    );
  }

  /** The small lines under a line's type: each a string or a link to a related line. */
  private details(entry: ReceivedEntry, currency: string): Child[] {
    const metadata = Object.entries(entry.metadata ?? {});
    return [
      counterpartOf(entry),
      entry.fee ? `Fee ${formatMinor(entry.fee, currency)}` : null,
      entry.reversalOf ? this.reversalOf(entry.reversalOf) : null,
      entry.reversedBy?.length ? this.reversedBy(entry.reversedBy, currency) : null,
      entry.reason ? `Reason: ${entry.reason}` : null,
      entry.negativeAllowed ? 'The balance was allowed below zero' : null,
      entry.reference ? `Ref. ${entry.reference}` : null,
      entry.description ?? null,
      metadata.length ? metadata.map(([key, value]) => `${key}: ${value}`).join(' · ') : null,
    ].filter((detail) => detail !== null);
  }

  /** "Reversal of the withdrawal of $50.00", a link to it when that line is shown. */
  private reversalOf(originalId: string): Child {
    // A transfer's two sides share an id: the original is the side on this account.
    const original = this.shown.find(
      (other) => other.transactionId === originalId && !other.reversalOf,
    );
    if (!original) return `Reversal of movement •••• ${originalId.slice(-4)}`;
    const currency = original.currency || this.options.currency;
    const what = `${typeLabel(original.type).toLowerCase()} of ${formatMinor(original.amount, currency)}`;
    return h(
      'span',
      {},
      'Reversal of ',
      h('a', { href: `#${this.rowId(original.transactionId, original.type)}` }, `the ${what}`),
    );
  }

  /** "Reversed: $20.00", a link to the latest of those reversals that is shown. */
  private reversedBy(links: NonNullable<ReceivedEntry['reversedBy']>, currency: string): Child {
    const total = formatMinor(
      links.reduce((sum, link) => sum + BigInt(link.amount), 0n),
      currency,
    );
    const shown = this.shown.find((other) =>
      links.some((link) => link.transactionId === other.transactionId && other.reversalOf),
    );
    if (!shown) return `Reversed: ${total}`;
    return h(
      'span',
      {},
      'Reversed: ',
      h('a', { href: `#${this.rowId(shown.transactionId, shown.type)}` }, total),
    );
  }

  /** One id per line: a transfer's two sides on one account share a transaction id, not a type. */
  private rowId(transactionId: string, type: string): string {
    return `${this.rowIdPrefix}-${transactionId}-${type}`;
  }
}

/** Re-reads page 1 a few times while some of its lines are still pending (they settle in moments). */
export class AutoRefresh {
  private timer: number | undefined;
  private count = 0;

  constructor(
    private readonly run: () => void,
    private readonly everyMs = 2000,
    private readonly limit = 5,
  ) {}

  /** After a read: `pending`, some line still waits; `allowed`, nothing stops a re-read now. */
  after(pending: boolean, allowed: boolean): void {
    if (!pending) {
      this.count = 0;
      return;
    }
    if (!allowed || this.count >= this.limit) return;
    this.count += 1;
    this.timer = window.setTimeout(this.run, this.everyMs);
  }

  cancel(): void {
    window.clearTimeout(this.timer);
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
export const isKnownType = (type: string): type is MovementType =>
  (MOVEMENT_TYPES as readonly string[]).includes(type);

/** Takes money out of the account once posted: its rule's direction (lib/domain/movement-types). */
export const isOutgoing = (type: string): boolean => isKnownType(type) && signOf(type) < 0;

export function typeLabel(type: string): string {
  return isKnownType(type) ? TYPE_LABELS[type] : type.charAt(0) + type.slice(1).toLowerCase();
}

/** Where a payout went, or the other account of a transfer: "to" for money out, "from" for in. */
function counterpartOf(entry: ReceivedEntry): string | null {
  const other =
    entry.destination ??
    (entry.counterpartyAccountId && `•••• ${entry.counterpartyAccountId.slice(-4)}`);
  if (!other || !isKnownType(entry.type)) return null;
  return `${isOutgoing(entry.type) ? 'to' : 'from'} ${other}`;
}
