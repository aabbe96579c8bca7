import { startWebhookReceiver, type WebhookReceiver } from '../../local/webhook-receiver';
import { signPayload } from '../../lib/webhooks/signature';

// The local receiver: what a developer watches while using the stack, and what the delivery
// tests point endpoints at to play a receiver that refuses, fails, stalls or is down.
const secret = 'whsec_local-receiver-test';
const secrets = [secret];
let receiver: WebhookReceiver;
let lines: Array<Record<string, unknown>>;
let draws: number[];

beforeEach(async () => {
  lines = [];
  draws = [];
  receiver = await startWebhookReceiver({
    port: 0,
    secrets: () => secrets,
    log: (line) => lines.push(line),
    random: () => draws.shift() ?? 0.99,
  });
});
afterEach(() => receiver.close());

const event = (id: string, type = 'payout.posted') => JSON.stringify({ id, type, data: {} });

function deliver(
  body: string,
  signature = signPayload(secret, body, Math.floor(Date.now() / 1000)),
) {
  return fetch(receiver.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-signature': signature },
    body,
  });
}

it('accepts signed deliveries with 2xx and refuses forged or stale ones with 400, logging each once', async () => {
  const body = event('payout.posted:01JA');
  expect((await deliver(body)).status).toBe(204);
  const now = Math.floor(Date.now() / 1000);
  expect((await deliver(event('payout.posted:01JB'), signPayload(secret, body, now))).status).toBe(
    400,
  );
  const old = Math.floor(Date.now() / 1000) - 3600;
  expect((await deliver(body, signPayload(secret, body, old))).status).toBe(400);
  expect(
    receiver
      .received()
      .map(({ id, verified, status, reason }) => ({ id, verified, status, reason })),
  ).toEqual([
    { id: 'payout.posted:01JA', verified: true, status: 204, reason: undefined },
    { id: 'payout.posted:01JB', verified: false, status: 400, reason: 'mismatch' },
    { id: 'payout.posted:01JA', verified: false, status: 400, reason: 'stale' },
  ]);
  expect(lines.map((line) => [line.message, line.type, line.verified])).toEqual([
    ['webhook received', 'payout.posted', true],
    ['webhook received', 'payout.posted', false],
    ['webhook received', 'payout.posted', false],
  ]);
});

it('verifies with secrets registered after it started', async () => {
  const later = 'whsec_registered-later';
  const body = event('account.opened:01JC', 'account.opened');
  expect(
    (await deliver(body, signPayload(later, body, Math.floor(Date.now() / 1000)))).status,
  ).toBe(400);
  secrets.push(later);
  try {
    expect(
      (await deliver(body, signPayload(later, body, Math.floor(Date.now() / 1000)))).status,
    ).toBe(204);
  } finally {
    secrets.pop();
  }
});

it('answers 503 to the share it is told to fail, and cuts every connection while down', async () => {
  receiver.setFailRatio(0.5);
  draws.push(0.2, 0.7);
  expect((await deliver(event('e1'))).status).toBe(503);
  expect((await deliver(event('e2'))).status).toBe(204);
  receiver.setFailRatio(0);

  receiver.setDown(true);
  await expect(deliver(event('e3'))).rejects.toThrow();
  receiver.setDown(false);
  expect((await deliver(event('e4'))).status).toBe(204);
  expect(receiver.received().map((a) => [a.id, a.status])).toEqual([
    ['e1', 503],
    ['e2', 204],
    ['e4', 204],
  ]);
});

it('holds each answer for the delay it is given: a client with a shorter timeout gives up', async () => {
  receiver.setSlowMs(2000);
  const body = event('slow');
  const signature = signPayload(secret, body, Math.floor(Date.now() / 1000));
  await expect(
    fetch(receiver.url, {
      method: 'POST',
      headers: { 'webhook-signature': signature },
      body,
      signal: AbortSignal.timeout(100),
    }),
  ).rejects.toThrow();
  receiver.setSlowMs(0);
  expect((await deliver(event('fast'))).status).toBe(204);
});

it('serves what arrived as JSON and as a page with every value escaped', async () => {
  await deliver(event('<script>alert(1)</script>', 'payout.held'));
  const json = (await await fetch(new URL('/received', receiver.url)).then((r) => r.json())) as {
    arrivals: Array<{ id: string }>;
  };
  expect(json.arrivals.map((a) => a.id)).toEqual(['<script>alert(1)</script>']);
  const html = await (await fetch(new URL('/', receiver.url))).text();
  expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  expect(html).not.toContain('<script>');
});

it('keeps the last 200 arrivals', async () => {
  for (let i = 0; i < 205; i += 1) await deliver(event(`n${i}`));
  const kept = receiver.received();
  expect(kept).toHaveLength(200);
  expect([kept[0]?.id, kept[199]?.id]).toEqual(['n5', 'n204']);
});
