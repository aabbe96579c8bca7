import type { CancellationReason, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransientStoreError } from '../domain/ports';

/**
 * Where SDK errors become the domain's: what may pass is a `TransientStoreError`, anything else
 * is rethrown as the bug it is. Every adapter calls the store through `guarded`.
 */
const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const NETWORK = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|TimeoutError/i;
const UNAVAILABLE = new Set(['TimeoutError', 'InternalServerError', 'ServiceUnavailable']);

/** Maps SDK errors that may pass to TransientStoreError; anything else is rethrown. */
export function translateError(error: unknown): never {
  if (error instanceof Error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (THROTTLING.has(error.name)) throw new TransientStoreError('throttled', { cause: error });
    if (
      error.name === 'TransactionInProgressException' ||
      error.name === 'TransactionConflictException'
    ) {
      throw new TransientStoreError('conflict', { cause: error });
    }
    if (
      (status !== undefined && status >= 500) ||
      UNAVAILABLE.has(error.name) ||
      NETWORK.test(error.name) ||
      NETWORK.test(error.message) ||
      NETWORK.test(String((error as { code?: unknown }).code ?? ''))
    ) {
      throw new TransientStoreError('unavailable', { cause: error });
    }
  }
  throw error;
}

export async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    return translateError(error);
  }
}

/** A transaction cancelled by a conflicting one or by throttling may pass: retry, never refuse. */
export function throwIfTransient(reasons: CancellationReason[], error: Error): void {
  if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
    throw new TransientStoreError('conflict', { cause: error });
  }
  if (
    reasons.some(
      (reason) =>
        reason.Code === 'ThrottlingError' || reason.Code === 'ProvisionedThroughputExceeded',
    )
  ) {
    throw new TransientStoreError('throttled', { cause: error });
  }
}

/** For transactions whose first item carries the condition that matters (the rest cannot fail). */
export function firstConditionFailed(error: TransactionCanceledException): boolean {
  const reasons = error.CancellationReasons ?? [];
  throwIfTransient(reasons, error);
  return reasons[0]?.Code === 'ConditionalCheckFailed';
}
