import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type * as z from 'zod/mini';
import { config } from '../config';
import { createTokenVerifier, type TokenVerifier } from '../auth/verify-token';
import {
  DomainError,
  ERROR_CODES,
  ForbiddenError,
  IdempotencyKeyRequiredError,
  PayloadTooLargeError,
  ReplayedRefusalError,
  ServiceUnavailableError,
  TransactionConflictError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/errors';
import type { Caller } from '../domain/types';
import { logger } from '../logger';
import { metrics } from '../metrics';
import type { ErrorBody } from '../wire/types';
import { TransientStoreError } from '../domain/ports';

export type HttpResult = APIGatewayProxyStructuredResultV2;

/** What a handler receives once the middlewares have done their part. */
export interface HttpRequest<Body> {
  caller: Caller;
  body: Body;
  requestId: string;
  pathParameters: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
}

type Event = APIGatewayProxyEventV2 & { caller?: Caller; parsedBody?: unknown };

export const MAX_BODY_BYTES = 8 * 1024;

/** JSON responses about money are never cached by a browser or a proxy. */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

let verifier: TokenVerifier | undefined;
function tokenVerifier(): TokenVerifier {
  const c = config();
  verifier ??= createTokenVerifier({
    issuer: c.jwtIssuer,
    jwksUrl: c.jwksUrl,
    clientIds: c.jwtClientIds,
    operatorsGroup: c.operatorsGroup,
  });
  return verifier;
}

/**
 * Verifies the bearer token on every call, also behind API Gateway's JWT authorizer: the same
 * check then runs locally and in AWS, and a misrouted or misconfigured route stays closed.
 */
const authenticate = (operatorsOnly: boolean): MiddlewareObj<Event, HttpResult> => ({
  before: async (request) => {
    const caller = await tokenVerifier()(request.event.headers?.authorization);
    // Authorization before validation: a customer learns nothing from an operators' route.
    if (operatorsOnly && !caller.isOperator) throw new ForbiddenError();
    request.event.caller = caller;
  },
});

const parseJsonBody = (schema: z.ZodMiniType): MiddlewareObj<Event, HttpResult> => ({
  before: (request) => {
    const event = request.event;
    const raw = event.body ?? '';
    const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES)
      throw new PayloadTooLargeError(MAX_BODY_BYTES);
    const contentType = event.headers?.['content-type'] ?? '';
    if (!/^application\/json\s*(;.*)?$/i.test(contentType)) throw new UnsupportedMediaTypeError();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ValidationError('The request body is not valid JSON.');
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw new ValidationError(`${where}${issue?.message ?? 'invalid body'}`);
    }
    event.parsedBody = result.data;
  },
});

/** The one place errors become HTTP: a stable code, a message, the request id; no internals. */
const errorResponses = (operation: string): MiddlewareObj<Event, HttpResult> => ({
  onError: (request) => {
    const requestId = request.context.awsRequestId;
    const error = asDomainError(request.error);
    if (error === null) {
      logger.error(`${operation} failed`, { error: request.error as Error, requestId });
      const { status, message } = ERROR_CODES.INTERNAL_ERROR;
      const body: ErrorBody = { error: { code: 'INTERNAL_ERROR', message, requestId } };
      request.response = json(status, body);
      return;
    }
    const replayed = error instanceof ReplayedRefusalError;
    logger.info(`${operation} rejected`, {
      code: error.code,
      status: error.status,
      requestId,
      replayed,
    });
    const headers: Record<string, string> = {};
    if (error.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(error.retryAfterSeconds);
    if (replayed) headers['idempotent-replayed'] = 'true';
    request.response = json(
      error.status,
      {
        error: {
          code: error.code,
          message: error.message,
          requestId: replayed ? error.originalRequestId : requestId,
          ...(error.limit ? { limit: error.limit } : {}),
        },
      } satisfies ErrorBody,
      headers,
    );
  },
});

function asDomainError(error: unknown): DomainError | null {
  if (error instanceof DomainError) return error;
  if (error instanceof TransientStoreError) {
    return error.kind === 'conflict'
      ? new TransactionConflictError()
      : new ServiceUnavailableError();
  }
  return null;
}

/** Flushes the invocation's metrics, if it recorded any (reads record none). */
const publishMetrics = (): MiddlewareObj<Event, HttpResult> => {
  const flush = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
};

const requestKeys = (): MiddlewareObj<Event, HttpResult> => ({
  before: (request) => {
    logger.appendKeys({ requestId: request.context.awsRequestId });
  },
});

/**
 * Wraps a handler in the service's HTTP stack. The handler gets a verified caller and a
 * validated body, and returns a response; everything else is the stack's job.
 */
export function httpHandler<Body = undefined>(
  options: {
    operation: string;
    auth?: boolean;
    operatorsOnly?: boolean;
    body?: z.ZodMiniType<Body>;
  },
  handler: (request: HttpRequest<Body>) => Promise<HttpResult>,
) {
  const stack = middy<Event, HttpResult, Error, Context>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics())
    .use(httpHeaderNormalizer())
    .use(requestKeys())
    .use(errorResponses(options.operation));
  if (options.auth !== false) stack.use(authenticate(options.operatorsOnly === true));
  if (options.body) stack.use(parseJsonBody(options.body));
  // The Lambda request id: unique per call everywhere (serverless-offline repeats API
  // Gateway's), and the id the logger correlates by.
  return stack.handler(async (event, context) =>
    handler({
      caller: event.caller ?? { userId: '', username: '', isOperator: false },
      body: event.parsedBody as Body,
      requestId: context.awsRequestId,
      pathParameters: event.pathParameters ?? {},
      query: event.queryStringParameters ?? {},
      headers: event.headers ?? {},
    }),
  );
}

const PRINTABLE_KEY = /^[\x20-\x7E]{1,255}$/;

/** The Idempotency-Key header: required on every money movement, 1-255 printable ASCII characters. */
export function idempotencyKeyOf(headers: Record<string, string | undefined>): string {
  const key = headers['idempotency-key'];
  if (key === undefined || key.trim() === '') throw new IdempotencyKeyRequiredError();
  if (!PRINTABLE_KEY.test(key)) {
    throw new ValidationError('Idempotency-Key must be 1 to 255 printable ASCII characters.');
  }
  return key;
}
