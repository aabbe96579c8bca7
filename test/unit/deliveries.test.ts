import { createHmac } from 'node:crypto';
import {
  deliver,
  fanOut,
  listDeliveryAttempts,
  MAX_RETRY_MS,
  nextStep,
  redeliver,
  type DeliveryDeps,
  type WebhookSender,
} from '../../lib/domain/deliveries';
import {
  EventNotFoundError,
  ForbiddenError,
  WebhookEndpointNotFoundError,
} from '../../lib/domain/errors';
import type {
  DeliveryRequest,
  EventType,
  StoredEvent,
  WebhookEndpoint,
} from '../../lib/domain/event-ports';
import type { Caller } from '../../lib/domain/types';
import { signPayload as signatureHeader } from '../../lib/webhooks/signature';
import { memoryEventStore } from '../support/memory-event-store';
import { memoryWebhookStore } from '../support/memory-webhook-store';

const operator: Caller = { userId: 'ops', username: 'ops', isOperator: true };
const alice: Caller = { userId: 'alice', username: 'alice', isOperator: false };
const bob: Caller = { userId: 'bob', username: 'bob', isOperator: false };
const DAY = 86_400_000;

const event = (overrides: Partial<StoredEvent> = {}): StoredEvent => ({
  id: 'movement.committed:A1:1',
  type: 'movement.committed',
  createdAt: '2026-01-01T00:00:00.000Z',
  accountId: 'A1',
  sequence: 1,
  data: { amount: 100 },
  position: '2026-01-01T00:00:00.001Z#movement.committed:A1:1',
  ownerId: 'alice',
  ...overrides,
});

