/**
 * Section 10, webhooks. On a DynamoDB Local of its own, the whole event pipeline runs as in AWS:
 * the sequencer and the outbox reader (event publisher) fed from the table's stream, the fan-out
 * to the delivery queue (the local stack's, on the table) and the delivery worker POSTing to a
 * receiver that checks every signature.
 *
 * a. A slow endpoint does not slow the money path: withdrawals alternate between two accounts,
 *    one with an endpoint that answers after 10 s (longer than the 5 s attempt timeout, so every
 *    attempt fails and is retried), one with none. Same moment, same pipeline load; the target is
 *    their p50 ratio.
 * b. Delivery under failures: 1,000 events to an endpoint that fails a third of its answers
 *    (503). Every event must arrive; the figures are attempts, duplicates and the delay from
 *    commit to the first delivery that succeeded.
 */
import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { ulid } from 'ulid';
import { fanOut, type DeliveryDeps } from '../lib/domain/deliveries';
import { EVENT_TYPES, type EventStore, type WebhookEndpoint } from '../lib/domain/event-ports';
import { withdraw, type MovementDeps } from '../lib/domain/movements';
import { publishEventsHandler, isEventSource } from '../lib/events-stream';
import { dynamoLedgerStore } from '../lib/persistence/dynamodb-store';
import { dynamoEventStore } from '../lib/persistence/event-store';
import { dynamoWebhookStore } from '../lib/persistence/webhook-store';
import { sequencerHandler } from '../lib/sequencer-stream';
import { createHttpWebhookSender } from '../lib/webhooks/http-sender';
import { signPayload } from '../lib/webhooks/signature';
import { deliveryWorker } from '../lib/webhooks/worker';
import { localDeliveryQueue, startDeliveryPoller } from '../local/delivery-queue';
import { startStreamPoller, type StreamPoller } from '../local/stream-poller';
import { ensureTable } from '../local/table';
import { waitFor } from '../local/wait';
import { startWebhookReceiver, type WebhookReceiver } from '../local/webhook-receiver';
import { createFloorClient } from './floor';
import { benchMovementDeps } from './sequencer';
import { createAccounts, type Dynamo } from './lib/env';
import type { Progress } from './lib/progress';
import { newHistogram, recordMs, summarize, type LatencySummary } from './lib/stats';
import { round } from './lib/stats';

/** The endpoint that answers after this long: the slow endpoint. */
export const SLOW_ENDPOINT_MS = 10_000;
const ATTEMPT_TIMEOUT_MS = 5000;
/** Retries after 0.5, 1, 2, 4 … s: the production schedule (30 s, 1 min …) scaled down. */
const RETRY_BASE_MS = 500;

export interface WebhookPlan {
  slow: { rounds: number; perRound: number };
  delivery: { events: number; failRatio: number; accounts: number };
}

export interface WebhookResult {
  slowEndpoint: {
    withSlowEndpoint: LatencySummary;
    without: LatencySummary;
    /** p50 with a slow endpoint listening over p50 without. */
    p50Ratio: number;
    slowAttempts: number;
  };
  delivery: {
    events: number;
    delivered: number;
    missing: number;
    unexpected: number;
    attempts: number;
    failedAttempts: number;
    duplicates: number;
    delayMs: LatencySummary;
    drainSeconds: number;
    failRatio: number;
    retryBaseMs: number;
  };
  failures: string[];
}

interface Pipeline {
  store: ReturnType<typeof dynamoLedgerStore>;
  events: EventStore;
  deliveries: DeliveryDeps;
  movements: MovementDeps;
  stop(): Promise<void>;
}

export async function measureWebhooks(options: {
  dynamo: Dynamo;
  ownerId: string;
  plan: WebhookPlan;
  progress: Progress;
}): Promise<WebhookResult> {
  const failures: string[] = [];
  const tableName = `bench-webhooks-${ulid().toLowerCase()}`;
  await ensureTable(options.dynamo.setup, tableName);
  const pipeline = startPipeline(options.dynamo, tableName, failures);
  try {
    const slowEndpoint = await measureSlowEndpoint(options, pipeline, tableName);
    const delivery = await measureDelivery(options, pipeline, tableName, failures);
    return { slowEndpoint, delivery, failures };
  } finally {
    await pipeline.stop();
  }
}

