import type { ErrorCode } from '../../lib/domain/errors';
import { ApiError, BAD_RESPONSE, NetworkError, type PageErrorCode } from './api';

/** The codes a message is written for: the contract's (lib/domain/errors.ts), and the page's own. */
type MessageCode = ErrorCode | PageErrorCode;

/** A message a person can act on, for every error code of the contract. */
const MESSAGES: Record<ErrorCode, string> = {
  VALIDATION_ERROR: 'The service did not accept that request. Check the amount and try again.',
  IDEMPOTENCY_KEY_REQUIRED: 'The request was incomplete and was refused. Nothing was changed.',
  UNAUTHORIZED: 'Your session has ended. Please sign in again.',
  FORBIDDEN: 'You are not allowed to do that.',
  ACCOUNT_NOT_FOUND: 'This account was not found. It may have been closed.',
  NOT_FOUND: 'The service could not find what the page asked for.',
  PAYOUT_NOT_FOUND: 'This payout was not found.',
  TRANSACTION_NOT_FOUND:
    'That movement was not found, or it is not in the statement yet. Wait a second and try again.',
  REVERSAL_EXCEEDS_ORIGINAL:
    'That would reverse more than the movement moved. Nothing was changed.',
  NOT_REVERSIBLE: 'That movement cannot be reversed. Nothing was changed.',
  INSUFFICIENT_FUNDS: 'Insufficient funds: the available balance does not cover this withdrawal.',
  LIMIT_EXCEEDED:
    "This is over the account's limit (per movement, or what may still leave it today). Nothing was changed.",
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
  STATEMENT_CATCHING_UP:
    'The statement is catching up with your latest movements. Try again in a second.',
  WEBHOOK_ENDPOINT_NOT_FOUND: 'That webhook endpoint does not exist (or was deleted).',
  EVENT_NOT_FOUND: 'That event does not exist, or is older than 30 days.',
  INTERNAL_ERROR:
    'Something went wrong on our side. Check the balance and history below before trying again.',
  RATE_LIMITED:
    'Too many requests right now, and nothing was changed. Wait a few seconds, then press Withdraw again: a retry never moves money twice.',
};

/** Failures no API code names: an answer the page could not read, and no answer at all. */
const PAGE_MESSAGES: Record<PageErrorCode, string> = {
  BAD_RESPONSE:
    'The service sent an answer this page could not read. Check the balance and history below; pressing Withdraw again with the same amount retries safely.',
};
const NO_ANSWER = 'No answer from the service. Check your connection and try again.';

const DEFAULTS: Record<MessageCode, string> = { ...MESSAGES, ...PAGE_MESSAGES };

/** A code this page has a message for (a newer API may send others). */
const hasMessage = (code: string): code is MessageCode =>
  Object.prototype.hasOwnProperty.call(DEFAULTS, code);

/** What a message is about (a money movement, or an operator's change): some codes differ. */
export type Action = 'withdrawal' | 'payout' | 'transfer' | 'reversal' | 'fees' | 'limits' | 'read';

