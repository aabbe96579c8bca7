'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a serverless plugin, loaded as CommonJS */
// The stage's API Gateway throttles, applied locally. serverless-offline has no throttling, so
// `serverless offline` (npm start) gets a small front in the same process: it takes the API
// port, moves serverless-offline to a free internal one, and lets a request through only while
// its route has tokens, with the same rate and burst per route as the template's stage
// (resources.extensions.HttpApiStage: DefaultRouteSettings, RouteSettings). A request over the
// limit gets 429 RATE_LIMITED with Retry-After and never reaches a handler, as in AWS, where
// API Gateway refuses it with its own 429 body.
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { URL } = require('node:url');

/** A token bucket: `burst` requests at once, refilled at `rate` per second. */
function tokenBucket({ rate, burst }, now = Date.now) {
  let tokens = burst;
  let last = now();
  return {
    /** 0 if a request may pass (and takes its token), else the seconds until one may. */
    take() {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * rate);
      last = t;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - tokens) / rate));
    },
  };
}

/** `METHOD /path/{param}` route keys to a matcher; '$default' for everything else. */
function routeMatcher(routeKeys) {
  const routes = routeKeys
    .filter((key) => key !== '$default' && key !== '*')
    .map((key) => {
      const [method, template] = key.split(' ');
      const pattern = template
        .split('/')
        .map((part) =>
          /^\{.+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      return { key, method, regex: new RegExp(`^${pattern}$`) };
    });
  return (method, pathname) =>
    routes.find((r) => (r.method === method || r.method === '*') && r.regex.test(pathname))?.key ??
    '$default';
}

/**
 * Starts the throttling front on `port`, forwarding to 127.0.0.1:`upstreamPort`.
 * `throttles`: { defaults: {rate, burst}, routes: { [routeKey]: {rate, burst} } }.
 */
function startThrottle({
  host,
  port,
  upstreamPort,
  routeKeys,
  throttles,
  allowedOrigins,
  refusal,
}) {
  const routeOf = routeMatcher(routeKeys);
  const buckets = new Map();
  const bucketFor = (key) => {
    if (!buckets.has(key))
      buckets.set(key, tokenBucket(throttles.routes[key] ?? throttles.defaults));
    return buckets.get(key);
  };
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    const wait =
      request.method === 'OPTIONS' ? 0 : bucketFor(routeOf(request.method, pathname)).take();
    if (wait > 0) {
      const origin = request.headers.origin;
      const cors =
        origin && allowedOrigins.includes(origin)
          ? {
              'access-control-allow-origin': origin,
              'access-control-expose-headers': 'Retry-After',
            }
          : {};
      const body = refusal(wait);
      request.resume();
      response
        .writeHead(body.status, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
          'retry-after': String(wait),
          ...cors,
        })
        .end(JSON.stringify(body.json));
      return;
    }
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        method: request.method,
        path: request.url,
        headers: request.headers,
        agent,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    // The API behind is gone (stopping, or killed): drop the connection, as a dead API would.
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () =>
      resolve({
        close: () =>
          new Promise((done) => {
            agent.destroy();
            server.close(() => done());
            server.closeAllConnections();
          }),
      }),
    );
  });
}

/** A TypeScript module of the project, loaded through tsx (serverless loads plugins as plain JS). */
function requireTs(file) {
  const unregister = require('tsx/cjs/api').register();
  try {
    return require(file);
  } finally {
    unregister();
  }
}

/** The 429 body, from the service's own error table (lib/domain/errors.ts). */
function rateLimitedRefusal() {
  const { RateLimitedError } = requireTs('../lib/domain/errors.ts');
  return (seconds) => {
    const error = new RateLimitedError(seconds);
    return {
      status: error.status,
      json: { error: { code: error.code, message: error.message, requestId: randomUUID() } },
    };
  };
}

class LocalThrottle {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:offline:start:init': () => this.start(),
      'offline:start:end': () => this.front?.close(),
    };
  }

  async start() {
    const service = this.serverless.service;
    const offline = (service.custom['serverless-offline'] ??= {});
    const stage = service.resources?.extensions?.HttpApiStage?.Properties ?? {};
    const settings = (s) => ({
      rate: Number(s.ThrottlingRateLimit),
      burst: Number(s.ThrottlingBurstLimit),
    });
    if (!stage.DefaultRouteSettings) return; // no throttles declared: nothing to apply
    const routeKeys = Object.values(service.functions ?? {}).flatMap((fn) =>
      (fn.events ?? []).flatMap(({ httpApi }) =>
        !httpApi
          ? []
          : typeof httpApi === 'string'
            ? [httpApi]
            : [`${httpApi.method.toUpperCase()} ${httpApi.path}`],
      ),
    );
    const publicPort = Number(offline.httpPort ?? 3000);
    // A free port for serverless-offline behind the front.
    const upstreamPort = await requireTs('../local/ports.ts').findFreePort();
    offline.httpPort = upstreamPort;
    const cors = service.provider.httpApi?.cors;
    this.front = await startThrottle({
      host: offline.host ?? 'localhost',
      port: publicPort,
      upstreamPort,
      routeKeys,
      throttles: {
        defaults: settings(stage.DefaultRouteSettings),
        routes: Object.fromEntries(
          Object.entries(stage.RouteSettings ?? {}).map(([key, s]) => [key, settings(s)]),
        ),
      },
      allowedOrigins: (cors && cors.allowedOrigins) || [],
      refusal: rateLimitedRefusal(),
    });
  }
}

module.exports = LocalThrottle;
module.exports.startThrottle = startThrottle;
module.exports.tokenBucket = tokenBucket;
