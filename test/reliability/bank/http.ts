import { performance } from 'node:perf_hooks';

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