/** The sequencer, the publisher, the queue and the worker, on the bench's own table. */
function startPipeline(dynamo: Dynamo, tableName: string, failures: string[]): Pipeline {
  const client = createFloorClient(dynamo.endpoint);
  const store = dynamoLedgerStore(client.doc, tableName);
  const silent = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });
  const queue = localDeliveryQueue({ db: client.doc, tableName, log: () => undefined });
  const events = dynamoEventStore({ db: client.doc, name: tableName });
  const deliveries: DeliveryDeps = {
    events,
    webhooks: dynamoWebhookStore({ db: client.doc, name: tableName }),
    queue,
    sender: createHttpWebhookSender(),
    sign: signPayload,
    logger: silent,
    metrics: { endpointDisabled: () => undefined },
    now: () => new Date(),
    timeoutMs: ATTEMPT_TIMEOUT_MS,
    retryBaseMs: RETRY_BASE_MS,
    giveUpMs: 3 * 86_400_000,
  };
  const publish = publishEventsHandler(() => ({
    events,
    ownerOf: async (accountId) => (await store.getAccount(accountId))?.ownerId ?? null,
    fanOut: (events) => fanOut(deliveries, events),
    now: () => new Date(),
  }));
  const onError = (what: string) => (error: unknown) => failures.push(`${what}: ${String(error)}`);
  const pollers: StreamPoller[] = [
    startStreamPoller({
      endpoint: dynamo.endpoint,
      tableName,
      handler: sequencerHandler(() => store),
      filter: (record) => record.dynamodb?.Keys?.sk?.S === 'ACCOUNT',
      batchSize: 1000,
      onError: onError('sequencer'),
    }),
    startStreamPoller({
      endpoint: dynamo.endpoint,
      tableName,
      handler: publish,
      filter: isEventSource,
      batchSize: 1000,
      onError: onError('publisher'),
    }),
  ];
  const worker = startDeliveryPoller({
    queue,
    handler: deliveryWorker(
      () => deliveries,
      () => queue.postpone,
    ),
    onError: onError('delivery worker'),
  });
  const movements = benchMovementDeps(store);
  return {
    store,
    events,
    deliveries,
    movements,
    stop: async () => {
      await worker.stop();
      await Promise.all(pollers.map((p) => p.stop()));
      client.client.destroy();
    },
  };
}

/** An endpoint for one account's movements (or every event), pointing at `receiver`. */
async function listen(
  deliveries: DeliveryDeps,
  receiver: WebhookReceiver,
  secret: string,
  accountId?: string,
): Promise<void> {
  const endpoint: WebhookEndpoint = {
    id: ulid(),
    url: receiver.url,
    eventTypes: accountId === undefined ? [...EVENT_TYPES] : ['movement.committed'],
    ...(accountId === undefined ? {} : { accountId }),
    ownerId: 'bench-ops',
    operator: true,
    secret,
    status: 'enabled',
    createdAt: new Date().toISOString(),
  };
  await deliveries.webhooks.createEndpoint(endpoint);
}

async function measureSlowEndpoint(
  options: { dynamo: Dynamo; ownerId: string; plan: WebhookPlan; progress: Progress },
  pipeline: Pipeline,
  tableName: string,
): Promise<WebhookResult['slowEndpoint']> {
  const secret = `whsec_${ulid()}`;
  const receiver = await startWebhookReceiver({
    port: 0,
    secrets: () => [secret],
    slowMs: SLOW_ENDPOINT_MS,
    log: () => undefined,
  });
  try {
    const [watched, quiet] = await createAccounts(
      options.dynamo.setupDoc,
      tableName,
      options.ownerId,
      2,
      1e12,
    );
    await listen(pipeline.deliveries, receiver, secret, watched);
    const histograms = { with: newHistogram(), without: newHistogram() };
    const { rounds, perRound } = options.plan.slow;
    const step = options.progress.step('a. withdrawals, slow endpoint or none', rounds * perRound);
    const owner = { userId: options.ownerId, username: 'bench', isOperator: false };
    for (let i = 0; i < rounds * perRound; i++) {
      // Alternating, so both accounts see the same moment of the pipeline.
      const [accountId, histogram] =
        i % 2 === 0 ? [watched, histograms.with] : [quiet, histograms.without];
      const started = performance.now();
      await withdraw(pipeline.movements, {
        caller: owner,
        accountId: accountId ?? '',
        amount: 1,
        idempotencyKey: `slow-${i}`,
        requestId: 'bench',
      });
      recordMs(histogram, performance.now() - started);
      step.tick();
    }
    step.done();
    const withSlow = summarize(histograms.with);
    const without = summarize(histograms.without);
    return {
      withSlowEndpoint: withSlow,
      without,
      p50Ratio: round(withSlow.p50 / without.p50, 3),
      slowAttempts: receiver.received().length,
    };
  } finally {
    await receiver.close();
  }
}

interface Arrival {
  id: string;
  ok: boolean;
  verified: boolean;
  at: number;
}

