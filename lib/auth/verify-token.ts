import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  type KeyLike,
} from 'jose';
import { ServiceUnavailableError, UnauthorizedError } from '../domain/errors';

/** Who is calling, taken from a verified Cognito access token. */
export interface Caller {
  /** The token's `sub`: the user's stable id. */
  userId: string;
  username: string;
  isOperator: boolean;
}

export interface TokenVerifierOptions {
  /** Expected `iss`, e.g. `https://cognito-idp.<region>.amazonaws.com/<poolId>`. */
  issuer: string;
  jwksUrl: string;
  /** App client ids whose access tokens are accepted (matched against `client_id`). */
  clientIds: string[];
  /** Members of this Cognito group are operators. */
  operatorsGroup: string;
  /** Upper bound for fetching the JWKS; longer counts as the issuer being unreachable. */
  fetchTimeoutMs?: number;
}

export type TokenVerifier = (authorizationHeader: string | undefined) => Promise<Caller>;

/** Cognito signs access tokens with RS256 only; everything else (none, HS256, ...) is refused. */
const ALGORITHMS = ['RS256'];
const CLOCK_TOLERANCE_SECONDS = 5;
const DEFAULT_FETCH_TIMEOUT_MS = 3000;
/** Far above a Cognito access token's size; longer headers are refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;
const BEARER = /^Bearer +([A-Za-z0-9_.-]+) *$/i;
/** Verified tokens remembered per container; the oldest is forgotten first beyond this. */
const MAX_CACHED_TOKENS = 1000;

/** The key source could not be reached or answered nonsense: our outage, not the client's. */
class KeySourceUnavailable extends Error {
  constructor(readonly reason: unknown) {
    super('JWKS unavailable');
  }
}

type GetKey = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<KeyLike>;

/**
 * Builds a verifier for Cognito access tokens. Build it once per container: the JWKS is
 * fetched on first use and cached (jose: refreshed after 10 minutes, or when a token names an
 * unknown `kid`, at most every 30 s).
 *
 * Every client-side failure throws `UnauthorizedError` with the same generic message (the
 * reason is in `cause` as a short code, never the token). Failing to fetch the JWKS throws
 * `ServiceUnavailableError`: the issuer being unreachable is not the caller's fault.
 */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const fetchTimeoutMs = opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const clientIds = new Set(opts.clientIds);
  const remote = createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: fetchTimeoutMs });

  const getKey: GetKey = async (header, token) => {
    let timer: NodeJS.Timeout | undefined;
    // jose's timeout covers the wait for response headers only; this one bounds the whole fetch.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new errors.JWKSTimeout('JWKS fetch deadline exceeded')),
        fetchTimeoutMs,
      );
    });
    try {
      return await Promise.race([remote(header, token), deadline]);
    } catch (err) {
      // A token naming a key the issuer does not have (or no `kid` when several keys could
      // match) is the client's problem.
      if (
        err instanceof errors.JWKSNoMatchingKey ||
        err instanceof errors.JWKSMultipleMatchingKeys
      ) {
        throw err;
      }
      // The refresh failed: a key we already know still verifies (stale-if-error); a key we do
      // not know cannot be judged while the issuer is unreachable.
      const cached = remote.jwks();
      if (cached) {
        try {
          return await createLocalJWKSet(cached)(header, token);
        } catch {
          // fall through to "unavailable"
        }
      }
      throw new KeySourceUnavailable(err);
    } finally {
      clearTimeout(timer);
    }
  };

  // An RS256 verification is about half of a warm withdrawal's CPU, and a client sends the same
  // token for up to an hour: a token verified once is trusted again until its `exp`, exactly
  // as jose would judge it. Only successes are remembered, under the exact token string.
  const verified = new Map<string, { caller: Caller; expiresAtMs: number }>();

  return async (authorizationHeader) => {
    const token = bearerToken(authorizationHeader);
    const known = verified.get(token);
    if (known !== undefined) {
      if (Date.now() < known.expiresAtMs) return known.caller;
      verified.delete(token);
      throw unauthorized('ERR_JWT_EXPIRED');
    }
    const caller = await verifyToken(token);
    if (verified.size >= MAX_CACHED_TOKENS) {
      verified.delete(verified.keys().next().value as string);
    }
    verified.set(token, caller);
    return caller.caller;
  };

  async function verifyToken(token: string): Promise<{ caller: Caller; expiresAtMs: number }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms: ALGORITHMS,
        issuer: opts.issuer,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        // jose checks `exp` only when present: require it.
        requiredClaims: ['exp', 'sub', 'iss'],
      }));
    } catch (err) {
      if (err instanceof KeySourceUnavailable) {
        const unavailable = new ServiceUnavailableError();
        unavailable.cause = err.reason;
        throw unavailable;
      }
      throw unauthorized(reasonOf(err));
    }

    if (payload.token_use !== 'access') throw unauthorized('token_use');
    if (typeof payload.client_id !== 'string' || !clientIds.has(payload.client_id)) {
      throw unauthorized('client_id');
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0) throw unauthorized('sub');

    const groups = payload['cognito:groups'];
    const isOperator = Array.isArray(groups) && groups.includes(opts.operatorsGroup);
    return {
      caller: { userId: sub, username: usernameOf(payload) ?? sub, isOperator },
      // `exp` is required above; jose accepts a token until exp + the clock tolerance.
      expiresAtMs: ((payload.exp as number) + CLOCK_TOLERANCE_SECONDS) * 1000,
    };
  }
}

function bearerToken(header: string | undefined): string {
  if (header === undefined || header.length > MAX_TOKEN_LENGTH + 16) {
    throw unauthorized('header');
  }
  const token = BEARER.exec(header.trim())?.[1];
  if (token === undefined || token.length > MAX_TOKEN_LENGTH) throw unauthorized('header');
  return token;
}

function usernameOf(payload: JWTPayload): string | undefined {
  for (const claim of ['username', 'cognito:username']) {
    const value = payload[claim];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

/** A short, token-free reason for logs, e.g. `ERR_JWT_EXPIRED` or `ERR_JWT_CLAIM_VALIDATION_FAILED:iss`. */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTClaimValidationFailed) return `${err.code}:${err.claim}`;
  if (err instanceof errors.JOSEError) return err.code;
  return 'invalid';
}

function unauthorized(reason: string): UnauthorizedError {
  const error = new UnauthorizedError();
  error.cause = reason;
  return error;
}