const endpoint = (id: string, overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  id,
  url: `https://hooks.example.com/${id}`,
  eventTypes: ['movement.committed'],
  ownerId: 'alice',
  operator: false,
  secret: `whsec_${id}`,
  status: 'enabled',
  createdAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

function setup(answer: Awaited<ReturnType<WebhookSender['post']>> = { statusCode: 204 }) {
  let clock = Date.parse('2026-01-02T00:00:00.000Z');
  const events = memoryEventStore();
  const webhooks = memoryWebhookStore();
  const queued: DeliveryRequest[] = [];
  const posts: Parameters<WebhookSender['post']>[0][] = [];
  const logs: Array<[string, string]> = [];
  const log = (level: string) => (message: string) => void logs.push([level, message]);
  let disabledMetrics = 0;
  const sender: WebhookSender & { answer: typeof answer } = {
    answer,
    async post(request) {
      posts.push(request);
      return sender.answer;
    },
  };
  const deps: DeliveryDeps = {
    events,
    webhooks,
    queue: { enqueue: async (requests) => void queued.push(...requests) },
    sender,
    sign: signatureHeader,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    metrics: { endpointDisabled: () => void (disabledMetrics += 1) },
    now: () => new Date(clock),
    timeoutMs: 5000,
    retryBaseMs: 30_000,
    giveUpMs: 3 * DAY,
  };
  return {
    deps,
    events,
    webhooks,
    queued,
    posts,
    logs,
    sender,
    disabledMetrics: () => disabledMetrics,
    advance: (ms: number) => void (clock += ms),
    now: () => clock,
  };
}

describe('fanOut', () => {
  it("queues the event for each enabled endpoint of its account, its owner and the operators' that subscribes to its type", async () => {
    const t = setup();
    const endpoints = [
      endpoint('account', { accountId: 'A1' }),
      endpoint('owner'),
      endpoint('global', { operator: true, ownerId: 'ops' }),
      endpoint('other-type', { accountId: 'A1', eventTypes: ['payout.posted'] }),
      endpoint('disabled', { accountId: 'A1', status: 'disabled' }),
      endpoint('other-account', { accountId: 'A2' }),
      endpoint('other-owner', { ownerId: 'bob' }),
    ];
    for (const e of endpoints) await t.webhooks.createEndpoint(e);
    await fanOut(t.deps, [event()]);
    expect(t.queued.map((r) => r.endpointId).sort()).toEqual(['account', 'global', 'owner']);
    expect(t.queued.every((r) => r.eventId === event().id && r.redelivery === undefined)).toBe(
      true,
    );
  });

  it('sends a service-wide event (no account) only to the operators’ endpoints', async () => {
    const t = setup();
    const types: EventType[] = ['withdrawals.paused'];
    await t.webhooks.createEndpoint(endpoint('owner', { eventTypes: types }));
    await t.webhooks.createEndpoint(
      endpoint('global', { operator: true, ownerId: 'ops', eventTypes: types }),
    );
    const paused = event({
      id: 'withdrawals.paused:v2',
      type: 'withdrawals.paused',
      accountId: null,
      ownerId: null,
      sequence: null,
    });
    await fanOut(t.deps, [paused]);
    expect(t.queued).toEqual([{ eventId: paused.id, endpointId: 'global' }]);
  });

  it('sends an endpoint every event published after its registration, read once per batch and scope', async () => {
    const t = setup();
    await t.webhooks.createEndpoint(endpoint('first', { accountId: 'A1' }));
    await fanOut(t.deps, [event(), event({ id: 'movement.committed:A1:2', sequence: 2 })]);
    const reads = () => t.webhooks.calls.filter((call) => call === 'endpointsForScopes');
    expect(reads()).toHaveLength(1);

    // Registered a moment ago: the very next batch reaches it.
    await t.webhooks.createEndpoint(endpoint('second', { accountId: 'A1' }));
    await fanOut(t.deps, [event({ id: 'movement.committed:A1:3', sequence: 3 })]);
    expect(reads()).toHaveLength(2);
    expect(t.queued.map((r) => r.endpointId)).toEqual(['first', 'first', 'first', 'second']);
  });

  it('queues nothing when no endpoint listens', async () => {
    const t = setup();
    await fanOut(t.deps, [event()]);
    expect(t.queued).toEqual([]);
  });
});

describe('deliver', () => {
  const message = (
    t: ReturnType<typeof setup>,
    attempt = 1,
    sentAgoMs = 0,
    redelivery = false,
  ) => ({
    request: { eventId: event().id, endpointId: 'ep', ...(redelivery ? { redelivery } : {}) },
    attempt,
    sentAt: new Date(t.now() - sentAgoMs),
  });

  it('POSTs the wire event as JSON with a signature the receiver can check, and records the attempt', async () => {
    const t = setup({ statusCode: 200 });
    await t.events.putEvent(event());
    await t.webhooks.createEndpoint(endpoint('ep', { accountId: 'A1' }));
    expect(await deliver(t.deps, message(t))).toBe('delivered');

    const [post] = t.posts;
    expect(post?.url).toBe('https://hooks.example.com/ep');
    expect(post?.timeoutMs).toBe(5000);
    const { position: _p, ownerId: _o, ...wire } = event();
    expect(JSON.parse(post?.body ?? '')).toEqual(wire);
    expect(Object.keys(JSON.parse(post?.body ?? ''))).toEqual([
      'id',
      'type',
      'createdAt',
      'accountId',
      'sequence',
      'data',
    ]);
    expect(post?.headers['content-type']).toBe('application/json');
    const t0 = Math.floor(t.now() / 1000);
    const mac = createHmac('sha256', 'whsec_ep').update(`${t0}.${post?.body}`).digest('hex');
    expect(post?.headers['webhook-signature']).toBe(`t=${t0},v1=${mac}`);
    expect(t.webhooks.attempts()).toEqual([
      expect.objectContaining({
        endpointId: 'ep',
        eventId: event().id,
        eventType: 'movement.committed',
        attempt: 1,
        outcome: 'delivered',
        statusCode: 200,
      }),
    ]);
    expect(t.webhooks.attempts()[0]?.nextAttemptAt).toBeUndefined();
  });

  it('answers a failure with the backoff: base·2^(attempt−1), at most 12 h, never past the give-up instant', async () => {
    const t = setup({ statusCode: 500 });
    await t.events.putEvent(event());
    await t.webhooks.createEndpoint(endpoint('ep', { accountId: 'A1' }));
    expect(await deliver(t.deps, message(t, 3, 60_000))).toEqual({ retryInMs: 120_000 });
    expect(t.webhooks.attempts()[0]).toMatchObject({
      outcome: 'failed',
      statusCode: 500,
      attempt: 3,
      nextAttemptAt: new Date(t.now() + 120_000).toISOString(),
    });

    const sentAt = new Date(0);
    const schedule = [1, 2, 3, 11, 12, 20].map(
      (attempt) => nextStep(t.deps, { attempt, sentAt }, new Date(DAY)) as { retryInMs: number },
    );
    expect(schedule.map((s) => s.retryInMs)).toEqual([
      30_000,
      60_000,
      120_000,
      30_000 * 1024,
      MAX_RETRY_MS,
      MAX_RETRY_MS,
    ]);
    // An hour before the give-up instant, the next try is at that instant, not 12 h later.
    expect(nextStep(t.deps, { attempt: 15, sentAt }, new Date(3 * DAY - 3_600_000))).toEqual({
      retryInMs: 3_600_000,
    });
  });

  it('records why there was no answer (timeout, refused connection)', async () => {
    const t = setup({ error: 'ECONNREFUSED' });
    await t.events.putEvent(event());
    await t.webhooks.createEndpoint(endpoint('ep', { accountId: 'A1' }));
    expect(await deliver(t.deps, message(t))).toEqual({ retryInMs: 30_000 });
    expect(t.webhooks.attempts()[0]).toMatchObject({ outcome: 'failed', error: 'ECONNREFUSED' });
    expect(t.webhooks.attempts()[0]?.statusCode).toBeUndefined();
  });

  it('gives up 3 days after the delivery was queued: the endpoint is disabled, counted and logged as an error', async () => {
    const t = setup({ statusCode: 503 });
    await t.events.putEvent(event());
    await t.webhooks.createEndpoint(endpoint('ep', { accountId: 'A1' }));
    expect(await deliver(t.deps, message(t, 16, 3 * DAY - 1))).toEqual({ retryInMs: 1 });
    expect(t.disabledMetrics()).toBe(0);

    expect(await deliver(t.deps, message(t, 17, 3 * DAY))).toBe('gave-up');
    expect(t.webhooks.endpoints().find((e) => e.id === 'ep')).toMatchObject({
      status: 'disabled',
      disabledAt: new Date(t.now()).toISOString(),
    });
    expect(t.disabledMetrics()).toBe(1);
    expect(t.logs).toContainEqual(['error', 'webhook endpoint disabled']);
    // The next message for it is dropped without a POST.
    expect(await deliver(t.deps, message(t, 1))).toBe('dropped');
    expect(t.posts).toHaveLength(2);
  });

  it('delivers an operator’s redelivery to a disabled endpoint, and drops an ordinary one', async () => {
    const t = setup({ statusCode: 200 });
    await t.events.putEvent(event());
    await t.webhooks.createEndpoint(endpoint('ep', { accountId: 'A1', status: 'disabled' }));
    expect(await deliver(t.deps, message(t))).toBe('dropped');
    expect(t.posts).toHaveLength(0);
    expect(await deliver(t.deps, message(t, 1, 0, true))).toBe('delivered');
    expect(t.posts).toHaveLength(1);
  });

  it('drops a delivery whose endpoint was deleted, and one whose event is missing with an error log', async () => {
    const t = setup();
    await t.events.putEvent(event());
    expect(await deliver(t.deps, message(t))).toBe('dropped');
    await t.webhooks.createEndpoint(endpoint('ep', { accountId: 'A1' }));
    const missing = message(t);
    expect(
      await deliver(t.deps, { ...missing, request: { ...missing.request, eventId: 'gone' } }),
    ).toBe('dropped');
    expect(t.posts).toEqual([]);
    expect(t.logs).toContainEqual(['error', 'webhook delivery dropped: event not found']);
  });
});

describe('redeliver', () => {
  async function ready() {
    const t = setup();
    await t.events.putEvent(event());
    await t.webhooks.createEndpoint(endpoint('ep', { accountId: 'A1', status: 'disabled' }));
    return t;
  }

  it('queues a redelivery for an operator, even to a disabled endpoint', async () => {
    const t = await ready();
    expect(await redeliver(t.deps, operator, 'ep', event().id)).toEqual({
      endpointId: 'ep',
      eventId: event().id,
    });
    expect(t.queued).toEqual([{ eventId: event().id, endpointId: 'ep', redelivery: true }]);
  });

  it('refuses a customer, an unknown endpoint, an unknown event, and an event the endpoint never receives', async () => {
    const t = await ready();
    await t.events.putEvent(
      event({ id: 'movement.committed:A2:1', accountId: 'A2', ownerId: 'bob' }),
    );
    await expect(redeliver(t.deps, alice, 'ep', event().id)).rejects.toThrow(ForbiddenError);
    await expect(redeliver(t.deps, operator, 'nope', event().id)).rejects.toThrow(
      WebhookEndpointNotFoundError,
    );
    await expect(redeliver(t.deps, operator, 'ep', 'nope')).rejects.toThrow(EventNotFoundError);
    await expect(redeliver(t.deps, operator, 'ep', 'movement.committed:A2:1')).rejects.toThrow(
      EventNotFoundError,
    );
    expect(t.queued).toEqual([]);
  });
});

describe('listDeliveryAttempts', () => {
  it("shows an endpoint's attempts to its owner and to operators, and to no one else", async () => {
    const t = setup({ statusCode: 500 });
    await t.events.putEvent(event());
    await t.webhooks.createEndpoint(endpoint('ep', { accountId: 'A1' }));
    await deliver(t.deps, {
      request: { eventId: event().id, endpointId: 'ep' },
      attempt: 1,
      sentAt: new Date(t.now()),
    });
    const page = { limit: 20 };
    expect((await listDeliveryAttempts(t.deps, alice, 'ep', page)).attempts).toHaveLength(1);
    expect((await listDeliveryAttempts(t.deps, operator, 'ep', page)).attempts).toHaveLength(1);
    await expect(listDeliveryAttempts(t.deps, bob, 'ep', page)).rejects.toThrow(
      WebhookEndpointNotFoundError,
    );
    await expect(listDeliveryAttempts(t.deps, operator, 'nope', page)).rejects.toThrow(
      WebhookEndpointNotFoundError,
    );
  });
});
