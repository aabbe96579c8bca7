/**
 * What a withdrawal or a payout will cost on top of its amount, shown before the customer
 * confirms it: the account's fee schedule as the API last sent it, priced with the back end's own
 * formula (lib/domain/fees.ts, bundled into the page). The fee charged is the one in force at
 * commit, and the page then shows the API's `fee`.
 */
import { feeFor } from '../../lib/domain/fees';
import { ApiError, type Api, type FeeSchedule, type FeeType } from './api';
import { h, uid } from './dom';
import { formatMinor, parseAmount } from './money';

/** How long a schedule read is used before the card reads it again. */
const FRESH_MS = 30_000;

/** One account's fee schedule as last read: `undefined` until read, `null` if it could not be. */
export class FeeQuote {
  private schedule: FeeSchedule | null | undefined = undefined;
  private readAt = 0;
  private reading: Promise<void> | null = null;
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly api: Api,
    private readonly accountId: string,
  ) {}

  /** Reads the schedule unless a recent read is at hand (`force`: read it in any case). */
  load(force = false): Promise<void> {
    if (!force && this.schedule && Date.now() - this.readAt < FRESH_MS) return Promise.resolve();
    this.reading ??= this.read().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  /** Called whenever a read changes what the quote knows. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The fee of this movement under the schedule last read, or why it is not known. */
  feeOf(type: FeeType, amount: bigint): bigint | 'reading' | 'unknown' {
    if (this.schedule === undefined) return 'reading';
    // An amount the page accepts is at most 10^12: exact as a number.
    return this.schedule ? BigInt(feeFor(this.schedule[type], Number(amount))) : 'unknown';
  }

  private async read(): Promise<void> {
    try {
      this.schedule = await this.api.fees(this.accountId);
    } catch (error) {
      // An API older than fees has no such route, and so charges none.
      this.schedule =
        error instanceof ApiError && error.code === 'NOT_FOUND'
          ? { accountId: this.accountId, version: 0, changed: null }
          : null;
    }
    this.readAt = Date.now();
    for (const listener of this.listeners) listener();
  }
}

/**
 * The line under an amount field that says what the movement will cost, kept up to date as the
 * amount is typed and when the schedule is read again. Its id goes in the field's
 * aria-describedby, so the fee is read out with the field.
 */
export function feePreview(
  input: HTMLInputElement,
  quote: FeeQuote,
  type: FeeType,
  currency: string,
): HTMLElement {
  const note = h('p', { class: 'fee-note', id: uid('fee'), 'aria-live': 'polite' });
  const update = (): void => {
    note.textContent = feeText(quote, type, input.value, currency);
  };
  input.addEventListener('input', update);
  quote.onChange(update);
  const describedBy = input.getAttribute('aria-describedby');
  input.setAttribute('aria-describedby', describedBy ? `${describedBy} ${note.id}` : note.id);
  return note;
}

function feeText(quote: FeeQuote, type: FeeType, typed: string, currency: string): string {
  const parsed = parseAmount(typed, currency);
  if (!parsed.ok) return '';
  const fee = quote.feeOf(type, parsed.minor);
  if (fee === 'reading') return 'Reading the fee…';
  if (fee === 'unknown') return 'The fee could not be read: the answer will say what it was.';
  if (fee === 0n) return 'No fee.';
  return `Fee ${formatMinor(fee, currency)} — total ${formatMinor(parsed.minor + fee, currency)}`;
}

/** "Withdrew $50.00" plus what the API says the fee was: " (fee $0.50)", nothing for none. */
export function withFee(text: string, fee: number, currency: string): string {
  return fee > 0 ? `${text} (fee ${formatMinor(fee, currency)})` : text;
}
