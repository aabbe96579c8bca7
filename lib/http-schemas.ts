import * as z from 'zod/mini';
import {
  AccountNotFoundError,
  PayoutNotFoundError,
  TransactionNotFoundError,
  ValidationError,
  WebhookEndpointNotFoundError,
} from './domain/errors';
import type { DeliveryAttempt } from './domain/event-ports';
import { MAX_BPS, type FeeScheduleView } from './domain/fees';
import { isTimezone, type LimitsStatus, type LimitsView } from './domain/limits';
import { MAX_AMOUNT, amountSchema, currencySchema } from './domain/money';
import { detailsFields, referenceSchema } from './domain/details';
import type { Account, LedgerEntry, Payout } from './domain/types';
import { EVENT_TYPES, type StoredEvent, type WebhookEndpoint } from './domain/event-ports';
import type { EventQuery } from './domain/event-feed';
import { MOVEMENT_TYPES } from './domain/movement-types';
import type { HistoryFilter } from './domain/statements';
import type * as wire from './wire/types';
import type { Expect, SameShape } from './wire/types';

/** Request bodies: unknown fields are refused, so a typo never silently changes meaning. */
export const movementBody = z.strictObject({
  amount: amountSchema,
  currency: z.optional(currencySchema),
  ...detailsFields,
});

const accountIdField = (name: string) =>
  z
    .string({ error: `${name} must be a string` })
    .check(z.minLength(1, { error: `${name} is required` }));

export const transferBody = z.strictObject({
  fromAccountId: accountIdField('fromAccountId'),
  toAccountId: accountIdField('toAccountId'),
  amount: amountSchema,
  currency: z.optional(currencySchema),
  ...detailsFields,
});

export const payoutBody = z.strictObject({
  amount: amountSchema,
  destination: z.string({ error: 'destination must be a string' }).check(
    z.regex(/^[\x21-\x7E]{1,128}$/, {
      error: 'destination must be 1-128 printable characters without spaces',
    }),
  ),
  currency: z.optional(currencySchema),
  ...detailsFields,
});

export const openAccountBody = z.strictObject({
  ownerId: z
    .string()
    .check(
      z.regex(/^[\x21-\x7E]{1,128}$/, { error: 'ownerId must be 1-128 printable characters' }),
    ),
  currency: currencySchema,
});

const ACCOUNT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** An id we could never have issued names no account: answered like any unknown account. */
export function accountIdOf(pathParameters: Record<string, string | undefined>): string {
  return accountIdFrom(pathParameters.accountId);
}

export function accountIdFrom(id: string | undefined, message?: string): string {
  if (id === undefined || !ACCOUNT_ID.test(id)) throw new AccountNotFoundError(message);
  return id;
}

/** A payout id is a transaction id (a ULID); anything else names no payout. */
export function payoutIdOf(pathParameters: Record<string, string | undefined>): string {
  const id = pathParameters.transactionId;
  if (id === undefined || !ACCOUNT_ID.test(id)) throw new PayoutNotFoundError();
  return id;
}

export function pageOf(query: Record<string, string | undefined>): {
  limit: number;
  cursor?: string;
} {
  const rawLimit = query.limit;
  let limit = 20;
  if (rawLimit !== undefined) {
    if (!/^[0-9]{1,3}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 100) {
      throw new ValidationError('limit must be an integer from 1 to 100');
    }
    limit = Number(rawLimit);
  }
  const cursor = query.cursor;
  if (cursor !== undefined && cursor.length === 0)
    throw new ValidationError('cursor must not be empty');
  return cursor === undefined ? { limit } : { limit, cursor };
}

/** `?reference=`: the history of one reference, validated as a movement's own. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 instant with its timezone, as the statement keeps instants: UTC, milliseconds. */
export function instantOf(
  query: Record<string, string | undefined>,
  name: string,
): string | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const ms = INSTANT.test(raw) ? Date.parse(raw) : Number.NaN;
  // Date.parse rolls 2026-02-30 over to March: an instant must read back as it was written.
  const sameDay =
    Number.isFinite(ms) &&
    raw.slice(0, 10) === new Date(ms + offsetMs(raw)).toISOString().slice(0, 10);
  if (!sameDay || ms < 0 || ms > Date.UTC(9999, 11, 31)) {
    throw new ValidationError(
      `${name} must be an ISO 8601 instant with a timezone, e.g. 2026-03-01T00:00:00Z`,
    );
  }
  return new Date(ms).toISOString();
}

/** The offset an instant was written with, in milliseconds (0 for Z). */
function offsetMs(raw: string): number {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(raw);
  if (offset === null) return 0;
  const minutes = Number(offset[2]) * 60 + Number(offset[3]);
  return (offset[1] === '-' ? -1 : 1) * minutes * 60_000;
}

