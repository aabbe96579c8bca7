import type { AddressInfo } from 'node:net';
import { createReceiver, verifyWebhookSignature } from '../../docs/examples/webhook-receiver.mjs';
import { signPayload, verifySignature } from '../../lib/webhooks/signature';

// The documented receiver (README, "Webhooks") is what these check: a receiver that copies it
// refuses forged, stale and unsigned deliveries, and accepts what the service signs.
const secret = 'whsec_test-secret-0123456789abcdefghijklmnopqrstuv';
const body = JSON.stringify({ id: 'account.opened:01J', type: 'account.opened', data: {} });
const t = 1_760_000_000;
const header = signPayload(secret, body, t);

describe('the documented verification (docs/examples/webhook-receiver.mjs)', () => {
  it("accepts the service's signature of the raw body within five minutes either way", () => {
    expect(verifyWebhookSignature(header, body, secret, { now: t })).toBe(true);
    expect(verifyWebhookSignature(header, Buffer.from(body), secret, { now: t + 300 })).toBe(true);
    expect(verifyWebhookSignature(header, body, secret, { now: t - 300 })).toBe(true);
  });

  it('refuses a forged body, a wrong secret, a missing header and a stale or future timestamp', () => {
    const forged = body.replace('account.opened', 'account.frozen');
    expect(verifyWebhookSignature(header, forged, secret, { now: t })).toBe('mismatch');
    expect(verifyWebhookSignature(header, body, `${secret}x`, { now: t })).toBe('mismatch');
    expect(verifyWebhookSignature(undefined, body, secret, { now: t })).toBe('missing');
    expect(verifyWebhookSignature('', body, secret, { now: t })).toBe('missing');
    expect(verifyWebhookSignature(header, body, secret, { now: t + 301 })).toBe('stale');
    expect(verifyWebhookSignature(header, body, secret, { now: t - 301 })).toBe('stale');
  });

  it('refuses a timestamp moved forward (it is signed), and malformed headers', () => {
    const v1 = header.split(',v1=')[1];
    expect(verifyWebhookSignature(`t=${t + 60},v1=${v1}`, body, secret, { now: t + 60 })).toBe(
      'mismatch',
    );
    for (const bad of [`v1=${v1}`, `t=${t}`, `t=${t},v1=zz`, 'garbage', `t=abc,v1=${v1}`]) {
      expect(verifyWebhookSignature(bad, body, secret, { now: t })).toBe('malformed');
    }
  });

  it('accepts any one of several v1 signatures (a secret being rolled)', () => {
    const other = signPayload('whsec_old', body, t).split(',')[1];
    expect(verifyWebhookSignature(`${header},${other}`, body, secret, { now: t })).toBe(true);
    expect(verifyWebhookSignature(`t=${t},${other}`, body, secret, { now: t })).toBe('mismatch');
  });

  it('agrees with the service-side verifier on every case above', () => {
    const cases: Array<[string | undefined, string, string, number]> = [
      [header, body, secret, t],
      [header, `${body} `, secret, t],
      [header, body, 'whsec_other', t],
      [undefined, body, secret, t],
      [header, body, secret, t + 301],
      ['t=1,v1=00', body, secret, t],
    ];
    for (const [h, b, s, now] of cases) {
      expect(verifySignature(h, b, s, { now })).toBe(verifyWebhookSignature(h, b, s, { now }));
    }
    expect(verifySignature(header, body, ['whsec_other', secret], { now: t })).toBe(true);
  });
});

describe("the documented receiver's server", () => {
  it('answers 204 to a signed delivery and 400 to a forged one, passing on only the signed event', async () => {
    const events: string[] = [];
    const server = createReceiver(secret, (event) => events.push(event.id));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const send = (raw: string, signature: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-signature': signature },
        body: raw,
      }).then((res) => res.status);
    try {
      const now = Math.floor(Date.now() / 1000);
      expect(await send(body, signPayload(secret, body, now))).toBe(204);
      const forged = body.replace('01J', '02J');
      expect(await send(forged, signPayload(secret, body, now))).toBe(400);
      expect(await send(body, signPayload(secret, body, now - 3600))).toBe(400);
      expect(events).toEqual(['account.opened:01J']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
