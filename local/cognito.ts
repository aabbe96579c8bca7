/**
 * Local identity provider for development: runs cognito-local and seeds it with the demo pool,
 * app client, operators group and users. Local only: cognito-local signs every token with a key
 * published in its npm package, so nothing it issues may ever be trusted outside this machine.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  InitiateAuthCommand,
  ListGroupsCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { assertPortFree } from './ports';
import { sleep, waitFor, WaitTimeoutError } from './wait';

export const POOL_NAME = 'money-movement-local';
export const CLIENT_NAME = 'money-movement-local-web';
export const OPERATORS_GROUP = 'operators';
/** cognito-local binds here and puts it in `iss`; an IP (not `localhost`) so IPv4/IPv6 never differ. */
const HOST = '127.0.0.1';
const IDENTITY_FILE = 'identity.json';

/** Demo users for the local stack only; these passwords exist nowhere else. */
export const DEMO_USERS: ReadonlyArray<{
  username: 'alice' | 'bob' | 'ops';
  password: string;
  groups: string[];
}> = [
  { username: 'alice', password: 'alice-local-pass-1', groups: [] },
  { username: 'bob', password: 'bob-local-pass-1', groups: [] },
  { username: 'ops', password: 'ops-local-pass-1', groups: [OPERATORS_GROUP] },
];

export interface LocalIdentity {
  endpoint: string;
  userPoolId: string;
  clientId: string;
  /** `${endpoint}/${userPoolId}`: exactly the `iss` cognito-local puts in its tokens. */
  issuer: string;
  jwksUrl: string;
}

export interface CognitoLocalProcess {
  endpoint: string;
  pid: number;
  /** Stops cognito-local (SIGTERM, SIGKILL after 5 s) and resolves once it has exited. */
  stop(): Promise<void>;
  /** Keeps a copy of its data files as they are now, known good, to recover a torn one from. */
  keepGoodCopy(): Promise<void>;
}

export interface StartCognitoLocalOptions {
  port: number;
  /** cognito-local's working directory; it keeps its data in `${dataDir}/.cognito`. */
  dataDir: string;
  /** Receives cognito-local's log output; by default it is kept only for error messages. */
  onOutput?: (chunk: string) => void;
  startTimeoutMs?: number;
}

/** cognito-local as a child process, its output kept (the last 4,000 characters) for errors. */
class CognitoChild {
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;
  output = '';
  spawnError: Error | undefined;
  private readonly exited: Promise<void>;
  // Never leave cognito-local behind if this process exits without calling stop().
  private readonly killOnExit = (): void => {
    if (this.isRunning()) this.child.kill('SIGTERM');
  };

