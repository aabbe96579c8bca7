import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimitedError } from '../../lib/domain/errors';

// The local stack's throttle (scripts/serverless-local-throttle.js): the stage's API Gateway
// limits, applied in front of serverless-offline.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS serverless plugin
const { startThrottle, tokenBucket } = require('../../scripts/serverless-local-throttle.js') as {
  startThrottle(options: Record<string, unknown>): Promise<{ close(): Promise<void> }>;
  tokenBucket(limits: { rate: number; burst: number }, now: () => number): { take(): number };
};

const listen = (server: http.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

describe('the local stack applies the stage throttles', () => {
  let upstream: http.Server;
  let reached: string[];
  let front: { close(): Promise<void> };
  let base: string;

  beforeEach(async () => {
    reached = [];
    upstream = http.createServer((request, response) => {
      reached.push(`${request.method} ${request.url}`);
      request.resume();
      request.on('end', () => response.writeHead(201, { 'x-from': 'api' }).end('{"ok":true}'));
    });
    const upstreamPort = await listen(upstream);
    const probe = http.createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    front = await startThrottle({
      host: '127.0.0.1',
      port,
      upstreamPort,
      routeKeys: ['POST /accounts/{accountId}/withdrawals', 'GET /accounts', '*'],
      throttles: {
        defaults: { rate: 1000, burst: 1000 },
        routes: { 'POST /accounts/{accountId}/withdrawals': { rate: 0.5, burst: 3 } },
      },
      allowedOrigins: ['http://localhost:5173'],
      refusal: (seconds: number) => {
        const error = new RateLimitedError(seconds);
        return { status: error.status, json: { error: { code: error.code } } };
      },
    });
    base = `http://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    await front.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const withdraw = (account: string) =>
    fetch(`${base}/accounts/${account}/withdrawals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:5173' },
      body: '{"amount":1}',
    });

  it('passes requests within the burst to the API unchanged', async () => {
    const answers = await Promise.all([withdraw('A'), withdraw('B'), withdraw('A')]);
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(answers[0]?.headers.get('x-from')).toBe('api');
    expect(await answers[0]?.json()).toEqual({ ok: true });
    expect(reached).toHaveLength(3);
  });

  it('refuses a money request over the route limit with 429 RATE_LIMITED and Retry-After, before it reaches the API', async () => {
    for (let i = 0; i < 3; i += 1) expect((await withdraw('A')).status).toBe(201);
    const refused = await withdraw('A');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    // The page can read the refusal and its delay.
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(await refused.json()).toEqual({ error: { code: 'RATE_LIMITED' } });
    expect(reached).toHaveLength(3);
  });

  it('limits each route on its own: other routes still answer while withdrawals are throttled', async () => {
    for (let i = 0; i < 4; i += 1) await withdraw('A');
    expect((await fetch(`${base}/accounts`)).status).toBe(201);
    expect((await fetch(`${base}/unknown/path`)).status).toBe(201);
    expect(reached.slice(-2)).toEqual(['GET /accounts', 'GET /unknown/path']);
  });
});

describe('a token bucket', () => {
  it('allows the burst at once, then one request per 1/rate seconds, and says how long to wait', () => {
    let now = 0;
    const bucket = tokenBucket({ rate: 2, burst: 2 }, () => now);
    expect([bucket.take(), bucket.take()]).toEqual([0, 0]);
    expect(bucket.take()).toBe(1);
    now += 500;
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(1);
    now += 10_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 1]);
  });
});