/** A comma-separated list parameter (API Gateway joins a repeated parameter with commas). */
function listOf<T extends string>(
  query: Record<string, string | undefined>,
  name: string,
  allowed: readonly T[],
  hint = '',
): T[] | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const values = raw.split(',');
  const wrong = values.find((value) => !(allowed as readonly string[]).includes(value));
  if (wrong !== undefined || values.length > allowed.length) {
    throw new ValidationError(`${name} must be one or more of ${allowed.join(', ')}${hint}`);
  }
  return [...new Set(values)] as T[];
}

/** The history's filters (openapi.yaml); none given: undefined fields. */
export function historyFilterOf(query: Record<string, string | undefined>): HistoryFilter {
  const from = instantOf(query, 'from');
  const to = instantOf(query, 'to');
  if (from !== undefined && to !== undefined && to <= from) {
    throw new ValidationError('to must be after from');
  }
  const types = listOf(query, 'type', MOVEMENT_TYPES);
  const statuses = listOf(
    query,
    'status',
    ['POSTED', 'VOIDED'] as const,
    ' (a PENDING payout is not in the statement yet)',
  );
  return {
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(types === undefined ? {} : { types }),
    ...(statuses === undefined ? {} : { statuses }),
  };
}

/** A statement's month: `YYYY-MM`, years 2000 to 9998. */
export function periodOf(pathParameters: Record<string, string | undefined>): string {
  const period = pathParameters.period ?? '';
  const year = Number(period.slice(0, 4));
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period) || year < 2000 || year > 9998) {
    throw new ValidationError('period must be a month, YYYY-MM (years 2000 to 9998)');
  }
  return period;
}

export function referenceOf(query: Record<string, string | undefined>): string | undefined {
  const reference = query.reference;
  if (reference === undefined) return undefined;
  const parsed = referenceSchema.safeParse(reference);
  if (!parsed.success) throw new ValidationError(parsed.error.issues[0]?.message);
  return parsed.data;
}

/**
 * The public shapes: exactly the contract's fields, whatever else the items carry. Their return
 * types are openapi.yaml's (lib/wire), so the compiler refuses a view that drifts from it.
 */
export const accountView = (a: Account): wire.Account => ({
  accountId: a.accountId,
  ownerId: a.ownerId,
  currency: a.currency,
  balance: a.balance,
  available: a.available,
  pending: a.pending,
  createdAt: a.createdAt,
  updatedAt: a.updatedAt,
  frozen: a.frozen === true,
});

const reason = z
  .string({ error: 'reason must be a string' })
  .check(
    z.trim(),
    z.minLength(1, { error: 'reason is required' }),
    z.maxLength(500, { error: 'reason must be at most 500 characters' }),
  );

export const freezeBody = z.strictObject({ reason });

export const reversalBody = z.strictObject({
  amount: z.optional(amountSchema),
  reason,
  allowNegative: z.optional(z.boolean({ error: 'allowNegative must be true or false' })),
});

/** A transaction id is a ULID; anything else names no transaction. */
export function transactionIdOf(pathParameters: Record<string, string | undefined>): string {
  const id = pathParameters.transactionId;
  if (id === undefined || !ACCOUNT_ID.test(id)) throw new TransactionNotFoundError();
  return id;
}

export const withdrawalSwitchBody = z.strictObject({
  paused: z.boolean({ error: 'paused must be true or false' }),
  reason,
});

const feeAmount = (field: string) =>
  z
    .number({ error: `${field} must be an integer count of minor units` })
    .check(
      z.int({ error: `${field} must be an integer count of minor units` }),
      z.gte(0, { error: `${field} must be at least 0` }),
      z.lte(MAX_AMOUNT, { error: `${field} must be at most ${MAX_AMOUNT}` }),
    );

const feeRule = z
  .strictObject({
    flat: z.optional(feeAmount('flat')),
    bps: z.optional(
      z
        .number({ error: 'bps must be an integer from 0 to 10000' })
        .check(
          z.int({ error: 'bps must be an integer from 0 to 10000' }),
          z.gte(0, { error: 'bps must be an integer from 0 to 10000' }),
          z.lte(MAX_BPS, { error: 'bps must be an integer from 0 to 10000' }),
        ),
    ),
    min: z.optional(feeAmount('min')),
    max: z.optional(feeAmount('max')),
  })
  .check(
    z.refine((rule) => rule.min === undefined || rule.max === undefined || rule.min <= rule.max, {
      error: 'min may not exceed max',
    }),
  );