  constructor(dataDir: string, port: number, onOutput?: (chunk: string) => void) {
    const entry = path.join(
      path.dirname(require.resolve('cognito-local/package.json')),
      'lib',
      'bin',
      'start.js',
    );
    this.child = spawn(process.execPath, [entry], {
      cwd: dataDir,
      env: { ...process.env, PORT: String(port), HOST },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      this.output = (this.output + text).slice(-4000);
      onOutput?.(text);
    };
    this.child.stdout.on('data', collect);
    this.child.stderr.on('data', collect);
    this.child.once('error', (err) => {
      this.spawnError = err;
    });
    this.exited = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    process.once('exit', this.killOnExit);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Why it stopped during start-up; undefined while it runs. */
  failure(port: number): Error | undefined {
    if (!this.spawnError && this.isRunning()) return undefined;
    const busy = /EADDRINUSE/.test(this.output)
      ? ` Port ${port} is already in use: stop whatever holds it or choose another port.`
      : '';
    const how = this.spawnError?.message ?? `code ${this.child.exitCode ?? this.child.signalCode}`;
    return new Error(`cognito-local exited during start-up (${how}).${busy}\n${this.output}`);
  }

  /** SIGTERM, SIGKILL after 5 s; resolves once it has exited. */
  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    if (this.child.pid === undefined || !this.isRunning()) {
      await Promise.race([this.exited, sleep(1000)]);
      return;
    }
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(force);
  }
}

/** cognito-local's data files (StormDB: one JSON file per pool, plus clients.json). */
async function storeFiles(dataDir: string): Promise<string[]> {
  const dir = path.join(path.resolve(dataDir), '.cognito', 'db');
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.json')).map((name) => path.join(dir, name));
}

/**
 * cognito-local rewrites its JSON files in place (no rename), so a stack killed mid-write (the
 * bank run's crash, a power cut) can leave one torn, and cognito-local then refuses to start.
 * A torn file is put back from the copy kept after the last good start; without one it is
 * dropped, and ensureIdentity creates what is missing again.
 */
async function recoverTornStores(dataDir: string): Promise<void> {
  for (const file of await storeFiles(dataDir)) {
    const text = await readFile(file, 'utf8');
    if (parses(text)) continue;
    const good = await readFile(`${file}.good`, 'utf8').catch(() => '');
    if (parses(good)) await writeFile(file, good);
    else await rm(file);
  }
}

/** A copy of every data file that parses, for recoverTornStores. */
async function keepGoodStores(dataDir: string): Promise<void> {
  for (const file of await storeFiles(dataDir)) {
    if (parses(await readFile(file, 'utf8'))) await copyFile(file, `${file}.good`);
  }
}

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return text.length > 0;
  } catch {
    return false;
  }
};

/** Starts cognito-local on 127.0.0.1:port and resolves once it answers. */
export async function startCognitoLocal(
  opts: StartCognitoLocalOptions,
): Promise<CognitoLocalProcess> {
  const { port } = opts;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    // Port 0 is no use: cognito-local builds `iss` from the PORT it was given.
    throw new Error(`cognito-local needs a fixed port between 1 and 65535, got ${port}`);
  }
  const dataDir = path.resolve(opts.dataDir);
  const endpoint = `http://${HOST}:${port}`;
  await assertPortFree(port, 'COGNITO_PORT', HOST);
  await writeCognitoLocalConfig(dataDir, endpoint);
  await recoverTornStores(dataDir);
  const child = new CognitoChild(dataDir, port, opts.onOutput);
  const answering = async (): Promise<boolean> => {
    const failure = child.failure(port);
    if (failure !== undefined) throw failure;
    return answersJwks(endpoint);
  };
  try {
    await waitFor('cognito-local', answering, {
      timeoutMs: opts.startTimeoutMs ?? 20_000,
      intervalMs: 100,
    });
  } catch (err) {
    await child.stop();
    if (!(err instanceof WaitTimeoutError)) throw err;
    throw new Error(`cognito-local did not answer on ${endpoint} in time.\n${child.output}`);
  }
  if (child.pid === undefined) throw new Error('cognito-local has no pid');
  return {
    endpoint,
    pid: child.pid,
    stop: () => child.stop(),
    keepGoodCopy: () => keepGoodStores(dataDir),
  };
}

/**
 * Makes sure the demo pool, app client, operators group and users exist, and records the ids in
 * `${dataDir}/identity.json`. Idempotent: a second run on the same data creates nothing.
 */
export async function ensureIdentity(opts: {
  endpoint: string;
  dataDir: string;
}): Promise<LocalIdentity> {
  const endpoint = opts.endpoint.replace(/\/+$/, '');
  const file = path.join(path.resolve(opts.dataDir), IDENTITY_FILE);
  const saved = await readIdentityFile(file).catch(() => undefined);
  const client = cognitoClient(endpoint);
  try {
    const userPoolId = await ensureUserPool(client, saved?.userPoolId);
    const clientId = await ensureAppClient(
      client,
      userPoolId,
      saved?.userPoolId === userPoolId ? saved.clientId : undefined,
    );
    await ensureGroup(client, userPoolId, OPERATORS_GROUP);
    for (const user of DEMO_USERS) await ensureUser(client, userPoolId, user);

    const identity: LocalIdentity = {
      endpoint,
      userPoolId,
      clientId,
      issuer: `${endpoint}/${userPoolId}`,
      jwksUrl: `${endpoint}/${userPoolId}/.well-known/jwks.json`,
    };
    const text = `${JSON.stringify(identity, null, 2)}\n`;
    if ((await readFile(file, 'utf8').catch(() => '')) !== text) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
    }
    return identity;
  } finally {
    client.destroy();
  }
}

