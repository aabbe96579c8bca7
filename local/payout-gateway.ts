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
 *   send and a cancel of a known key included).
 *
 * One record per idempotency key: a repeated send with the same body answers the first outcome
 * (`requests` counts them, `executions` — money actually sent — stays 0 or 1); another body gets
 * 409. A payout waiting out its `succeed` delay is `PENDING` (never written to the state file:
 * nothing was sent yet); a cancel then stops it. A cancel of an unknown key leaves a CANCELLED
 * tombstone, so a later send with that key answers REFUSED `cancelled`.
 *
 * Control API, on the same port:
 *   PUT  /_control/destinations/{destination}  {"mode":"succeed|refuse|timeout|lose|unavailable"} → 204
 *   GET  /_control/payouts                     → 200 [record, …] (oldest first)
 *   GET  /_control/payouts/{key}               → 200 record | 404
 *   POST /_control/reset                       → 204 (forgets every payout and every mode)
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

export const DESTINATION_MODES = ['succeed', 'refuse', 'timeout', 'lose', 'unavailable'] as const;
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
  /** If set: loaded at start, written (synchronously, via tmp + rename) after each change. */
  stateFile?: string;
  /** How long a `timeout` destination holds its first answer. Default 60 s. */
  holdMs?: number;
  /** One line per payout request; nothing is logged without it. */
  log?: (line: string) => void;
}

