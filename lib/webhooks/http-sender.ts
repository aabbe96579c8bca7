import type { WebhookSender } from '../domain/deliveries';

/**
 * The webhook sender over fetch. Whatever the endpoint does becomes an answer, never a throw: a
 * status, or why there was none. Redirects are not followed: the endpoint registered is the one we call.
 */
export function createHttpWebhookSender(fetchImpl: typeof fetch = fetch): WebhookSender {
  return {
    async post({ url, body, headers, timeoutMs }) {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const response = await fetchImpl(url, {
          method: 'POST',
          headers: { 'user-agent': 'money-movement-webhooks/1', ...headers },
          body,
          redirect: 'manual',
          signal,
        });
        // The answer's body is not ours to read (it could be anything, of any size).
        await response.body?.cancel();
        return { statusCode: response.status };
      } catch (error) {
        // Asks the signal, not the error: the TimeoutError is a DOMException, not always an Error.
        if (signal.aborted) return { error: `timeout after ${timeoutMs} ms` };
        return { error: describe(error) };
      }
    },
  };
}

/** fetch's "fetch failed" hides the cause (ECONNREFUSED, ENOTFOUND, ...): name that instead. */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