/** A local user of its own, e.g. for a test that must not share a demo user's accounts. */
export async function ensureLocalUser(identity: LocalIdentity, user: LocalUser): Promise<void> {
  const client = cognitoClient(identity.endpoint);
  try {
    await ensureUser(client, identity.userPoolId, user);
  } finally {
    client.destroy();
  }
}

export interface LocalUser {
  username: string;
  password: string;
  groups: readonly string[];
}

/** Reads the identity a running local stack recorded with `ensureIdentity`. */
export async function readIdentityFile(file: string): Promise<LocalIdentity> {
  const value: unknown = JSON.parse(await readFile(file, 'utf8'));
  const fields = ['endpoint', 'userPoolId', 'clientId', 'issuer', 'jwksUrl'] as const;
  if (typeof value !== 'object' || value === null) throw new Error(`${file} is not an object`);
  const record = value as Record<string, unknown>;
  for (const field of fields) {
    if (typeof record[field] !== 'string') throw new Error(`${file} lacks "${field}"`);
  }
  return value as LocalIdentity;
}

/** USER_PASSWORD_AUTH sign-in. Rejects with the SDK's error (e.g. `NotAuthorizedException`). */
export async function signIn(
  identity: LocalIdentity,
  username: string,
  password: string,
): Promise<{ accessToken: string; refreshToken?: string; idToken?: string }> {
  const client = cognitoClient(identity.endpoint);
  try {
    const out = await client.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: identity.clientId,
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    if (out.ChallengeName) {
      throw new Error(`Sign-in of ${username} asks for a ${out.ChallengeName} challenge`);
    }
    const result = out.AuthenticationResult;
    if (!result?.AccessToken) throw new Error(`Sign-in of ${username} returned no access token`);
    return {
      accessToken: result.AccessToken,
      refreshToken: result.RefreshToken,
      idToken: result.IdToken,
    };
  } finally {
    client.destroy();
  }
}

function cognitoClient(endpoint: string): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    endpoint,
    region: 'local',
    // cognito-local ignores credentials, but the SDK wants some.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2000, requestTimeout: 10_000 },
  });
}

async function ensureUserPool(
  client: CognitoIdentityProviderClient,
  savedId: string | undefined,
): Promise<string> {
  if (savedId) {
    const found = await ignoreNotFound(
      client.send(new DescribeUserPoolCommand({ UserPoolId: savedId })),
    );
    if (found?.UserPool?.Name === POOL_NAME) return savedId;
  }
  const pool = await findInPages(
    async (NextToken) => {
      const page = await client.send(new ListUserPoolsCommand({ MaxResults: 60, NextToken }));
      return { items: page.UserPools, next: page.NextToken };
    },
    (p) => p.Name === POOL_NAME,
  );
  if (pool?.Id) return pool.Id;

  // Mirrors serverless.yml's pool.
  const created = await client.send(
    new CreateUserPoolCommand({
      PoolName: POOL_NAME,
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameConfiguration: { CaseSensitive: false },
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: false,
          RequireUppercase: false,
          RequireNumbers: false,
          RequireSymbols: false,
        },
      },
    }),
  );
  const id = created.UserPool?.Id;
  if (!id) throw new Error('CreateUserPool returned no pool id');
  return id;
}

/** The first item of a paginated list that matches, asking for page after page. */
async function findInPages<T>(
  page: (next: string | undefined) => Promise<{ items?: T[]; next?: string }>,
  matches: (item: T) => boolean,
): Promise<T | undefined> {
  let next: string | undefined;
  do {
    const answer = await page(next);
    const found = answer.items?.find(matches);
    if (found !== undefined) return found;
    next = answer.next;
  } while (next);
  return undefined;
}

