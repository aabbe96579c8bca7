import { ApiError, NetworkError } from './api';

/** A message a person can act on, for every error code the API documents. */
const MESSAGES: Record<string, string> = {
  VALIDATION_ERROR: 'The service did not accept that request. Check the amount and try again.',
  IDEMPOTENCY_KEY_REQUIRED: 'The request was incomplete and was refused. Nothing was changed.',
  UNAUTHORIZED: 'Your session has ended. Please sign in again.',
  FORBIDDEN: 'You are not allowed to do that.',
  ACCOUNT_NOT_FOUND: 'This account was not found. It may have been closed.',
  NOT_FOUND: 'The service could not find what the page asked for.',
  INSUFFICIENT_FUNDS: 'Insufficient funds: the balance does not cover this withdrawal.',
  TRANSACTION_CONFLICT:
    'The account was busy and nothing was changed. Press Withdraw again to retry safely.',
  PAYLOAD_TOO_LARGE: 'The request was too large and was refused. Nothing was changed.',
  UNSUPPORTED_MEDIA_TYPE: 'The request was in a format the service does not accept.',
  IDEMPOTENCY_KEY_REUSED:
    'This withdrawal clashed with an earlier attempt and was refused. Please try again.',
  CURRENCY_MISMATCH: 'The currency does not match the account.',
  ACCOUNT_FROZEN:
    'This account is frozen by our operations team: withdrawals are on hold until it is unfrozen. Your balance is safe; deposits still arrive.',
  WITHDRAWALS_PAUSED:
    'Withdrawals are paused for all accounts for a short while. Nothing was changed; please try again in a few minutes.',
  BALANCE_LIMIT_EXCEEDED: 'That would take the balance above the largest amount an account holds.',
  SERVICE_UNAVAILABLE:
    'The service is temporarily unavailable. Wait a moment, then press Withdraw again: a retry never moves money twice.',
  BAD_RESPONSE:
    'The service sent an answer this page could not read. Check the balance and history below; pressing Withdraw again with the same amount retries safely.',
  INTERNAL_ERROR:
    'Something went wrong on our side. Check the balance and history below before trying again.',
};

export function messageFor(error: unknown): string {
  if (error instanceof ApiError) {
    const message = MESSAGES[error.code];
    if (message) return message;
    if (error.status >= 500) return 'The service had a problem. Please try again shortly.';
    return 'The service refused the request.';
  }
  if (error instanceof NetworkError) {
    return 'No answer from the service. Check your connection and try again.';
  }
  return 'Something went wrong in this page. Reload to try again.';
}

/** Refusals after which the same withdrawal attempt may be sent again with the same key. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (!(error instanceof ApiError)) return false;
  return (
    error.code === 'SERVICE_UNAVAILABLE' ||
    error.code === 'TRANSACTION_CONFLICT' ||
    error.code === 'INTERNAL_ERROR' ||
    error.code === 'BAD_RESPONSE' ||
    error.status >= 500
  );
}