/** A whole fee schedule: a type left out has no fee. */
export const feesBody = z.strictObject({
  WITHDRAWAL: z.optional(feeRule),
  PAYOUT: z.optional(feeRule),
  reason,
});

export const feeScheduleView = (view: FeeScheduleView): wire.FeeSchedule => ({
  accountId: view.accountId,
  ...view.schedule,
  version: view.version,
  changed: view.changed,
});

export const entryView = (e: LedgerEntry): wire.LedgerEntry => ({
  transactionId: e.transactionId,
  accountId: e.accountId,
  type: e.type,
  amount: e.amount,
  currency: e.currency,
  balanceAfter: e.balanceAfter,
  sequence: e.sequence,
  idempotencyKey: e.idempotencyKey,
  createdAt: e.createdAt,
  ...(e.postedAt !== undefined ? { postedAt: e.postedAt } : {}),
  status: e.status,
  ...(e.counterpartyAccountId !== undefined
    ? { counterpartyAccountId: e.counterpartyAccountId }
    : {}),
  ...(e.destination !== undefined ? { destination: e.destination } : {}),
  ...(e.fee ? { fee: e.fee } : {}),
  ...(e.reversalOf !== undefined ? { reversalOf: e.reversalOf } : {}),
  ...(e.reason !== undefined ? { reason: e.reason } : {}),
  ...(e.negativeAllowed ? { negativeAllowed: true } : {}),
  ...(e.reversedBy !== undefined ? { reversedBy: e.reversedBy } : {}),
  ...(e.reference !== undefined ? { reference: e.reference } : {}),
  ...(e.description !== undefined ? { description: e.description } : {}),
  ...(e.metadata !== undefined ? { metadata: e.metadata } : {}),
});

export const payoutView = (p: Payout): wire.Payout => ({
  transactionId: p.transactionId,
  accountId: p.accountId,
  amount: p.amount,
  currency: p.currency,
  destination: p.destination,
  status: p.status,
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
  holdExpiresAt: p.holdExpiresAt,
  attempts: p.attempts,
  gatewayReference: p.gatewayReference ?? null,
  voidReason: p.voidReason ?? null,
});

const limitAmount = (field: string) =>
  z
    .number({ error: `${field} must be a JSON integer count of minor units` })
    .check(
      z.gte(1, { error: `${field} must be at least 1` }),
      z.lte(MAX_AMOUNT, { error: `${field} must be at most ${MAX_AMOUNT}` }),
      z.int({ error: `${field} must be an integer count of minor units` }),
    );

const timezone = z.string({ error: 'timezone must be a string' }).check(
  z.regex(/^[A-Za-z][A-Za-z0-9_+/-]{0,63}$/, {
    error: 'timezone must be an IANA name such as UTC',
  }),
  z.refine(isTimezone, { error: 'timezone must be an IANA name such as UTC or Europe/Paris' }),
);

/** The limits to change (at least one); those left out stay as they are. */
export const limitsBody = z
  .strictObject({
    daily: z.optional(limitAmount('daily')),
    perMovement: z.optional(limitAmount('perMovement')),
    timezone: z.optional(timezone),
    reason,
  })
  .check(
    z.refine((body) => Object.keys(body).length > 1, {
      error: 'send at least one of daily, perMovement, timezone',
    }),
  );

export const limitsStatusView = (status: LimitsStatus): wire.LimitsStatus => ({
  daily: status.daily,
  perMovement: status.perMovement,
  timezone: status.timezone,
  day: status.day,
  usedToday: status.usedToday,
  remainingToday: status.remainingToday,
});

export const limitsView = (view: LimitsView): wire.Limits => ({
  accountId: view.accountId,
  ...limitsStatusView(view),
  version: view.version,
  changed: view.changed,
});

/** GET /events' parameters; the cursor (`after`) is checked by the feed itself. */
export function eventQueryOf(query: Record<string, string | undefined>): EventQuery {
  const { limit } = pageOf(query);
  const after = query.after;
  if (after !== undefined && after.length === 0)
    throw new ValidationError('after must not be empty');
  const types = listOf(query, 'type', EVENT_TYPES);
  const accountId = query.accountId === undefined ? undefined : accountIdFrom(query.accountId);
  return {
    limit,
    ...(after === undefined ? {} : { after }),
    ...(types === undefined ? {} : { types }),
    ...(accountId === undefined ? {} : { accountId }),
  };
}

/** An event as the API shows it: its place in the feed and its owner stay inside. */
export const eventView = (e: StoredEvent): wire.Event => ({
  id: e.id,
  type: e.type,
  createdAt: e.createdAt,
  accountId: e.accountId,
  sequence: e.sequence,
  // Built by the views above (lib/events-stream.ts apiViews): one of the shapes `data` lists.
  data: e.data as wire.Event['data'],
});

