/**
 * Waiting, for the local stack, the bank run, the bench and the tests: one sleep and one poll.
 * Retrying a failed call with backoff is `retry` (lib/domain/retry.ts).
 */
import { realSleep, type Sleep } from '../lib/domain/retry';

export const sleep: Sleep = realSleep;

export interface WaitOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** The pause between two reads. Default 50 ms. */
  intervalMs?: number;
}

/** What waitFor throws when the time is up, so a caller can add what it knows (a log's tail). */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/**
 * Reads until `until` holds for what was read (without `until`: until it reads true), and
 * returns that. An error thrown by `read` is not waited out: it is thrown at once.
 */
export function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  options?: WaitOptions,
): Promise<void>;
export function waitFor<T>(
  what: string,
  read: () => T | Promise<T>,
  until: (value: T) => boolean,
  options?: WaitOptions,
): Promise<T>;
export async function waitFor<T>(
  what: string,
  read: () => T | Promise<T>,
  untilOrOptions?: ((value: T) => boolean) | WaitOptions,
  maybeOptions: WaitOptions = {},
): Promise<T | void> {
  const until = typeof untilOrOptions === 'function' ? untilOrOptions : (v: T) => v === true;
  const options = typeof untilOrOptions === 'function' ? maybeOptions : (untilOrOptions ?? {});
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (until(value)) return typeof untilOrOptions === 'function' ? value : undefined;
    if (Date.now() > deadline) {
      const last = typeof value === 'boolean' ? '' : `: last ${JSON.stringify(value)}`;
      throw new WaitTimeoutError(`${what}: not within ${timeoutMs / 1000} s${last}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}
