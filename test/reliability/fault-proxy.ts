/**
 * A fault-injecting HTTP proxy for DynamoDB (Local), on loopback, between the service and the
 * emulator. DynamoDB Local serialises transactions and never throttles, so the service's paths
 * for conflicts, throttling, 5xx, network failures and lost responses are only reached when
 * something fabricates them: this proxy does, per request, following a plan that can be switched
 * at run time (with `setPlan`, or over HTTP on the proxy itself: `PUT /__fault-proxy/plan`).
 *
 * Fabricated errors are byte-compatible with DynamoDB's JSON protocol (awsJson1_0): status 400
 * or 500, `content-type: application/x-amz-json-1.0`, `x-amzn-requestid`, `x-amz-crc32`, and a
 * body whose `__type` names the exception (`TransactionCanceledException` carries one
 * `CancellationReasons` entry per item of the request, as DynamoDB sends them).
 *
 * Run alone in front of a DynamoDB Local: `node scripts/run.js test/reliability/fault-proxy.ts
 * --target http://127.0.0.1:8000 [--port 8001]`, then start the stack with
 * `API_DYNAMODB_ENDPOINT=http://127.0.0.1:8001`.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import { z } from 'zod';
import { sleep } from '../../local/wait';

export const FAULT_KINDS = [
  /** TransactWriteItems cancelled with a `TransactionConflict` reason (400, not sent on). */
  'conflict',
  /** `ThrottlingException` (400, not sent on). */
  'throttling',
  /** `ProvisionedThroughputExceededException` (400, not sent on). */
  'provisioned-throughput',
  /** `InternalServerError` (500, not sent on). */
  'server-error',
  /** Sent on after a delay. */
  'latency',
  /** The client's connection is reset before anything is sent on. */
  'reset-before',
  /** Sent on, DynamoDB answers (and commits), then the client's connection is reset. */
  'lost-response',
  /** Sent on, DynamoDB answers (and commits), then the client never gets an answer. */
  'lost-response-hang',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const ruleSchema = z
  .object({
    /** Names the rule: its `limit` then counts across plan switches. */
    id: z.string().min(1).optional(),
    kind: z.enum(FAULT_KINDS),
    /** DynamoDB operations (X-Amz-Target's action), e.g. `TransactWriteItems`. Default: per kind. */
    operations: z.array(z.string().min(1)).optional(),
    /** Chance that a matching request gets the fault. Default 1. */
    probability: z.number().min(0).max(1).optional(),
    /** At most this many injections by this rule. Default unlimited. */
    limit: z.number().int().min(0).optional(),
    /** `latency`: the delay, fixed or drawn uniformly from [min, max]. Default [20, 200]. */
    latencyMs: z
      .union([z.number().min(0), z.tuple([z.number().min(0), z.number().min(0)])])
      .optional(),
    /** `lost-response-hang`: the proxy drops the connection after this long. Default 30 s. */
    hangMs: z.number().int().min(0).optional(),
    /** Only requests whose body contains this text (e.g. an account id). */
    bodyIncludes: z.string().min(1).optional(),
  })
  .strict();
export type FaultRule = z.infer<typeof ruleSchema>;

const planSchema = z.object({ label: z.string().optional(), rules: z.array(ruleSchema) }).strict();
export type FaultPlan = z.infer<typeof planSchema>;

