import { DomainError } from '../../lib/domain/errors';

/** The DomainError a promise rejects with; anything else (or success) fails the test. */
export async function failureOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) {
    throw new Error(`expected a DomainError, got ${String(error)}`);
  }
  return error;
}
