/**
 * `npm start`: the whole local stack in one command. DynamoDB Local (data kept in DATA_DIR),
 * cognito-local as the token issuer, the table from serverless.yml, demo users and funded
 * accounts, the statement sequencer and the payout dispatcher fed from the table's stream, the
 * payout sweeper and the returns reader on timers, a simulated payout gateway, the HTTP API
 * through serverless-offline, and the web page. Ctrl-C stops everything it started, java
 * included.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ServiceUnavailableError } from '../lib/domain/errors';
import { TransientStoreError } from '../lib/domain/ports';
import { retry } from '../lib/domain/retry';
import { ensureIdentity, startCognitoLocal, DEMO_USERS, type LocalIdentity } from './cognito';
import { localDynamoDbClient, startDynamoDbLocal } from './dynamodb-local';
import { startSimulatedGateway } from './payout-gateway';
import { assertPortFree } from './ports';
import { startProcess } from './processes';
import type { SeededUser } from './seed';
import { stackSettings, type StackSettings } from './settings';
import { startStreamPoller } from './stream-poller';
import {
  backfillAccountBalances,
  backfillTermsVersion,
  completeStatementFigures,
  ensureTable,
} from './table';
import { waitFor } from './wait';
import { startWebServer } from './web-server';

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/** What has been started so far, stopped in reverse order. */
class Stack {
  private readonly started: Stoppable[] = [];
  stopping = false;

  add(name: string, stop: () => Promise<void>): void {
    this.started.push({ name, stop });
  }

  async shutdown(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const item of this.started.reverse()) {
      await item.stop().catch((error: unknown) => console.error(`stopping ${item.name}:`, error));
    }
    process.exit(code);
  }
}

/** Where the started parts answer. */
interface Endpoints {
  dynamodb: string;
  gatewayUrl: string;
  identity: LocalIdentity;
  apiUrl: string;
  webUrl: string;
  receiverUrl: string;
}

async function main(): Promise<void> {
  const s = stackSettings();
  const stack = new Stack();
  process.on('SIGINT', () => void stack.shutdown(0));
  process.on('SIGTERM', () => void stack.shutdown(0));
  try {
    await checkPorts(s);
    mkdirSync(s.dataDir, { recursive: true });
    const dynamodb = await startStorage(s, stack);
    const gatewayUrl = await startGateway(s, stack);
    // Opt-in (reliability checks): the API and the sequencer reach DynamoDB through this
    // endpoint, e.g. a fault-injecting proxy; table creation and seeding stay on DynamoDB Local's.
    const serviceDynamodb = process.env.API_DYNAMODB_ENDPOINT || dynamodb;
    const identity = await startIdentity(s, stack);
    configureHandlers(s, serviceDynamodb, identity, gatewayUrl);
    // Before the publisher starts: every event from now on reaches the receiver.
    const receiverUrl = s.webhookReceiver ? await startReceiver(s, stack, identity) : '';
    await startBackgroundWork(s, serviceDynamodb, stack);
    const seeded = await seed(s, dynamodb, identity);
    const apiUrl = await startApi(s, stack);
    const web = await startWebServer({
      port: s.webPort,
      config: { apiUrl, cognitoEndpoint: identity.endpoint, clientId: identity.clientId },
    });
    stack.add('web', () => web.stop());
    const endpoints = { dynamodb, gatewayUrl, identity, apiUrl, webUrl: web.url, receiverUrl };
    writeStackFile(s, endpoints);
    console.log(readyMessage(s, endpoints, seeded));
  } catch (error) {
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    await stack.shutdown(1);
  }
}

async function checkPorts(s: StackSettings): Promise<void> {
  const ports: Array<[string, number]> = [
    ['API_PORT', s.apiPort],
    ['WEB_PORT', s.webPort],
    ['DYNAMODB_PORT', s.dynamodbPort],
    ['COGNITO_PORT', s.cognitoPort],
    ['LAMBDA_PORT', s.lambdaPort],
  ];
  if (s.webhookReceiver) ports.push(['RECEIVER_PORT', s.receiverPort]);
  if (!process.env.PAYOUT_GATEWAY_URL) ports.push(['GATEWAY_PORT', s.gatewayPort]);
  for (const [variable, value] of ports) await assertPortFree(value, variable);
}