/** Operations a rule applies to when it names none: writes for write faults, anything else for the rest. */
const DEFAULT_OPERATIONS: Record<FaultKind, readonly string[] | 'any'> = {
  conflict: ['TransactWriteItems'],
  throttling: 'any',
  'provisioned-throughput': 'any',
  'server-error': 'any',
  latency: 'any',
  'reset-before': 'any',
  'lost-response': ['TransactWriteItems', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
  'lost-response-hang': ['TransactWriteItems'],
};

export interface FaultEvent {
  at: string;
  kind: FaultKind;
  operation: string;
  /** The rule's id, if it has one. */
  rule?: string;
  /** For lost responses: what DynamoDB had answered (200 = the write committed). */
  upstreamStatus?: number;
}

/** One response the proxy withheld, and what the client did about it. */
export interface LostResponse {
  kind: FaultKind;
  /** DynamoDB's answer that was withheld (200: the write committed). */
  upstreamStatus: number;
  at: string;
  atMs: number;
  /** Requests with the same ClientRequestToken that came afterwards (the SDK's own retries). */
  retries: number;
  /** For hangs: who ended the connection, and when. */
  closedBy?: 'client' | 'proxy';
  closedAfterMs?: number;
}

export interface FaultProxyStats {
  /** Requests received, by DynamoDB operation (`DynamoDBStreams.GetRecords` for stream calls). */
  requests: Record<string, number>;
  injected: Record<FaultKind, number>;
  /** `kind operation` => count. */
  injectedByOperation: Record<string, number>;
  /** Injections by rule id (rules that have one). */
  injectedByRule: Record<string, number>;
  /** Lost responses whose write DynamoDB had committed (status 200). */
  lostAfterCommit: number;
  /** Requests that came back with the ClientRequestToken of a lost response: the SDK retried. */
  retriesAfterLostResponse: number;
  /** Lost-response hangs ended by the client (it gave up, or its process was stopped) or by the proxy. */
  hangsClosedByClient: number;
  hangsClosedByProxy: number;
  /** Requests that could not be sent on (DynamoDB down): their connection was reset. */
  upstreamFailures: number;
}

export interface TracedRequest {
  at: string;
  operation: string;
  /** DynamoDB's status (null: it could not be reached). */
  status: number | null;
  fault: FaultKind | null;
  request: string;
  response: string | null;
}

export interface FaultProxy {
  endpoint: string;
  port: number;
  setPlan(plan: FaultPlan | null): void;
  currentPlan(): FaultPlan | null;
  /** Where requests go. Until one is set, requests wait (up to `noTargetWaitMs`). */
  setTarget(target: string | null): void;
  stats(): FaultProxyStats;
  /** The most recent injections (up to 1,000). */
  events(): FaultEvent[];
  /** Withheld responses of TransactWriteItems, by ClientRequestToken. */
  lostResponses(): Map<string, LostResponse>;
  /** The traced requests (`trace: true`), oldest first. */
  trace(): TracedRequest[];
  resetStats(): void;
  stop(): Promise<void>;
}

export interface StartFaultProxyOptions {
  target?: string;
  port?: number;
  host?: string;
  /** Seed of the proxy's random draws. Default: random. */
  seed?: number;
  /** How long a request waits for a target before its connection is reset. Default 120 s. */
  noTargetWaitMs?: number;
  /** Keep the last 500 requests sent on, with DynamoDB's answers (for debugging). */
  trace?: boolean;
}

export const CONTROL_PREFIX = '/__fault-proxy';
const AMZ_JSON = 'application/x-amz-json-1.0';

/** mulberry32: small, fast, good enough to decide which request gets a fault. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `DynamoDB_20120810.TransactWriteItems` => `TransactWriteItems`; streams keep their prefix. */
export function operationOf(target: string | undefined): string {
  if (target === undefined) return 'unknown';
  const [service, action] = target.split('.');
  if (action === undefined) return target;
  return service?.startsWith('DynamoDBStreams') ? `DynamoDBStreams.${action}` : action;
}

const emptyInjected = (): Record<FaultKind, number> =>
  Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;

const emptyStats = (): FaultProxyStats => ({
  requests: {},
  injected: emptyInjected(),
  injectedByOperation: {},
  injectedByRule: {},
  lostAfterCommit: 0,
  retriesAfterLostResponse: 0,
  hangsClosedByClient: 0,
  hangsClosedByProxy: 0,
  upstreamFailures: 0,
});

/** A DynamoDB error response, as DynamoDB's JSON protocol sends it. */
export function dynamoDbError(
  status: number,
  type: string,
  message: string,
  extra: Record<string, unknown> = {},
): { status: number; headers: Record<string, string>; body: Buffer } {
  const namespace =
    type === 'ThrottlingException'
      ? 'com.amazon.coral.availability'
      : 'com.amazonaws.dynamodb.v20120810';
  // TransactionCanceledException's text is `Message`; the other exceptions' is `message`.
  const messageField = type === 'TransactionCanceledException' ? 'Message' : 'message';
  const body = Buffer.from(
    JSON.stringify({ __type: `${namespace}#${type}`, ...extra, [messageField]: message }),
  );
  return {
    status,
    headers: {
      'content-type': AMZ_JSON,
      'content-length': String(body.length),
      'x-amzn-requestid': randomUUID(),
      'x-amz-crc32': String(zlib.crc32(body)),
    },
    body,
  };
}

/** The cancellation DynamoDB sends when another transaction holds one of the items. */
export function transactionConflict(itemCount: number): ReturnType<typeof dynamoDbError> {
  const count = Math.max(1, itemCount);
  const reasons = Array.from({ length: count }, (_, index) =>
    index === 0
      ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
      : { Code: 'None' },
  );
  return dynamoDbError(
    400,
    'TransactionCanceledException',
    `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    { CancellationReasons: reasons },
  );
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function forwardHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

interface Upstream {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Resets a client connection (RST), so the SDK sees ECONNRESET as from a dropped network path. */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

const THROTTLED = 'Rate of requests exceeds the allowed throughput.';
const OVER_PROVISIONED =
  'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';

/** The DynamoDB error a fault answers in DynamoDB's place (undefined: the fault is no answer). */
function fabricated(kind: FaultKind, body: string): ReturnType<typeof dynamoDbError> | undefined {
  switch (kind) {
    case 'conflict':
      return transactionConflict(transactItemCount(body));
    case 'throttling':
      return dynamoDbError(400, 'ThrottlingException', THROTTLED);
    case 'provisioned-throughput':
      return dynamoDbError(400, 'ProvisionedThroughputExceededException', OVER_PROVISIONED);
    case 'server-error':
      return dynamoDbError(500, 'InternalServerError', 'Internal server error');
    default:
      return undefined;
  }
}

function transactItemCount(body: string): number {
  try {
    return (JSON.parse(body) as { TransactItems?: unknown[] }).TransactItems?.length ?? 1;
  } catch {
    return 1;
  }
}

/** A TransactWriteItems' ClientRequestToken: an SDK retry re-sends the same one. */
function clientRequestToken(operation: string, body: string): string | undefined {
  if (operation !== 'TransactWriteItems') return undefined;
  try {
    const token = (JSON.parse(body) as { ClientRequestToken?: unknown }).ClientRequestToken;
    return typeof token === 'string' ? token : undefined;
  } catch {
    return undefined; // Not JSON: DynamoDB will say so.
  }
}

/** One request as the proxy handles it. */
interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  body: Buffer;
  text: string;
  operation: string;
  token: string | undefined;
}

/** The proxy's plan, target and counters, and what it does with each request. */
class FaultInjector {
  private readonly random: () => number;
  private readonly noTargetWaitMs: number;
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  target: URL | null;
  private targetWaiters: Array<() => void> = [];
  plan: FaultPlan | null = null;
  /** Injections per rule (by id, or by position in the current plan). */
  private used = new Map<string, number>();
  stats = emptyStats();
  events: FaultEvent[] = [];
  /** ClientRequestTokens of lost responses: an SDK retry re-sends the same token. */
  readonly lostTokens = new Map<string, LostResponse>();
  traced: TracedRequest[] | null;

  constructor(options: StartFaultProxyOptions) {
    this.random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.noTargetWaitMs = options.noTargetWaitMs ?? 120_000;
    this.target = options.target ? new URL(options.target) : null;
    this.traced = options.trace === true ? [] : null;
  }

  setPlan(next: FaultPlan | null): void {
    this.plan = next === null ? null : planSchema.parse(next);
    // Named rules keep their count; the others start again.
    this.used = new Map([...this.used].filter(([usage]) => !usage.startsWith('#')));
  }

  setTarget(next: string | null): void {
    this.target = next === null ? null : new URL(next);
    if (this.target !== null) this.wakeWaiters();
  }

  wakeWaiters(): void {
    const waiters = this.targetWaiters;
    this.targetWaiters = [];
    for (const wake of waiters) wake();
  }

  resetStats(): void {
    this.stats = emptyStats();
    this.events = [];
    this.lostTokens.clear();
    if (this.traced !== null) this.traced = [];
  }

  private record(rule: FaultRule, operation: string, upstreamStatus?: number): void {
    const { stats } = this;
    stats.injected[rule.kind] += 1;
    if (rule.id !== undefined)
      stats.injectedByRule[rule.id] = (stats.injectedByRule[rule.id] ?? 0) + 1;
    const key = `${rule.kind} ${operation}`;
    stats.injectedByOperation[key] = (stats.injectedByOperation[key] ?? 0) + 1;
    this.events.push({
      at: new Date().toISOString(),
      kind: rule.kind,
      operation,
      rule: rule.id,
      upstreamStatus,
    });
    if (this.events.length > 1000) this.events = this.events.slice(-1000);
  }

  /** The first rule of the plan that applies to the request and draws it, if any. */
  private pick(operation: string, body: string): FaultRule | null {
    if (this.plan === null) return null;
    for (const [index, rule] of this.plan.rules.entries()) {
      const usage = rule.id ?? `#${index}`;
      const ops = rule.operations ?? DEFAULT_OPERATIONS[rule.kind];
      const dynamoOperation = !operation.startsWith('DynamoDBStreams.');
      const applies =
        ops === 'any' ? dynamoOperation && operation !== 'unknown' : ops.includes(operation);
      if (!applies) continue;
      if (rule.bodyIncludes !== undefined && !body.includes(rule.bodyIncludes)) continue;
      if (rule.limit !== undefined && (this.used.get(usage) ?? 0) >= rule.limit) continue;
      if (this.random() >= (rule.probability ?? 1)) continue;
      this.used.set(usage, (this.used.get(usage) ?? 0) + 1);
      return rule;
    }
    return null;
  }

  private async waitForTarget(): Promise<URL | null> {
    if (this.target !== null) return this.target;
    await Promise.race([
      new Promise<void>((resolve) => this.targetWaiters.push(resolve)),
      sleep(this.noTargetWaitMs),
    ]);
    return this.target;
  }

  /** The request sent on to DynamoDB; null when it cannot be reached. */
  private async sendOn(req: http.IncomingMessage, body: Buffer): Promise<Upstream | null> {
    const to = await this.waitForTarget();
    if (to === null) return null;
    return new Promise((resolve) => {
      const upstream = http.request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req.headers),
          agent: this.agent,
        },
        (response) => {
          readBody(response).then(
            (data) => {
              const headers: http.OutgoingHttpHeaders = forwardHeaders(response.headers);
              headers['content-length'] = String(data.length);
              resolve({ status: response.statusCode ?? 502, headers, body: data });
            },
            () => resolve(null),
          );
        },
      );
      upstream.on('error', () => resolve(null));
      upstream.end(body);
    });
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    if ((req.url ?? '').startsWith(CONTROL_PREFIX)) return control(this, req, res, body);
    const targetHeader = req.headers['x-amz-target'];
    const operation = operationOf(Array.isArray(targetHeader) ? targetHeader[0] : targetHeader);
    this.stats.requests[operation] = (this.stats.requests[operation] ?? 0) + 1;
    const text = body.toString('utf8');
    const exchange = {
      req,
      res,
      body,
      text,
      operation,
      token: clientRequestToken(operation, text),
    };
    this.noteRetryOfLost(exchange.token);
    const rule = this.pick(operation, text);
    if (rule !== null && (await this.injectBefore(rule, exchange))) return;
    const upstream = await this.sendOn(req, body);
    this.trace(exchange, upstream, rule);
    if (upstream === null) {
      this.stats.upstreamFailures += 1;
      return reset(req.socket);
    }
    if (rule?.kind === 'lost-response' || rule?.kind === 'lost-response-hang') {
      return this.withhold(rule, exchange, upstream);
    }
    answer(res, upstream);
  }

  private noteRetryOfLost(token: string | undefined): void {
    const lost = token === undefined ? undefined : this.lostTokens.get(token);
    if (lost === undefined) return;
    this.stats.retriesAfterLostResponse += 1;
    lost.retries += 1;
  }

  /** A fault before DynamoDB: an error in its place, a reset, or a delay. True if answered. */
  private async injectBefore(rule: FaultRule, exchange: Exchange): Promise<boolean> {
    const error = fabricated(rule.kind, exchange.text);
    if (error !== undefined) {
      this.record(rule, exchange.operation);
      answer(exchange.res, error);
      return true;
    }
    if (rule.kind === 'reset-before') {
      this.record(rule, exchange.operation);
      reset(exchange.req.socket);
      return true;
    }
    if (rule.kind === 'latency') {
      const spec = rule.latencyMs ?? [20, 200];
      const [min, max] = typeof spec === 'number' ? [spec, spec] : spec;
      this.record(rule, exchange.operation);
      await sleep(min + this.random() * Math.max(0, max - min));
    }
    return false;
  }

  private trace(exchange: Exchange, upstream: Upstream | null, rule: FaultRule | null): void {
    if (this.traced === null) return;
    this.traced.push({
      at: new Date().toISOString(),
      operation: exchange.operation,
      status: upstream?.status ?? null,
      fault: rule?.kind ?? null,
      request: exchange.text.slice(0, 2000),
      response: upstream?.body.toString('utf8').slice(0, 2000) ?? null,
    });
    if (this.traced.length > 500) this.traced = this.traced.slice(-500);
  }

  /** DynamoDB answered (and maybe committed); the client gets a reset, or nothing at all. */
  private withhold(rule: FaultRule, exchange: Exchange, upstream: Upstream): void {
    this.record(rule, exchange.operation, upstream.status);
    if (upstream.status === 200) this.stats.lostAfterCommit += 1;
    const lost: LostResponse = {
      kind: rule.kind,
      upstreamStatus: upstream.status,
      at: new Date().toISOString(),
      atMs: Date.now(),
      retries: 0,
    };
    if (exchange.token !== undefined) this.lostTokens.set(exchange.token, lost);
    if (rule.kind === 'lost-response') return reset(exchange.req.socket);
    this.hang(exchange.req.socket, lost, rule.hangMs ?? 30_000);
  }

  /** The connection held open without an answer, until the client gives up or hangMs passes. */
  private hang(socket: Socket, lost: LostResponse, hangMs: number): void {
    let closedByProxy = false;
    const timer = setTimeout(() => {
      closedByProxy = true;
      lost.closedBy = 'proxy';
      lost.closedAfterMs = Date.now() - lost.atMs;
      this.stats.hangsClosedByProxy += 1;
      reset(socket);
    }, hangMs);
    socket.once('close', () => {
      clearTimeout(timer);
      if (closedByProxy) return;
      lost.closedBy = 'client';
      lost.closedAfterMs = Date.now() - lost.atMs;
      this.stats.hangsClosedByClient += 1;
    });
  }
}

