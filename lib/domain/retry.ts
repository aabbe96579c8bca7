/** The pause between tries; injectable so tests run without waiting. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((done) => setTimeout(done, ms));

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Full-jitter exponential backoff: a random pause below min(capMs, baseMs × 2^attempt). */
  baseMs: number;
  capMs: number;
  /** Only errors that may pass are tried again; anything else is thrown at once. */
  retryable: (error: unknown) => boolean;
  sleep?: Sleep;
  /** Told of every retryable failure, `last` when no try is left. */
  onFailure?: (attempt: number, last: boolean) => void;
}

/**
 * Runs `operation` until it succeeds, fails with an error that is not retryable, or has been
 * tried `attempts` times (then the last error is thrown). The jitter keeps writers that collided
 * from colliding again in step.
 */
export async function retry<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!options.retryable(error)) throw error;
      const last = attempt >= options.attempts;
      options.onFailure?.(attempt, last);
      if (last) throw error;
      await sleep(Math.random() * Math.min(options.capMs, options.baseMs * 2 ** attempt));
    }
  }
}