/** DynamoDB Local with the table from serverless.yml; returns its endpoint. */
async function startStorage(s: StackSettings, stack: Stack): Promise<string> {
  const dynamo = await startDynamoDbLocal({
    port: s.dynamodbPort,
    dataDir: path.join(s.dataDir, 'dynamodb'),
    portVariable: 'DYNAMODB_PORT',
  });
  stack.add('DynamoDB Local', () => dynamo.stop());
  await ensureTable(localDynamoDbClient(dynamo.endpoint), s.tableName);
  await backfillAccountBalances(localDynamoDbClient(dynamo.endpoint), s.tableName);
  await backfillTermsVersion(localDynamoDbClient(dynamo.endpoint), s.tableName);
  await completeStatementFigures(localDynamoDbClient(dynamo.endpoint), s.tableName);
  return dynamo.endpoint;
}

/** The external payout gateway, simulated (its state kept beside the data), unless one is named. */
async function startGateway(s: StackSettings, stack: Stack): Promise<string> {
  if (process.env.PAYOUT_GATEWAY_URL) return process.env.PAYOUT_GATEWAY_URL;
  const gateway = await startSimulatedGateway({
    port: s.gatewayPort,
    stateFile: path.join(s.dataDir, 'payout-gateway.json'),
  });
  stack.add('payout gateway', () => gateway.close());
  return gateway.url;
}

async function startIdentity(s: StackSettings, stack: Stack): Promise<LocalIdentity> {
  const cognito = await startCognitoLocal({
    port: s.cognitoPort,
    dataDir: path.join(s.dataDir, 'cognito'),
  });
  stack.add('cognito-local', () => cognito.stop());
  const identity = await ensureIdentity({ endpoint: cognito.endpoint, dataDir: s.dataDir });
  // The pool, client and users exist now: a copy to start from if a crash tears a data file.
  await cognito.keepGoodCopy();
  return identity;
}

/** The handlers read their configuration from the environment, here as in Lambda. */
function configureHandlers(
  s: StackSettings,
  dynamodbEndpoint: string,
  identity: LocalIdentity,
  gatewayUrl: string,
): void {
  const webOrigins = [`http://localhost:${s.webPort}`, `http://127.0.0.1:${s.webPort}`];
  Object.assign(process.env, {
    TABLE_NAME: s.tableName,
    DYNAMODB_ENDPOINT: dynamodbEndpoint,
    JWT_ISSUER: identity.issuer,
    JWT_JWKS_URL: identity.jwksUrl,
    JWT_CLIENT_IDS: identity.clientId,
    CORS_ORIGINS: webOrigins.join(','),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'INFO',
    PAYOUT_GATEWAY_URL: gatewayUrl,
    // AWS asks again after 30 s; locally 5, so a lost gateway answer resolves while you watch.
    PAYOUT_RETRY_SECONDS: process.env.PAYOUT_RETRY_SECONDS || '5',
    // The receiver is http://127.0.0.1; a failed delivery is tried again after 2 s, then 4, 8 …
    WEBHOOK_ALLOW_HTTP_LOCALHOST: 'true',
    WEBHOOK_RETRY_BASE_SECONDS: process.env.WEBHOOK_RETRY_BASE_SECONDS || '2',
  });
}

/**
 * The same functions that run in AWS behind the table's stream: the sequencer, the payout
 * dispatcher (new payout records only, as serverless.yml filters them), and the sweeper and the
 * returns reader on timers (AWS: every minute). Imported only now: they read the configuration set before.
 */
