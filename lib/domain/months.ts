import { dayOf } from './limits';

const MINUTE = 60_000;
/** Every timezone's offset from UTC is within ±15 hours. */
const WIDEST_OFFSET = 15 * 60;

/**
 * A calendar month (`YYYY-MM`) in a timezone, as instants: its first day's first instant
 * (`from`, included) and the next month's (`to`, excluded), UTC with milliseconds.
 */
export function monthBounds(period: string, timezone: string): { from: string; to: string } {
  const [year = 0, month = 0] = period.split('-').map(Number);
  const next = month === 12 ? { year: year + 1, month: 1 } : { year, month: month + 1 };
  return {
    from: firstInstantOf(year, month, timezone),
    to: firstInstantOf(next.year, next.month, timezone),
  };
}

/**
 * The first instant whose calendar day in `timezone` is the month's first: searched over the
 * ±15 hours around midnight UTC, by the minute, so a day the clocks change into (one that starts
 * at 01:00) starts at its first instant too.
 */
function firstInstantOf(year: number, month: number, timezone: string): string {
  const target = `${year}-${String(month).padStart(2, '0')}-01`;
  const midnightUtc = Date.UTC(year, month - 1, 1);
  let low = -WIDEST_OFFSET; // minutes from midnight UTC: its day is still before the target
  let high = WIDEST_OFFSET; // its day is the target
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (dayOf(new Date(midnightUtc + middle * MINUTE), timezone) >= target) high = middle;
    else low = middle;
  }
  return new Date(midnightUtc + high * MINUTE).toISOString();
}
