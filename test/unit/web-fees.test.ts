/**
 * The fee the page shows before a withdrawal or a payout (web/src/fees.ts, priced with the back
 * end's feeFor) and the fee it reads from the API's answers (web/src/api.ts), in plain node with
 * the API's answers stubbed.
 */
import { Api } from '../../web/src/api';
import { FeeQuote } from '../../web/src/fees';
import { answers } from '../support/stub-fetch';

const ACCOUNT = '01J00000000000000000000000';

const refusal = (status: number, code: string) => () =>
  Response.json({ error: { code, message: code } }, { status });

afterEach(() => jest.restoreAllMocks());

describe('FeeQuote', () => {
  const api = new Api('https://api.example', () => 'token');

  it('prices a movement with the schedule the API sent, reading it once while it is fresh', async () => {
    const calls = answers(() =>
      Response.json({ accountId: ACCOUNT, WITHDRAWAL: { flat: 25 }, version: 1, changed: null }),
    );
    const quote = new FeeQuote(api, ACCOUNT);
    expect(quote.feeOf('WITHDRAWAL', 5_000n)).toBe('reading');
    await quote.load();
    await quote.load();
    expect(calls).toEqual([`GET https://api.example/accounts/${ACCOUNT}/fees`]);
    expect(quote.feeOf('WITHDRAWAL', 5_000n)).toBe(25n);
    expect(quote.feeOf('PAYOUT', 5_000n)).toBe(0n);
  });

  it('reads no fee from an API that has no fees route, and an unknown fee from a refusal', async () => {
    answers(refusal(404, 'NOT_FOUND'), refusal(403, 'FORBIDDEN'));
    const quote = new FeeQuote(api, ACCOUNT);
    await quote.load();
    expect(quote.feeOf('WITHDRAWAL', 5_000n)).toBe(0n);
    await quote.load(true);
    expect(quote.feeOf('WITHDRAWAL', 5_000n)).toBe('unknown');
  });
});

describe("the fee of a withdrawal's answer", () => {
  const api = new Api('https://api.example', () => 'token');
  const entry = {
    transactionId: '01J00000000000000000000001',
    type: 'WITHDRAWAL',
    amount: 5_000,
    balanceAfter: null,
    createdAt: '2026-12-05T00:00:00.000Z',
  };

  it('is the top-level fee, else the entry fee, else none', async () => {
    answers(
      () =>
        Response.json({ transaction: { ...entry, fee: 50 }, balance: 0, fee: 50 }, { status: 201 }),
      () => Response.json({ transaction: { ...entry, fee: 40 }, balance: 0 }, { status: 201 }),
      () => Response.json({ transaction: entry, balance: 0 }, { status: 201 }),
    );
    await expect(api.withdraw(ACCOUNT, 5_000n, 'k1')).resolves.toMatchObject({ fee: 50 });
    await expect(api.withdraw(ACCOUNT, 5_000n, 'k2')).resolves.toMatchObject({ fee: 40 });
    await expect(api.withdraw(ACCOUNT, 5_000n, 'k3')).resolves.toMatchObject({ fee: 0 });
  });
});
