import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** A token issuer of the test's own: an RSA key, its JWKS on loopback, Cognito-shaped access tokens. */
export interface TestIssuer {
  issuer: string;
  jwksUrl: string;
  clientId: string;
  token(user: { sub: string; username?: string; groups?: string[] }): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server = http.createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/test-pool`;
  const clientId = 'test-client';
  return {
    issuer: base,
    jwksUrl: `${base}/.well-known/jwks.json`,
    clientId,
    token: (user) =>
      new SignJWT({
        token_use: 'access',
        client_id: clientId,
        username: user.username ?? user.sub,
        'cognito:groups': user.groups ?? [],
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
        .setSubject(user.sub)
        .setIssuer(base)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Points the handlers' configuration at a test table and issuer; call before importing them. */
export function configureHandlers(options: {
  tableName: string;
  endpoint: string;
  issuer: TestIssuer;
}): void {
  Object.assign(process.env, {
    TABLE_NAME: options.tableName,
    DYNAMODB_ENDPOINT: options.endpoint,
    JWT_ISSUER: options.issuer.issuer,
    JWT_JWKS_URL: options.issuer.jwksUrl,
    JWT_CLIENT_IDS: options.issuer.clientId,
    AWS_REGION: 'us-east-1',
  });
}

/** An HTTP API (payload 2.0) event as API Gateway delivers it. */
export function apiEvent(request: {
  method: string;
  path: string;
  pathParameters?: Record<string, string>;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${request.method} ${request.path}`,
    rawPath: request.path,
    rawQueryString: new URLSearchParams(request.query ?? {}).toString(),
    headers: request.headers ?? {},
    queryStringParameters: request.query,
    pathParameters: request.pathParameters,
    requestContext: {
      requestId: randomUUID(),
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'jest',
      },
    } as APIGatewayProxyEventV2['requestContext'],
    body: request.body,
    isBase64Encoded: false,
  };
}

export function lambdaContext(): Context {
  return {
    awsRequestId: randomUUID(),
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
    memoryLimitInMB: '512',
    logGroupName: 'test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface HandlerResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

/** Invokes a handler as Lambda would and returns what the client would get. */
export async function invoke(
  handler: Handler,
  event: APIGatewayProxyEventV2,
): Promise<HandlerResponse> {
  const result = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: JSON.parse(result.body ?? '{}') as Record<string, unknown>,
  };
}
