import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SignJWT,
  UnsecuredJWT,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWTPayload,
  type KeyLike,
} from 'jose';
import { createTokenVerifier, type TokenVerifier } from '../../lib/auth/verify-token';
import { ServiceUnavailableError, UnauthorizedError } from '../../lib/domain/errors';

const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST';
const CLIENT_ID = 'client-web';
const OTHER_CLIENT_ID = 'client-other';
const KID = 'key-1';
const GENERIC_MESSAGE = new UnauthorizedError().message;
const ALG = 'ERR_JOSE_ALG_NOT_ALLOWED';
const SIGNATURE = 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
const CLAIM = 'ERR_JWT_CLAIM_VALIDATION_FAILED';

let server: Server;
let baseUrl: string;
let jwksRequests = 0;
let flakyJwksDown = false;
let privateKey: KeyLike;
let publicKey: KeyLike;
let otherPrivateKey: KeyLike;
let verifier: TokenVerifier;

const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

const now = (): number => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const all: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'user-1',
    client_id: CLIENT_ID,
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    username: 'alice',
    iat: now(),
    exp: now() + 3600,
    ...overrides,
  };
  // An override of `undefined` removes the claim.
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

function sign(
  payload: JWTPayload = claims(),
  key: KeyLike = privateKey,
  kid = KID,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
}

function makeVerifier(path: string, fetchTimeoutMs?: number): TokenVerifier {
  return createTokenVerifier({
    issuer: ISSUER,
    jwksUrl: `${baseUrl}${path}`,
    clientIds: [CLIENT_ID, 'client-mobile'],
    operatorsGroup: 'operators',
    fetchTimeoutMs,
  });
}

/**
 * Expects the generic 401, never echoing the token. `reason` pins which check refused it (the
 * short code the verifier puts in `cause` for logs).
 */
async function expectUnauthorized(
  header: string | undefined,
  reason?: string,
  v: TokenVerifier = verifier,
): Promise<void> {
  const error: unknown = await v(header).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  const message = (error as UnauthorizedError).message;
  expect(message).toBe(GENERIC_MESSAGE);
  const token = header?.split(' ').pop();
  if (token)
    expect(JSON.stringify({ message, cause: (error as Error).cause })).not.toContain(token);
  if (reason !== undefined) expect((error as Error).cause).toBe(reason);
}

