import { createHmac } from 'node:crypto';

/**
 * The `Webhook-Signature` header of one delivery (Stripe's scheme): `t=<unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>`. The timestamp is signed with the
 * body, so a receiver that rejects stale timestamps also rejects a replayed delivery.
 */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}
