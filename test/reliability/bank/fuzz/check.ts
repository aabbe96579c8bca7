/**
 * What every fuzzed answer must be: no 5xx but a 503 the case allows while the statement
 * catches up (`FuzzCase.transient`, with `Retry-After`); a refusal in the contract's error shape
 * (openapi.yaml's `Error`), with a code the contract lists at that code's status, documented by
 * openapi.yaml for the route (or `NOT_FOUND` for a path that matches none), naming a fault the
 * request has, with a request id, no internals and `Cache-Control: no-store`; no state-changing
 * request accepted; a valid read answered 200 with a body its route documents.
 */
import type { Violation } from '../model';
import type { RawResponse } from '../raw-http';
import type { Contract } from './contract';
import type { FuzzCase } from './types';

const INTERNALS = /node_modules|\.ts:\d+|\n\s+at |Exception:|TypeError|ReferenceError|aws-sdk/i;

type Flag = (invariant: string, detail: string) => void;
type Documented = Pick<Contract, 'byKey' | 'routeNotFound' | 'bodies'>;
interface ErrorBody {
  code: string;
  message: string;
  requestId: string;
}

/** The contract's `{"error":{"code","message","requestId"}}`, or undefined. */
function errorBodyOf(response: RawResponse): ErrorBody | undefined {
  const body = response.json as
    | { error?: { code?: unknown; message?: unknown; requestId?: unknown } }
    | undefined;
  const error = body?.error;
  if (
    typeof error?.code !== 'string' ||
    typeof error.message !== 'string' ||
    typeof error.requestId !== 'string'
  ) {
    return undefined;
  }
  return { code: error.code, message: error.message, requestId: error.requestId };
}

/** The code is in the contract's list, with its status, and documented for the route. */
function checkCode(
  c: FuzzCase,
  status: number,
  code: string,
  codes: Map<string, number>,
  contract: Documented | undefined,
  flag: Flag,
): void {
  const expectedStatus = codes.get(code);
  if (expectedStatus === undefined)
    flag("every refusal's code is in the contract's list", `${status} ${code}`);
  else if (expectedStatus !== status)
    flag(
      'every code comes with its status',
      `${code} answered with ${status}, the contract says ${expectedStatus}`,
    );
  if (contract === undefined || status >= 500) return;
  const route = c.route === null ? undefined : contract.byKey.get(c.route);
  const documented =
    route?.refusals.get(status)?.has(code) === true ||
    (status === contract.routeNotFound.status && contract.routeNotFound.codes.has(code));
  if (documented) return;
  const listed = route
    ? [...route.refusals].map(([s, set]) => `${s} ${[...set].join('/')}`).join(', ')
    : `${contract.routeNotFound.status} ${[...contract.routeNotFound.codes].join('/')}`;
  flag(
    'every refusal is one openapi.yaml documents for the route',
    `${status} ${code} on ${c.route ?? 'no such route'}; documented: ${listed}`,
  );
}

/** A refusal: names a fault the request has, carries a request id, no internals, no-store. */
function checkRefusal(c: FuzzCase, response: RawResponse, error: ErrorBody, flag: Flag): void {
  const { status } = response;
  const { code } = error;
  if (status < 500 && c.allowed.length > 0 && !c.allowed.includes(code)) {
    flag(
      'the refusal names a fault the request has',
      `${status} ${code} (${error.message}); expected one of ${c.allowed.join(', ')}`,
    );
  }
  if (error.requestId.length === 0)
    flag('every refusal carries a request id', `${code} with an empty requestId`);
  if (INTERNALS.test(error.message))
    flag('no internals in errors', `${code}: ${error.message.slice(0, 200)}`);
  if (response.headers['cache-control'] !== 'no-store') {
    flag(
      'answers carry Cache-Control: no-store',
      `${status} ${code} with cache-control ${String(response.headers['cache-control'])}`,
    );
  }
}

/**
 * A 503 the case allows (a read of the statement put off while the sequencer places a
 * movement): its code is one the case lists, and it says when to retry.
 */
