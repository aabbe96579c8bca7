import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures (Stripe's scheme): `Webhook-Signature: t=<unix seconds>,v1=<hex>`, where the
 * hex is HMAC-SHA256 keyed with the endpoint's secret over `<t>.<raw body>`. The timestamp is
 * signed with the body, so a receiver that refuses old timestamps refuses replays too. Several
 * v1 values may be sent (a secret being rolled): any one matching is enough.
 */
export const SIGNATURE_HEADER = 'Webhook-Signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';

const hmac = (secret: string, t: number, body: string | Buffer): Buffer =>
  createHmac('sha256', secret).update(`${t}.`).update(body).digest();

/** The header value for `body` sent at `t` (unix seconds). */
export const signPayload = (secret: string, body: string | Buffer, t: number): string =>
  `t=${t},v1=${hmac(secret, t, body).toString('hex')}`;

function parseHeader(header: string): { t: number; v1: Buffer[] } | undefined {
  let t: number | undefined;
  const v1: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value = ''] = part.trim().split('=', 2);
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) v1.push(Buffer.from(value, 'hex'));
  }
  return t === undefined || v1.length === 0 ? undefined : { t, v1 };
}

/**
 * True when `header` signs `rawBody` (the bytes as received, before any JSON parsing) with one of
 * the secrets, at most `toleranceSeconds` from `now` (unix seconds); else why not.
 */
export function verifySignature(
  header: string | undefined,
  rawBody: string | Buffer,
  secrets: string | readonly string[],
  options: { toleranceSeconds?: number; now?: number } = {},
): true | SignatureFailure {
  if (header === undefined || header === '') return 'missing';
  const parsed = parseHeader(header);
  if (parsed === undefined) return 'malformed';
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - parsed.t) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS))
    return 'stale';
  const expected = (typeof secrets === 'string' ? [secrets] : secrets).map((secret) =>
    hmac(secret, parsed.t, rawBody),
  );
  const matches = expected.some((mac) => parsed.v1.some((sent) => timingSafeEqual(mac, sent)));
  return matches ? true : 'mismatch';
}
