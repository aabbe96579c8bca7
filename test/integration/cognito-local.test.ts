import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTokenVerifier, type TokenVerifier } from '../../lib/auth/verify-token';
import { UnauthorizedError } from '../../lib/domain/errors';
import {
  DEMO_USERS,
  ensureIdentity,
  signIn,
  startCognitoLocal,
  type CognitoLocalProcess,
  type LocalIdentity,
} from '../../local/cognito';
import { findFreePort, isPortFree } from '../../local/ports';

jest.setTimeout(60_000);

const dirs: string[] = [];
const started: CognitoLocalProcess[] = [];
let first: CognitoLocalProcess;
let firstDir: string;
let firstPort: number;
let identity: LocalIdentity;
let verifier: TokenVerifier;

function passwordOf(username: string): string {
  const user = DEMO_USERS.find((u) => u.username === username);
  if (!user) throw new Error(`no demo user ${username}`);
  return user.password;
}

async function start(dataDir: string, port: number): Promise<CognitoLocalProcess> {
  const instance = await startCognitoLocal({ port, dataDir });
  started.push(instance);
  return instance;
}

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Every file cognito-local and ensureIdentity keep, by name, to compare runs. */
async function snapshot(dataDir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else files[path.relative(dataDir, full)] = await readFile(full, 'utf8');
    }
  };
  await walk(dataDir);
  return files;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  firstDir = await tempDir('cognito-local-a-');
  firstPort = await findFreePort();
  first = await start(firstDir, firstPort);
  identity = await ensureIdentity({ endpoint: first.endpoint, dataDir: firstDir });
  verifier = createTokenVerifier({
    issuer: identity.issuer,
    jwksUrl: identity.jwksUrl,
    clientIds: [identity.clientId],
    operatorsGroup: 'operators',
  });
});

afterAll(async () => {
  await Promise.all(started.map((instance) => instance.stop()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('local identity provider (cognito-local)', () => {
  it('records the pool, client, issuer and JWKS URL in identity.json', async () => {
    expect(identity).toEqual({
      endpoint: first.endpoint,
      userPoolId: expect.stringMatching(/^local_\w+$/),
      clientId: expect.any(String),
      issuer: `${first.endpoint}/${identity.userPoolId}`,
      jwksUrl: `${first.endpoint}/${identity.userPoolId}/.well-known/jwks.json`,
    });
    const saved: unknown = JSON.parse(await readFile(path.join(firstDir, 'identity.json'), 'utf8'));
    expect(saved).toEqual(identity);
  });

  it('ensureIdentity a second time returns the same ids and changes nothing stored', async () => {
    const before = await snapshot(firstDir);

    const again = await ensureIdentity({ endpoint: first.endpoint, dataDir: firstDir });

    expect(again).toEqual(identity);
    expect(await snapshot(firstDir)).toEqual(before);
  });

  it('issues RS256 access tokens whose iss is exactly the recorded issuer', async () => {
    const { accessToken } = await signIn(identity, 'alice', passwordOf('alice'));

    expect(decodeProtectedHeader(accessToken)).toMatchObject({ alg: 'RS256', kid: 'CognitoLocal' });
    const claims = decodeJwt(accessToken);
    expect(claims).toMatchObject({
      iss: identity.issuer,
      client_id: identity.clientId,
      token_use: 'access',
      username: 'alice',
    });
    // The app client mirrors serverless.yml: access tokens live one hour.
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
  });

  it('serves the signing key at the JWKS URL', async () => {
    const response = await fetch(identity.jwksUrl);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(body.keys).toEqual([expect.objectContaining({ kid: 'CognitoLocal', kty: 'RSA' })]);
  });

  it("accepts a customer's token as a non-operator", async () => {
    const { accessToken } = await signIn(identity, 'alice', passwordOf('alice'));

    const caller = await verifier(`Bearer ${accessToken}`);

    expect(caller).toEqual({
      userId: decodeJwt(accessToken).sub,
      username: 'alice',
      isOperator: false,
    });
  });

  it("accepts an operator's token as an operator", async () => {
    const { accessToken } = await signIn(identity, 'ops', passwordOf('ops'));

    await expect(verifier(`Bearer ${accessToken}`)).resolves.toMatchObject({
      username: 'ops',
      isOperator: true,
    });
  });

  it('gives each demo user a distinct user id', async () => {
    const ids = new Set<string>();
    for (const user of DEMO_USERS) {
      const { accessToken } = await signIn(identity, user.username, user.password);
      ids.add((await verifier(`Bearer ${accessToken}`)).userId);
    }
    expect(ids.size).toBe(DEMO_USERS.length);
  });

  it('refuses a wrong password', async () => {
    // Real Cognito answers NotAuthorizedException; cognito-local says InvalidPasswordException.
    await expect(signIn(identity, 'alice', 'not-the-password')).rejects.toMatchObject({
      name: expect.stringMatching(/^(NotAuthorized|InvalidPassword)Exception$/),
    });
    await expect(signIn(identity, 'mallory', 'whatever-password')).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });
  });

  it('refuses a token issued by a second cognito-local instance (same key, other issuer)', async () => {
    const otherDir = await tempDir('cognito-local-b-');
    const second = await start(otherDir, await findFreePort());
    const otherIdentity = await ensureIdentity({ endpoint: second.endpoint, dataDir: otherDir });
    const { accessToken } = await signIn(otherIdentity, 'alice', passwordOf('alice'));

    const error: unknown = await verifier(`Bearer ${accessToken}`).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(UnauthorizedError);
    // Every cognito-local signs with the same published key, so the signature verifies: it is the
    // issuer check that tells the instances apart.
    expect((error as Error).cause).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED:iss');
    await second.stop();
  });

  it('refuses to start on a port that is in use, with a clear message', async () => {
    const otherDir = await tempDir('cognito-local-c-');
    await expect(startCognitoLocal({ port: firstPort, dataDir: otherDir })).rejects.toThrow(
      /Port \d+ is already in use/,
    );
  });

  it('keeps its data across a restart: the same pool, client and users', async () => {
    await first.stop();
    first = await start(firstDir, firstPort);

    expect(await ensureIdentity({ endpoint: first.endpoint, dataDir: firstDir })).toEqual(identity);
    const { accessToken } = await signIn(identity, 'ops', passwordOf('ops'));
    await expect(verifier(`Bearer ${accessToken}`)).resolves.toMatchObject({ isOperator: true });
  });

  it('starts again after a crash tore its pool file, from the copy kept after a good start', async () => {
    await first.keepGoodCopy();
    await first.stop();
    const poolFile = path.join(firstDir, '.cognito', 'db', `${identity.userPoolId}.json`);
    const whole = await readFile(poolFile, 'utf8');
    // What a SIGKILL in the middle of cognito-local's in-place rewrite leaves behind.
    await writeFile(poolFile, whole.slice(0, Math.floor(whole.length / 2)));

    first = await start(firstDir, firstPort);

    expect(await ensureIdentity({ endpoint: first.endpoint, dataDir: firstDir })).toEqual(identity);
    const { accessToken } = await signIn(identity, 'alice', passwordOf('alice'));
    await expect(verifier(`Bearer ${accessToken}`)).resolves.toMatchObject({ isOperator: false });
  });

  it('stop() ends every instance and frees its port', async () => {
    for (const instance of started) await instance.stop();

    for (const instance of started) {
      expect(isAlive(instance.pid)).toBe(false);
      expect(await isPortFree(Number(new URL(instance.endpoint).port))).toBe(true);
    }
    // A second stop() is harmless.
    await expect(first.stop()).resolves.toBeUndefined();
  });
});
