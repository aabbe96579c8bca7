/**
 * A simulated payout gateway (dev and tests only), speaking the wire protocol documented in
 * `lib/payouts/gateway.ts`. Each destination has a mode that decides what happens to a new payout:
 *
 * - `succeed` (default): after a random delay in [delayMs.min, delayMs.max], SUCCEEDED;
 * - `refuse`: REFUSED at once (`destination_refused`), nothing sent;
 * - `timeout`: SUCCEEDED at once (the money IS sent), but the first request gets no answer for a
 *   minute (or until `close()`); a later request with the key answers SUCCEEDED at once;
 * - `lose`: SUCCEEDED, then the connection is destroyed without an answer; later requests with
 *   the key answer SUCCEEDED;
 * - `unavailable`: 503 and nothing recorded, for every request naming the destination (a repeated
 *   send and a cancel of a known key included);
 * - `return`: paid as `succeed` (SUCCEEDED after its delay), then, after a further random delay in
 *   [returnDelayMs.min, returnDelayMs.max], reported as returned (`account_closed`) in the returns
 *   feed. The payout's own answers stay SUCCEEDED: it was paid; the money came back later.
 *
 * One record per idempotency key: a repeated send with the same body answers the first outcome
 * (`requests` counts them, `executions` — money actually sent — stays 0 or 1); another body gets
 * 409. A payout waiting out its `succeed` delay is `PENDING` (never written to the state file:
 * nothing was sent yet); a cancel then stops it. A cancel of an unknown key leaves a CANCELLED
 * tombstone, so a later send with that key answers REFUSED `cancelled`.
 *
 * The returns feed, `GET /v1/returns?limit=<1-100>&after=<cursor>` (the protocol in
 * `lib/payouts/gateway.ts`), lists the returned payouts in the order they came back; a cursor is
 * `<epoch>.<position>`, and one of another epoch (the state was reset since) reads from the first.
 * A return enters the feed when it is first asked for after its delay (the feed, or the control
 * API's payout reads): no timer, so a restart loses none.
 *
 * Control API, on the same port:
 *   PUT  /_control/destinations/{destination}  {"mode":"succeed|refuse|timeout|lose|unavailable|return"} → 204
 *   GET  /_control/payouts                     → 200 [record, …] (oldest first)
 *   GET  /_control/payouts/{key}               → 200 record | 404
 *   POST /_control/reset                       → 204 (forgets every payout, return and mode)
 *   GET  /health                               → 200 {"status":"ok"}
 *
 * Run alone: `node scripts/run.js local/payout-gateway.ts [--port 8300] [--state-file F]`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

export const DESTINATION_MODES = [
  'succeed',
  'refuse',
  'timeout',
  'lose',
  'unavailable',
  'return',
] as const;
export type DestinationMode = (typeof DESTINATION_MODES)[number];

export interface SimulatedPayout {
  idempotencyKey: string;
  /** null only for a tombstone: a cancel of a key the gateway had never seen. */
  amount: number | null;
  currency: string | null;
  destination: string | null;
  status: 'PENDING' | 'SUCCEEDED' | 'REFUSED' | 'CANCELLED';
  reference?: string;
  reason?: string;
  /** How many sends (POST /v1/payouts) named this key. */
  requests: number;
  /** How many times the money was actually sent: 0 or 1, never more. */
  executions: number;
  createdAt: string;
  /** `return` mode: when the paid money comes back (set when it is paid). */
  returnDueAt?: string;
  /** Once in the returns feed: its position there, when and why it came back. */
  returned?: { sequence: number; returnedAt: string; reason: string };
}

export interface SimulatedGateway {
  /** e.g. `http://127.0.0.1:41234`, no trailing slash. */
  url: string;
  port: number;
  /** Stops listening and destroys open connections (held `timeout` answers included). */
  close(): Promise<void>;
  setMode(destination: string, mode: DestinationMode): void;
  /** Copies of every record, oldest first. */
  payouts(): SimulatedPayout[];
  /** Forgets every payout and every destination's mode. */
  reset(): void;
}

export interface SimulatedGatewayOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The `succeed` mode's delay, drawn uniformly. Default {min: 500, max: 1500}. */
  delayMs?: { min: number; max: number };
  /** The `return` mode's delay from paid to returned, drawn uniformly. Default {min: 1000, max: 2000}. */
  returnDelayMs?: { min: number; max: number };
  /** If set: loaded at start, written (synchronously, via tmp + rename) after each change. */
  stateFile?: string;
  /** How long a `timeout` destination holds its first answer. Default 60 s. */
  holdMs?: number;
  /** One line per payout request; nothing is logged without it. */
  log?: (line: string) => void;
}