async function ensureAppClient(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  savedId: string | undefined,
): Promise<string> {
  if (savedId) {
    const found = await ignoreNotFound(
      client.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: savedId })),
    );
    if (found?.UserPoolClient?.ClientId === savedId) return savedId;
  }
  const existing = await findInPages(
    async (NextToken) => {
      const page = await client.send(
        new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60, NextToken }),
      );
      return { items: page.UserPoolClients, next: page.NextToken };
    },
    (c) => c.ClientName === CLIENT_NAME,
  );
  if (existing?.ClientId) return existing.ClientId;

  // Mirrors serverless.yml's client (public client, 1 h access tokens, 30 d refresh tokens).
  const created = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: CLIENT_NAME,
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      EnableTokenRevocation: true,
      AccessTokenValidity: 1,
      IdTokenValidity: 1,
      RefreshTokenValidity: 30,
      TokenValidityUnits: { AccessToken: 'hours', IdToken: 'hours', RefreshToken: 'days' },
    }),
  );
  const id = created.UserPoolClient?.ClientId;
  if (!id) throw new Error('CreateUserPoolClient returned no client id');
  return id;
}

async function ensureGroup(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  groupName: string,
): Promise<void> {
  // Look first: cognito-local's CreateGroup silently replaces an existing group, members and
  // all. (Listing, not GetGroup: cognito-local's GetGroup fails with a 500 in a pool without groups.)
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListGroupsCommand({ UserPoolId: userPoolId, Limit: 60, NextToken: nextToken }),
    );
    if (page.Groups?.some((g) => g.GroupName === groupName)) return;
    nextToken = page.NextToken;
  } while (nextToken);
  await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: groupName }));
}

async function ensureUser(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  user: LocalUser,
): Promise<void> {
  const { username, password } = user;
  const existing = await ignoreNotFound(
    client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username })),
  );
  if (!existing) {
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: username,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: `${username}@example.com` },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
  }
  // New users, and any left half-created by an interrupted run, get their permanent password.
  if (existing?.UserStatus !== 'CONFIRMED') {
    await client.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: userPoolId,
        Username: username,
        Password: password,
        Permanent: true,
      }),
    );
  }

  const member = await client.send(
    new AdminListGroupsForUserCommand({ UserPoolId: userPoolId, Username: username }),
  );
  const current = new Set((member.Groups ?? []).map((g) => g.GroupName));
  for (const group of user.groups) {
    if (current.has(group)) continue;
    await client.send(
      new AdminAddUserToGroupCommand({
        UserPoolId: userPoolId,
        Username: username,
        GroupName: group,
      }),
    );
  }
}

/** Resolves to undefined when the resource does not exist; other errors propagate. */
async function ignoreNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'ResourceNotFoundException' || name === 'UserNotFoundException') return undefined;
    throw err;
  }
}

/**
 * cognito-local reads `.cognito/config.json` from its working directory. Its defaults make every
 * new pool use email addresses as usernames (our demo users are plain names), so clear that; and
 * pin the token issuer to the endpoint, whatever an older config file said.
 */
async function writeCognitoLocalConfig(dataDir: string, endpoint: string): Promise<void> {
  const file = path.join(dataDir, '.cognito', 'config.json');
  let config: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null) config = parsed as Record<string, unknown>;
  } catch {
    // missing or unreadable: start from cognito-local's defaults
  }
  const section = (key: string): Record<string, unknown> => {
    const value = config[key];
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  };
  config = {
    ...config,
    UserPoolDefaults: { ...section('UserPoolDefaults'), UsernameAttributes: [] },
    TokenConfig: { ...section('TokenConfig'), IssuerDomain: endpoint },
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
}

/** True once cognito-local serves its JWKS (any pool id works; the key is the same for all). */
function answersJwks(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${endpoint}/probe/.well-known/jwks.json`,
      { timeout: 1000, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(res.statusCode === 200 && body.includes('"keys"')));
        res.on('error', () => resolve(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
