import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as errors from '../../lib/domain/errors';
import { httpHandler, idempotencyKeyOf, json, MAX_BODY_BYTES } from '../../lib/middleware/http';
import { movementBody, pageOf } from '../../lib/http-schemas';
import { TransientStoreError } from '../../lib/domain/ports';

const context = {
  getRemainingTimeInMillis: () => 10_000,
  functionName: 'test',
  awsRequestId: 'aws-1',
} as unknown as Context;

function event(overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /x',
    rawPath: '/x',
    rawQueryString: '',
    headers: { 'Content-Type': 'application/json' },
    requestContext: { requestId: 'apigw-42' } as APIGatewayProxyEventV2['requestContext'],
    body: '{"amount":100}',
    isBase64Encoded: false,
    ...overrides,
  };
}

const bodyOf = (result: unknown) => JSON.parse((result as { body: string }).body);

describe('error responses', () => {
  const cases: Array<[errors.DomainError | Error, number, string]> = [
    [new errors.ValidationError('bad'), 400, 'VALIDATION_ERROR'],
    [new errors.IdempotencyKeyRequiredError(), 400, 'IDEMPOTENCY_KEY_REQUIRED'],
    [new errors.UnauthorizedError(), 401, 'UNAUTHORIZED'],
    [new errors.ForbiddenError(), 403, 'FORBIDDEN'],
    [new errors.AccountNotFoundError(), 404, 'ACCOUNT_NOT_FOUND'],
    [new errors.RouteNotFoundError(), 404, 'NOT_FOUND'],
    [new errors.InsufficientFundsError(), 409, 'INSUFFICIENT_FUNDS'],
    [new errors.TransactionConflictError(), 409, 'TRANSACTION_CONFLICT'],
    [new errors.PayloadTooLargeError(10), 413, 'PAYLOAD_TOO_LARGE'],
    [new errors.UnsupportedMediaTypeError(), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [new errors.IdempotencyKeyReusedError(), 422, 'IDEMPOTENCY_KEY_REUSED'],
    [new errors.CurrencyMismatchError(), 422, 'CURRENCY_MISMATCH'],
    [new errors.BalanceLimitExceededError(), 422, 'BALANCE_LIMIT_EXCEEDED'],
    [new errors.ServiceUnavailableError(), 503, 'SERVICE_UNAVAILABLE'],
    [new TransientStoreError('throttled'), 503, 'SERVICE_UNAVAILABLE'],
    [new TransientStoreError('conflict'), 409, 'TRANSACTION_CONFLICT'],
    [new Error('secret internals: table arn:aws:dynamodb:...'), 500, 'INTERNAL_ERROR'],
  ];

  it.each(cases)('maps %p to %i %s with the contract body', async (error, status, code) => {
    const handler = httpHandler({ operation: 'test', auth: false }, async () => {
      throw error;
    });

    const result = (await handler(event(), context)) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    };

    expect(result.statusCode).toBe(status);
    expect(bodyOf(result)).toEqual({
      error: { code, message: expect.any(String), requestId: 'aws-1' },
    });
    expect(result.body).not.toContain('arn:aws');
    expect(result.headers['cache-control']).toBe('no-store');
    if (status === 503) expect(result.headers['retry-after']).toBe('1');
  });

  it('replays a recorded refusal with the first request id and the Idempotent-Replayed header', async () => {
    const handler = httpHandler({ operation: 'test', auth: false }, async () => {
      throw new errors.ReplayedRefusalError('INSUFFICIENT_FUNDS', 409, 'short', 'first-request');
    });

    const result = (await handler(event(), context)) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    };

    expect(result.statusCode).toBe(409);
    expect(result.headers['idempotent-replayed']).toBe('true');
    expect(bodyOf(result).error).toEqual({
      code: 'INSUFFICIENT_FUNDS',
      message: 'short',
      requestId: 'first-request',
    });
  });
});

