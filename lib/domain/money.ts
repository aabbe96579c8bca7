import * as z from 'zod/mini';

/** Largest amount one movement may carry: 10^12 minor units ($10,000,000,000.00). */
export const MAX_AMOUNT = 1_000_000_000_000;

/** A balance may never exceed this, so it stays exact in a JavaScript number. */
export const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

// Range first, so an absurd amount (1e300) is told it is too large, not that it is fractional.
export const amountSchema = z
  .number({ error: 'amount must be a JSON integer count of minor units' })
  .check(
    z.gte(1, { error: 'amount must be at least 1' }),
    z.lte(MAX_AMOUNT, { error: `amount must be at most ${MAX_AMOUNT}` }),
    z.int({ error: 'amount must be an integer count of minor units (no fractions)' }),
  );

export const currencySchema = z
  .string({ error: 'currency must be a string' })
  .check(z.regex(/^[A-Z]{3}$/, { error: 'currency must be an ISO 4217 code such as USD' }));
