import { ulid } from 'ulid';
import type { LedgerEntry, MovementDetails } from '../../lib/domain/types';
import { DETAILS_AT_BOUNDS, ONE_PAST_BOUNDS } from '../support/details';
import {
  configureHandlers,
  inProcessApi,
  startTestIssuer,
  type InProcessApi,
  type TestIssuer,
} from '../support/in-process';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';

/**
 * A movement's details (reference, description, metadata) on DynamoDB Local, through the real
 * handlers in-process (serverless.yml's routes): at their bounds they are answered, listed in
 * the history while pending and once placed, and found by reference through the table's sparse
 * index; one past a bound they are refused and nothing changes. The sequencer runs only when a
 * test says so, so the pending state is seen for certain.
 */
const alice = customer('alice');
const bob = customer('bob');
type User = 'alice' | 'bob' | 'ops';

let ledger: TestLedger;
let issuer: TestIssuer;
let api: InProcessApi;
let tokens: Record<User, string>;

beforeAll(async () => {
  ledger = await createTestLedger('metadata', { sequencer: false });
  issuer = await startTestIssuer();
  configureHandlers({ tableName: ledger.tableName, endpoint: ledger.endpoint, issuer });
  api = await inProcessApi();
  tokens = {
    alice: await issuer.token({ sub: alice.userId, username: 'alice' }),
    bob: await issuer.token({ sub: bob.userId, username: 'bob' }),
    ops: await issuer.token({ sub: operator.userId, username: 'ops', groups: ['operators'] }),
  };
});
afterAll(async () => {
  await ledger.close();
  await issuer.stop();
});

