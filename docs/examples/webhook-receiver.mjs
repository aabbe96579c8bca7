// A webhook receiver in plain Node (no dependencies): it checks each delivery's signature on the
// RAW body, refuses stale timestamps, and answers 2xx fast (do slow work after answering).
//
//   WEBHOOK_SECRET=whsec_... PORT=4030 node docs/examples/webhook-receiver.mjs
//
// Deliveries come at least once: deduplicate by the event's `id`.
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

/**
 * Returns true when `header` (the Webhook-Signature header: `t=<unix seconds>,v1=<hex>[,v1=...]`)
 * signs `rawBody` with `secret` at most `toleranceSeconds` from `now`; else the reason:
 * 'missing', 'malformed', 'stale' or 'mismatch'.
 */
export function verifyWebhookSignature(header, rawBody, secret, options = {}) {
  const { toleranceSeconds = 300, now = Math.floor(Date.now() / 1000) } = options;
  if (!header) return 'missing';
  let t;
  const signatures = [];
  for (const part of header.split(',')) {
    const [key, value = ''] = part.trim().split('=', 2);
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (t === undefined || signatures.length === 0) return 'malformed';
  // The timestamp is signed too: an old delivery replayed later is refused here.
  if (Math.abs(now - t) > toleranceSeconds) return 'stale';
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  // Constant time: comparing byte by byte would tell an attacker how much of a guess is right.
  return signatures.some((sent) => timingSafeEqual(expected, sent)) ? true : 'mismatch';
}

/** The server: a POST with a good signature is answered 204, anything else 400. */
export function createReceiver(secret, onEvent = (event) => console.log(event.type, event.id)) {
  return createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const verdict = verifyWebhookSignature(request.headers['webhook-signature'], rawBody, secret);
      if (request.method !== 'POST' || verdict !== true) {
        const why = request.method !== 'POST' ? 'POST only' : verdict;
        response.writeHead(400, { 'content-type': 'text/plain' }).end(`refused: ${why}\n`);
        return;
      }
      response.writeHead(204).end();
      onEvent(JSON.parse(rawBody.toString('utf8')));
    });
  });
}

// Run directly (not imported by a test).
if (process.argv[1]?.endsWith('webhook-receiver.mjs')) {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret) throw new Error('set WEBHOOK_SECRET to the secret the 201 answered');
  const port = Number(process.env.PORT ?? 4030);
  createReceiver(secret).listen(port, () => console.log(`listening on http://127.0.0.1:${port}`));
}
