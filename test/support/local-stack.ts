import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../local/ports';
import { sleep } from '../../local/wait';

/** What `npm start` writes to DATA_DIR/stack.json once everything answers. */
export interface StackInfo {
  apiUrl: string;
  webUrl: string;
  dynamodb: string;
  /** The simulated payout gateway (its control API: local/payout-gateway.ts). */
  gatewayUrl: string;
  /** The local webhook receiver's page; `GET <receiverUrl>/received` lists arrivals as JSON. */
  receiverUrl: string;
  identity: {
    endpoint: string;
    userPoolId: string;
    clientId: string;
    issuer: string;
    jwksUrl: string;
  };
  pid: number;
}

export interface RunningStack {
  info: StackInfo;
  dataDir: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Starts the real local stack exactly as `npm start` does, on free ports and in a data dir
 * of its own, so test runs never collide with a developer's stack or with each other.
 */
export async function startLocalStack(
  options: { dataDir?: string; timeoutMs?: number } = {},
): Promise<RunningStack> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'mm-stack-'));
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    API_PORT: String(await findFreePort()),
    WEB_PORT: String(await findFreePort()),
    DYNAMODB_PORT: String(await findFreePort()),
    COGNITO_PORT: String(await findFreePort()),
    LAMBDA_PORT: String(await findFreePort()),
    GATEWAY_PORT: String(await findFreePort()),
    RECEIVER_PORT: String(await findFreePort()),
    // Unknown payout outcomes are asked again after 3 s instead of 30, so tests wait less.
    PAYOUT_RETRY_SECONDS: '3',
  };
  const stackFile = path.join(dataDir, 'stack.json');
  rmSync(stackFile, { force: true });
  const logFile = path.join(dataDir, 'stack.log');
  const { openSync } = await import('node:fs');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, 'scripts/run.js'), 'local/start.ts'],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, LOG_LEVEL: process.env.STACK_LOG_LEVEL ?? 'WARN' },
      stdio: ['ignore', log, log],
      detached: true,
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (!existsSync(stackFile)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      throw new Error(`the local stack did not start:\n${tail}`);
    }
    await sleep(250);
  }
  const info = JSON.parse(readFileSync(stackFile, 'utf8')) as StackInfo;
  return {
    info,
    dataDir,
    env,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        // SIGTERM to npm start itself: it stops its children (java included) and exits.
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }, 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
