/**
 * The delivery engine end to end on DynamoDB Local: the local queue (local/delivery-queue.ts),
 * its poller and the worker Lambda runs, POSTing to a receiver in this file that checks each
 * signature. Short backoff (base 0.2 s) so the retries happen while the test watches.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fanOut, type DeliveryDeps } from '../../lib/domain/deliveries';
import type { EventStore, StoredEvent, WebhookEndpoint } from '../../lib/domain/event-ports';
import { dynamoEventStore } from '../../lib/persistence/event-store';
import { dynamoWebhookStore } from '../../lib/persistence/webhook-store';
import { createHttpWebhookSender } from '../../lib/webhooks/http-sender';
import { signPayload as signatureHeader } from '../../lib/webhooks/signature';
import { deliveryWorker } from '../../lib/webhooks/worker';
import {
  localDeliveryQueue,
  startDeliveryPoller,
  type LocalDeliveryQueue,
} from '../../local/delivery-queue';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { findFreePort } from '../../local/ports';
import { waitFor } from '../../local/wait';
import { createTestTable } from '../support/dynamodb';

const ROOT = path.resolve(__dirname, '..', '..');
const RETRY_BASE_MS = 200;
const TIMEOUT_MS = 1000;
const VISIBILITY_SECONDS = 3;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

let tableName: string;
let endpoint: string;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let queue: LocalDeliveryQueue;
let deps: DeliveryDeps;
let events: EventStore;

let own: { endpoint: string; stop(): Promise<void> };

beforeAll(async () => {
  // A DynamoDB Local of its own: hundreds of queue messages, attempts and events on the shared
  // one slowed the suites after it.
  own = await startDynamoDbLocal({ port: await findFreePort() });
  ({ tableName, client, endpoint } = await createTestTable('webhook-delivery', {
    endpoint: own.endpoint,
  }));
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  queue = localDeliveryQueue({
    db: doc,
    tableName,
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    log: () => undefined,
  });
  events = dynamoEventStore({ db: doc, name: tableName });
  deps = {
    events,
    webhooks: dynamoWebhookStore({ db: doc, name: tableName }),
    queue,
    sender: createHttpWebhookSender(),
    sign: signatureHeader,
    logger: quiet,
    metrics: { endpointDisabled: () => undefined },
    now: () => new Date(),
    timeoutMs: TIMEOUT_MS,
    retryBaseMs: RETRY_BASE_MS,
    giveUpMs: 3_600_000,
  };
});
afterAll(async () => {
  client.destroy();
  await own.stop();
});

/** A receiver that checks signatures; it can be down, fail some answers, or answer slowly. */
class Receiver {
  readonly arrivals: Array<{ id: string; verified: boolean; at: number; ok: boolean }> = [];
  failEvery = 0;
  delayMs = 0;
  port = 0;
  private server: http.Server | undefined;
  private requests = 0;

  constructor(readonly secret: string) {}