const post = (user: User, url: string, body: unknown, key = `k-${ulid()}`) =>
  api('POST', url, {
    headers: {
      authorization: `Bearer ${tokens[user]}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify(body),
  });

const get = (user: User, url: string) =>
  api('GET', url, { headers: { authorization: `Bearer ${tokens[user]}` } });

/** The entries a history (or a lookup) answers, as the client reads them. */
async function entries(user: User, accountId: string, reference?: string) {
  const query = reference === undefined ? '' : `?reference=${encodeURIComponent(reference)}`;
  const res = await get(user, `/accounts/${accountId}/transactions${query}`);
  expect(res.status).toBe(200);
  return res.body.transactions as LedgerEntry[];
}

const detailsOf = (entry: LedgerEntry | undefined): MovementDetails => ({
  reference: entry?.reference,
  description: entry?.description,
  metadata: entry?.metadata,
});

describe('details at their bounds', () => {
  const atBounds = DETAILS_AT_BOUNDS;
  const deposited = { ...atBounds, reference: 'deposit-1' };
  const transferred = { ...atBounds, reference: 'transfer-1' };

  it('are answered, listed pending and placed, and found by reference on a withdrawal, a deposit and a transfer', async () => {
    const from = await ledger.openAccount(alice, 1_000);
    const to = await ledger.openAccount(bob, 0);
    await ledger.sequenceOnce();
    const at = (id: string) => `/accounts/${id}`;

    const withdrawn = await post('alice', `${at(from.accountId)}/withdrawals`, {
      amount: 10,
      ...atBounds,
    });
    const deposit = await post('ops', `${at(from.accountId)}/deposits`, {
      amount: 20,
      ...deposited,
    });
    const body = { fromAccountId: from.accountId, toAccountId: to.accountId, amount: 30 };
    const transfer = await post('alice', '/transfers', { ...body, ...transferred });
    for (const [res, details] of [
      [withdrawn, atBounds],
      [deposit, deposited],
      [transfer, transferred],
    ] as const) {
      expect(res.status).toBe(201);
      expect(detailsOf(res.body.transaction as LedgerEntry)).toEqual(details);
    }

    // Pending, above the opening deposit's line (the account's last movement has its place
    // from the account item).
    const waiting = await entries('alice', from.accountId);
    expect(waiting.slice(0, 3).map(detailsOf)).toEqual([transferred, deposited, atBounds]);
    expect(waiting.map((e) => e.sequence)).toEqual([4, null, null, 1]);
    expect(await entries('bob', to.accountId, 'transfer-1')).toEqual([
      expect.objectContaining({ type: 'TRANSFER_IN', ...transferred }),
    ]);
    const found = await entries('alice', from.accountId, atBounds.reference);
    expect(found).toEqual([expect.objectContaining({ type: 'WITHDRAWAL', sequence: null })]);
    expect(detailsOf(found[0])).toEqual(atBounds);

    await ledger.sequenceOnce();
    const placed = await entries('alice', from.accountId);
    expect(placed.map((e) => [e.sequence, detailsOf(e)])).toEqual([
      [4, transferred],
      [3, deposited],
      [2, atBounds],
      [1, { reference: undefined, description: undefined, metadata: undefined }],
    ]);
    const line = await entries('alice', from.accountId, atBounds.reference);
    expect(line).toEqual([expect.objectContaining({ type: 'WITHDRAWAL', sequence: 2 })]);
    expect(detailsOf(line[0])).toEqual(atBounds);
    // The line is in the sparse index itself, not only among the newest lines the lookup reads.
    await expect(
      ledger.store.listStatementByReference(from.accountId, atBounds.reference, 10),
    ).resolves.toEqual([expect.objectContaining({ sequence: 2, reference: atBounds.reference })]);
  });

  it('stay with a payout: on its hold and in the history', async () => {
    const account = await ledger.openAccount(alice, 1_000);
    const res = await post('alice', `/accounts/${account.accountId}/payouts`, {
      amount: 10,
      destination: 'payee-1',
      ...atBounds,
    });

    expect(res.status).toBe(202);
    expect(detailsOf(res.body.transaction as LedgerEntry)).toEqual(atBounds);
    const [hold] = await entries('alice', account.accountId, atBounds.reference);
    expect(hold).toMatchObject({ type: 'PAYOUT', status: 'PENDING', ...atBounds });
  });
});

describe('details one past their bounds', () => {
  const routes = (from: string, to: string) =>
    [
      ['alice', `/accounts/${from}/withdrawals`, { amount: 1 }],
      ['ops', `/accounts/${from}/deposits`, { amount: 1 }],
      ['alice', '/transfers', { fromAccountId: from, toAccountId: to, amount: 1 }],
      ['alice', `/accounts/${from}/payouts`, { amount: 1, destination: 'payee' }],
    ] as const;

  it.each(ONE_PAST_BOUNDS)(
    'refuse %s with 400 VALIDATION_ERROR naming %s on every money route, and change nothing',
    async (_what, field, details) => {
      const from = await ledger.openAccount(alice, 1_000);
      const to = await ledger.openAccount(bob, 0);
      const before = await ledger.items();

      for (const [user, url, body] of routes(from.accountId, to.accountId)) {
        const res = await post(user, url, { ...body, ...details });
        expect({
          url,
          status: res.status,
          code: (res.body.error as { code: string }).code,
        }).toEqual({ url, status: 400, code: 'VALIDATION_ERROR' });
        expect((res.body.error as { message: string }).message).toMatch(new RegExp(`^${field}`));
      }
      expect(await ledger.items()).toEqual(before);
      expect((await ledger.store.getAccount(from.accountId))?.balance).toBe(1_000);
    },
  );

  it('refuse a lookup by a reference one past its bound, or with a space at an end', async () => {
    const account = await ledger.openAccount(alice, 0);
    for (const reference of ['r'.repeat(37), ' r', 'r ', '']) {
      const url = `/accounts/${account.accountId}/transactions?reference=${encodeURIComponent(reference)}`;
      const res = await get('alice', url);
      expect({ reference, status: res.status, body: res.body }).toEqual({
        reference,
        status: 400,
        body: { error: expect.objectContaining({ code: 'VALIDATION_ERROR' }) },
      });
    }
  });
});

describe('details in the fingerprint', () => {
  it('replay the first answer to the same request, and refuse the key with other metadata (422 IDEMPOTENCY_KEY_REUSED), money moved once', async () => {
    const account = await ledger.openAccount(alice, 1_000);
    const url = `/accounts/${account.accountId}/withdrawals`;
    const body = { amount: 100, reference: 'order-7', metadata: { cart: 'c-1', tier: 'gold' } };

    const first = await post('alice', url, body, 'same-key');
    const again = await post(
      'alice',
      url,
      { ...body, metadata: { tier: 'gold', cart: 'c-1' } },
      'same-key',
    );
    const other = await post(
      'alice',
      url,
      { ...body, metadata: { cart: 'c-2', tier: 'gold' } },
      'same-key',
    );
    const without = await post('alice', url, { amount: 100 }, 'same-key');

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    for (const refused of [other, without]) {
      expect(refused.status).toBe(422);
      expect(refused.body.error).toEqual(
        expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' }),
      );
    }
    expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(900);
  });
});
