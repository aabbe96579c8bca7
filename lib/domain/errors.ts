/**
 * Every failure a client can see is one of these classes. Each carries a stable `code` and the
 * HTTP status it maps to; the error middleware is the only place that turns them into responses.
 */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'IDEMPOTENCY_KEY_REQUIRED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'ACCOUNT_NOT_FOUND'
  | 'NOT_FOUND'
  | 'INSUFFICIENT_FUNDS'
  | 'TRANSACTION_CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'CURRENCY_MISMATCH'
  | 'SERVICE_UNAVAILABLE'
  | 'BALANCE_LIMIT_EXCEEDED'
  | 'ACCOUNT_FROZEN'
  | 'WITHDRAWALS_PAUSED'
  | 'PAYOUT_NOT_FOUND'
  | 'RATE_LIMITED'
  | 'INTERNAL_ERROR';

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly status: number;
  /** Seconds a client should wait before retrying, sent as `Retry-After`. */
  readonly retryAfterSeconds?: number;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_ERROR';
  readonly status = 400;
}

export class IdempotencyKeyRequiredError extends DomainError {
  readonly code = 'IDEMPOTENCY_KEY_REQUIRED';
  readonly status = 400;
  constructor() {
    super('The Idempotency-Key header is required: 1 to 255 printable ASCII characters.');
  }
}

export class UnauthorizedError extends DomainError {
  readonly code = 'UNAUTHORIZED';
  readonly status = 401;
  constructor(message = 'A valid bearer token is required.') {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  readonly status = 403;
  constructor(message = 'This operation is reserved for operators.') {
    super(message);
  }
}

export class AccountNotFoundError extends DomainError {
  readonly code = 'ACCOUNT_NOT_FOUND';
  readonly status = 404;
  constructor(message = 'Account not found.') {
    super(message);
  }
}

export class RouteNotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
  constructor() {
    super('No such route.');
  }
}

export class InsufficientFundsError extends DomainError {
  readonly code = 'INSUFFICIENT_FUNDS';
  readonly status = 409;
  constructor() {
    super('The available balance does not cover this amount.');
  }
}

export class TransactionConflictError extends DomainError {
  readonly code = 'TRANSACTION_CONFLICT';
  readonly status = 409;
  override readonly retryAfterSeconds = 1;
  constructor() {
    super(
      'The account was busy and the request could not be applied. Retry with the same Idempotency-Key: a retry never moves money twice.',
    );
  }
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly status = 413;
  constructor(limitBytes: number) {
    super(`The request body exceeds ${limitBytes} bytes.`);
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
  constructor() {
    super('The request body must be JSON (Content-Type: application/json).');
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly status = 422;
  constructor() {
    super('This Idempotency-Key was already used with a different request.');
  }
}

export class CurrencyMismatchError extends DomainError {
  readonly code = 'CURRENCY_MISMATCH';
  readonly status = 422;
  constructor() {
    super('The currency does not match the account currency.');
  }
}

export class ServiceUnavailableError extends DomainError {
  readonly code = 'SERVICE_UNAVAILABLE';
  readonly status = 503;
  override readonly retryAfterSeconds = 1;
  constructor(
    message = 'The service is temporarily unavailable. Retry with the same Idempotency-Key: a retry never moves money twice.',
  ) {
    super(message);
  }
}

export class BalanceLimitExceededError extends DomainError {
  readonly code = 'BALANCE_LIMIT_EXCEEDED';
  readonly status = 422;
  constructor() {
    super('This deposit would take the balance above the largest amount the service can hold.');
  }
}

/**
 * A refusal recorded under an Idempotency-Key, answered again to a retry: the same status and
 * body as the first time (including the first request's id), marked as a replay.
 */
export class ReplayedRefusalError extends DomainError {
  readonly replayed = true;
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly originalRequestId: string,
  ) {
    super(message);
  }
}

export class AccountFrozenError extends DomainError {
  readonly code = 'ACCOUNT_FROZEN';
  readonly status = 423;
  constructor() {
    super('This account is frozen by an operator: withdrawals are refused until it is unfrozen.');
  }
}

export class WithdrawalsPausedError extends DomainError {
  readonly code = 'WITHDRAWALS_PAUSED';
  readonly status = 503;
  constructor(override readonly retryAfterSeconds: number) {
    super('Withdrawals are paused by an operator; nothing was changed. Retry later.');
  }
}

export class PayoutNotFoundError extends DomainError {
  readonly code = 'PAYOUT_NOT_FOUND';
  readonly status = 404;
  constructor() {
    super('Payout not found.');
  }
}

/**
 * The caller sent more requests than the stage's throttle allows (see README "Rate limits").
 * In AWS, API Gateway answers these itself; the local stack answers them with this code.
 */
export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED';
  readonly status = 429;
  constructor(override readonly retryAfterSeconds: number) {
    super('Too many requests: nothing was changed. Retry after the Retry-After delay.');
  }
}