describe('JSON body parsing', () => {
  const seen: unknown[] = [];
  const handler = httpHandler(
    { operation: 'test', auth: false, body: movementBody },
    async ({ body }) => {
      seen.push(body);
      return json(201, body);
    },
  );
  beforeEach(() => {
    seen.length = 0;
  });

  async function call(overrides: Partial<APIGatewayProxyEventV2>) {
    const result = (await handler(event(overrides), context)) as {
      statusCode: number;
      body: string;
    };
    return { status: result.statusCode, code: bodyOf(result).error?.code as string | undefined };
  }

  it('passes a valid body to the handler', async () => {
    await expect(call({ body: '{"amount":1,"currency":"USD"}' })).resolves.toEqual({
      status: 201,
      code: undefined,
    });
    expect(seen).toEqual([{ amount: 1, currency: 'USD' }]);
  });

  it('accepts a base64-encoded body and a charset in the content type', async () => {
    const body = Buffer.from('{"amount":7}').toString('base64');
    const result = await call({
      body,
      isBase64Encoded: true,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(result.status).toBe(201);
    expect(seen).toEqual([{ amount: 7 }]);
  });

  it.each([
    ['malformed JSON', '{"amount":', 'VALIDATION_ERROR'],
    ['a string amount', '{"amount":"100"}', 'VALIDATION_ERROR'],
    ['a fractional amount', '{"amount":1.5}', 'VALIDATION_ERROR'],
    ['a zero amount', '{"amount":0}', 'VALIDATION_ERROR'],
    ['a negative amount', '{"amount":-5}', 'VALIDATION_ERROR'],
    ['a huge amount', '{"amount":1e300}', 'VALIDATION_ERROR'],
    ['an amount above the maximum', '{"amount":1000000000001}', 'VALIDATION_ERROR'],
    ['a lower-case currency', '{"amount":1,"currency":"usd"}', 'VALIDATION_ERROR'],
    ['an unknown field', '{"amount":1,"to":"elsewhere"}', 'VALIDATION_ERROR'],
    ['an array', '[1]', 'VALIDATION_ERROR'],
    ['null', 'null', 'VALIDATION_ERROR'],
    ['an empty body', '', 'VALIDATION_ERROR'],
  ])('refuses %s with 400 %s and never calls the handler', async (_name, body, code) => {
    await expect(call({ body })).resolves.toEqual({ status: 400, code });
    expect(seen).toEqual([]);
  });

  it('refuses a body that is not JSON by content type with 415', async () => {
    await expect(call({ headers: { 'content-type': 'text/plain' } })).resolves.toEqual({
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    await expect(call({ headers: {} })).resolves.toEqual({
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
  });

  it('refuses a body over the size limit with 413', async () => {
    const body = JSON.stringify({ amount: 1, pad: 'x'.repeat(MAX_BODY_BYTES) });
    await expect(call({ body })).resolves.toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('Idempotency-Key', () => {
  it('is required', () => {
    expect(() => idempotencyKeyOf({})).toThrow(errors.IdempotencyKeyRequiredError);
    expect(() => idempotencyKeyOf({ 'idempotency-key': '' })).toThrow(
      errors.IdempotencyKeyRequiredError,
    );
  });

  it('takes 1 to 255 printable ASCII characters', () => {
    expect(idempotencyKeyOf({ 'idempotency-key': 'a' })).toBe('a');
    expect(idempotencyKeyOf({ 'idempotency-key': '~'.repeat(255) })).toHaveLength(255);
    expect(() => idempotencyKeyOf({ 'idempotency-key': 'x'.repeat(256) })).toThrow(
      errors.ValidationError,
    );
    expect(() => idempotencyKeyOf({ 'idempotency-key': 'tab\there' })).toThrow(
      errors.ValidationError,
    );
    expect(() => idempotencyKeyOf({ 'idempotency-key': 'ünïcode' })).toThrow(
      errors.ValidationError,
    );
  });
});

describe('history paging parameters', () => {
  it('defaults to 20 and accepts 1..100', () => {
    expect(pageOf({})).toEqual({ limit: 20 });
    expect(pageOf({ limit: '1' })).toEqual({ limit: 1 });
    expect(pageOf({ limit: '100', cursor: 'abc' })).toEqual({ limit: 100, cursor: 'abc' });
  });

  it.each(['0', '101', '-1', '1.5', 'ten', '', '1e2'])('refuses limit=%p', (limit) => {
    expect(() => pageOf({ limit })).toThrow(errors.ValidationError);
  });
});