/**
 * POST /webhook-endpoints. The URL's rules (https, no internal address) and the event types'
 * are the domain's (lib/domain/webhooks.ts), with messages that say which rule refused.
 */
export const newWebhookEndpointBody = z.strictObject({
  url: z
    .string({ error: 'url must be a string' })
    .check(
      z.minLength(1, { error: 'url is required' }),
      z.maxLength(2048, { error: 'url must be at most 2048 characters' }),
    ),
  eventTypes: z
    .array(z.enum(EVENT_TYPES, { error: `eventTypes may name only: ${EVENT_TYPES.join(', ')}` }), {
      error: 'eventTypes must be an array of event types',
    })
    .check(
      z.minLength(1, { error: 'eventTypes must name at least one event type' }),
      z.maxLength(EVENT_TYPES.length, { error: 'eventTypes must not repeat a type' }),
      z.refine((types) => new Set(types).size === types.length, {
        error: 'eventTypes must not repeat a type',
      }),
    ),
  accountId: z.optional(accountIdField('accountId')),
});

/** A webhook endpoint id is a ULID; anything else names no endpoint. */
export function endpointIdOf(pathParameters: Record<string, string | undefined>): string {
  const id = pathParameters.endpointId;
  if (id === undefined || !ACCOUNT_ID.test(id)) throw new WebhookEndpointNotFoundError();
  return id;
}

/** An endpoint as GET shows it: never its secret, nor who registered it. */
export const webhookEndpointView = (e: WebhookEndpoint): wire.WebhookEndpoint => ({
  id: e.id,
  url: e.url,
  eventTypes: e.eventTypes,
  ...(e.accountId !== undefined ? { accountId: e.accountId } : {}),
  status: e.status,
  createdAt: e.createdAt,
  ...(e.disabledAt !== undefined ? { disabledAt: e.disabledAt } : {}),
  ...(e.disabledReason !== undefined ? { disabledReason: e.disabledReason } : {}),
});

/** The 201 of its registration: the only answer with the secret. */
export const webhookEndpointCreatedView = (e: WebhookEndpoint): wire.WebhookEndpointCreated => ({
  id: e.id,
  url: e.url,
  eventTypes: e.eventTypes,
  ...(e.accountId !== undefined ? { accountId: e.accountId } : {}),
  status: 'enabled',
  createdAt: e.createdAt,
  secret: e.secret,
});

export const redeliveryBody = z.strictObject({
  eventId: z
    .string({ error: 'eventId must be a string' })
    .check(z.regex(/^[A-Za-z0-9._:-]{1,300}$/, { error: 'eventId must be an event id' })),
});

export const deliveryAttemptView = (a: DeliveryAttempt): wire.DeliveryAttempt => ({
  endpointId: a.endpointId,
  eventId: a.eventId,
  eventType: a.eventType,
  attempt: a.attempt,
  attemptedAt: a.attemptedAt,
  outcome: a.outcome,
  ...(a.statusCode === undefined ? {} : { statusCode: a.statusCode }),
  ...(a.error === undefined ? {} : { error: a.error.slice(0, 500) }),
  durationMs: a.durationMs,
  ...(a.nextAttemptAt === undefined ? {} : { nextAttemptAt: a.nextAttemptAt }),
});

/** Each request schema parses exactly the body openapi.yaml declares: no field more or less. */
export type RequestSchemasMatchContract = [
  Expect<SameShape<z.infer<typeof openAccountBody>, wire.OpenAccountRequest>>,
  Expect<SameShape<z.infer<typeof movementBody>, wire.MovementRequest>>,
  Expect<SameShape<z.infer<typeof transferBody>, wire.TransferRequest>>,
  Expect<SameShape<z.infer<typeof payoutBody>, wire.PayoutRequest>>,
  Expect<SameShape<z.infer<typeof freezeBody>, wire.FreezeRequest>>,
  Expect<SameShape<z.infer<typeof withdrawalSwitchBody>, wire.WithdrawalSwitchRequest>>,
  Expect<SameShape<z.infer<typeof feesBody>, wire.FeesRequest>>,
  Expect<SameShape<z.infer<typeof reversalBody>, wire.ReversalRequest>>,
  Expect<SameShape<z.infer<typeof limitsBody>, wire.LimitsRequest>>,
  Expect<SameShape<z.infer<typeof newWebhookEndpointBody>, wire.NewWebhookEndpoint>>,
  Expect<SameShape<z.infer<typeof redeliveryBody>, wire.RedeliveryRequest>>,
];
