import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { type DeliveryDeps, type WebhookSender } from '../../lib/domain/deliveries';
import type { DeliveryRequest, StoredEvent, WebhookEndpoint } from '../../lib/domain/event-ports';
import { signPayload as signatureHeader } from '../../lib/webhooks/signature';
import { sqsDeliveryQueue } from '../../lib/webhooks/sqs-queue';
import { deliveryWorker } from '../../lib/webhooks/worker';
import {
  startDeliveryPoller,
  type LocalDeliveryQueue,
  type ReceivedMessage,
} from '../../local/delivery-queue';
import { memoryEventStore } from '../support/memory-event-store';
import { memoryWebhookStore } from '../support/memory-webhook-store';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const storedEvent = (n: number): StoredEvent => ({
  id: `account.opened:A${n}`,
  type: 'account.opened',
  createdAt: '2026-01-01T00:00:00.000Z',
  accountId: `A${n}`,
  sequence: null,
  data: {},
  position: `2026-01-01T00:00:00.000Z#account.opened:A${n}`,
  ownerId: 'alice',
});

const endpointNamed = (id: string): WebhookEndpoint => ({
  id,
  url: `http://127.0.0.1/${id}`,
  eventTypes: ['account.opened'],
  ownerId: 'alice',
  operator: false,
  secret: 'whsec_x',
  status: 'enabled',
  createdAt: '2026-01-01T00:00:00.000Z',
});

async function depsWith(sender: WebhookSender, endpointIds: string[], events = 1) {
  const eventStore = memoryEventStore();
  const webhooks = memoryWebhookStore();
  for (let n = 0; n < events; n += 1) await eventStore.putEvent(storedEvent(n));
  for (const id of endpointIds) await webhooks.createEndpoint(endpointNamed(id));
  const deps: DeliveryDeps = {
    events: eventStore,
    webhooks,
    queue: { enqueue: async () => undefined },
    sender,
    sign: signatureHeader,
    logger: quiet,
    metrics: { endpointDisabled: () => undefined },
    now: () => new Date(),
    timeoutMs: 1000,
    retryBaseMs: 30_000,
    giveUpMs: 3 * 86_400_000,
  };
  return { deps, webhooks };
}

