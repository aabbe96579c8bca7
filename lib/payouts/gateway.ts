/**
 * The HTTP adapter of the payout gateway port (`lib/domain/ports.ts`).
 *
 * A payout is two-phase: the service holds the funds in DynamoDB, asks the gateway to pay exactly
 * once (the idempotency key is our transactionId), then posts or voids the hold from the answer.
 * Only a definite answer may move the hold: `SUCCEEDED` (money sent) posts it, `REFUSED` (not sent,
 * and never will be under this key) voids it. Anything else throws `GatewayUnavailableError`: the
 * outcome is unknown, the hold stays, and the caller asks again later by the same key.
 *
 * Wire protocol (JSON over HTTP, UTF-8):
 *
 *   POST {baseUrl}/v1/payouts
 *     Idempotency-Key: <key>          (1-255 printable ASCII characters)
 *     Content-Type: application/json
 *     {"amount": <integer minor units >= 1>, "currency": "<code>", "destination": "<id>"}
 *   → 200 {"status":"SUCCEEDED","reference":"<gateway's reference>"}
 *   → 200 {"status":"REFUSED","reason":"<why>"}
 *     The same key with the same body answers the first outcome again and never pays twice.
 *   → 409 {"error":"idempotency_key_reused"}  the key was first used with another body
 *   → 400 | 422 {"error":"..."}               the request itself is invalid: nothing was sent
 *   → 429 | 5xx                               unknown: ask again later by the same key
 *
 *   POST {baseUrl}/v1/payouts/{encodeURIComponent(key)}/cancel   (no body)
 *   → 200 {"status":"CANCELLED"}    not executed and never will be: a later POST with this key
 *                                   answers {"status":"REFUSED","reason":"cancelled"}
 *   → 200 {"status":"SUCCEEDED",…} | {"status":"REFUSED",…}   it had already finished
 *
 *   GET {baseUrl}/v1/returns?limit=<1-100>[&after=<cursor>]
 *   → 200 {"returns":[{"idempotencyKey":"<key>","reference"?:"<gateway's reference>",
 *          "returnedAt":"<ISO 8601>","reason":"<why>"}, …], "next":"<cursor>"}
 *     Payouts the gateway paid and then saw come back, oldest first, at most `limit` of them,
 *     after `after` (from the first without it). `next` is the cursor past this page. The feed is
 *     replayable: a return stays in it, and a cursor the gateway no longer knows (its state
 *     reset) reads from the first; the reader settles each return idempotently.
 *
 * How the client reads answers (a wrong "definite" answer loses money; an "unknown" one only
 * delays, so whatever is not definite is unknown):
 * - 200 with a well-formed body: the outcome. A body of another shape: unknown
 *   (`GatewayUnavailableError`, reason `malformed_response`).
 * - `send`: 400 and 422 are definite refusals, `REFUSED` with reason `gateway_rejected_<status>`:
 *   a retry sends the same body, so it cannot have been accepted before.
 * - 409 and any other 4xx (401, 403, 404, …, on `cancel` every 4xx): `GatewayProtocolError`, a
 *   `GatewayUnavailableError`: the gateway and we disagree (a reused key, credentials, a wrong
 *   URL), an earlier request with this key may have paid, so the hold stays until we ask again or
 *   an operator looks.
 * - 408, 429, 5xx, any other status, redirects (not followed), timeouts and network errors:
 *   `GatewayUnavailableError`.
 * - `returns`: a page is read whole or not at all: a 200 whose body, or any return in it, is not
 *   of the shape above (or has more than `limit` returns) is `malformed_response`, so no return
 *   is skipped past; any other status is read as for `cancel`.
 */

import {
  GatewayUnavailableError,
  type GatewayOutcome,
  type PayoutGateway,
  type PayoutReturn,
  type PayoutReturnsFeed,
  type ReturnsPage,
} from '../domain/ports';

/**
 * The gateway answered, but not within the protocol (a reused idempotency key, an unexpected 4xx):
 * still an unknown outcome, since an earlier request with the key may have paid; worth an
 * operator's look rather than only a retry.
 */
export class GatewayProtocolError extends GatewayUnavailableError {
  override readonly name: string = 'GatewayProtocolError';
}

