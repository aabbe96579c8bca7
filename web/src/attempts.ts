/**
 * A money movement sent without a definite answer (no answer, a 5xx, an unreadable answer) may
 * or may not have happened. Its Idempotency-Key is kept in sessionStorage, so sending the same
 * request again, even after a reload, carries the same key and cannot move the money twice.
 */
export type Attempt<F extends string> = Record<F, string> & { key: string };

export class AttemptStore<F extends string> {
  constructor(
    private readonly storageKey: string,
    private readonly fields: readonly F[],
  ) {}

  /** The unanswered attempt, if any. */
  get(): Attempt<F> | null {
    try {
      const raw = sessionStorage.getItem(this.storageKey);
      if (!raw) return null;
      const value = JSON.parse(raw) as Record<string, unknown>;
      if (typeof value.key !== 'string' || value.key === '') return null;
      const attempt: Record<string, string> = { key: value.key };
      for (const field of this.fields) {
        const v = value[field];
        if (typeof v !== 'string') return null;
        attempt[field] = v;
      }
      return attempt as Attempt<F>;
    } catch {
      return null;
    }
  }

  /**
   * The attempt to send for this request: the unanswered one again (same key) when it is the
   * same request, else a new one with a new key. Stored before it is sent.
   */
  begin(request: Record<F, string>): Attempt<F> {
    const previous = this.get();
    const same =
      previous !== null && this.fields.every((field) => previous[field] === request[field]);
    const attempt: Attempt<F> =
      same && previous ? previous : { ...request, key: crypto.randomUUID() };
    this.set(attempt);
    return attempt;
  }

  set(attempt: Attempt<F> | null): void {
    if (attempt) sessionStorage.setItem(this.storageKey, JSON.stringify(attempt));
    else sessionStorage.removeItem(this.storageKey);
  }
}