const record = (id: string, body: unknown, receiveCount = 1): SQSRecord => ({
  messageId: id,
  receiptHandle: `handle-${id}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {
    ApproximateReceiveCount: String(receiveCount),
    SentTimestamp: String(Date.now()),
    SenderId: 'test',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
  awsRegion: 'us-east-1',
});

/** Resolves once `count` callers wait on it, or after a second (then the test's check fails). */
function barrier(count: number) {
  let waiting = 0;
  let peak = 0;
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
    setTimeout(resolve, 1000).unref();
  });
  return {
    peak: () => peak,
    async wait() {
      waiting += 1;
      peak = Math.max(peak, waiting);
      if (waiting >= count) open();
      await opened;
      waiting -= 1;
    },
  };
}

describe('the delivery worker (SQS batch)', () => {
  it('processes a batch concurrently, postpones a failed delivery by its backoff and reports only what must come back', async () => {
    const together = barrier(2);
    const sender: WebhookSender = {
      async post({ url }) {
        await together.wait();
        return { statusCode: url.endsWith('/ok') ? 204 : 500 };
      },
    };
    const { deps, webhooks } = await depsWith(sender, ['ok', 'failing', 'broken']);
    webhooks.getEndpoint = async (id) => {
      if (id === 'broken') throw new Error('store unavailable');
      return endpointNamed(id);
    };
    const postponed: Array<[string, number]> = [];
    const worker = deliveryWorker(
      () => deps,
      () => async (handle, seconds) => void postponed.push([handle, seconds]),
    );
    const eventId = storedEvent(0).id;
    const event: SQSEvent = {
      Records: [
        record('m-ok', { eventId, endpointId: 'ok' }),
        record('m-failing', { eventId, endpointId: 'failing' }, 3),
        record('m-broken', { eventId, endpointId: 'broken' }),
        record('m-garbled', 'not json'),
      ],
    };
    const response = await worker(event);
    expect(together.peak()).toBe(2);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'm-broken',
      'm-failing',
    ]);
    // Third receive: 30 s · 2² = 120 s.
    expect(postponed).toEqual([['handle-m-failing', 120]]);
  });
});

describe('the SQS delivery queue', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());

  it('sends in batches of 10 and sends again the entries SQS failed', async () => {
    let first = true;
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => {
      if (first) {
        first = false;
        return { Successful: [], Failed: [{ Id: input.Entries[0]?.Id, SenderFault: false }] };
      }
      return { Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
    });
    const queue = sqsDeliveryQueue(new SQSClient({ region: 'us-east-1' }), 'https://q', () =>
      Promise.resolve(),
    );
    const requests: DeliveryRequest[] = Array.from({ length: 23 }, (_, n) => ({
      eventId: `e${n}`,
      endpointId: 'ep',
    }));
    await queue.enqueue(requests);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries?.length)).toEqual([10, 10, 3, 1]);
    const sent = calls.flatMap((c) =>
      (c.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '')),
    );
    expect(new Set(sent.map((r: DeliveryRequest) => r.eventId)).size).toBe(23);
  });

  it('postpones by ChangeMessageVisibility in whole seconds, at most 12 hours', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const queue = sqsDeliveryQueue(new SQSClient({ region: 'us-east-1' }), 'https://q');
    await queue.postpone('h1', 0.2);
    await queue.postpone('h2', 100_000);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: 'https://q', ReceiptHandle: 'h1', VisibilityTimeout: 1 },
      { QueueUrl: 'https://q', ReceiptHandle: 'h2', VisibilityTimeout: 43_200 },
    ]);
  });
});

/** The local queue's contract in memory: receive claims, delete removes, postpone hides. */
function memoryQueue(): LocalDeliveryQueue & { size: () => number } {
  const messages = new Map<
    string,
    { request: DeliveryRequest; visibleAt: number; receiveCount: number; receipt: string }
  >();
  const listeners: Array<() => void> = [];
  let next = 0;
  return {
    size: () => messages.size,
    async enqueue(requests) {
      for (const request of requests) {
        messages.set(`m${String(next++).padStart(4, '0')}`, {
          request,
          visibleAt: 0,
          receiveCount: 0,
          receipt: '',
        });
      }
      listeners.forEach((listener) => listener());
    },
    async receive(max, accept = () => true) {
      const taken: ReceivedMessage[] = [];
      for (const [messageId, m] of messages) {
        if (taken.length >= max) break;
        if (m.visibleAt > Date.now() || !accept(m.request)) continue;
        Object.assign(m, {
          visibleAt: Date.now() + 60_000,
          receiveCount: m.receiveCount + 1,
          receipt: `${messageId}.${m.receiveCount + 1}`,
        });
        taken.push({
          messageId,
          receiptHandle: m.receipt,
          body: JSON.stringify(m.request),
          request: m.request,
          receiveCount: m.receiveCount,
          sentAt: Date.now(),
        });
      }
      return taken;
    },
    async delete(handle) {
      const id = handle.split('.')[0] ?? '';
      if (messages.get(id)?.receipt === handle) messages.delete(id);
    },
    async postpone(handle, seconds) {
      const m = messages.get(handle.split('.')[0] ?? '');
      if (m?.receipt === handle) m.visibleAt = Date.now() + seconds * 1000;
    },
    async deadLetters() {
      return [];
    },
    onEnqueue(listener) {
      listeners.push(listener);
    },
  };
}

describe('the local delivery poller', () => {
  it("delivers another endpoint's message while a slow endpoint holds its own", async () => {
    let releaseSlow: () => void = () => undefined;
    const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
    let slowStarted = 0;
    let slowFinished = 0;
    let fastDelivered: () => void = () => undefined;
    const fast = new Promise<void>((resolve) => (fastDelivered = resolve));
    const sender: WebhookSender = {
      async post({ url }) {
        if (url.endsWith('/fast')) {
          fastDelivered();
          return { statusCode: 200 };
        }
        slowStarted += 1;
        await slowReleased;
        slowFinished += 1;
        return { statusCode: 200 };
      },
    };
    const { deps } = await depsWith(sender, ['slow', 'fast'], 12);
    const queue = memoryQueue();
    const poller = startDeliveryPoller({
      queue,
      handler: deliveryWorker(
        () => deps,
        () => queue.postpone,
      ),
      concurrency: 8,
      perEndpoint: 4,
      pollIntervalMs: 10,
    });
    try {
      await queue.enqueue(
        Array.from({ length: 12 }, (_, n) => ({ eventId: storedEvent(n).id, endpointId: 'slow' })),
      );
      await queue.enqueue([{ eventId: storedEvent(0).id, endpointId: 'fast' }]);
      await fast;
      // The fast endpoint's message went through while the slow one's were all still waiting,
      // and the slow endpoint held no more than its share of the slots.
      expect(slowFinished).toBe(0);
      expect(slowStarted).toBeLessThanOrEqual(4);
    } finally {
      releaseSlow();
    }
    await new Promise<void>((resolve) => {
      const check = () => (queue.size() === 0 ? resolve() : setTimeout(check, 10));
      check();
    });
    await poller.stop();
    expect(slowFinished).toBe(12);
  });
});