function isTransient(
  c: FuzzCase,
  response: RawResponse,
  error: ErrorBody | undefined,
  flag: Flag,
): boolean {
  if (response.status !== 503 || error === undefined || !c.transient.includes(error.code)) {
    return false;
  }
  const retryAfter = response.headers['retry-after'];
  if (retryAfter === undefined || !/^[1-9][0-9]{0,2}$/.test(retryAfter)) {
    flag(
      'a transient refusal says when to retry',
      `503 ${error.code} with Retry-After ${String(retryAfter)}`,
    );
  }
  return true;
}

/** The body conforms to openapi.yaml: a refusal's to `Error`, a valid read's to its route's. */
function checkBody(
  c: FuzzCase,
  response: RawResponse,
  contract: Documented | undefined,
  flag: Flag,
): void {
  if (contract === undefined) return;
  const { status } = response;
  const problems =
    status >= 400
      ? contract.bodies.refusal(response.json)
      : c.expectOk && c.route !== null && status < 300
        ? contract.bodies.answer(c.route, status, response.json)
        : [];
  if (problems.length > 0) {
    flag(
      'every answer conforms to openapi.yaml',
      `${status} ${problems.slice(0, 3).join('; ')}: ${response.text.slice(0, 200)}`,
    );
  }
}

export function checkAnswer(
  c: FuzzCase,
  response: RawResponse | Error,
  codes: Map<string, number>,
  contract?: Documented,
): Violation[] {
  const out: Violation[] = [];
  const where = `${c.request.method} ${c.request.target.slice(0, 160)} [${c.invalid.join('; ') || 'all parts valid'}]`;
  const flag: Flag = (invariant, detail) => {
    out.push({ invariant, detail: `${detail} — ${where}` });
  };
  if (response instanceof Error) {
    const headers = c.request.headers.map(([n, v]) => `${n}: ${v.slice(0, 60)}`).join(' | ');
    flag(
      'every request is answered',
      `${response.message} (headers ${headers}; body ${c.request.body?.length ?? 0} bytes${c.request.chunked ? ', chunked' : ''})`,
    );
    return out;
  }
  const status = response.status;
  const error = status >= 400 ? errorBodyOf(response) : undefined;
  const transient = isTransient(c, response, error, flag);
  if (status >= 500 && !transient) flag('no 5xx', `${status} ${response.text.slice(0, 200)}`);
  if (emulatorRefusal(response) !== null || c.request.method === 'HEAD') return out;
  if (status >= 400) {
    if (error === undefined) {
      const text = response.text.slice(0, 200) || '(empty body)';
      flag("every refusal is in the contract's error shape", `${status} ${text}`);
      return out;
    }
    checkCode(c, status, error.code, codes, contract, flag);
    checkRefusal(c, response, error, flag);
  } else if (c.mutating && status < 300) {
    flag(
      'a malformed request that changes state is refused',
      `${status} ${response.text.slice(0, 200)}`,
    );
  }
  if (c.expectOk && status !== 200 && !transient && c.request.method !== 'OPTIONS') {
    flag('a valid read is answered 200', `${status} ${response.text.slice(0, 200)}`);
  }
  checkBody(c, response, contract, flag);
  return out;
}

/**
 * A refusal by the local HTTP layer before any handler ran: hapi (inside serverless-offline)
 * answers a header it cannot parse (Cookie, Content-Type) or a path it cannot decode with a
 * Boom body, Node's parser an invalid request with an empty 400. API Gateway does not parse
 * these, so in AWS the same request reaches the handler. Counted apart, not held against the
 * service. Returns the refusal's message, or null.
 */
export function emulatorRefusal(response: RawResponse): string | null {
  if (response.status !== 400) return null;
  if (response.text === '') return '(empty 400 from the HTTP parser)';
  const body = response.json as
    | { statusCode?: unknown; error?: unknown; message?: unknown }
    | undefined;
  if (body?.statusCode === 400 && body.error === 'Bad Request')
    return `hapi: ${String(body.message)}`;
  return null;
}