const MAX_BODY_BYTES = 64 * 1024;
/** Why a `return` destination sends the money back. */
export const RETURN_REASON = 'account_closed';
const RETURNS_PAGE_MAX = 100;

const payoutBodySchema = z
  .object({
    amount: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    currency: z.string().min(1),
    destination: z.string().min(1),
  })
  .strict();
type PayoutBody = z.infer<typeof payoutBodySchema>;

const modeBodySchema = z.object({ mode: z.enum(DESTINATION_MODES) }).strict();

const recordSchema = z.object({
  idempotencyKey: z.string().min(1),
  amount: z.number().int().nullable(),
  currency: z.string().nullable(),
  destination: z.string().nullable(),
  status: z.enum(['SUCCEEDED', 'REFUSED', 'CANCELLED']),
  reference: z.string().optional(),
  reason: z.string().optional(),
  requests: z.number().int().min(0),
  executions: z.number().int().min(0).max(1),
  createdAt: z.string(),
  returnDueAt: z.string().optional(),
  returned: z
    .object({ sequence: z.number().int().min(1), returnedAt: z.string(), reason: z.string() })
    .optional(),
});
const stateSchema = z.object({
  version: z.literal(1),
  payouts: z.array(recordSchema),
  modes: z.record(z.string(), z.enum(DESTINATION_MODES)),
  /** Absent in files written before the returns feed: a new epoch is drawn. */
  returnsEpoch: z.string().optional(),
});
type StateFile = z.infer<typeof stateSchema>;

type Outcome =
  | { status: 'SUCCEEDED'; reference: string }
  | { status: 'REFUSED'; reason: string }
  | { status: 'CANCELLED' };

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message?: string,
  ) {
    super(message ?? code);
  }
}

/** The gateway's records and destinations' modes, and what it does with each request. */
class Gateway {
  readonly records = new Map<string, SimulatedPayout>();
  private readonly modes = new Map<string, DestinationMode>();
  /** Resolves when a PENDING payout settles (concurrent sends with its key wait on it). */
  private readonly settling = new Map<string, Promise<void>>();
  /** Timers still to fire (the `succeed` delays, held `timeout` answers), cleared at close. */
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly delay: { min: number; max: number };
  private readonly returnDelay: { min: number; max: number };
  private readonly holdMs: number;
  /** Names this state's returns feed: a cursor of another epoch reads from the first. */
  private returnsEpoch: string = randomUUID();
  /** The last position given in the returns feed. */
  private returnSequence = 0;
  readonly log: (line: string) => void;

  constructor(private readonly options: SimulatedGatewayOptions) {
    this.delay = checkedRange('delayMs', options.delayMs ?? { min: 500, max: 1500 });
    this.returnDelay = checkedRange(
      'returnDelayMs',
      options.returnDelayMs ?? { min: 1000, max: 2000 },
    );
    this.holdMs = options.holdMs ?? 60_000;
    this.log = options.log ?? (() => undefined);
    if (options.stateFile !== undefined) {
      const state = loadState(options.stateFile);
      for (const record of state.payouts) this.records.set(record.idempotencyKey, record);
      for (const [destination, mode] of Object.entries(state.modes))
        this.modes.set(destination, mode);
      this.returnsEpoch = state.returnsEpoch ?? this.returnsEpoch;
      this.returnSequence = Math.max(0, ...state.payouts.map((p) => p.returned?.sequence ?? 0));
    }
  }

