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

export async function startFaultProxy(options: StartFaultProxyOptions = {}): Promise<FaultProxy> {
  const host = options.host ?? '127.0.0.1';
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const noTargetWaitMs = options.noTargetWaitMs ?? 120_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  let target: URL | null = options.target ? new URL(options.target) : null;
  let targetWaiters: Array<() => void> = [];
  let plan: FaultPlan | null = null;
  /** Injections per rule (by id, or by position in the current plan). */
  let used = new Map<string, number>();
  let stats = emptyStats();
  let events: FaultEvent[] = [];
  /** ClientRequestTokens of lost responses: an SDK retry re-sends the same token. */
  const lostTokens = new Map<string, LostResponse>();
  const hanging = new Set<Socket>();
  let traced: TracedRequest[] | null = options.trace === true ? [] : null;

  const lostResponse = (kind: FaultKind, upstreamStatus: number): LostResponse => ({
    kind,
    upstreamStatus,
    at: new Date().toISOString(),
    atMs: Date.now(),
    retries: 0,
  });

  const record = (rule: FaultRule, operation: string, upstreamStatus?: number): void => {
    const kind = rule.kind;
    stats.injected[kind] += 1;
    if (rule.id !== undefined)
      stats.injectedByRule[rule.id] = (stats.injectedByRule[rule.id] ?? 0) + 1;
    const key = `${kind} ${operation}`;
    stats.injectedByOperation[key] = (stats.injectedByOperation[key] ?? 0) + 1;
    events.push({ at: new Date().toISOString(), kind, operation, rule: rule.id, upstreamStatus });
    if (events.length > 1000) events = events.slice(-1000);
  };

  const pick = (operation: string, body: string): FaultRule | null => {
    if (plan === null) return null;
    for (const [index, rule] of plan.rules.entries()) {
      const usage = rule.id ?? `#${index}`;
      const ops = rule.operations ?? DEFAULT_OPERATIONS[rule.kind];
      const dynamoOperation = !operation.startsWith('DynamoDBStreams.');
      const applies =
        ops === 'any' ? dynamoOperation && operation !== 'unknown' : ops.includes(operation);
      if (!applies) continue;
      if (rule.bodyIncludes !== undefined && !body.includes(rule.bodyIncludes)) continue;
      if (rule.limit !== undefined && (used.get(usage) ?? 0) >= rule.limit) continue;
      if (random() >= (rule.probability ?? 1)) continue;
      used.set(usage, (used.get(usage) ?? 0) + 1);
      return rule;
    }
    return null;
  };

  const waitForTarget = async (): Promise<URL | null> => {
    if (target !== null) return target;
    await Promise.race([
      new Promise<void>((resolve) => targetWaiters.push(resolve)),
      sleep(noTargetWaitMs),
    ]);
    return target;
  };

  const sendOn = async (req: http.IncomingMessage, body: Buffer): Promise<Upstream | null> => {
    const to = await waitForTarget();
    if (to === null) return null;
    return new Promise((resolve) => {
      const upstream = http.request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req.headers),
          agent,
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
  };

  const answer = (
    res: http.ServerResponse,
    reply: { status: number; headers: http.OutgoingHttpHeaders; body: Buffer },
  ): void => {
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  };

  const control = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
  ): Promise<void> => {
    const path = (req.url ?? '').slice(CONTROL_PREFIX.length);
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    try {
      if (path === '/stats' && req.method === 'GET') return send(200, stats);
      if (path === '/events' && req.method === 'GET') return send(200, events);
      if (path === '/plan' && req.method === 'GET') return send(200, plan);
      if (path === '/plan' && req.method === 'PUT') {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        proxy.setPlan(parsed === null ? null : planSchema.parse(parsed));
        return send(200, plan);
      }
      if (path === '/target' && req.method === 'PUT') {
        const parsed = z
          .object({ target: z.url().nullable() })
          .parse(JSON.parse(body.toString('utf8')));
        proxy.setTarget(parsed.target);
        return send(200, { target: target?.toString() ?? null });
      }
      send(404, { error: 'unknown control route' });
    } catch (error) {
      send(400, { error: error instanceof Error ? error.message : String(error) });
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const body = await readBody(req);
    if ((req.url ?? '').startsWith(CONTROL_PREFIX)) return control(req, res, body);
    const targetHeader = req.headers['x-amz-target'];
    const operation = operationOf(Array.isArray(targetHeader) ? targetHeader[0] : targetHeader);
    stats.requests[operation] = (stats.requests[operation] ?? 0) + 1;
    const text = body.toString('utf8');

    let token: string | undefined;
    if (operation === 'TransactWriteItems') {
      try {
        const parsed = JSON.parse(text) as { ClientRequestToken?: unknown };
        if (typeof parsed.ClientRequestToken === 'string') token = parsed.ClientRequestToken;
      } catch {
        // Not JSON: DynamoDB will say so.
      }
      const lost = token === undefined ? undefined : lostTokens.get(token);
      if (lost !== undefined) {
        stats.retriesAfterLostResponse += 1;
        lost.retries += 1;
      }
    }

    const rule = pick(operation, text);
    const socket = req.socket;
    switch (rule?.kind) {
      case 'conflict': {
        let items = 1;
        try {
          const parsed = JSON.parse(text) as { TransactItems?: unknown[] };
          items = parsed.TransactItems?.length ?? 1;
        } catch {
          // keep 1
        }
        record(rule, operation);
        return answer(res, transactionConflict(items));
      }
      case 'throttling':
        record(rule, operation);
        return answer(
          res,
          dynamoDbError(
            400,
            'ThrottlingException',
            'Rate of requests exceeds the allowed throughput.',
          ),
        );
      case 'provisioned-throughput':
        record(rule, operation);
        return answer(
          res,
          dynamoDbError(
            400,
            'ProvisionedThroughputExceededException',
            'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
          ),
        );
      case 'server-error':
        record(rule, operation);
        return answer(res, dynamoDbError(500, 'InternalServerError', 'Internal server error'));
      case 'reset-before':
        record(rule, operation);
        return reset(socket);
      case 'latency': {
        const spec = rule.latencyMs ?? [20, 200];
        const [min, max] = typeof spec === 'number' ? [spec, spec] : spec;
        record(rule, operation);
        await sleep(min + random() * Math.max(0, max - min));
        break;
      }
      default:
        break;
    }

    const upstream = await sendOn(req, body);
    if (traced !== null) {
      traced.push({
        at: new Date().toISOString(),
        operation,
        status: upstream?.status ?? null,
        fault: rule?.kind ?? null,
        request: text.slice(0, 2000),
        response: upstream?.body.toString('utf8').slice(0, 2000) ?? null,
      });
      if (traced.length > 500) traced = traced.slice(-500);
    }
    if (upstream === null) {
      stats.upstreamFailures += 1;
      return reset(socket);
    }
    if (rule?.kind === 'lost-response') {
      record(rule, operation, upstream.status);
      if (upstream.status === 200) stats.lostAfterCommit += 1;
      if (token !== undefined)
        lostTokens.set(token, lostResponse('lost-response', upstream.status));
      return reset(socket);
    }
    if (rule?.kind === 'lost-response-hang') {
      record(rule, operation, upstream.status);
      if (upstream.status === 200) stats.lostAfterCommit += 1;
      const lost = lostResponse('lost-response-hang', upstream.status);
      if (token !== undefined) lostTokens.set(token, lost);
      hanging.add(socket);
      let closedByProxy = false;
      const timer = setTimeout(() => {
        closedByProxy = true;
        lost.closedBy = 'proxy';
        lost.closedAfterMs = Date.now() - lost.atMs;
        stats.hangsClosedByProxy += 1;
        reset(socket);
      }, rule.hangMs ?? 30_000);
      socket.once('close', () => {
        clearTimeout(timer);
        hanging.delete(socket);
        if (closedByProxy) return;
        lost.closedBy = 'client';
        lost.closedAfterMs = Date.now() - lost.atMs;
        stats.hangsClosedByClient += 1;
      });
      return;
    }
    answer(res, upstream);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => reset(req.socket));
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
  const port = address.port;

  const proxy: FaultProxy = {
    endpoint: `http://${host}:${port}`,
    port,
    setPlan(next) {
      plan = next === null ? null : planSchema.parse(next);
      // Named rules keep their count; the others start again.
      used = new Map([...used].filter(([usage]) => !usage.startsWith('#')));
    },
    currentPlan: () => plan,
    setTarget(next) {
      target = next === null ? null : new URL(next);
      if (target !== null) {
        const waiters = targetWaiters;
        targetWaiters = [];
        for (const wake of waiters) wake();
      }
    },
    stats: () => structuredClone(stats),
    events: () => [...events],
    trace: () => [...(traced ?? [])],
    lostResponses: () => new Map([...lostTokens].map(([token, lost]) => [token, { ...lost }])),
    resetStats() {
      stats = emptyStats();
      events = [];
      lostTokens.clear();
      if (traced !== null) traced = [];
    },
    async stop() {
      for (const wake of targetWaiters) wake();
      targetWaiters = [];
      target = null;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      agent.destroy();
    },
  };
  return proxy;
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
