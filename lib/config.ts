import * as z from 'zod/mini';
import { isTimezone, type DailyLimits } from './domain/limits';
import { MAX_AMOUNT } from './domain/money';

/**
 * All configuration, read and checked once when a container loads. A missing or malformed
 * variable fails the cold start with its name, instead of a confusing error on some request.
 */
const schema = z.object({
  TABLE_NAME: z.string().check(z.minLength(3)),
  AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
  /** Set locally (DynamoDB Local); unset in AWS. */
  DYNAMODB_ENDPOINT: z.optional(z.url()),
  /** Token issuer (Cognito user pool URL, or cognito-local's locally). */
  JWT_ISSUER: z.url(),
  /** JWKS URL; defaults to `${JWT_ISSUER}/.well-known/jwks.json`. */
  JWT_JWKS_URL: z.optional(z.url()),
  /** Comma-separated app client ids whose access tokens are accepted. */
  JWT_CLIENT_IDS: z.string().check(z.minLength(1)),
  OPERATORS_GROUP: z._default(z.string().check(z.minLength(1)), 'operators'),
  /** Comma-separated origins allowed by CORS. */
  CORS_ORIGINS: z._default(z.string(), ''),
  IDEMPOTENCY_TTL_DAYS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(3650)), 30),
  /** The payout gateway's base URL (the simulated one locally). Unset: payouts are held only. */
  PAYOUT_GATEWAY_URL: z.optional(z.url()),
  PAYOUT_GATEWAY_TIMEOUT_MS: z._default(
    z.coerce.number().check(z.int(), z.gte(100), z.lte(60_000)),
    5000,
  ),
  /** An unresolved hold older than this is cancelled at the gateway and voided. */
  PAYOUT_HOLD_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(5), z.lte(604_800)), 900),
  /** An open payout not heard of for this long is asked again (same idempotency key). */
  PAYOUT_RETRY_SECONDS: z._default(z.coerce.number().check(z.gte(1), z.lte(3600)), 30),
  /**
   * A payout the gateway reports returned, still not found posted this long after the return was
   * first read, is dropped with an error log (lib/domain/returns.ts).
   */
  PAYOUT_RETURN_WAIT_SECONDS: z._default(
    z.coerce.number().check(z.int(), z.gte(60), z.lte(2_592_000)),
    86_400,
  ),
  /**
   * Limits of an account whose operator set none (docs/limits.md), in minor units: what may leave
   * it per calendar day in LIMITS_TIMEZONE, and per movement, fees included.
   */
  DAILY_LIMIT: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(MAX_AMOUNT)),
    MAX_AMOUNT,
  ),
  PER_MOVEMENT_LIMIT: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(MAX_AMOUNT)),
    MAX_AMOUNT,
  ),
  LIMITS_TIMEZONE: z._default(
    z.string().check(z.refine(isTimezone, 'an IANA timezone such as UTC or Europe/Paris')),
    'UTC',
  ),
  /** How long a container trusts its last read of the withdrawals pause switch. */
  PAUSE_SWITCH_CACHE_SECONDS: z._default(z.coerce.number().check(z.gte(0), z.lte(300)), 5),
  /**
   * The event feed serves positions at least this old: a position is taken just before its
   * write, so a reader past a cursor never misses an event written later at an earlier place.
   */
  EVENT_FEED_SETTLE_SECONDS: z._default(z.coerce.number().check(z.gte(0), z.lte(60)), 5),
  /** The webhook delivery queue (SQS) URL; unset locally, where npm start runs its own queue. */
  DELIVERY_QUEUE_URL: z.optional(z.url()),
  /** Local stack only: webhook endpoints may be http://127.0.0.1 or http://localhost. */
  WEBHOOK_ALLOW_HTTP_LOCALHOST: z._default(z.stringbool(), false),
  /** One webhook POST's time limit: a slower endpoint's attempt fails and is retried. */
  WEBHOOK_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.gte(100), z.lte(30_000)), 5000),
  /** The first retry's delay; each next one doubles, up to 12 hours. */
  WEBHOOK_RETRY_BASE_SECONDS: z._default(z.coerce.number().check(z.gt(0), z.lte(3600)), 30),
  /** A delivery still failing this long after it was queued disables its endpoint (3 days). */
  WEBHOOK_GIVE_UP_SECONDS: z._default(z.coerce.number().check(z.gt(0), z.lte(1_209_600)), 259_200),
});

export type Config = {
  tableName: string;
  region: string;
  dynamodbEndpoint: string | undefined;
  jwtIssuer: string;
  jwksUrl: string;
  jwtClientIds: string[];
  operatorsGroup: string;
  corsOrigins: string[];
  idempotencyTtlSeconds: number;
  pauseSwitchCacheMs: number;
  payoutGatewayUrl: string | undefined;
  payoutGatewayTimeoutMs: number;
  payoutHoldSeconds: number;
  payoutRetryMs: number;
  payoutReturnWaitMs: number;
  limitDefaults: DailyLimits;
  eventFeedSettleMs: number;
  deliveryQueueUrl: string | undefined;
  webhookAllowHttpLocalhost: boolean;
  webhookTimeoutMs: number;
  webhookRetryBaseMs: number;
  webhookGiveUpMs: number;
};

const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Serverless passes unset optional variables as empty strings: treat those as absent.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const c = parsed.data;
  const issuer = c.JWT_ISSUER.replace(/\/+$/, '');
  return {
    tableName: c.TABLE_NAME,
    region: c.AWS_REGION,
    dynamodbEndpoint: c.DYNAMODB_ENDPOINT,
    jwtIssuer: issuer,
    jwksUrl: c.JWT_JWKS_URL ?? `${issuer}/.well-known/jwks.json`,
    jwtClientIds: splitList(c.JWT_CLIENT_IDS),
    operatorsGroup: c.OPERATORS_GROUP,
    corsOrigins: splitList(c.CORS_ORIGINS),
    idempotencyTtlSeconds: c.IDEMPOTENCY_TTL_DAYS * 24 * 3600,
    pauseSwitchCacheMs: c.PAUSE_SWITCH_CACHE_SECONDS * 1000,
    payoutGatewayUrl: c.PAYOUT_GATEWAY_URL,
    payoutGatewayTimeoutMs: c.PAYOUT_GATEWAY_TIMEOUT_MS,
    payoutHoldSeconds: c.PAYOUT_HOLD_SECONDS,
    payoutRetryMs: c.PAYOUT_RETRY_SECONDS * 1000,
    payoutReturnWaitMs: c.PAYOUT_RETURN_WAIT_SECONDS * 1000,
    limitDefaults: {
      daily: c.DAILY_LIMIT,
      perMovement: c.PER_MOVEMENT_LIMIT,
      timezone: c.LIMITS_TIMEZONE,
    },
    eventFeedSettleMs: c.EVENT_FEED_SETTLE_SECONDS * 1000,
    deliveryQueueUrl: c.DELIVERY_QUEUE_URL,
    webhookAllowHttpLocalhost: c.WEBHOOK_ALLOW_HTTP_LOCALHOST,
    webhookTimeoutMs: c.WEBHOOK_TIMEOUT_MS,
    webhookRetryBaseMs: c.WEBHOOK_RETRY_BASE_SECONDS * 1000,
    webhookGiveUpMs: c.WEBHOOK_GIVE_UP_SECONDS * 1000,
  };
}

let cached: Config | undefined;

/** The container's configuration, loaded on first use and kept. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