  async up(): Promise<void> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.requests += 1;
        const ok = this.failEvery === 0 || this.requests % this.failEvery !== 0;
        this.arrivals.push({
          id: (JSON.parse(raw) as { id: string }).id,
          verified: this.verify(String(request.headers['webhook-signature']), raw),
          at: Date.now(),
          ok,
        });
        setTimeout(() => response.writeHead(ok ? 204 : 500).end(), this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  delivered(): Set<string> {
    return new Set(this.arrivals.filter((a) => a.ok).map((a) => a.id));
  }

  private verify(header: string, body: string): boolean {
    const t = /t=(\d+)/.exec(header)?.[1];
    const v1 = /v1=([0-9a-f]+)/.exec(header)?.[1];
    const mac = createHmac('sha256', this.secret).update(`${t}.${body}`).digest('hex');
    return v1 === mac;
  }
}

/** An endpoint of its own account, and `count` of that account's events, stored and fanned out. */
async function publish(
  receiver: Receiver,
  count: number,
): Promise<{ ids: string[]; sentAt: number }> {
  const accountId = `acct-${randomBytes(6).toString('hex')}`;
  const webhook: WebhookEndpoint = {
    id: `we_${randomBytes(8).toString('hex')}`,
    url: `http://127.0.0.1:${receiver.port}/webhooks`,
    eventTypes: ['movement.committed'],
    accountId,
    ownerId: 'alice',
    operator: false,
    secret: receiver.secret,
    status: 'enabled',
    createdAt: new Date().toISOString(),
  };
  await deps.webhooks.createEndpoint(webhook);
  const published: StoredEvent[] = Array.from({ length: count }, (_, n) => ({
    id: `movement.committed:${accountId}:${n + 1}`,
    type: 'movement.committed',
    createdAt: new Date().toISOString(),
    accountId,
    sequence: n + 1,
    data: { amount: n + 1 },
    position: `${new Date().toISOString()}#movement.committed:${accountId}:${n + 1}`,
    ownerId: 'alice',
  }));
  for (const event of published) await events.putEvent(event);
  const sentAt = Date.now();
  await fanOut(deps, published);
  return { ids: published.map((e) => e.id), sentAt };
}

/** The worker Lambda runs, behind the local queue's poller, in this process. */
const startWorker = () =>
  startDeliveryPoller({
    queue,
    handler: deliveryWorker(
      () => deps,
      () => queue.postpone,
    ),
    pollIntervalMs: 50,
  });

function expectExactly(receiver: Receiver, ids: string[]): void {
  expect([...receiver.delivered()].sort()).toEqual([...ids].sort());
  expect(new Set(receiver.arrivals.map((a) => a.id))).toEqual(new Set(ids));
  expect(receiver.arrivals.every((a) => a.verified)).toBe(true);
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

describe('webhook delivery on the local queue', () => {
  it('delivers every event at least once, and nothing else, to a receiver that was down and came back', async () => {
    const receiver = new Receiver('whsec_down_then_up');
    await receiver.up();
    await receiver.down(); // its port now refuses connections
    const { ids } = await publish(receiver, 40);
    const poller = startWorker();
    try {
      const downMs = 4000;
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await receiver.up();
      // A message failing since the start waits at most as long again as it has failed, plus
      // one base delay (the backoff doubles): everything arrives within downMs + base after
      // the receiver is back, with 20 s for the 2-core machine's work on top.
      const boundMs = downMs + RETRY_BASE_MS + 20_000;
      await waitFor('every event at the receiver', () => receiver.delivered().size === ids.length, {
        timeoutMs: boundMs,
        intervalMs: 100,
      });
      expectExactly(receiver, ids);
    } finally {
      await poller.stop();
      await receiver.down();
    }
  });

  it('loses nothing when the delivery worker process is killed with SIGKILL mid-run and started again', async () => {
    const receiver = new Receiver('whsec_kill_nine');
    receiver.delayMs = 100;
    await receiver.up();
    const { ids } = await publish(receiver, 120);
    let worker = startWorkerProcess();
    try {
      await waitFor('some deliveries', () => receiver.delivered().size >= 20, {
        timeoutMs: 60_000,
      });
      worker.kill('SIGKILL');
      await new Promise((resolve) => worker.once('exit', resolve));
      expect(receiver.delivered().size).toBeLessThan(ids.length);
      worker = startWorkerProcess();
      // Messages the killed worker held come back after their visibility timeout (3 s here).
      await waitFor('every event at the receiver', () => receiver.delivered().size === ids.length, {
        timeoutMs: VISIBILITY_SECONDS * 1000 + 60_000,
        intervalMs: 100,
      });
      expectExactly(receiver, ids);
    } finally {
      worker.kill('SIGKILL');
      await receiver.down();
    }
  });

  it('delivers 150 events to a receiver failing a third of the requests', async () => {
    const receiver = new Receiver('whsec_flaky');
    receiver.failEvery = 3;
    await receiver.up();
    const poller = startWorker();
    try {
      const { ids, sentAt } = await publish(receiver, 150);
      // Every third request fails: a message meets at most a few failures in a row, each retried
      // after 0.2 s, doubling; 150 s bounds it with the 2-core machine's work on top.
      await waitFor('every event at the receiver', () => receiver.delivered().size === ids.length, {
        timeoutMs: 150_000,
        intervalMs: 200,
      });
      expectExactly(receiver, ids);
      const firstSuccess = new Map<string, number>();
      for (const a of receiver.arrivals)
        if (a.ok && !firstSuccess.has(a.id)) firstSuccess.set(a.id, a.at);
      const latencies = [...firstSuccess.values()].map((at) => at - sentAt);
      const failed = receiver.arrivals.filter((a) => !a.ok).length;
      console.log(
        `webhook delivery: ${ids.length} events, ${receiver.arrivals.length} attempts ` +
          `(${failed} answered 500), ${receiver.arrivals.length - failed - ids.length} duplicates; ` +
          `latency from fan-out to delivery p50 ${percentile(latencies, 50)} ms, ` +
          `p95 ${percentile(latencies, 95)} ms, max ${Math.max(...latencies)} ms`,
      );
    } finally {
      await poller.stop();
      await receiver.down();
    }
  });
});

describe('the local delivery queue', () => {
  it("reads past one endpoint's backlog to another endpoint's message (no head-of-line blocking)", async () => {
    // 300 messages of an endpoint already at its share (the poller refuses them), then one of
    // another endpoint: the receive must find that one behind them.
    await queue.enqueue(
      Array.from({ length: 300 }, (_, n) => ({ eventId: `backlog-${n}`, endpointId: 'busy' })),
    );
    await queue.enqueue([{ eventId: 'waiting', endpointId: 'idle' }]);
    // (Earlier tests may leave a message of theirs visible again: at least once.)
    const taken = await queue.receive(1, (request) => request.endpointId === 'idle');
    expect(taken.map((m) => m.request)).toEqual([{ eventId: 'waiting', endpointId: 'idle' }]);
    // Leave the queue empty for the rest of the file.
    for (let batch = await queue.receive(100); batch.length > 0; batch = await queue.receive(100))
      await Promise.all([...batch, ...taken.splice(0)].map((m) => queue.delete(m.receiptHandle)));
  });
});

/** local/delivery-worker.ts as a process of its own (one process: node with tsx's loader). */
function startWorkerProcess(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/delivery-worker.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      DYNAMODB_ENDPOINT: endpoint,
      TABLE_NAME: tableName,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      WEBHOOK_RETRY_BASE_SECONDS: String(RETRY_BASE_MS / 1000),
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      DELIVERY_VISIBILITY_SECONDS: String(VISIBILITY_SECONDS),
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    },
  });
  return child;
}
