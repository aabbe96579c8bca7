import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import type { ApiResponse } from './api-client';

export interface TestUser {
  sub: string;
  username?: string;
  groups?: string[];
}

/** A token issuer of the test's own: an RSA key, its JWKS on loopback, Cognito-shaped access tokens. */
export interface TestIssuer {
  issuer: string;
  jwksUrl: string;
  clientId: string;
  /** The key id its tokens name, and its public key (PEM), for tokens forged around it. */
  kid: string;
  publicKeyPem: string;
  token(user: TestUser): Promise<string>;
  /** The claims of `token(user)`, valid for an hour from now: to alter for tokens it never issues. */
  claims(user: TestUser): JWTPayload;
  /** Signs any claims with the issuer's own key, as it signs its tokens. */
  sign(claims: JWTPayload): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const kid = 'test-key';
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server = http.createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/test-pool`;
  const clientId = 'test-client';
  const claims = (user: TestUser): JWTPayload => {
    const now = Math.floor(Date.now() / 1000);
    return {
      sub: user.sub,
      iss: base,
      token_use: 'access',
      client_id: clientId,
      username: user.username ?? user.sub,
      'cognito:groups': user.groups ?? [],
      iat: now,
      exp: now + 3600,
    };
  };
  const sign = (payload: JWTPayload): Promise<string> =>
    new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
  return {
    issuer: base,
    jwksUrl: `${base}/.well-known/jwks.json`,
    clientId,
    kid,
    publicKeyPem: await exportSPKI(publicKey),
    token: (user) => sign(claims(user)),
    claims,
    sign,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Points the handlers' configuration at a test table and issuer; call before importing them.
 * `env` adds or overrides other variables (lib/config.ts), e.g. PAUSE_SWITCH_CACHE_SECONDS.
 */
export function configureHandlers(options: {
  tableName: string;
  endpoint: string;
  issuer: TestIssuer;
  env?: Record<string, string>;
}): void {
  Object.assign(process.env, {
    TABLE_NAME: options.tableName,
    DYNAMODB_ENDPOINT: options.endpoint,
    JWT_ISSUER: options.issuer.issuer,
    JWT_JWKS_URL: options.issuer.jwksUrl,
    JWT_CLIENT_IDS: options.issuer.clientId,
    AWS_REGION: 'us-east-1',
    ...options.env,
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

/** Sends one request to the API as the deployed stack routes it, with no network in between. */
export type InProcessApi = (
  method: string,
  url: string,
  request?: { headers?: Record<string, string>; body?: string },
) => Promise<ApiResponse>;

/** A route template (`/accounts/{accountId}`) as a matcher of paths, naming its parameters. */
function routeMatcher(template: string): (urlPath: string) => Record<string, string> | null {
  const names: string[] = [];
  const pattern = template.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const regex = new RegExp(`^${pattern}$`);
  return (urlPath) => {
    const match = regex.exec(urlPath);
    if (!match) return null;
    return Object.fromEntries(
      names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]),
    );
  };
}

/**
 * API Gateway in-process: serverless.yml's httpApi routes, each to its real handler (imported
 * here, so call `configureHandlers` first), and everything else to the catch-all function.
 * A request is an HTTP API (payload 2.0) event; the answer is what a client would read.
 */
export async function inProcessApi(): Promise<InProcessApi> {
  const { serverlessHttpApi } = await import('./openapi');
  const { routes, catchAll, handlers } = serverlessHttpApi();
  const root = path.resolve(__dirname, '..', '..');
  const load = async (functionName: string): Promise<Handler> => {
    const spec = handlers[functionName] ?? '';
    const dot = spec.lastIndexOf('.');
    const module = (await import(path.join(root, spec.slice(0, dot)))) as Record<string, Handler>;
    const handler = module[spec.slice(dot + 1)];
    if (typeof handler !== 'function') throw new Error(`${functionName}: no handler ${spec}`);
    return handler;
  };
  const table = await Promise.all(
    routes.map(async (route) => ({
      method: route.method.toUpperCase(),
      template: route.path,
      match: routeMatcher(route.path),
      handler: await load(route.functionName),
    })),
  );
  if (catchAll.length !== 1) throw new Error('serverless.yml needs exactly one catch-all route');
  const notFound = await load(catchAll[0] ?? '');

  return async (method, url, request = {}) => {
    const parsed = new URL(url, 'http://in-process');
    const headers = Object.fromEntries(
      Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    );
    let handler = notFound;
    let pathParameters: Record<string, string> | undefined;
    for (const route of table) {
      const params = route.method === method ? route.match(parsed.pathname) : null;
      if (params === null) continue;
      handler = route.handler;
      pathParameters = Object.keys(params).length > 0 ? params : undefined;
      break;
    }
    const query = Object.fromEntries(parsed.searchParams);
    const event = apiEvent({
      method,
      path: parsed.pathname,
      pathParameters,
      headers,
      query: Object.keys(query).length > 0 ? query : undefined,
      body: request.body,
    });
    const result = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    return {
      status: result.statusCode ?? 0,
      headers: new Headers((result.headers ?? {}) as Record<string, string>),
      body: JSON.parse(result.body ?? '{}') as Record<string, unknown>,
    };
  };
}