const BY_ACTION: Record<Exclude<Action, 'withdrawal'>, Partial<Record<MessageCode, string>>> = {
  payout: {
    VALIDATION_ERROR:
      'The service did not accept that payout. Check the amount and the destination, then try again.',
    INSUFFICIENT_FUNDS: 'Insufficient funds: the available balance does not cover this payout.',
    TRANSACTION_CONFLICT:
      'The account was busy and nothing was changed. Press Request payout again to retry safely.',
    IDEMPOTENCY_KEY_REUSED:
      'This payout clashed with an earlier attempt and was refused. Please try again.',
    ACCOUNT_FROZEN:
      'This account is frozen by our operations team: payouts are on hold until it is unfrozen. Your balance is safe.',
    WITHDRAWALS_PAUSED:
      'Payouts are paused for all accounts for a short while. Nothing was changed; please try again in a few minutes.',
    SERVICE_UNAVAILABLE:
      'The service is temporarily unavailable. Wait a moment, then press Request payout again: a retry never pays out twice.',
    BAD_RESPONSE:
      'The service sent an answer this page could not read. Check the payouts and history below; requesting the same payout again retries safely.',
    RATE_LIMITED:
      'Too many requests right now, and nothing was changed. Wait a few seconds, then press Request payout again: a retry never pays out twice.',
  },
  transfer: {
    VALIDATION_ERROR:
      'The service did not accept that transfer. Check the amount and the account to transfer to (not this one).',
    ACCOUNT_NOT_FOUND:
      'The account to transfer to was not found. Check its account id and try again. Nothing was changed.',
    INSUFFICIENT_FUNDS: 'Insufficient funds: the available balance does not cover this transfer.',
    CURRENCY_MISMATCH:
      'The account to transfer to holds another currency. Transfers only move money between accounts of one currency.',
    TRANSACTION_CONFLICT:
      'The accounts were busy and nothing was changed. Press Transfer again to retry safely.',
    IDEMPOTENCY_KEY_REUSED:
      'This transfer clashed with an earlier attempt and was refused. Please try again.',
    ACCOUNT_FROZEN:
      'This account is frozen by our operations team: transfers out are on hold until it is unfrozen. Your balance is safe.',
    WITHDRAWALS_PAUSED:
      'Money movements out of accounts are paused for a short while. Nothing was changed; please try again in a few minutes.',
    SERVICE_UNAVAILABLE:
      'The service is temporarily unavailable. Wait a moment, then press Transfer again: a retry never moves money twice.',
    BAD_RESPONSE:
      'The service sent an answer this page could not read. Check the balance and history below; transferring the same amount to the same account again retries safely.',
    RATE_LIMITED:
      'Too many requests right now, and nothing was changed. Wait a few seconds, then press Transfer again: a retry never moves money twice.',
  },
  reversal: {
    VALIDATION_ERROR:
      'The service did not accept that reversal. Check the amount and the reason, then try again.',
    INSUFFICIENT_FUNDS:
      "The account's available balance does not cover taking this money back, and nothing was changed. To take it anyway, allow the balance to go below zero.",
    TRANSACTION_CONFLICT:
      'The account was busy and nothing was changed. Press Reverse again to retry safely.',
    IDEMPOTENCY_KEY_REUSED:
      'This reversal clashed with an earlier attempt and was refused. Please try again.',
    SERVICE_UNAVAILABLE:
      'The service is temporarily unavailable. Wait a moment, then press Reverse again: a retry never reverses twice.',
    BAD_RESPONSE:
      'The service sent an answer this page could not read. Check the history below; reversing the same amount with the same reason again retries safely.',
    RATE_LIMITED:
      'Too many requests right now, and nothing was changed. Wait a few seconds, then press Reverse again: a retry never reverses twice.',
  },
  read: {
    ACCOUNT_NOT_FOUND: 'No account has this id.',
    SERVICE_UNAVAILABLE: 'The service is temporarily unavailable. Try again in a moment.',
    RATE_LIMITED: 'Too many requests right now. Wait a few seconds, then try again.',
    INTERNAL_ERROR: 'Something went wrong on our side. Try again in a moment.',
    BAD_RESPONSE: 'The service sent an answer this page could not read. Try again in a moment.',
  },
  fees: {
    VALIDATION_ERROR:
      'The service did not accept those fees. Check each amount, basis points of at most 10,000, a minimum not above the maximum, and the reason.',
    TRANSACTION_CONFLICT:
      'The fees were changed by someone else at the same moment, and yours were not saved. Check them below and save again.',
    SERVICE_UNAVAILABLE:
      'The service is temporarily unavailable, and the fees may not have been saved. Check them below, then save again.',
    RATE_LIMITED:
      'Too many requests right now, and nothing was saved. Wait a few seconds, then save again.',
    BAD_RESPONSE:
      'The service sent an answer this page could not read. Check the fees below before saving again.',
  },
  limits: {
    VALIDATION_ERROR:
      'The service did not accept those limits. Check each amount (more than zero), the timezone and the reason.',
    TRANSACTION_CONFLICT:
      'The limits were changed by someone else at the same moment, and yours were not saved. Check them below and save again.',
    SERVICE_UNAVAILABLE:
      'The service is temporarily unavailable, and the limits may not have been saved. Check them below, then save again.',
    RATE_LIMITED:
      'Too many requests right now, and nothing was saved. Wait a few seconds, then save again.',
    BAD_RESPONSE:
      'The service sent an answer this page could not read. Check the limits below before saving again.',
  },
};

/** For operators: the page's message, then the service's own words and code, which say more. */
export function messageWithDetail(error: unknown, action: Action): string {
  const text = messageFor(error, action);
  if (!(error instanceof ApiError) || error.code === BAD_RESPONSE) return text;
  return `${text} The service said: ${error.message} (${error.code})`;
}

export function messageFor(error: unknown, action: Action = 'withdrawal'): string {
  if (error instanceof ApiError) {
    const { code } = error;
    if (hasMessage(code)) {
      return (action === 'withdrawal' ? undefined : BY_ACTION[action][code]) ?? DEFAULTS[code];
    }
    if (error.status >= 500) return 'The service had a problem. Please try again shortly.';
    return 'The service refused the request.';
  }
  if (error instanceof NetworkError) return NO_ANSWER;
  return 'Something went wrong in this page. Reload to try again.';
}

const RETRYABLE: readonly string[] = [
  'SERVICE_UNAVAILABLE',
  'TRANSACTION_CONFLICT',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
  BAD_RESPONSE,
] satisfies MessageCode[];

/** Refusals after which the same attempt (withdrawal, payout, transfer) may be sent again with the same key. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (!(error instanceof ApiError)) return false;
  return RETRYABLE.includes(error.code) || error.status >= 500;
}
