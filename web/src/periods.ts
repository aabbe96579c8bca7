/**
 * Calendar days and months in an account's timezone, as the API counts them for statements and
 * limits (`UTC` unless an operator set another). Days are `YYYY-MM-DD`, months `YYYY-MM`; an
 * instant is sent as ISO 8601 in UTC (`…Z`), which the API takes for any timezone.
 */

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** What a clock in `timezone` reads at the instant `at` (ms), written as a UTC time (ms). */
function wallClock(at: number, timezone: string): number {
  let format = wallClocks.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    wallClocks.set(timezone, format);
  }
  const parts = format.formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  const seconds = Math.floor(at / 1000) * 1000;
  return (
    Date.UTC(
      part('year'),
      part('month') - 1,
      part('day'),
      part('hour'),
      part('minute'),
      part('second'),
    ) +
    (at - seconds)
  );
}

const ymd = (day: string): [number, number, number] => {
  const [year, month, date] = day.split('-').map(Number);
  return [year ?? NaN, (month ?? NaN) - 1, date ?? NaN];
};

/** The first instant of a calendar day in a timezone (its midnight, wherever that falls in UTC). */
export function startOfDay(day: string, timezone: string): Date {
  const wall = Date.UTC(...ymd(day));
  const offsetAt = (at: number) => wallClock(at, timezone) - at;
  // The offset at the guess, then at the corrected instant: right on both sides of a clock change.
  let at = wall;
  for (let step = 0; step < 2; step++) at = wall - offsetAt(at);
  // A day whose clocks jump over midnight starts at the jump (01:00): the earlier offset's midnight.
  if (dayOf(new Date(at), timezone) < day) at = wall - offsetAt(at);
  return new Date(at);
}

/** The calendar day after `day`. */
export function nextDay(day: string): string {
  const [year, month, date] = ymd(day);
  return new Date(Date.UTC(year, month, date + 1)).toISOString().slice(0, 10);
}

/** The calendar day (YYYY-MM-DD) an instant falls on in a timezone. */
export function dayOf(at: Date, timezone: string): string {
  return new Date(wallClock(at.getTime(), timezone)).toISOString().slice(0, 10);
}

/** The month (YYYY-MM) an instant falls in, in a timezone. */
export const monthOf = (at: Date, timezone: string): string => dayOf(at, timezone).slice(0, 7);

/** `count` months, newest first, ending with the month `now` falls in. */
export function recentMonths(now: Date, timezone: string, count: number): string[] {
  const [year, month] = ymd(`${monthOf(now, timezone)}-01`);
  return Array.from({ length: count }, (_, back) =>
    new Date(Date.UTC(year, month - back, 1)).toISOString().slice(0, 7),
  );
}

/** Every day of a month (YYYY-MM), in order. */
export function daysOfMonth(period: string): string[] {
  const days: string[] = [];
  for (let day = `${period}-01`; day.startsWith(period); day = nextDay(day)) days.push(day);
  return days;
}

const monthNames = new Intl.DateTimeFormat('en-US', {
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});

/** "December 2026" for 2026-12. */
export function monthLabel(period: string): string {
  const [year, month] = ymd(`${period}-01`);
  return monthNames.format(Date.UTC(year, month, 1));
}

const zonedFormats = new Map<string, Intl.DateTimeFormat>();

/** An instant as a person reads it on a clock in `timezone` ("Dec 1, 2026, 12:00 AM"). */
export function formatIn(at: string | number, timezone: string): string {
  let format = zonedFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: timezone,
    });
    zonedFormats.set(timezone, format);
  }
  return format.format(new Date(at));
}
