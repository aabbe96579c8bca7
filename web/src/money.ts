/**
 * Money on the page: amounts are integer counts of minor units (cents) everywhere; the only
 * conversions are exact string <-> integer ones, never a float multiplication or division.
 */
import { minorDigits } from '../../lib/domain/minor-units';

/** The page formats and parses in one locale, so what it shows is what it accepts. */
export const LOCALE = 'en-US';

/** The largest amount one movement may carry (the API's limit): 10^12 minor units. */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000n;

const formatters = new Map<string, Intl.NumberFormat>();

function formatterFor(currency: string): Intl.NumberFormat {
  let formatter = formatters.get(currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat(LOCALE, { style: 'currency', currency });
    formatters.set(currency, formatter);
  }
  return formatter;
}

/** The CSV export reads the same digits (lib/domain/minor-units.ts). */
export { minorDigits };

/**
 * Formats an integer count of minor units, exactly: Intl formats the whole major units (as a
 * BigInt) and the fraction digits are the minor units themselves, so nothing is rounded.
 */
export function formatMinor(minor: number | bigint, currency: string): string {
  const value = BigInt(minor);
  const digits = minorDigits(currency);
  const scale = 10n ** BigInt(digits);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const major = abs / scale;
  const fraction = (abs % scale).toString().padStart(digits, '0');
  // -1n stands in for "negative zero major units" (-0.50): its integer part is replaced below.
  const parts = formatterFor(currency).formatToParts(
    negative ? (major === 0n ? -1n : -major) : major,
  );
  return parts
    .map((part) => {
      if (part.type === 'fraction') return fraction;
      if (part.type === 'integer' && negative && major === 0n) return '0';
      return part.value;
    })
    .join('');
}

export type ParsedAmount = { ok: true; minor: bigint } | { ok: false; message: string };

/** Which movement the amount is for: only the wording of the messages differs. */
export type AmountFor = 'withdrawal' | 'payout' | 'transfer' | 'reversal';

const VERB: Record<AmountFor, string> = {
  withdrawal: 'withdraw',
  payout: 'pay out',
  transfer: 'transfer',
  reversal: 'reverse',
};

/**
 * Parses what a person typed as an amount in major units ("12.34", "1,000", ".5") into minor
 * units, exactly, from the digits of the string. Refuses anything that is not a positive amount
 * the currency can express and the API would accept, with a message saying why.
 */
export function parseAmount(
  input: string,
  currency: string,
  amountFor: AmountFor = 'withdrawal',
): ParsedAmount {
  const text = input.trim();
  if (text === '') return { ok: false, message: `Enter an amount to ${VERB[amountFor]}.` };
  if (/^[-−–]/.test(text)) return { ok: false, message: 'The amount must be more than zero.' };
  const parsed = parseDigits(text, currency, `one ${amountFor} can move`);
  if (parsed.ok && parsed.minor === 0n) {
    return { ok: false, message: 'The amount must be more than zero.' };
  }
  return parsed;
}

/**
 * A fee field as an operator typed it (flat, minimum or maximum): empty is no value (null), zero
 * is allowed, the bounds are the API's (at most 10^12 minor units).
 */
export function parseFee(
  input: string,
  currency: string,
): { ok: true; minor: bigint | null } | { ok: false; message: string } {
  const text = input.trim();
  if (text === '') return { ok: true, minor: null };
  if (/^[-−–]/.test(text)) return { ok: false, message: 'A fee cannot be below zero.' };
  return parseDigits(text, currency, 'a fee is');
}

/** A limit an operator typed (daily, per movement): more than zero, at most 10^12 minor units. */
export function parseLimit(input: string, currency: string): ParsedAmount {
  const text = input.trim();
  if (text === '') return { ok: false, message: 'Enter the limit.' };
  const parsed = /^[-−–]/.test(text) ? null : parseDigits(text, currency, 'a limit is');
  if (!parsed || (parsed.ok && parsed.minor === 0n)) {
    return { ok: false, message: 'A limit must be more than zero.' };
  }
  return parsed;
}

/** A non-negative decimal string in major units to minor units, exactly; `limit` words the cap. */
function parseDigits(text: string, currency: string, limit: string): ParsedAmount {
  const digits = minorDigits(currency);
  const match = /^(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d+))?$/.exec(text);
  if (!match || (match[1] === '' && match[2] === undefined)) {
    return {
      ok: false,
      message: `Enter the amount as a number, for example ${amountExample(currency)}.`,
    };
  }
  const whole = (match[1] ?? '').replace(/,/g, '') || '0';
  const fraction = match[2] ?? '';
  if (fraction.length > digits) {
    return {
      ok: false,
      message:
        digits === 0
          ? `${currency} amounts are whole numbers: no decimal places.`
          : `${currency} amounts have at most ${digits} decimal place${digits === 1 ? '' : 's'}.`,
    };
  }
  // A string of digits this long is already far beyond the limit; stop before BigInt work.
  if (whole.replace(/^0+/, '').length > 20) return tooLarge(currency, limit);
  const minor = BigInt(whole) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
  if (minor > MAX_AMOUNT_MINOR) return tooLarge(currency, limit);
  return { ok: true, minor };
}

function tooLarge(currency: string, limit: string): ParsedAmount {
  return {
    ok: false,
    message: `That amount is too large: ${limit} at most ${formatMinor(MAX_AMOUNT_MINOR, currency)}.`,
  };
}

/**
 * Minor units as a person would type them in an amount field ("12.34", "1234" for JPY), exactly:
 * the inverse of parseAmount for a non-negative amount, with no grouping and no symbol.
 */
export function minorToInput(minor: number | bigint, currency: string): string {
  const value = BigInt(minor);
  const digits = minorDigits(currency);
  if (value < 0n) throw new RangeError('an amount field holds no negative amount');
  if (digits === 0) return value.toString();
  const scale = 10n ** BigInt(digits);
  return `${value / scale}.${(value % scale).toString().padStart(digits, '0')}`;
}

/** What to type, not how it is shown: "12.34" for USD, "1234" for JPY, "12.345" for BHD. */
export function amountExample(currency: string): string {
  const digits = minorDigits(currency);
  return digits === 0 ? '1234' : `12.${'3456789'.slice(0, digits)}`;
}