  private persist(): void {
    if (this.options.stateFile === undefined) return;
    const state: StateFile = {
      version: 1,
      payouts: [...this.records.values()].filter(isSettled),
      modes: Object.fromEntries(this.modes),
      returnsEpoch: this.returnsEpoch,
    };
    writeAtomically(this.options.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }

  private modeOf(destination: string | null): DestinationMode {
    return (destination === null ? undefined : this.modes.get(destination)) ?? 'succeed';
  }

  /** Runs `then` after `ms`, unless the gateway closes first. */
  private after(ms: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      then();
    }, ms);
    this.timers.add(timer);
  }

  /** POST /v1/payouts: a repeat answers the first outcome; a new key follows its mode. */
  async send(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): Promise<void> {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
      throw new HttpError(400, 'invalid_request', 'Idempotency-Key header is required');
    }
    const parsed = parseJson(rawBody);
    const existing = this.records.get(key);
    if (existing !== undefined) return this.repeat(res, existing, parsed);
    const result = payoutBodySchema.safeParse(parsed);
    if (!result.success) {
      throw new HttpError(400, 'invalid_request', z.prettifyError(result.error));
    }
    const body = result.data;
    const mode = this.modeOf(body.destination);
    if (mode === 'unavailable') throw new HttpError(503, 'unavailable');
    const record = newRecord(key, body);
    record.requests = 1;
    this.records.set(key, record);
    this.log(`payout ${key}: ${body.amount} ${body.currency} to ${body.destination} (${mode})`);
    if (mode === 'refuse') this.refuse(res, record);
    else if (mode === 'timeout') this.holdAnswer(res, record);
    else if (mode === 'lose') this.loseAnswer(req, record);
    else await this.succeedLater(res, record, mode === 'return');
  }

  /**
   * A key the gateway knows never gets a 400: only the first outcome, or a reused-key 409. A
   * tombstone (cancelled before any send) has no body to compare: it refuses any.
   */
  private async repeat(res: http.ServerResponse, existing: SimulatedPayout, body: unknown) {
    const sameBody = existing.amount === null || isSameBody(existing, body);
    if (!sameBody) throw new HttpError(409, 'idempotency_key_reused');
    if (this.modeOf(existing.destination) === 'unavailable') {
      throw new HttpError(503, 'unavailable');
    }
    existing.requests += 1;
    this.persist();
    await this.settling.get(existing.idempotencyKey);
    const answer = sendAnswer(existing);
    this.log(`payout ${existing.idempotencyKey}: repeat #${existing.requests} -> ${answer.status}`);
    sendJson(res, 200, answer);
  }

  private refuse(res: http.ServerResponse, record: SimulatedPayout): void {
    record.status = 'REFUSED';
    record.reason = 'destination_refused';
    this.persist();
    sendJson(res, 200, sendAnswer(record));
  }

  /** `timeout`: the money is sent, the answer held for holdMs (or until close). */
  private holdAnswer(res: http.ServerResponse, record: SimulatedPayout): void {
    succeed(record);
    this.persist();
    this.after(this.holdMs, () => sendJson(res, 200, sendAnswer(record)));
  }

  /** `lose`: the money is sent, the connection dropped without an answer. */
  private loseAnswer(req: http.IncomingMessage, record: SimulatedPayout): void {
    succeed(record);
    this.persist();
    req.socket.destroy();
  }

  /**
   * `succeed`: PENDING for a random delay, then SUCCEEDED unless cancelled (or reset) first.
   * `return` as well, and the paid money is due back a random delay later.
   */
  private async succeedLater(
    res: http.ServerResponse,
    record: SimulatedPayout,
    returns = false,
  ): Promise<void> {
    const key = record.idempotencyKey;
    const settled = new Promise<void>((resolve) => this.after(drawMs(this.delay), resolve)).then(
      () => this.settle(record, returns),
    );
    this.settling.set(key, settled);
    await settled;
    const answer = sendAnswer(record);
    this.log(`payout ${key}: -> ${answer.status}`);
    sendJson(res, 200, answer);
  }

  /** The end of a `succeed` (or `return`) delay: paid, unless cancelled or reset meanwhile. */
  private settle(record: SimulatedPayout, returns: boolean): void {
    const key = record.idempotencyKey;
    if (record.status === 'PENDING' && this.records.get(key) !== record) {
      record.status = 'CANCELLED';
    } else if (record.status === 'PENDING') {
      succeed(record);
      if (returns) {
        record.returnDueAt = new Date(Date.now() + drawMs(this.returnDelay)).toISOString();
      }
    }
    this.settling.delete(key);
    this.persist();
  }

  /** POST /v1/payouts/{key}/cancel: stops a PENDING payout; an unknown key leaves a tombstone. */
  cancel(res: http.ServerResponse, key: string): void {
    const record = this.records.get(key);
    if (record === undefined) {
      const tombstone = newRecord(key, null);
      tombstone.status = 'CANCELLED';
      this.records.set(key, tombstone);
      this.persist();
      this.log(`cancel ${key}: unknown key -> CANCELLED`);
      sendJson(res, 200, { status: 'CANCELLED' });
      return;
    }
    if (this.modeOf(record.destination) === 'unavailable') throw new HttpError(503, 'unavailable');
    if (record.status === 'PENDING') {
      record.status = 'CANCELLED';
      this.persist();
    }
    const answer: Outcome =
      record.status === 'CANCELLED' ? { status: 'CANCELLED' } : sendAnswer(record);
    this.log(`cancel ${key}: -> ${answer.status}`);
    sendJson(res, 200, answer);
  }

  setMode(destination: string, mode: DestinationMode): void {
    if (mode === 'succeed') this.modes.delete(destination);
    else this.modes.set(destination, mode);
    this.persist();
    this.log(`destination ${destination}: ${mode}`);
  }

  /** GET /v1/returns: the returns after the cursor, oldest first, and the cursor past them. */
  returnsFeed(res: http.ServerResponse, query: URLSearchParams): void {
    const limit = pageLimitOf(query.get('limit'));
    this.reportDueReturns();
    const after = this.positionOf(query.get('after'));
    const page = [...this.records.values()]
      .filter((record) => (record.returned?.sequence ?? 0) > after)
      .sort((a, b) => (a.returned?.sequence ?? 0) - (b.returned?.sequence ?? 0))
      .slice(0, limit);
    const last = page.at(-1)?.returned?.sequence ?? after;
    sendJson(res, 200, { returns: page.map(feedEntryOf), next: `${this.returnsEpoch}.${last}` });
  }

  /** A cursor's position; another epoch's (the state was reset since), or none, reads from the first. */
  private positionOf(cursor: string | null): number {
    const match = /^([^.]+)\.(\d+)$/.exec(cursor ?? '');
    return match !== null && match[1] === this.returnsEpoch ? Number(match[2]) : 0;
  }

  /** `return` payouts whose delay is over enter the feed, in the order they came back. */
  reportDueReturns(): void {
    const now = new Date().toISOString();
    const due = [...this.records.values()]
      .filter((record) => record.returned === undefined && (record.returnDueAt ?? now) < now)
      .sort((a, b) => (a.returnDueAt ?? '').localeCompare(b.returnDueAt ?? ''));
    for (const record of due) {
      this.returnSequence += 1;
      record.returned = {
        sequence: this.returnSequence,
        returnedAt: record.returnDueAt ?? now,
        reason: RETURN_REASON,
      };
      this.log(`payout ${record.idempotencyKey}: returned (${RETURN_REASON})`);
    }
    if (due.length > 0) this.persist();
  }

  payouts(): SimulatedPayout[] {
    this.reportDueReturns();
    return [...this.records.values()].map((record) => ({ ...record }));
  }

  reset(): void {
    this.records.clear();
    this.modes.clear();
    this.returnsEpoch = randomUUID();
    this.returnSequence = 0;
    this.persist();
    this.log('reset');
  }

  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