function answer(
  res: http.ServerResponse,
  reply: { status: number; headers: http.OutgoingHttpHeaders; body: Buffer },
): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}

/** The control API: `GET /stats`, `GET /events`, `GET|PUT /plan`, `PUT /target`. */
async function control(
  proxy: FaultInjector,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer,
): Promise<void> {
  const path = (req.url ?? '').slice(CONTROL_PREFIX.length);
  const send = (status: number, value: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  try {
    if (path === '/stats' && req.method === 'GET') return send(200, proxy.stats);
    if (path === '/events' && req.method === 'GET') return send(200, proxy.events);
    if (path === '/plan' && req.method === 'GET') return send(200, proxy.plan);
    if (path === '/plan' && req.method === 'PUT') {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      proxy.setPlan(parsed === null ? null : planSchema.parse(parsed));
      return send(200, proxy.plan);
    }
    if (path === '/target' && req.method === 'PUT') {
      const parsed = z
        .object({ target: z.url().nullable() })
        .parse(JSON.parse(body.toString('utf8')));
      proxy.setTarget(parsed.target);
      return send(200, { target: proxy.target?.toString() ?? null });
    }
    send(404, { error: 'unknown control route' });
  } catch (error) {
    send(400, { error: error instanceof Error ? error.message : String(error) });
  }
}

export async function startFaultProxy(options: StartFaultProxyOptions = {}): Promise<FaultProxy> {
  const host = options.host ?? '127.0.0.1';
  const proxy = new FaultInjector(options);
  const server = http.createServer((req, res) => {
    proxy.handle(req, res).catch(() => reset(req.socket));
  });
  // Longer than the SDK keeps idle sockets, so the proxy never closes one under a new request.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  server.requestTimeout = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy: no port');
  return {
    endpoint: `http://${host}:${address.port}`,
    port: address.port,
    setPlan: (next) => proxy.setPlan(next),
    currentPlan: () => proxy.plan,
    setTarget: (next) => proxy.setTarget(next),
    stats: () => structuredClone(proxy.stats),
    events: () => [...proxy.events],
    trace: () => [...(proxy.traced ?? [])],
    lostResponses: () =>
      new Map([...proxy.lostTokens].map(([token, lost]) => [token, { ...lost }])),
    resetStats: () => proxy.resetStats(),
    async stop() {
      proxy.wakeWaiters();
      proxy.target = null;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      proxy.agent.destroy();
    },
  };
}

/** Switches the plan of a proxy running elsewhere, over its control API. */
export async function setRemotePlan(endpoint: string, plan: FaultPlan | null): Promise<void> {
  const response = await fetch(`${endpoint}${CONTROL_PREFIX}/plan`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(plan),
  });
  if (!response.ok) throw new Error(`fault proxy refused the plan: ${await response.text()}`);
}

/** The counters of a proxy running elsewhere. */
export async function remoteStats(endpoint: string): Promise<FaultProxyStats> {
  const response = await fetch(`${endpoint}${CONTROL_PREFIX}/stats`);
  if (!response.ok) throw new Error(`fault proxy stats: HTTP ${response.status}`);
  return (await response.json()) as FaultProxyStats;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const targetArg = flag('target');
  if (targetArg === undefined) {
    console.error('usage: fault-proxy.ts --target http://127.0.0.1:8000 [--port N] [--plan JSON]');
    process.exit(2);
  }
  void startFaultProxy({ target: targetArg, port: Number(flag('port') ?? 0) }).then((proxy) => {
    const planArg = flag('plan');
    if (planArg !== undefined) proxy.setPlan(planSchema.parse(JSON.parse(planArg)));
    console.log(`fault proxy on ${proxy.endpoint} -> ${targetArg}`);
    console.log(
      `switch faults: curl -X PUT ${proxy.endpoint}${CONTROL_PREFIX}/plan -d '{"rules":[{"kind":"conflict","probability":0.2}]}'`,
    );
    const stop = (): void => void proxy.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