async function measureDelivery(
  options: { dynamo: Dynamo; plan: WebhookPlan; progress: Progress },
  pipeline: Pipeline,
  tableName: string,
  failures: string[],
): Promise<WebhookResult['delivery']> {
  const { events: total, failRatio, accounts: accountCount } = options.plan.delivery;
  const secret = `whsec_${ulid()}`;
  const arrivals: Arrival[] = [];
  const receiver = await startWebhookReceiver({
    port: 0,
    secrets: () => [secret],
    failRatio,
    // Every arrival, not the receiver's last 200.
    log: (line) =>
      arrivals.push({
        id: String(line.id),
        ok: Number(line.status) < 300,
        verified: line.verified === true,
        at: Date.parse(String(line.receivedAt)),
      }),
  });
  try {
    // A customer's endpoint for all their accounts: it gets exactly these accounts' events.
    const owner = `bench-delivery-${ulid()}`;
    await pipeline.deliveries.webhooks.createEndpoint({
      id: ulid(),
      url: receiver.url,
      eventTypes: [...EVENT_TYPES],
      ownerId: owner,
      operator: false,
      secret,
      status: 'enabled',
      createdAt: new Date().toISOString(),
    });
    const started = performance.now();
    const accounts = await createAccounts(
      options.dynamo.setupDoc,
      tableName,
      owner,
      accountCount,
      1e12,
    );
    await commitWithdrawals(pipeline, owner, accounts, total - accountCount, options.progress);
    const expected = await eventsOf(pipeline, accounts, total);
    const step = options.progress.step('b. deliveries, a third refused', expected.size);
    const delivered = () => new Set(arrivals.filter((a) => a.ok && a.verified).map((a) => a.id));
    let reported = 0;
    await waitFor(
      'every event delivered',
      () => {
        const done = [...delivered()].filter((id) => expected.has(id)).length;
        step.tick(done - reported);
        reported = done;
        return done >= expected.size;
      },
      { timeoutMs: 300_000, intervalMs: 250 },
    ).catch((error: unknown) => {
      failures.push(String(error));
    });
    step.done();
    return deliveryFigures(arrivals, expected, {
      drainSeconds: (performance.now() - started) / 1000,
      failRatio,
    });
  } finally {
    await receiver.close();
  }
}

async function commitWithdrawals(
  pipeline: Pipeline,
  owner: string,
  accounts: string[],
  count: number,
  progress: Progress,
): Promise<void> {
  const caller = { userId: owner, username: 'bench', isOperator: false };
  const step = progress.step('b. withdrawals (events)', count);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < count; i = next++) {
        await withdraw(pipeline.movements, {
          caller,
          accountId: accounts[i % accounts.length] ?? '',
          amount: 1,
          idempotencyKey: `delivery-${i}`,
          requestId: 'bench',
        });
        step.tick();
      }
    }),
  );
  step.done();
}

/** The accounts' events as the feed lists them (waiting until all are published): id → createdAt. */
async function eventsOf(
  pipeline: Pipeline,
  accounts: string[],
  total: number,
): Promise<Map<string, number>> {
  const events = new Map<string, number>();
  await waitFor(
    'every event published',
    async () => {
      events.clear();
      for (const accountId of accounts) {
        let after: string | undefined;
        for (;;) {
          const until = `${new Date(Date.now() + 60_000).toISOString()}#~`;
          const page = await pipeline.events.listAccountEvents(accountId, {
            ...(after === undefined ? {} : { after }),
            until,
            limit: 100,
          });
          for (const event of page) events.set(event.id, Date.parse(event.createdAt));
          if (page.length < 100) break;
          after = page[page.length - 1]?.position;
        }
      }
      return events.size >= total;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  return events;
}

function deliveryFigures(
  arrivals: Arrival[],
  expected: Map<string, number>,
  run: { drainSeconds: number; failRatio: number },
): WebhookResult['delivery'] {
  const mine = arrivals.filter((a) => expected.has(a.id));
  const firstOk = new Map<string, number>();
  let duplicates = 0;
  for (const arrival of mine.filter((a) => a.ok && a.verified)) {
    if (firstOk.has(arrival.id)) duplicates += 1;
    else firstOk.set(arrival.id, arrival.at);
  }
  const delays = newHistogram();
  for (const [id, at] of firstOk) recordMs(delays, Math.max(1, at - (expected.get(id) ?? at)));
  return {
    events: expected.size,
    delivered: firstOk.size,
    missing: expected.size - firstOk.size,
    unexpected: new Set(arrivals.filter((a) => !expected.has(a.id)).map((a) => a.id)).size,
    attempts: mine.length,
    failedAttempts: mine.filter((a) => !a.ok).length,
    duplicates,
    delayMs: summarize(delays),
    drainSeconds: round(run.drainSeconds, 1),
    failRatio: run.failRatio,
    retryBaseMs: RETRY_BASE_MS,
  };
}
