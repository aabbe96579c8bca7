/**
 * The local stack behind the fault proxy: `startLocalStack` (npm start on free ports, a data dir
 * of its own) with API_DYNAMODB_ENDPOINT pointing at the proxy, and the proxy pointed at the
 * stack's DynamoDB Local once its java process is up (found by its `-dbPath` and `-port`).
 * Also the crash: `kill -9` of DynamoDB Local and of the API, and a restart on the same data.
 * Payouts are settled quickly: the sweeper runs every PAYOUT_SWEEP_SECONDS (1 here, 5 by
 * default) and asks an unknown gateway outcome again after PAYOUT_RETRY_SECONDS (30 by default;
 * 2 here unless test/support/local-stack sets its own, 3 s, which wins). The run's environment
 * overrides both.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { DEMO_USERS, signIn } from '../../../local/cognito';
import { sleep } from '../../../local/wait';
import type { FaultProxy } from '../fault-proxy';
import { startLocalStack, type RunningStack } from '../../support/local-stack';

export type DemoUser = 'alice' | 'bob' | 'ops';

export interface Identity {
  token: string;
  sub: string;
}

export interface ProxiedStack {
  stack: RunningStack;
  dataDir: string;
  apiUrl: string;
  /** DynamoDB Local's own endpoint (the proxy's target). */
  dynamodb: string;
  users: Record<DemoUser, Identity>;
  /** Milliseconds the stack took to answer. */
  startMs: number;
}

interface ProcessRow {
  pid: number;
  ppid: number;
  args: string;
}

function processTable(): ProcessRow[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return out
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), args: match[3] ?? '' }));
}

/** DynamoDB Local's java process for a data dir: its pid and the port given by `-port`. */
export function findDynamoDbLocal(dataDir: string): { pid: number; port: number } | null {
  const dbPath = path.resolve(dataDir, 'dynamodb');
  for (const row of processTable()) {
    if (!row.args.includes('DynamoDBLocal.jar')) continue;
    const args = row.args.split(/\s+/);
    const dbIndex = args.indexOf('-dbPath');
    if (dbIndex < 0 || args[dbIndex + 1] !== dbPath) continue;
    const port = Number(args[args.indexOf('-port') + 1]);
    if (Number.isInteger(port) && port > 0) return { pid: row.pid, port };
  }
  return null;
}

/** The API (serverless-offline) started by the stack process `stackPid`. */
export function findApiProcess(stackPid: number): number | null {
  const rows = processTable();
  const descendants = new Set([stackPid]);
  // Parents come before children in no guaranteed order: iterate to a fixed point.
  for (let changed = true; changed; ) {
    changed = false;
    for (const row of rows) {
      if (descendants.has(row.ppid) && !descendants.has(row.pid)) {
        descendants.add(row.pid);
        changed = true;
      }
    }
  }
  const api = rows.find(
    (row) =>
      descendants.has(row.pid) &&
      row.args.includes('serverless.js') &&
      row.args.includes('offline'),
  );
  return api?.pid ?? null;
}

/** The stack's environment for a bank run, unless the caller's environment sets it. */
export const BANK_STACK_ENV: Record<string, string> = {
  PAYOUT_RETRY_SECONDS: '2',
  PAYOUT_SWEEP_SECONDS: '1',
  // Events are published as ever; only the demo receiver is not sent them. Deliveries are not
  // what this run checks (test/http/webhooks.test.ts and webhook-delivery.test.ts do), and
  // delivering every event of 2,000 operations more than doubled DynamoDB Local's work here.
  WEBHOOK_RECEIVER: 'off',
};

export async function signInAll(stack: RunningStack): Promise<Record<DemoUser, Identity>> {
  const entries = await Promise.all(
    DEMO_USERS.map(async (user) => {
      const { accessToken } = await signIn(stack.info.identity, user.username, user.password);
      const sub = decodeJwt(accessToken).sub;
      if (sub === undefined) throw new Error(`the token of ${user.username} has no sub`);
      return [user.username, { token: accessToken, sub }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<DemoUser, Identity>;
}

/**
 * Starts the stack with the API and the sequencer behind `proxy`. Requests the API sends
 * before DynamoDB Local is found wait in the proxy.
 */
export async function startProxiedStack(
  proxy: FaultProxy,
  options: { dataDir?: string } = {},
): Promise<ProxiedStack> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'mm-bank-'));
  const started = Date.now();
  proxy.setTarget(null);
  const settings: Record<string, string> = { API_DYNAMODB_ENDPOINT: proxy.endpoint };
  for (const [name, value] of Object.entries(BANK_STACK_ENV))
    settings[name] = process.env[name] ?? value;
  const previous = new Map(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  let found = false;
  let giveUp = false;
  const discovery = (async () => {
    while (!found && !giveUp) {
      const dynamo = findDynamoDbLocal(dataDir);
      if (dynamo !== null) {
        proxy.setTarget(`http://127.0.0.1:${dynamo.port}`);
        found = true;
        return;
      }
      await sleep(200);
    }
  })();
  let stack: RunningStack;
  try {
    stack = await startLocalStack({ dataDir, timeoutMs: 240_000 });
  } catch (error) {
    if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    giveUp = true;
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await discovery;
  }
  // The stack's own record is authoritative.
  proxy.setTarget(stack.info.dynamodb);
  const users = await signInAll(stack);
  return {
    stack,
    dataDir,
    apiUrl: stack.info.apiUrl,
    dynamodb: stack.info.dynamodb,
    users,
    startMs: Date.now() - started,
  };
}

export interface CrashResult {
  killed: { dynamodbPid: number; apiPid: number };
  restarted: ProxiedStack;
  downMs: number;
}

/**
 * kill -9 of DynamoDB Local and of the API in the middle of traffic, the rest of the stack
 * stopped, then the stack started again on the same data dir (new ports, same data).
 */
export async function crashAndRestart(
  proxy: FaultProxy,
  running: ProxiedStack,
): Promise<CrashResult> {
  const dynamo = findDynamoDbLocal(running.dataDir);
  const apiPid = findApiProcess(running.stack.info.pid);
  if (dynamo === null) throw new Error('crash: DynamoDB Local of the stack not found');
  if (apiPid === null) throw new Error('crash: the API process of the stack not found');
  const down = Date.now();
  process.kill(dynamo.pid, 'SIGKILL');
  process.kill(apiPid, 'SIGKILL');
  // The stack notices its API is gone and stops the rest; wait for it to be gone entirely.
  await running.stack.stop();
  const restarted = await startProxiedStack(proxy, { dataDir: running.dataDir });
  return {
    killed: { dynamodbPid: dynamo.pid, apiPid },
    restarted,
    downMs: Date.now() - down,
  };
}
