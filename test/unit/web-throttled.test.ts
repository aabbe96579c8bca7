/**
 * The page when the API throttles it (web/src/api.ts, web/src/messages.ts): API Gateway's own
 * 429 has no error code, the local stack's says RATE_LIMITED; the page treats both alike.
 */
import { Api, ApiError } from '../../web/src/api';
import { isRetryable, messageFor } from '../../web/src/messages';
import { answers } from '../support/stub-fetch';

const ACCOUNT = '01J00000000000000000000000';
const balance = {
  accountId: ACCOUNT,
  currency: 'USD',
  balance: 500,
  available: 500,
  pending: 0,
  updatedAt: '2026-12-05T00:00:00.000Z',
};

const gatewayThrottle = () =>
  new Response('{"message":"Too Many Requests"}', {
    status: 429,
    headers: { 'content-type': 'application/json' },
  });

afterEach(() => jest.restoreAllMocks());

describe('the page, throttled', () => {
  const api = new Api('https://api.example', () => 'token');

  it("reads API Gateway's bare 429 as RATE_LIMITED, a refusal it may retry with the same key", async () => {
    answers(gatewayThrottle);
    const refusal = await api.withdraw(ACCOUNT, 100n, 'key-1').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(isRetryable(refusal)).toBe(true);
    expect(messageFor(refusal)).toMatch(/too many requests.*nothing was changed/i);
    expect(messageFor(refusal, 'payout')).toMatch(/request payout again/i);
  });

  it("keeps the local stack's Retry-After with its RATE_LIMITED refusal", async () => {
    answers(
      () =>
        new Response('{"error":{"code":"RATE_LIMITED","message":"Too many requests"}}', {
          status: 429,
          headers: { 'retry-after': '2' },
        }),
    );
    await expect(api.withdraw(ACCOUNT, 100n, 'key-2')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 2,
    });
  });

  it('reads the balance again after a throttled read instead of showing an error', async () => {
    const calls = answers(gatewayThrottle, () => Response.json(balance));
    await expect(api.balance(ACCOUNT)).resolves.toMatchObject({ balance: 500 });
    expect(calls).toHaveLength(2);
  });
});