async function startBackgroundWork(
  s: StackSettings,
  dynamodbEndpoint: string,
  stack: Stack,
): Promise<void> {
  const sequencer = await import('../handlers/sequencer');
  const payouts = await import('../handlers/payouts');
  const outbox = await import('../handlers/outbox');
  const { isEventSource } = await import('../lib/events-stream');
  const consume = streamConsumer(s, dynamodbEndpoint, stack);
  // As serverless.yml's batchSize: one call sees many changes of each busy account.
  consume('sequencer', sequencer.handler, 'sequencer-checkpoint.json', isAccountChange, 1000);
  // Before the publisher's first batch: its fan-out queues deliveries on this queue.
  await startDeliveries(stack);
  // The stream's second reader, as in AWS: the payout dispatcher and the event publisher on the
  // same batches (records read per GetRecords; only new payouts and event sources reach it).
  consume('outbox', outbox.handler, 'payouts-checkpoint.json', isEventSource, 1000);
  const sweeper = startTimer(sweepSeconds() * 1000, () =>
    payouts.sweep().catch((error: unknown) => console.error('payout sweeper:', error)),
  );
  stack.add('payout sweeper', () => sweeper.stop());
  // As often as the sweeper (AWS: every minute too).
  const returns = startTimer(sweepSeconds() * 1000, () =>
    payouts.returns().catch((error: unknown) => console.error('payout returns:', error)),
  );
  stack.add('payout returns', () => returns.stop());
}

/**
 * Webhook deliveries as in AWS, with SQS emulated on DynamoDB Local (a message survives a
 * restart): the worker Lambda runs behind the queue's poller, 16 messages in flight.
 */
async function startDeliveries(stack: Stack): Promise<void> {
  const { config } = await import('../lib/config');
  const { documentClient } = await import('../lib/persistence/dynamodb-client');
  const { useLocalDeliveryQueue } = await import('../lib/event-service');
  const { localDeliveryQueue, startDeliveryPoller } = await import('./delivery-queue');
  const webhooks = await import('../handlers/webhook-deliveries');
  const queue = localDeliveryQueue({
    db: documentClient(),
    tableName: config().tableName,
    log: (message, fields) => console.error(`delivery queue: ${message}`, fields),
  });
  useLocalDeliveryQueue(queue);
  const poller = startDeliveryPoller({
    queue,
    handler: webhooks.deliver,
    onError: (error) => console.error('delivery worker:', error),
  });
  stack.add('delivery worker', () => poller.stop());
}

const isAccountChange = (record: DynamoDBRecord): boolean =>
  record.dynamodb?.Keys?.sk?.S === 'ACCOUNT';

/** A stream consumer as Lambda's event source mapping runs it: filtered, checkpointed in DATA_DIR. */
function streamConsumer(s: StackSettings, endpoint: string, stack: Stack) {
  return (
    name: string,
    // Its batchItemFailures go to the poller as they would to Lambda: the batch resumes there.
    handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>,
    checkpoint: string,
    filter: (record: DynamoDBRecord) => boolean,
    batchSize: number,
  ): void => {
    const poller = startStreamPoller({
      endpoint,
      tableName: s.tableName,
      handler,
      checkpointFile: path.join(s.dataDir, checkpoint),
      filter,
      batchSize,
      onError: (error) => console.error(`${name}:`, error),
    });
    stack.add(name, () => poller.stop());
  };
}

/** The webhook receiver, and the demo endpoint that sends it every event; returns its page. */
async function startReceiver(
  s: StackSettings,
  stack: Stack,
  identity: LocalIdentity,
): Promise<string> {
  const { startLocalReceiver } = await import('./webhooks');
  const { receiver } = await startLocalReceiver({
    port: s.receiverPort,
    dataDir: s.dataDir,
    identity,
  });
  stack.add('webhook receiver', () => receiver.close());
  return new URL('/', receiver.url).href.replace(/\/$/, '');
}

/** Demo users and their funded accounts, written straight to DynamoDB Local. */
async function seed(
  s: StackSettings,
  dynamodbEndpoint: string,
  identity: LocalIdentity,
): Promise<SeededUser[]> {
  const { createDocumentClient } = await import('../lib/persistence/dynamodb-client');
  const { dynamoLedgerStore } = await import('../lib/persistence/dynamodb-store');
  const { seedDemoData } = await import('./seed');
  const store = dynamoLedgerStore(
    createDocumentClient({ region: 'us-east-1', endpoint: dynamodbEndpoint }),
    s.tableName,
  );
  // Seeding is idempotent (fixed keys): a DynamoDB Local still warming up after a restart on
  // its data, answering slowly, is asked again rather than failing the start.
  return retry(() => seedDemoData(store, identity), {
    attempts: 5,
    baseMs: 500,
    capMs: 4000,
    retryable: (error) =>
      error instanceof ServiceUnavailableError || error instanceof TransientStoreError,
  });
}

