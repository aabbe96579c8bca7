import { performance } from 'node:perf_hooks';
import { retry } from '../../../lib/domain/retry';

/** One HTTP exchange as a client saw it; times are performance.now() of this process. */
export interface Exchange {
  kind: 'response' | 'aborted' | 'network-error';
  sentAt: number;
  endedAt: number;
  status?: number;
  headers?: Record<string, string>;
  text?: string;
  json?: unknown;
  error?: string;
}

export interface CallOptions {
  token?: string;
  /** A JSON value, sent with `content-type: application/json`. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The client gives up (aborts) after this long: the request may or may not have been served. */
  timeoutMs?: number;
}

/** A plain fetch that never throws: a failure is an exchange of kind `aborted` or `network-error`. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Exchange> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 30_000);
  const sentAt = performance.now();
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body,
      signal: controller.signal,
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    return {
      kind: 'response',
      sentAt,
      endedAt: performance.now(),
      status: response.status,
      headers: responseHeaders,
      text,
      json,
    };
  } catch (error) {
    const aborted = controller.signal.aborted;
    return {
      kind: aborted ? 'aborted' : 'network-error',
      sentAt,
      endedAt: performance.now(),
      error:
        error instanceof Error ? `${error.name}: ${error.message}${causeOf(error)}` : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

function causeOf(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}

/** `{"error":{"code","message","requestId"}}`, or undefined if the body is not that shape. */
export function errorOf(
  json: unknown,
): { code: string; message: string; requestId: string } | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const error = (json as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, requestId } = error as Record<string, unknown>;
  if (typeof code !== 'string' || typeof message !== 'string' || typeof requestId !== 'string') {
    return undefined;
  }
  return { code, message, requestId };
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An answer the run's own bookkeeping cannot use yet: asked again. */
class NotYet extends Error {}

/**
 * Sends `request` until `accept` takes the answer (returns something other than undefined),
 * with backoff, and returns what it took; throws after `attempts` tries. For the run's own
 * set-up and reads, never for the operations under test (those record every attempt).
 */
export function callUntil<T>(
  what: string,
  request: () => Promise<Exchange>,
  accept: (answer: Exchange) => T | undefined,
  attempts = 10,
): Promise<T> {
  const once = async (): Promise<T> => {
    const answer = await request();
    const taken = accept(answer);
    if (taken !== undefined) return taken;
    const detail = (answer.error ?? answer.text ?? '').slice(0, 200);
    throw new NotYet(`${what}: ${answer.status ?? answer.kind} ${detail}`);
  };
  return retry(once, {
    attempts,
    baseMs: 200,
    capMs: 5_000,
    retryable: (error) => error instanceof NotYet,
  });
}
