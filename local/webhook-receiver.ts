import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SIGNATURE_HEADER, verifySignature } from '../lib/webhooks/signature';

/**
 * The local stack's webhook receiver (npm start registers it): POST /webhooks checks each
 * delivery's signature and keeps the last arrivals; GET / lists them as a page, GET /received as
 * JSON. For tests it can fail a share of deliveries (503), answer slowly, or be down (every
 * connection cut at once).
 */
export interface Arrival {
  /** The event's id and type, as the body says (absent when the body is not an event). */
  id?: string;
  type?: string;
  verified: boolean;
  /** Why the signature was refused, when it was. */
  reason?: string;
  /** What the receiver answered. */
  status: number;
  receivedAt: string;
  body: string;
}

export interface ReceiverOptions {
  /** 0 for any free port; default RECEIVER_PORT, else 4020. */
  port?: number;
  /** The endpoints' secrets, read at each delivery (an endpoint registered later is included). */
  secrets: () => readonly string[];
  /** The share of signed deliveries answered 503 (0 to 1). */
  failRatio?: number;
  /** How long each answer waits. */
  slowMs?: number;
  /** One line per arrival; default: JSON on stdout. */
  log?: (line: Record<string, unknown>) => void;
  /** For tests: the draw that decides a failure. */
  random?: () => number;
}

export interface WebhookReceiver {
  url: string;
  received(): Arrival[];
  setDown(down: boolean): void;
  setFailRatio(ratio: number): void;
  setSlowMs(ms: number): void;
  close(): Promise<void>;
}

const KEPT = 200;
const MAX_BODY_BYTES = 1024 * 1024;

export async function startWebhookReceiver(options: ReceiverOptions): Promise<WebhookReceiver> {
  const arrivals: Arrival[] = [];
  const sockets = new Set<Socket>();
  const state = {
    down: false,
    failRatio: options.failRatio ?? 0,
    slowMs: options.slowMs ?? 0,
  };
  const log = options.log ?? ((line) => console.log(JSON.stringify(line)));
  const random = options.random ?? Math.random;

  const deliver = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const body = await readBody(request);
    const verdict = verifySignature(
      request.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined,
      body,
      options.secrets(),
    );
    const status = verdict !== true ? 400 : random() < state.failRatio ? 503 : 204;
    if (state.slowMs > 0) await new Promise((resolve) => setTimeout(resolve, state.slowMs));
    const arrival: Arrival = {
      ...eventOf(body),
      verified: verdict === true,
      ...(verdict === true ? {} : { reason: verdict }),
      status,
      receivedAt: new Date().toISOString(),
      body,
    };
    arrivals.push(arrival);
    if (arrivals.length > KEPT) arrivals.shift();
    const { body: _body, ...line } = arrival;
    log({ message: 'webhook received', ...line });
    response.writeHead(status, { 'content-type': 'text/plain' }).end();
  };

  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'POST' && path === '/webhooks') {
      deliver(request, response).catch(() => response.writeHead(400).end());
    } else if (request.method === 'GET' && path === '/received') {
      response
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify({ arrivals }));
    } else if (request.method === 'GET' && path === '/') {
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(page(arrivals));
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.on('connection', (socket) => {
    // Down: the connection is cut before a byte is read, as a crashed receiver's would be.
    if (state.down) return socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const port = options.port ?? Number(process.env.RECEIVER_PORT || 4020);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/webhooks`,
    received: () => arrivals.map((arrival) => ({ ...arrival })),
    setDown: (down) => {
      state.down = down;
      if (down) for (const socket of sockets) socket.destroy();
    },
    setFailRatio: (ratio) => void (state.failRatio = ratio),
    setSlowMs: (ms) => void (state.slowMs = ms),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function eventOf(body: string): { id?: string; type?: string } {
  try {
    const parsed = JSON.parse(body) as { id?: unknown; type?: unknown };
    return {
      ...(typeof parsed.id === 'string' ? { id: parsed.id } : {}),
      ...(typeof parsed.type === 'string' ? { type: parsed.type } : {}),
    };
  } catch {
    return {};
  }
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Newest first; every value from a delivery is escaped. */
function page(arrivals: Arrival[]): string {
  const rows = [...arrivals]
    .reverse()
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.receivedAt)}</td><td>${escapeHtml(a.type ?? '?')}</td>` +
        `<td>${escapeHtml(a.id ?? '?')}</td><td>${a.verified ? 'verified' : escapeHtml(`refused: ${a.reason ?? ''}`)}</td>` +
        `<td>${a.status}</td><td><pre>${escapeHtml(a.body)}</pre></td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>Webhook receiver</title></head><body><h1>Webhooks received (${arrivals.length}, newest first)</h1>
<table border="1" cellpadding="4"><tr><th>received</th><th>type</th><th>id</th><th>signature</th><th>answered</th><th>body</th></tr>
${rows}</table></body></html>`;
}

// `WEBHOOK_SECRETS=whsec_a,whsec_b node scripts/run.js local/webhook-receiver.ts`: on its own.
if (require.main === module) {
  const secrets = (process.env.WEBHOOK_SECRETS ?? '').split(',').filter((s) => s !== '');
  void startWebhookReceiver({ secrets: () => secrets }).then((receiver) =>
    console.log(`webhook receiver on ${receiver.url} (page: ${new URL('/', receiver.url).href})`),
  );
}
