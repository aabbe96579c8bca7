/**
 * The page's amount parsing and money formatting (web/src/money.ts), in plain node: exact
 * decimal strings to integer minor units and back, never through a float.
 */
import { formatMinor, minorDigits, minorToInput, parseAmount, parseFee } from '../../web/src/money';

const minor = (input: string, currency = 'USD'): bigint | string => {
  const parsed = parseAmount(input, currency);
  return parsed.ok ? parsed.minor : parsed.message;
};

describe('parseAmount', () => {
  it.each([
    ['12.34', 1234n],
    ['50', 5000n],
    ['50.0', 5000n],
    ['0.29', 29n], // 0.29 * 100 is 28.999999999999996 in floats
    ['1.1', 110n],
    ['.5', 50n],
    [' 7.05 ', 705n],
    ['1,000', 100_000n],
    ['1,000,000.50', 100_000_050n],
    ['0.01', 1n],
    ['10000000000', 1_000_000_000_000n], // exactly the API's largest amount
  ])('reads %j as %s minor units', (input, expected) => {
    expect(minor(input)).toBe(expected);
  });

  it.each([
    ['', /enter an amount/i],
    ['   ', /enter an amount/i],
    ['abc', /as a number/i],
    ['12.34.5', /as a number/i],
    ['1e3', /as a number/i],
    ['$5', /as a number/i],
    ['+5', /as a number/i],
    ['1,00', /as a number/i],
    ['.', /as a number/i],
    ['5.', /as a number/i],
    ['0', /more than zero/i],
    ['0.00', /more than zero/i],
    ['-5', /more than zero/i],
    ['−5', /more than zero/i],
    ['1.234', /at most 2 decimal places/i],
    ['10000000000.01', /too large/i],
    ['99999999999999999999999999', /too large/i],
  ])('refuses %j', (input, message) => {
    expect(minor(input)).toMatch(message);
  });

  it("respects the currency's minor digits", () => {
    expect(minorDigits('JPY')).toBe(0);
    expect(minor('1234', 'JPY')).toBe(1234n);
    expect(minor('12.3', 'JPY')).toMatch(/whole numbers/);
    expect(minorDigits('BHD')).toBe(3);
    expect(minor('1.234', 'BHD')).toBe(1234n);
    expect(minor('1.2345', 'BHD')).toMatch(/at most 3 decimal places/);
  });
});

describe('formatMinor', () => {
  it.each([
    [100_000, 'USD', '$1,000.00'],
    [5, 'USD', '$0.05'],
    [0, 'USD', '$0.00'],
    [-50, 'USD', '-$0.50'],
    [-12_345, 'USD', '-$123.45'],
    [Number.MAX_SAFE_INTEGER, 'USD', '$90,071,992,547,409.91'],
    [1234, 'JPY', '¥1,234'],
    [1234, 'EUR', '€12.34'],
  ])('shows %s %s as %s, exactly', (value, currency, shown) => {
    expect(formatMinor(value, currency)).toBe(shown);
  });
});

describe('parseFee', () => {
  const fee = (input: string, currency = 'USD'): bigint | null | string => {
    const parsed = parseFee(input, currency);
    return parsed.ok ? parsed.minor : parsed.message;
  };

  it.each([
    ['', null],
    ['  ', null],
    ['0', 0n],
    ['0.00', 0n],
    ['0.25', 25n],
    ['1,000.5', 100_050n],
    ['10000000000', 1_000_000_000_000n],
  ])('reads %j as %s (empty: no value; zero allowed)', (input, expected) => {
    expect(fee(input)).toBe(expected);
  });

  it.each([
    ['-1', /below zero/i],
    ['abc', /as a number/i],
    ['0.001', /at most 2 decimal places/i],
    ['10000000000.01', /too large: a fee is at most/i],
  ])('refuses %j', (input, message) => {
    expect(fee(input)).toMatch(message);
  });
});

describe('minorToInput', () => {
  it.each([
    [5_000n, 'USD', '50.00'],
    [5, 'USD', '0.05'],
    [0, 'USD', '0.00'],
    [1_000_000_000_000n, 'USD', '10000000000.00'],
    [1234, 'JPY', '1234'],
    [1234, 'BHD', '1.234'],
  ])('writes %s %s as %j, which parses back to the same amount', (value, currency, typed) => {
    expect(minorToInput(value, currency)).toBe(typed);
    if (BigInt(value) > 0n)
      expect(parseAmount(typed, currency)).toEqual({ ok: true, minor: BigInt(value) });
  });
});
