/**
 * Minor units and the currency's major unit, exactly: the page and the CSV export read the
 * currency's decimal places from here, and the decimals are built from the integer's digits,
 * never by a float division.
 */

const digitsByCurrency = new Map<string, number>();

/** How many decimal places the currency has (USD 2, JPY 0, KWD 3), as Intl (CLDR) knows it. */
export function minorDigits(currency: string): number {
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    digitsByCurrency.set(currency, digits);
  }
  return digits;
}

/** An integer of minor units as a decimal in the major unit: -1250 USD is "-12.50", 5 JPY "5". */
export function decimalOf(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an integer of minor units: ${minor}`);
  const digits = minorDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const abs = String(Math.abs(minor)).padStart(digits + 1, '0');
  if (digits === 0) return sign + abs;
  return `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
}
