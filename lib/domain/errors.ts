import type { LimitRefusal } from './limits';

/**
 * The contract's error codes, in one table: each code's HTTP status and default message. The
 * domain's error classes, the error middleware, the web page, the OpenAPI checks and the bank
 * run all read this table; nothing else lists the codes.
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: { status: 400, message: 'The request is invalid.' },
  IDEMPOTENCY_KEY_REQUIRED: {
    status: 400,
    message: 'The Idempotency-Key header is required: 1 to 255 printable ASCII characters.',
  },
  UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required.' },
  FORBIDDEN: { status: 403, message: 'This operation is reserved for operators.' },
  ACCOUNT_NOT_FOUND: { status: 404, message: 'Account not found.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  PAYOUT_NOT_FOUND: { status: 404, message: 'Payout not found.' },
  WEBHOOK_ENDPOINT_NOT_FOUND: { status: 404, message: 'Webhook endpoint not found.' },
  EVENT_NOT_FOUND: { status: 404, message: 'Event not found (events are kept 30 days).' },
  TRANSACTION_NOT_FOUND: {
    status: 404,
    message:
      'No posted movement has this id, or it is not in the statement yet (about a second after its commit).',
  },
  INSUFFICIENT_FUNDS: {
    status: 409,
    message: 'The available balance does not cover this amount.',
  },
  LIMIT_EXCEEDED: {
    status: 409,
    message:
      "This would take more than the account's limit allows (per movement, or today in its timezone); `limit` says which and what remains.",
  },
  TRANSACTION_CONFLICT: {
    status: 409,
    message:
      'The account was busy and the request could not be applied. Retry with the same Idempotency-Key: a retry never moves money twice.',
  },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'The request body must be JSON (Content-Type: application/json).',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    message: 'This Idempotency-Key was already used with a different request.',
  },
  CURRENCY_MISMATCH: {
    status: 422,
    message: 'The currency does not match the account currency.',
  },
  BALANCE_LIMIT_EXCEEDED: {
    status: 422,
    message: 'This deposit would take the balance above the largest amount the service can hold.',
  },
  REVERSAL_EXCEEDS_ORIGINAL: {
    status: 422,
    message: 'With the reversals before it, this would reverse more than the original moved.',
  },
  NOT_REVERSIBLE: {
    status: 422,
    message: 'This movement cannot be reversed: it is a reversal, or a payout that was voided.',
  },
  ACCOUNT_FROZEN: {
    status: 423,
    message: 'This account is frozen by an operator: withdrawals are refused until it is unfrozen.',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'Too many requests: nothing was changed. Retry after the Retry-After delay.',
  },
  INTERNAL_ERROR: { status: 500, message: 'Internal error.' },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message:
      'The service is temporarily unavailable. Retry with the same Idempotency-Key: a retry never moves money twice.',
  },
  WITHDRAWALS_PAUSED: {
    status: 503,
    message: 'Withdrawals are paused by an operator; nothing was changed. Retry later.',
  },
  STATEMENT_CATCHING_UP: {
    status: 503,
    message:
      'A movement that may count before this instant is committed but not in the statement yet (about a second). Retry after the Retry-After delay.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/**
 * Every failure a client can see is one of these: a code from the table, its status, and a
 * message (the table's unless the thrower says more). The error middleware is the only place
 * that turns them into responses.
 */
export class DomainError extends Error {
  readonly status: number;
  /** Seconds a client should wait before retrying, sent as `Retry-After`. */
  readonly retryAfterSeconds?: number;
  /** LIMIT_EXCEEDED: which limit refused, and what the day had used and has left. */
  readonly limit?: LimitRefusal;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code].message,
    options: { status?: number; retryAfterSeconds?: number; limit?: LimitRefusal } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.status = options.status ?? ERROR_CODES[code].status;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.limit !== undefined) this.limit = options.limit;
  }
}

/** Classes for the codes the code base throws by name, so `instanceof` reads like the rule. */
const errorClass = (code: ErrorCode, retryAfterSeconds?: number) =>
  class extends DomainError {
    constructor(message?: string) {
      super(code, message, { retryAfterSeconds });
    }
  };

export class ValidationError extends errorClass('VALIDATION_ERROR') {}
export class IdempotencyKeyRequiredError extends errorClass('IDEMPOTENCY_KEY_REQUIRED') {}
export class UnauthorizedError extends errorClass('UNAUTHORIZED') {}
export class ForbiddenError extends errorClass('FORBIDDEN') {}
export class AccountNotFoundError extends errorClass('ACCOUNT_NOT_FOUND') {}
export class RouteNotFoundError extends errorClass('NOT_FOUND') {}
export class PayoutNotFoundError extends errorClass('PAYOUT_NOT_FOUND') {}
export class WebhookEndpointNotFoundError extends errorClass('WEBHOOK_ENDPOINT_NOT_FOUND') {}
export class EventNotFoundError extends errorClass('EVENT_NOT_FOUND') {}
export class TransactionNotFoundError extends errorClass('TRANSACTION_NOT_FOUND') {}
export class ReversalExceedsOriginalError extends errorClass('REVERSAL_EXCEEDS_ORIGINAL') {}
export class NotReversibleError extends errorClass('NOT_REVERSIBLE') {}
export class InsufficientFundsError extends errorClass('INSUFFICIENT_FUNDS') {}
export class TransactionConflictError extends errorClass('TRANSACTION_CONFLICT', 1) {}
export class UnsupportedMediaTypeError extends errorClass('UNSUPPORTED_MEDIA_TYPE') {}
export class IdempotencyKeyReusedError extends errorClass('IDEMPOTENCY_KEY_REUSED') {}
export class CurrencyMismatchError extends errorClass('CURRENCY_MISMATCH') {}
export class ServiceUnavailableError extends errorClass('SERVICE_UNAVAILABLE', 1) {}
export class BalanceLimitExceededError extends errorClass('BALANCE_LIMIT_EXCEEDED') {}
export class AccountFrozenError extends errorClass('ACCOUNT_FROZEN') {}
export class StatementCatchingUpError extends errorClass('STATEMENT_CATCHING_UP', 1) {}

export class PayloadTooLargeError extends DomainError {
  constructor(limitBytes: number) {
    super('PAYLOAD_TOO_LARGE', `The request body exceeds ${limitBytes} bytes.`);
  }
}

export class LimitExceededError extends DomainError {
  constructor(limit: LimitRefusal) {
    const what = limit.kind === 'daily' ? 'the daily limit' : 'the per-movement limit';
    super(
      'LIMIT_EXCEEDED',
      `This would pass ${what} of ${limit.limit}: used today ${limit.used}, remaining ${limit.remaining}.`,
      { limit },
    );
  }
}

export class WithdrawalsPausedError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super('WITHDRAWALS_PAUSED', undefined, { retryAfterSeconds });
  }
}

/**
 * The caller sent more requests than the stage's throttle allows (see docs/operations.md).
 * In AWS, API Gateway answers these itself; the local stack answers them with this code.
 */
export class RateLimitedError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super('RATE_LIMITED', undefined, { retryAfterSeconds });
  }
}

/**
 * A refusal recorded under an Idempotency-Key, answered again to a retry: the same status and
 * body as the first time (including the first request's id), marked as a replay.
 */
export class ReplayedRefusalError extends DomainError {
  readonly replayed = true;
  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    readonly originalRequestId: string,
    limit?: LimitRefusal,
  ) {
    super(code, message, { status, ...(limit ? { limit } : {}) });
  }
}