function newRecord(key: string, body: PayoutBody | null): SimulatedPayout {
  return {
    idempotencyKey: key,
    amount: body?.amount ?? null,
    currency: body?.currency ?? null,
    destination: body?.destination ?? null,
    status: 'PENDING',
    requests: 0,
    executions: 0,
    createdAt: new Date().toISOString(),
  };
}

function checkedRange(name: string, range: { min: number; max: number }) {
  if (!(range.min >= 0 && range.max >= range.min))
    throw new TypeError(`${name} needs 0 <= min <= max`);
  return range;
}

const drawMs = (range: { min: number; max: number }): number =>
  range.min + Math.random() * (range.max - range.min);

function pageLimitOf(value: string | null): number {
  const limit = value === null ? RETURNS_PAGE_MAX : Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > RETURNS_PAGE_MAX) {
    throw new HttpError(
      400,
      'invalid_request',
      `limit must be an integer from 1 to ${RETURNS_PAGE_MAX}`,
    );
  }
  return limit;
}

/** A returned payout as the feed reports it. */
function feedEntryOf(record: SimulatedPayout) {
  return {
    idempotencyKey: record.idempotencyKey,
    ...(record.reference !== undefined ? { reference: record.reference } : {}),
    returnedAt: record.returned?.returnedAt,
    reason: record.returned?.reason,
  };
}

function succeed(record: SimulatedPayout): void {
  record.status = 'SUCCEEDED';
  record.reference = `sim_${randomUUID()}`;
  record.executions = 1;
}

/** What a send answers for a settled record. */
function sendAnswer(record: SimulatedPayout): Outcome {
  switch (record.status) {
    case 'SUCCEEDED':
      return { status: 'SUCCEEDED', reference: record.reference ?? '' };
    case 'REFUSED':
      return { status: 'REFUSED', reason: record.reason ?? 'refused' };
    default:
      return { status: 'REFUSED', reason: 'cancelled' };
  }
}

/** A request's method and decoded path segments. */
interface Request {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  method: string;
  segments: string[];
  query: URLSearchParams;
  body: string;
}

function only(request: Request, expected: string): void {
  if (request.method !== expected) throw new HttpError(405, 'method_not_allowed');
}

