/**
 * The wire contract's shapes by name: what the API sends and accepts, as openapi.yaml declares
 * them. `openapi.ts` beside this file is generated from the document (`npm run generate:types`;
 * a unit test fails when it is stale), so the server's views, the web page, the HTTP tests and
 * the bank run read one definition. Only names are given here; no shape is written by hand.
 */
import type { ErrorCode } from '../domain/errors';
import type { EventType as DomainEventType } from '../domain/event-ports';
import type { components } from './openapi';

type Schemas = components['schemas'];

export type Account = Schemas['Account'];
export type AccountList = Schemas['AccountList'];
export type Balance = Schemas['Balance'];
export type LedgerEntry = Schemas['LedgerEntry'];
export type EntryType = LedgerEntry['type'];
export type EntryStatus = LedgerEntry['status'];
/** 201 of a deposit or a withdrawal: the entry and the balance right after it. */
export type Movement = Schemas['Movement'];
export type HistoryPage = Schemas['HistoryPage'];
/** GET /accounts/{accountId}/balance?at= */
export type BalanceAt = Schemas['BalanceAt'];
/** GET /accounts/{accountId}/statements/{period} */
export type Statement = Schemas['Statement'];
export type MovementTotals = Schemas['MovementTotals'];
export type Payout = Schemas['Payout'];
export type PayoutStatus = Payout['status'];
/** 202 of POST /accounts/{accountId}/payouts. */
export type PayoutResult = Schemas['PayoutResult'];
/** 201 of POST /transfers: the transfer, the source's entry and its balances. */
export type TransferResult = Schemas['TransferResult'];
export type Transfer = TransferResult['transfer'];
export type ControlChange = Schemas['ControlChange'];
export type WithdrawalControl = Schemas['WithdrawalControl'];
export type Health = Schemas['Health'];
export type LedgerSummary = Schemas['LedgerSummary'];
export type FeeRule = Schemas['FeeRule'];
export type FeeSchedule = Schemas['FeeSchedule'];
export type Limits = Schemas['Limits'];
export type LimitsStatus = Schemas['LimitsStatus'];
export type LimitRefusal = Schemas['LimitRefusal'];
/** 201 of POST /transactions/{transactionId}/reversals. */
export type ReversalResult = Schemas['ReversalResult'];
/** GET /events: one event, and a page of them. */
export type Event = Schemas['Event'];
export type EventPage = Schemas['EventPage'];
export type ErrorBody = Schemas['Error'];
export type EventType = Schemas['EventType'];
/** A webhook endpoint as GET shows it (never its secret). */
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
/** 201 of POST /webhook-endpoints: the endpoint and its secret, shown only here. */
export type WebhookEndpointCreated = Schemas['WebhookEndpointCreated'];
export type WebhookEndpointList = Schemas['WebhookEndpointList'];
/** One POST of an event to a webhook endpoint, and a page of them (newest first). */
export type DeliveryAttempt = Schemas['DeliveryAttempt'];
export type DeliveryAttemptPage = Schemas['DeliveryAttemptPage'];
/** 202 of POST /webhook-endpoints/{endpointId}/redeliveries. */
export type Redelivery = Schemas['Redelivery'];
/** API Gateway's own bodies (AWS only): 401 and 429 answered before any handler runs. */
export type GatewayUnauthorized = Schemas['GatewayUnauthorized'];
export type GatewayTooManyRequests = Schemas['GatewayTooManyRequests'];

export type OpenAccountRequest = Schemas['OpenAccountRequest'];
export type MovementRequest = Schemas['MovementRequest'];
export type TransferRequest = Schemas['TransferRequest'];
export type PayoutRequest = Schemas['PayoutRequest'];
export type FreezeRequest = Schemas['FreezeRequest'];
export type WithdrawalSwitchRequest = Schemas['WithdrawalSwitchRequest'];
export type FeesRequest = Schemas['FeesRequest'];
export type LimitsRequest = Schemas['LimitsRequest'];
export type ReversalRequest = Schemas['ReversalRequest'];
export type NewWebhookEndpoint = Schemas['NewWebhookEndpoint'];
export type RedeliveryRequest = Schemas['RedeliveryRequest'];

/** True when A and B have the same fields and each is assignable to the other. */
export type SameShape<A, B> = [keyof A, A] extends [keyof B, B]
  ? [keyof B, B] extends [keyof A, A]
    ? true
    : false
  : false;

/** Compiles only when `T` is `true`: a check the compiler makes, e.g. `Expect<SameShape<A, B>>`. */
export type Expect<T extends true> = T;

/** The document's ErrorCode enum is lib/domain/errors.ts' table, code for code. */
export type ErrorCodesMatch = Expect<
  SameShape<Record<Schemas['ErrorCode'], 0>, Record<ErrorCode, 0>>
>;

/** The document's EventType enum is lib/domain/event-ports.ts' EVENT_TYPES, type for type. */
export type EventTypesMatch = Expect<
  SameShape<Record<Schemas['EventType'], 0>, Record<DomainEventType, 0>>
>;