const MAX_BODY_BYTES = 64 * 1024;

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
});
const stateSchema = z.object({
  version: z.literal(1),
  payouts: z.array(recordSchema),
  modes: z.record(z.string(), z.enum(DESTINATION_MODES)),
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

export async function startSimulatedGateway(
  options: SimulatedGatewayOptions = {},
): Promise<SimulatedGateway> {
  const host = options.host ?? '127.0.0.1';
  const delay = options.delayMs ?? { min: 500, max: 1500 };
  if (!(delay.min >= 0 && delay.max >= delay.min)) {
    throw new TypeError('delayMs needs 0 <= min <= max');
  }
  const holdMs = options.holdMs ?? 60_000;
  const log = options.log ?? (() => undefined);
  const stateFile = options.stateFile;

  const records = new Map<string, SimulatedPayout>();
  const modes = new Map<string, DestinationMode>();
  /** Resolves when a PENDING payout settles (concurrent sends with its key wait on it). */
  const settling = new Map<string, Promise<void>>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  if (stateFile !== undefined) {
    const state = loadState(stateFile);
    for (const record of state.payouts) records.set(record.idempotencyKey, record);
    for (const [destination, mode] of Object.entries(state.modes)) modes.set(destination, mode);
  }

  const persist = (): void => {
    if (stateFile === undefined) return;
    const state: StateFile = {
      version: 1,
      payouts: [...records.values()].filter(isSettled),
      modes: Object.fromEntries(modes),
    };
    writeAtomically(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  };

  const modeOf = (destination: string | null): DestinationMode =>
    (destination === null ? undefined : modes.get(destination)) ?? 'succeed';

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const newRecord = (key: string, body: PayoutBody | null): SimulatedPayout => ({
    idempotencyKey: key,
    amount: body?.amount ?? null,
    currency: body?.currency ?? null,
    destination: body?.destination ?? null,
    status: 'PENDING',
    requests: 0,
    executions: 0,
    createdAt: new Date().toISOString(),
  });

  const succeed = (record: SimulatedPayout): void => {
    record.status = 'SUCCEEDED';
    record.reference = `sim_${randomUUID()}`;
    record.executions = 1;
  };

  /** What a send answers for a settled record. */
  const sendAnswer = (record: SimulatedPayout): Outcome => {
    switch (record.status) {
      case 'SUCCEEDED':
        return { status: 'SUCCEEDED', reference: record.reference ?? '' };
      case 'REFUSED':
        return { status: 'REFUSED', reason: record.reason ?? 'refused' };
      default:
        return { status: 'REFUSED', reason: 'cancelled' };
    }
  };

  const handleSend = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rawBody: string,
  ): Promise<void> => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
      throw new HttpError(400, 'invalid_request', 'Idempotency-Key header is required');
    }
    const parsed = parseJson(rawBody);
    const existing = records.get(key);

    if (existing !== undefined) {
      // A key the gateway knows never gets a 400: only the first outcome, or a reused-key 409.
      // A tombstone (cancelled before any send) has no body to compare: it refuses any.
      const sameBody = existing.amount === null || isSameBody(existing, parsed);
      if (!sameBody) throw new HttpError(409, 'idempotency_key_reused');
      if (modeOf(existing.destination) === 'unavailable') {
        throw new HttpError(503, 'unavailable');
      }
      existing.requests += 1;
      persist();
      await settling.get(key);
      const answer = sendAnswer(existing);
      log(`payout ${key}: repeat #${existing.requests} -> ${answer.status}`);
      sendJson(res, 200, answer);
      return;
    }

    const result = payoutBodySchema.safeParse(parsed);
    if (!result.success) {
      throw new HttpError(400, 'invalid_request', z.prettifyError(result.error));
    }
    const body = result.data;
    const mode = modeOf(body.destination);
    if (mode === 'unavailable') throw new HttpError(503, 'unavailable');

    const record = newRecord(key, body);
    record.requests = 1;
    records.set(key, record);
    log(`payout ${key}: ${body.amount} ${body.currency} to ${body.destination} (${mode})`);

    switch (mode) {
      case 'refuse':
        record.status = 'REFUSED';
        record.reason = 'destination_refused';
        persist();
        sendJson(res, 200, sendAnswer(record));
        return;
      case 'timeout': {
        succeed(record);
        persist();
        const timer = setTimeout(() => {
          timers.delete(timer);
          sendJson(res, 200, sendAnswer(record));
        }, holdMs);
        timers.add(timer);
        return;
      }
      case 'lose':
        succeed(record);
        persist();
        req.socket.destroy();
        return;
      case 'succeed': {
        const settled = sleep(delay.min + Math.random() * (delay.max - delay.min)).then(() => {
          // A cancel (or a reset) may have come first: then nothing is sent.
          if (record.status === 'PENDING') {
            if (records.get(key) === record) succeed(record);
            else record.status = 'CANCELLED';
          }
          settling.delete(key);
          persist();
        });
        settling.set(key, settled);
        await settled;
        const answer = sendAnswer(record);
        log(`payout ${key}: -> ${answer.status}`);
        sendJson(res, 200, answer);
        return;
      }
    }
  };

  const handleCancel = (res: http.ServerResponse, key: string): void => {
    const record = records.get(key);
    if (record === undefined) {
      const tombstone = newRecord(key, null);
      tombstone.status = 'CANCELLED';
      records.set(key, tombstone);
      persist();
      log(`cancel ${key}: unknown key -> CANCELLED`);
      sendJson(res, 200, { status: 'CANCELLED' });
      return;
    }
    if (modeOf(record.destination) === 'unavailable') throw new HttpError(503, 'unavailable');
    if (record.status === 'PENDING') {
      record.status = 'CANCELLED';
      persist();
    }
    const answer: Outcome =
      record.status === 'CANCELLED' ? { status: 'CANCELLED' } : sendAnswer(record);
    log(`cancel ${key}: -> ${answer.status}`);
    sendJson(res, 200, answer);
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new HttpError(400, 'invalid_path');
    }
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const [first, second, third, fourth, ...rest] = segments;
    const only = (expected: string) => {
      if (method !== expected) throw new HttpError(405, 'method_not_allowed');
    };

    if (first === 'health' && second === undefined) {
      only('GET');
      sendJson(res, 200, { status: 'ok' });
    } else if (first === 'v1' && second === 'payouts' && rest.length === 0) {
      if (third === undefined) {
        only('POST');
        await handleSend(req, res, body);
      } else if (fourth === 'cancel') {
        only('POST');
        handleCancel(res, third);
      } else {
        throw new HttpError(404, 'not_found');
      }
    } else if (first === '_control' && rest.length === 0 && fourth === undefined) {
      if (second === 'destinations' && third !== undefined) {
        only('PUT');
        const result = modeBodySchema.safeParse(parseJson(body));
        if (!result.success) {
          throw new HttpError(400, 'invalid_request', z.prettifyError(result.error));
        }
        setMode(third, result.data.mode);
        sendEmpty(res, 204);
      } else if (second === 'payouts' && third === undefined) {
        only('GET');
        sendJson(res, 200, payouts());
      } else if (second === 'payouts' && third !== undefined) {
        only('GET');
        const record = records.get(third);
        if (record === undefined) throw new HttpError(404, 'not_found');
        sendJson(res, 200, { ...record });
      } else if (second === 'reset' && third === undefined) {
        only('POST');
        reset();
        sendEmpty(res, 204);
      } else {
        throw new HttpError(404, 'not_found');
      }
    } else {
      throw new HttpError(404, 'not_found');
    }
  };

  const setMode = (destination: string, mode: DestinationMode): void => {
    if (mode === 'succeed') modes.delete(destination);
    else modes.set(destination, mode);
    persist();
    log(`destination ${destination}: ${mode}`);
  };

  const payouts = (): SimulatedPayout[] => [...records.values()].map((record) => ({ ...record }));

  const reset = (): void => {
    records.clear();
    modes.clear();
    persist();
    log('reset');
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      if (error instanceof HttpError) {
        sendJson(res, error.status, { error: error.code, message: error.message });
      } else {
        log(`internal error: ${error instanceof Error ? error.message : String(error)}`);
        sendJson(res, 500, { error: 'internal_error' });
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('simulated payout gateway: no TCP address');
  }
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    setMode,
    payouts,
    reset,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
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
