/**
 * `npm start`: the whole local stack in one command. DynamoDB Local (data kept in DATA_DIR),
 * cognito-local as the token issuer, the table from serverless.yml, demo users and funded
 * accounts, the statement sequencer and the payout dispatcher fed from the table's stream, the
 * payout sweeper on a timer, a simulated payout gateway, the HTTP API through serverless-offline,
 * and the web page. Ctrl-C stops everything it started, java included.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { assertPortFree, localDynamoDbClient, startDynamoDbLocal } from './dynamodb-local';
import { ensureIdentity, startCognitoLocal, DEMO_USERS } from './cognito';
import { backfillAccountBalances, ensureTable } from './table';
import { startSimulatedGateway } from './payout-gateway';
import { startProcess, waitFor, type ManagedProcess } from './processes';
import { stackSettings } from './settings';
import { startStreamPoller } from './stream-poller';
import { startWebServer } from './web-server';

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  const s = stackSettings();
  const stops: Stoppable[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const item of stops.reverse()) {
      await item.stop().catch((error: unknown) => console.error(`stopping ${item.name}:`, error));
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    for (const [variable, value] of [
      ['API_PORT', s.apiPort],
      ['WEB_PORT', s.webPort],
      ['DYNAMODB_PORT', s.dynamodbPort],
      ['COGNITO_PORT', s.cognitoPort],
      ['LAMBDA_PORT', s.lambdaPort],
      ...(process.env.PAYOUT_GATEWAY_URL ? [] : [['GATEWAY_PORT', s.gatewayPort] as const]),
    ] as const) {
      await assertPortFree(value, variable);
    }
    mkdirSync(s.dataDir, { recursive: true });

    const dynamo = await startDynamoDbLocal({
      port: s.dynamodbPort,
      dataDir: path.join(s.dataDir, 'dynamodb'),
      portVariable: 'DYNAMODB_PORT',
    });
    stops.push({ name: 'DynamoDB Local', stop: () => dynamo.stop() });
    await ensureTable(localDynamoDbClient(dynamo.endpoint), s.tableName);
    await backfillAccountBalances(localDynamoDbClient(dynamo.endpoint), s.tableName);

    // The external payout gateway, simulated (its state kept beside the data), unless a real
    // one is named.
    let gatewayUrl = process.env.PAYOUT_GATEWAY_URL;
    if (!gatewayUrl) {
      const gateway = await startSimulatedGateway({
        port: s.gatewayPort,
        stateFile: path.join(s.dataDir, 'payout-gateway.json'),
      });
      stops.push({ name: 'payout gateway', stop: () => gateway.close() });
      gatewayUrl = gateway.url;
    }
    // Opt-in (reliability checks): the API and the sequencer reach DynamoDB through this endpoint,
    // e.g. a fault-injecting proxy; table creation and seeding stay on DynamoDB Local's own.
    const serviceEndpoint = process.env.API_DYNAMODB_ENDPOINT || dynamo.endpoint;

    const cognito = await startCognitoLocal({
      port: s.cognitoPort,
      dataDir: path.join(s.dataDir, 'cognito'),
    });
    stops.push({ name: 'cognito-local', stop: () => cognito.stop() });
    const identity = await ensureIdentity({ endpoint: cognito.endpoint, dataDir: s.dataDir });

    const webOrigins = [`http://localhost:${s.webPort}`, `http://127.0.0.1:${s.webPort}`];
    // The handlers read their configuration from the environment, here as in Lambda.
    Object.assign(process.env, {
      TABLE_NAME: s.tableName,
      DYNAMODB_ENDPOINT: serviceEndpoint,
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
    });

    // Imported only now: they read the configuration set just above.
    const { createDocumentClient } = await import('../lib/persistence/dynamodb-client');
    const { dynamoLedgerStore } = await import('../lib/persistence/dynamodb-store');
    const { seedDemoData } = await import('./seed');
    const sequencer = await import('../handlers/sequencer');

    // A stream consumer as Lambda's event source mapping runs it: filtered, checkpointed in DATA_DIR.
    const consume = (
      name: string,
      // Its batchItemFailures go to the poller as they would to Lambda: the batch resumes there.
      handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>,
      checkpoint: string,
      filter: (record: DynamoDBRecord) => boolean,
      batchSize: number,
    ) => {
      const poller = startStreamPoller({
        endpoint: serviceEndpoint,
        tableName: s.tableName,
        handler,
        checkpointFile: path.join(s.dataDir, checkpoint),
        filter,
        batchSize,
        onError: (error) => console.error(`${name}:`, error),
      });
      stops.push({ name, stop: () => poller.stop() });
    };
    consume(
      'sequencer',
      sequencer.handler,
      'sequencer-checkpoint.json',
      (record) => record.dynamodb?.Keys?.sk?.S === 'ACCOUNT',
      1000, // as serverless.yml's batchSize: one call sees many changes of each busy account
    );
    // The same payout functions that run in AWS: the dispatcher behind the stream (new payout
    // records only, as serverless.yml filters them), the sweeper on a timer (AWS: every minute).
    const payouts = await import('../handlers/payouts');
    const { isNewPayoutRecord } = await import('../lib/payout-stream');
    consume(
      'payout dispatcher',
      payouts.dispatch,
      'payouts-checkpoint.json',
      isNewPayoutRecord,
      1000, // records read per GetRecords; only new payouts reach the handler
    );
    const sweeper = startTimer(sweepSeconds() * 1000, () =>
      payouts.sweep().catch((error: unknown) => console.error('payout sweeper:', error)),
    );
    stops.push({ name: 'payout sweeper', stop: () => sweeper.stop() });

    const seedStore = dynamoLedgerStore(
      createDocumentClient({ region: 'us-east-1', endpoint: dynamo.endpoint }),
      s.tableName,
    );
    const seeded = await seedDemoData(seedStore, identity);

    // Rebuilt at every start; removed at the stop (after the API), so test stacks leave nothing.
    const bundleDir = path.join(
      s.root,
      '.esbuild',
      'stacks',
      createHash('sha256').update(s.dataDir).digest('hex').slice(0, 12),
    );
    stops.push({
      name: 'bundles',
      stop: () => rm(bundleDir, { recursive: true, force: true }),
    });
    const api: ManagedProcess = startProcess(
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
    stops.push(api);
    void api.exited.then((code) => {
      if (!stopping) {
        console.error(`The API process exited (code ${code}); stopping the stack.`);
        void shutdown(1);
      }
    });
    const apiUrl = `http://localhost:${s.apiPort}`;
    await waitFor(
      'The API (serverless-offline)',
      async () => (await fetch(`${apiUrl}/health`)).ok,
      120_000,
    );

    const web = await startWebServer({
      port: s.webPort,
      config: { apiUrl, cognitoEndpoint: identity.endpoint, clientId: identity.clientId },
    });
    stops.push({ name: 'web', stop: () => web.stop() });

    writeFileSync(
      path.join(s.dataDir, 'stack.json'),
      JSON.stringify(
        {
          apiUrl,
          webUrl: web.url,
          dynamodb: dynamo.endpoint,
          gatewayUrl,
          identity,
          pid: process.pid,
        },
        null,
        2,
      ),
    );

    const users = seeded
      .map((u) => {
        const password = DEMO_USERS.find((d) => d.username === u.username)?.password ?? '';
        return `    ${u.username.padEnd(6)} password ${password.padEnd(22)} accounts ${u.accountIds.join(', ') || '(operator)'}`;
      })
      .join('\n');
    console.log(`
Local stack ready (data in ${s.dataDir}; Node ${process.version})
  Web page   ${web.url}
  API        ${apiUrl}   (try: curl ${apiUrl}/health)
  DynamoDB   ${dynamo.endpoint}
  Cognito    ${identity.endpoint}  (issuer ${identity.issuer})
  Payouts    ${gatewayUrl}  (simulated gateway; see README "Payouts")
  Demo users (local only):
${users}
  A token:   npm run --silent token -- alice
Press Ctrl-C to stop.`);
  } catch (error) {
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
}

/** How often the local sweeper runs (AWS: every minute); short, so demos resolve quickly. */
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