beforeAll(async () => {
  ({ privateKey, publicKey } = await generateKeyPair('RS256'));
  ({ privateKey: otherPrivateKey } = await generateKeyPair('RS256'));
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' }] };

  server = createServer((req, res) => {
    if (req.url === '/pool/.well-known/jwks.json') {
      jwksRequests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else if (req.url === '/flaky/.well-known/jwks.json') {
      if (flakyJwksDown) res.writeHead(503).end('down');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else if (req.url === '/broken/.well-known/jwks.json') {
      res.writeHead(500).end('internal error');
    } else if (req.url === '/hang/.well-known/jwks.json') {
      // Never answers.
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  verifier = makeVerifier('/pool/.well-known/jwks.json');
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('createTokenVerifier', () => {
  describe('accepts', () => {
    it('a valid Cognito access token and returns the caller as a customer', async () => {
      await expect(verifier(`Bearer ${await sign()}`)).resolves.toEqual({
        userId: 'user-1',
        username: 'alice',
        isOperator: false,
      });
    });

    it('a token whose cognito:groups contains the operators group as an operator', async () => {
      const token = await sign(claims({ 'cognito:groups': ['auditors', 'operators'] }));
      await expect(verifier(`Bearer ${token}`)).resolves.toMatchObject({ isOperator: true });
    });

    it('a token whose groups do not include the operators group as a customer', async () => {
      const token = await sign(claims({ 'cognito:groups': ['operators-readonly'] }));
      await expect(verifier(`Bearer ${token}`)).resolves.toMatchObject({ isOperator: false });
    });

    it('the scheme in any case', async () => {
      const token = await sign();
      await expect(verifier(`bearer ${token}`)).resolves.toMatchObject({ userId: 'user-1' });
      await expect(verifier(`BEARER ${token}`)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('a token from any of the configured app clients', async () => {
      const token = await sign(claims({ client_id: 'client-mobile' }));
      await expect(verifier(`Bearer ${token}`)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('takes the username from cognito:username, or falls back to sub', async () => {
      const fromCognito = await sign(claims({ username: undefined, 'cognito:username': 'bob' }));
      await expect(verifier(`Bearer ${fromCognito}`)).resolves.toMatchObject({ username: 'bob' });
      const none = await sign(claims({ username: undefined }));
      await expect(verifier(`Bearer ${none}`)).resolves.toMatchObject({ username: 'user-1' });
    });

    it('a token that expired within the 5 s clock tolerance', async () => {
      const token = await sign(claims({ exp: now() - 2 }));
      await expect(verifier(`Bearer ${token}`)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('fetches the JWKS once and reuses it for later tokens', async () => {
      const v = makeVerifier('/pool/.well-known/jwks.json');
      const before = jwksRequests;
      for (let i = 0; i < 5; i += 1) await v(`Bearer ${await sign()}`);
      expect(jwksRequests - before).toBe(1);
    });
  });

  describe('remembers a verified token', () => {
    afterEach(() => jest.restoreAllMocks());

    it('until its expiry plus the clock tolerance, then refuses it like jose would', async () => {
      const v = makeVerifier('/pool/.well-known/jwks.json');
      const exp = now() + 60;
      const header = `Bearer ${await sign(claims({ exp }))}`;
      await expect(v(header)).resolves.toMatchObject({ userId: 'user-1' });
      // Within the tolerance the remembered answer stands.
      jest.spyOn(Date, 'now').mockReturnValue((exp + 4) * 1000);
      await expect(v(header)).resolves.toMatchObject({ userId: 'user-1' });
      jest.spyOn(Date, 'now').mockReturnValue((exp + 5) * 1000);
      await expectUnauthorized(header, 'ERR_JWT_EXPIRED', v);
    });

    it('but never a refused one: an altered token is refused every time', async () => {
      const v = makeVerifier('/pool/.well-known/jwks.json');
      const [header, , signature] = (await sign()).split('.');
      const forged = `Bearer ${header}.${b64url(claims({ sub: 'mallory' }))}.${signature}`;
      await expectUnauthorized(forged, SIGNATURE, v);
      await expectUnauthorized(forged, SIGNATURE, v);
    });

    it('and keeps callers apart: each token answers with its own caller', async () => {
      const v = makeVerifier('/pool/.well-known/jwks.json');
      const alice = `Bearer ${await sign(claims({ sub: 'user-a', username: 'alice' }))}`;
      const bob = `Bearer ${await sign(claims({ sub: 'user-b', username: 'bob', 'cognito:groups': ['operators'] }))}`;
      for (let i = 0; i < 2; i += 1) {
        await expect(v(alice)).resolves.toEqual({
          userId: 'user-a',
          username: 'alice',
          isOperator: false,
        });
        await expect(v(bob)).resolves.toEqual({
          userId: 'user-b',
          username: 'bob',
          isOperator: true,
        });
      }
    });
  });

  describe('refuses with UnauthorizedError', () => {
    it('a missing or empty Authorization header', async () => {
      await expectUnauthorized(undefined);
      await expectUnauthorized('');
      await expectUnauthorized('Bearer');
      await expectUnauthorized('Bearer ');
    });

    it('a bearer value that is not a JWT', async () => {
      await expectUnauthorized('Bearer not-a-jwt');
      await expectUnauthorized('Bearer a.b.c');
      await expectUnauthorized('Bearer ...');
      await expectUnauthorized(`Bearer ${b64url({ alg: 'RS256' })}.${b64url(claims())}`);
    });

    it('a token under another scheme or without a scheme', async () => {
      const token = await sign();
      await expectUnauthorized(`Basic ${token}`);
      await expectUnauthorized(`Token ${token}`);
      await expectUnauthorized(token);
      await expectUnauthorized(`Bearer ${token} extra`);
    });

    it('a token whose payload was altered after signing', async () => {
      const [header, , signature] = (await sign()).split('.');
      const forged = b64url(claims({ sub: 'user-2', 'cognito:groups': ['operators'] }));
      await expectUnauthorized(`Bearer ${header}.${forged}.${signature}`, SIGNATURE);
    });

    it('an unsigned token (alg none)', async () => {
      await expectUnauthorized(`Bearer ${new UnsecuredJWT(claims()).encode()}`, ALG);
      await expectUnauthorized(
        `Bearer ${b64url({ alg: 'none', kid: KID })}.${b64url(claims())}.`,
        ALG,
      );
      await expectUnauthorized(
        `Bearer ${b64url({ alg: 'None', kid: KID })}.${b64url(claims())}.`,
        ALG,
      );
    });

    it('a token signed with HS256 using the public key as the HMAC secret', async () => {
      const secrets = [
        new TextEncoder().encode(await exportSPKI(publicKey)),
        new TextEncoder().encode(JSON.stringify(await exportJWK(publicKey))),
      ];
      for (const secret of secrets) {
        const token = await new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: KID })
          .sign(secret);
        await expectUnauthorized(`Bearer ${token}`, ALG);
      }
    });

    it('an expired token', async () => {
      await expectUnauthorized(
        `Bearer ${await sign(claims({ exp: now() - 60 }))}`,
        'ERR_JWT_EXPIRED',
      );
    });

    it('a token without an expiry', async () => {
      await expectUnauthorized(`Bearer ${await sign(claims({ exp: undefined }))}`, `${CLAIM}:exp`);
    });

    it('a token that is not valid yet', async () => {
      await expectUnauthorized(
        `Bearer ${await sign(claims({ nbf: now() + 600 }))}`,
        `${CLAIM}:nbf`,
      );
    });

    it('a token from another issuer', async () => {
      const otherPool = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OTHER';
      await expectUnauthorized(`Bearer ${await sign(claims({ iss: otherPool }))}`, `${CLAIM}:iss`);
      await expectUnauthorized(
        `Bearer ${await sign(claims({ iss: `${ISSUER}/` }))}`,
        `${CLAIM}:iss`,
      );
      await expectUnauthorized(`Bearer ${await sign(claims({ iss: undefined }))}`, `${CLAIM}:iss`);
    });

    it('a token for another app client, or without client_id', async () => {
      await expectUnauthorized(
        `Bearer ${await sign(claims({ client_id: OTHER_CLIENT_ID }))}`,
        'client_id',
      );
      await expectUnauthorized(
        `Bearer ${await sign(claims({ client_id: undefined }))}`,
        'client_id',
      );
      // An audience naming our client does not replace client_id.
      const withAud = claims({ client_id: undefined, aud: CLIENT_ID });
      await expectUnauthorized(`Bearer ${await sign(withAud)}`, 'client_id');
    });

    it('an ID token (token_use id) even when its aud is our client', async () => {
      const idToken = claims({ token_use: 'id', client_id: undefined, aud: CLIENT_ID });
      await expectUnauthorized(`Bearer ${await sign(idToken)}`, 'token_use');
      await expectUnauthorized(
        `Bearer ${await sign(claims({ token_use: undefined }))}`,
        'token_use',
      );
    });

    it('a token without sub', async () => {
      await expectUnauthorized(`Bearer ${await sign(claims({ sub: undefined }))}`, `${CLAIM}:sub`);
      await expectUnauthorized(`Bearer ${await sign(claims({ sub: '' }))}`, 'sub');
    });

    it('a token signed by another key that claims the same kid', async () => {
      await expectUnauthorized(`Bearer ${await sign(claims(), otherPrivateKey, KID)}`, SIGNATURE);
    });

    it('a token naming a kid the issuer does not publish', async () => {
      await expectUnauthorized(
        `Bearer ${await sign(claims(), privateKey, 'unknown-kid')}`,
        'ERR_JWKS_NO_MATCHING_KEY',
      );
    });

    it('an oversized header without parsing it', async () => {
      await expectUnauthorized(`Bearer ${'a'.repeat(20_000)}`, 'header');
    });
  });

  describe('reports our outage as ServiceUnavailableError', () => {
    it('when the JWKS server is down', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const v = createTokenVerifier({
        issuer: ISSUER,
        jwksUrl: `http://127.0.0.1:${port}/pool/.well-known/jwks.json`,
        clientIds: [CLIENT_ID],
        operatorsGroup: 'operators',
      });

      await expect(v(`Bearer ${await sign()}`)).rejects.toBeInstanceOf(ServiceUnavailableError);
    });

    it('when the JWKS server does not answer within fetchTimeoutMs', async () => {
      const v = makeVerifier('/hang/.well-known/jwks.json', 200);
      const started = Date.now();
      await expect(v(`Bearer ${await sign()}`)).rejects.toBeInstanceOf(ServiceUnavailableError);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('when the JWKS server answers with an error', async () => {
      const v = makeVerifier('/broken/.well-known/jwks.json');
      await expect(v(`Bearer ${await sign()}`)).rejects.toBeInstanceOf(ServiceUnavailableError);
    });

    it('except for known keys: when a JWKS refresh fails, the cached keys still verify', async () => {
      flakyJwksDown = false;
      const v = makeVerifier('/flaky/.well-known/jwks.json');
      await expect(v(`Bearer ${await sign()}`)).resolves.toMatchObject({ userId: 'user-1' });

      // Eleven minutes later jose wants a fresh JWKS (it keeps one for ten), and the issuer is down.
      flakyJwksDown = true;
      const realNow = Date.now.bind(Date);
      const later = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 11 * 60_000);
      try {
        await expect(v(`Bearer ${await sign()}`)).resolves.toMatchObject({ userId: 'user-1' });
        // A kid we have never seen cannot be judged while the issuer is unreachable.
        const unknownKid = await sign(claims(), privateKey, 'rotated-key');
        await expect(v(`Bearer ${unknownKid}`)).rejects.toBeInstanceOf(ServiceUnavailableError);
      } finally {
        later.mockRestore();
        flakyJwksDown = false;
      }
    });

    it('but still refuses a malformed header without contacting the issuer', async () => {
      const v = makeVerifier('/hang/.well-known/jwks.json', 200);
      await expectUnauthorized('Basic abc', 'header', v);
      await expectUnauthorized('Bearer not-a-jwt', 'ERR_JWS_INVALID', v);
    });
  });
});