export interface HttpPayoutGatewayOptions {
  /** e.g. `https://gateway.example.com` (a trailing slash is ignored). */
  baseUrl: string;
  /** Per request, the answer's body included. */
  timeoutMs: number;
  /** Defaults to the global `fetch`; tests pass a fake. */
  fetch?: typeof fetch;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** Returns asked for per page of the feed. */
export const RETURNS_PAGE_LIMIT = 100;

export function createHttpPayoutGateway(
  options: HttpPayoutGatewayOptions,
): PayoutGateway & PayoutReturnsFeed {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl)) {
    throw new TypeError(`payout gateway baseUrl must be an http(s) URL, got "${options.baseUrl}"`);
  }
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new TypeError(`payout gateway timeoutMs must be a positive integer`);
  }
  const fetchImpl = options.fetch ?? fetch;

  const call = async (
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: string,
  ) => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers: { accept: 'application/json', ...headers },
        body,
        // A redirected money call is not followed: fetch would replay it, as a GET, elsewhere.
        redirect: 'manual',
        signal,
      });
      // Read the whole body under the same deadline (this also frees the connection).
      const text = await response.text();
      return { status: response.status, body: parseJson(text) };
    } catch (error) {
      // Asks the signal, not the error: the TimeoutError is a DOMException, not always an Error.
      const reason = signal.aborted ? 'timeout' : 'network_error';
      throw new GatewayUnavailableError(reason, { cause: error });
    }
  };

  return {
    async send(instruction) {
      assertKey(instruction.idempotencyKey);
      const { status, body } = await call(
        'POST',
        '/v1/payouts',
        { 'content-type': 'application/json', 'idempotency-key': instruction.idempotencyKey },
        JSON.stringify({
          amount: instruction.amount,
          currency: instruction.currency,
          destination: instruction.destination,
        }),
      );
      if (status === 200) {
        if (isGatewayOutcome(body)) return outcomeOf(body);
        throw new GatewayUnavailableError('malformed_response', { status });
      }
      if (status === 400 || status === 422) {
        return { status: 'REFUSED', reason: `gateway_rejected_${status}` };
      }
      throw unknownOutcome(status, body);
    },

    async cancel(idempotencyKey) {
      assertKey(idempotencyKey);
      const { status, body } = await call(
        'POST',
        `/v1/payouts/${encodeURIComponent(idempotencyKey)}/cancel`,
        {},
      );
      if (status === 200) {
        if (isRecord(body) && body.status === 'CANCELLED') return { status: 'CANCELLED' };
        if (isGatewayOutcome(body)) return outcomeOf(body);
        throw new GatewayUnavailableError('malformed_response', { status });
      }
      // A refused cancel says nothing about the payout itself: never read it as REFUSED.
      throw unknownOutcome(status, body);
    },

    async returns(after) {
      const query = new URLSearchParams({ limit: String(RETURNS_PAGE_LIMIT) });
      if (after !== undefined) query.set('after', after);
      const { status, body } = await call('GET', `/v1/returns?${query.toString()}`, {});
      if (status !== 200) throw unknownOutcome(status, body);
      const page = returnsPageOf(body);
      if (page === null) throw new GatewayUnavailableError('malformed_response', { status });
      return page;
    },
  };
}

/** The page, only the protocol's fields of it; null if it or any return in it is malformed. */
function returnsPageOf(body: unknown): ReturnsPage | null {
  if (!isRecord(body) || !Array.isArray(body.returns) || !isNonEmptyString(body.next)) return null;
  if (body.returns.length > RETURNS_PAGE_LIMIT) return null;
  const returns = body.returns.map(payoutReturnOf);
  if (returns.some((returned) => returned === null)) return null;
  return { returns: returns as PayoutReturn[], next: body.next };
}

function payoutReturnOf(value: unknown): PayoutReturn | null {
  if (!isRecord(value)) return null;
  const { idempotencyKey, reference, returnedAt, reason } = value;
  if (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey)) return null;
  if (typeof returnedAt !== 'string' || Number.isNaN(Date.parse(returnedAt))) return null;
  if (!isNonEmptyString(reason)) return null;
  if (reference !== undefined && !isNonEmptyString(reference)) return null;
  return { idempotencyKey, ...(reference !== undefined ? { reference } : {}), returnedAt, reason };
}

function assertKey(key: string): void {
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new TypeError('idempotency key must be 1-255 printable ASCII characters');
  }
}

function unknownOutcome(status: number, body: unknown): GatewayUnavailableError {
  if (status === 409) {
    const error = isRecord(body) && typeof body.error === 'string' ? body.error : 'conflict';
    return new GatewayProtocolError(error, { status });
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new GatewayProtocolError(`unexpected_status_${status}`, { status });
  }
  return new GatewayUnavailableError(`status_${status}`, { status });
}

/** Copies only the protocol's fields, so nothing else the gateway sent travels on. */
function outcomeOf(body: GatewayOutcome): GatewayOutcome {
  return body.status === 'SUCCEEDED'
    ? { status: 'SUCCEEDED', reference: body.reference }
    : { status: 'REFUSED', reason: body.reason };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isGatewayOutcome(value: unknown): value is GatewayOutcome {
  if (!isRecord(value)) return false;
  if (value.status === 'SUCCEEDED') return isNonEmptyString(value.reference);
  if (value.status === 'REFUSED') return isNonEmptyString(value.reason);
  return false;
}