/** /v1/payouts and /v1/payouts/{key}/cancel: the protocol lib/payouts/gateway.ts speaks. */
async function routePayouts(gateway: Gateway, request: Request): Promise<void> {
  const [, , key, action, ...rest] = request.segments;
  if (rest.length > 0) throw new HttpError(404, 'not_found');
  if (key === undefined) {
    only(request, 'POST');
    await gateway.send(request.req, request.res, request.body);
  } else if (action === 'cancel') {
    only(request, 'POST');
    gateway.cancel(request.res, key);
  } else {
    throw new HttpError(404, 'not_found');
  }
}

/** /_control/...: the tests' and the bank run's handle on the simulation. */
function routeControl(gateway: Gateway, request: Request): void {
  const { res } = request;
  const [, what, name, ...rest] = request.segments;
  if (rest.length > 0) throw new HttpError(404, 'not_found');
  if (what === 'destinations' && name !== undefined) {
    only(request, 'PUT');
    const result = modeBodySchema.safeParse(parseJson(request.body));
    if (!result.success) {
      throw new HttpError(400, 'invalid_request', z.prettifyError(result.error));
    }
    gateway.setMode(name, result.data.mode);
    sendEmpty(res, 204);
  } else if (what === 'payouts' && name === undefined) {
    only(request, 'GET');
    sendJson(res, 200, gateway.payouts());
  } else if (what === 'payouts' && name !== undefined) {
    only(request, 'GET');
    gateway.reportDueReturns();
    const record = gateway.records.get(name);
    if (record === undefined) throw new HttpError(404, 'not_found');
    sendJson(res, 200, { ...record });
  } else if (what === 'reset' && name === undefined) {
    only(request, 'POST');
    gateway.reset();
    sendEmpty(res, 204);
  } else {
    throw new HttpError(404, 'not_found');
  }
}

async function route(
  gateway: Gateway,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://gateway.invalid');
  let segments: string[];
  try {
    segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, 'invalid_path');
  }
  const request: Request = {
    req,
    res,
    method: req.method ?? 'GET',
    segments,
    query: url.searchParams,
    body: await readBody(req),
  };
  const [first, second] = segments;
  if (first === 'health' && second === undefined) {
    only(request, 'GET');
    sendJson(res, 200, { status: 'ok' });
  } else if (first === 'v1' && second === 'payouts') {
    await routePayouts(gateway, request);
  } else if (first === 'v1' && second === 'returns' && segments.length === 2) {
    only(request, 'GET');
    gateway.returnsFeed(res, request.query);
  } else if (first === '_control') {
    routeControl(gateway, request);
  } else {
    throw new HttpError(404, 'not_found');
  }
}

function answerError(gateway: Gateway, res: http.ServerResponse, error: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (error instanceof HttpError) {
    sendJson(res, error.status, { error: error.code, message: error.message });
  } else {
    gateway.log(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    sendJson(res, 500, { error: 'internal_error' });
  }
}

export async function startSimulatedGateway(
  options: SimulatedGatewayOptions = {},
): Promise<SimulatedGateway> {
  const gateway = new Gateway(options);
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    route(gateway, req, res).catch((error: unknown) => answerError(gateway, res, error));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('simulated payout gateway: no TCP address');
  }
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed = false;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    setMode: (destination, mode) => gateway.setMode(destination, mode),
    payouts: () => gateway.payouts(),
    reset: () => gateway.reset(),
    close: async () => {
      if (closed) return;
      closed = true;
      gateway.clearTimers();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}

function isSettled(
  record: SimulatedPayout,
): record is SimulatedPayout & { status: Exclude<SimulatedPayout['status'], 'PENDING'> } {
  return record.status !== 'PENDING';
}

function isSameBody(record: SimulatedPayout, body: unknown): boolean {
  const result = payoutBodySchema.safeParse(body);
  return (
    result.success &&
    result.data.amount === record.amount &&
    result.data.currency === record.currency &&
    result.data.destination === record.destination
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'body_too_large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function sendEmpty(res: http.ServerResponse, status: number): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status);
  res.end();
}

function loadState(file: string): StateFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { version: 1, payouts: [], modes: {} };
    }
    throw error;
  }
  const result = stateSchema.safeParse(parseJson(text));
  if (!result.success) {
    throw new Error(`simulated payout gateway: unreadable state file ${file}`, {
      cause: result.error,
    });
  }
  return result.data;
}

function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? args[index + 1] : undefined;
  };
  void startSimulatedGateway({
    port: Number(flag('port') ?? 0),
    stateFile: flag('state-file'),
    log: (line) => console.log(`[payout-gateway] ${line}`),
  }).then((gateway) => {
    console.log(`simulated payout gateway on ${gateway.url}`);
    const stop = () => void gateway.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