/** The HTTP API through serverless-offline; returns its URL once /health answers. */
async function startApi(s: StackSettings, stack: Stack): Promise<string> {
  // Rebuilt at every start; removed at the stop (after the API), so test stacks leave nothing.
  const bundleDir = path.join(
    s.root,
    '.esbuild',
    'stacks',
    createHash('sha256').update(s.dataDir).digest('hex').slice(0, 12),
  );
  stack.add('bundles', () => rm(bundleDir, { recursive: true, force: true }));
  const api = startProcess(
    'API',
    process.execPath,
    [require.resolve('osls/bin/serverless.js'), 'offline', 'start', '--stage', s.stage],
    {
      cwd: s.root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        API_PORT: String(s.apiPort),
        LAMBDA_PORT: String(s.lambdaPort),
        // Inside the project whatever DATA_DIR is: the bundles leave @aws-sdk out (Lambda's
        // runtime provides it), and from here they resolve the project's pinned copy.
        ESBUILD_WORK_FOLDER: path.relative(s.root, bundleDir),
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
      },
    },
  );
  stack.add(api.name, () => api.stop());
  void api.exited.then((code) => {
    if (stack.stopping) return;
    console.error(`The API process exited (code ${code}); stopping the stack.`);
    void stack.shutdown(1);
  });
  const apiUrl = `http://localhost:${s.apiPort}`;
  const healthy = () =>
    fetch(`${apiUrl}/health`).then(
      (response) => response.ok,
      () => false,
    );
  await waitFor('the API (serverless-offline)', healthy, { timeoutMs: 120_000, intervalMs: 200 });
  return apiUrl;
}

/** DATA_DIR/stack.json: how tests, `npm run token` and `npm run audit` find this stack. */
function writeStackFile(s: StackSettings, e: Endpoints): void {
  const info = {
    apiUrl: e.apiUrl,
    webUrl: e.webUrl,
    dynamodb: e.dynamodb,
    gatewayUrl: e.gatewayUrl,
    identity: e.identity,
    receiverUrl: e.receiverUrl,
    pid: process.pid,
  };
  writeFileSync(path.join(s.dataDir, 'stack.json'), JSON.stringify(info, null, 2));
}

function readyMessage(s: StackSettings, e: Endpoints, seeded: SeededUser[]): string {
  const users = seeded
    .map((u) => {
      const password = DEMO_USERS.find((d) => d.username === u.username)?.password ?? '';
      return `    ${u.username.padEnd(6)} password ${password.padEnd(22)} accounts ${u.accountIds.join(', ') || '(operator)'}`;
    })
    .join('\n');
  return `
Local stack ready (data in ${s.dataDir}; Node ${process.version})
  Web page   ${e.webUrl}
  API        ${e.apiUrl}   (try: curl ${e.apiUrl}/health)
  DynamoDB   ${e.dynamodb}
  Cognito    ${e.identity.endpoint}  (issuer ${e.identity.issuer})
  Payouts    ${e.gatewayUrl}  (simulated gateway; see README "Payouts")
  Webhooks   ${e.receiverUrl ? `${e.receiverUrl}  (a receiver sent every event, signatures checked; README "Webhooks")` : 'no receiver (WEBHOOK_RECEIVER=off); events are still published'}
  Demo users (local only):
${users}
  A token:   npm run --silent token -- alice
Press Ctrl-C to stop.`;
}

/** How often the local sweeper and returns reader run (AWS: every minute); short, for demos. */
function sweepSeconds(): number {
  const value = Number(process.env.PAYOUT_SWEEP_SECONDS ?? '5');
  if (!Number.isFinite(value) || value <= 0) throw new Error('PAYOUT_SWEEP_SECONDS must be > 0');
  return value;
}

/** Runs `task` every `ms`, skipping a tick while a run is in progress; stop() waits for it. */
function startTimer(ms: number, task: () => Promise<void>): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= task().finally(() => {
      running = undefined;
    });
  }, ms);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

void main();
