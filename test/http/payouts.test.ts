/**
 * Payouts and transfers over HTTP, against the real local stack and its simulated payout
 * gateway (each test tells the gateway what to do with a destination of its own).
 *
 * A payout holds its amount at once (202: available down, balance unchanged), then is paid by
 * the gateway exactly once and posted, or refused and voided; either way the statement shows
 * one line with the exact balance. A transfer moves money between two accounts in one step.
 * The refusals of both routes (status, code, nothing changed, nothing reaching the gateway) are
 * the matrix's: test/http/refusals.test.ts.
 */
import { expectJsonNoStore, type ApiResponse } from '../support/api-client';
import {
  BALANCE_FIELDS,
  TRANSFER_FIELDS,
  call,
  currentState,
  expectAccountShape,
  expectEntryShape,
  expectError,
  expectPayoutShape,
  gatewayRecord,
  gatewayRecords,
  newDestination,
  newKey,
  openFundedAccount,
  requestPayout,
  setDestinationMode,
  signInAll,
  snapshot,
  transfer,
  waitForPayoutResolved,
  waitForStatement,
  withdraw,
  type Account,
  type Balance,
  type HistoryPage,
  type PayoutBody,
  type TransferBody,
  type User,
} from './fixtures';

jest.setTimeout(120_000);

let tokens: Record<User, string>;

beforeAll(async () => {
  tokens = await signInAll();
});

const PAYOUT_RESULT_FIELDS = ['available', 'balance', 'fee', 'payout', 'pending', 'transaction'];
const TRANSFER_RESULT_FIELDS = ['available', 'balance', 'transaction', 'transfer'];

function postPayout(
  token: string | undefined,
  accountId: string,
  body: unknown,
  key: string | null = newKey('payout'),
): Promise<ApiResponse<PayoutBody>> {
  return call<PayoutBody>('POST', `/accounts/${accountId}/payouts`, {
    token,
    body,
    headers: key === null ? {} : { 'idempotency-key': key },
  });
}

function postTransfer(
  token: string | undefined,
  body: unknown,
  key: string | null = newKey('transfer'),
): Promise<ApiResponse<TransferBody>> {
  return call<TransferBody>('POST', '/transfers', {
    token,
    body,
    headers: key === null ? {} : { 'idempotency-key': key },
  });
}

async function balanceOf(token: string, accountId: string): Promise<Balance> {
  const res = await call<Balance>('GET', `/accounts/${accountId}/balance`, { token });
  expect(res.status).toBe(200);
  expect(Object.keys(res.body).sort()).toEqual(BALANCE_FIELDS);
  return res.body;
}

async function setFrozen(accountId: string, frozen: boolean): Promise<void> {
  const res = await call<Account>(
    'POST',
    `/accounts/${accountId}/${frozen ? 'freeze' : 'unfreeze'}`,
    {
      token: tokens.ops,
      body: { reason: 'payouts suite' },
    },
  );
  expect(res.status).toBe(200);
  expect(res.body.frozen).toBe(frozen);
}

/** Every gateway record naming `destination`: none means no money was ever asked to leave. */
async function gatewayRecordsFor(destination: string): Promise<unknown[]> {
  return (await gatewayRecords()).filter((r) => r.destination === destination);
}

describe('POST /accounts/{id}/payouts (owner)', () => {
  it('holds the amount (202 PENDING: available down, balance unchanged), then the gateway pays it once and it posts', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const { accountId } = account;
    await snapshot(tokens.alice, accountId, 1);
    const destination = newDestination('paid');
    const key = newKey('payout-happy');

    const res = await postPayout(tokens.alice, accountId, { amount: 300, destination }, key);
    expect(res.status).toBe(202);
    expectJsonNoStore(res);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(Object.keys(res.body).sort()).toEqual(PAYOUT_RESULT_FIELDS);
    expect(res.body).toMatchObject({ balance: 1000, available: 700, pending: 300 });
    const held = res.body.payout;
    expectPayoutShape(held);
    expect(held).toMatchObject({
      accountId,
      amount: 300,
      currency: 'USD',
      destination,
      status: 'PENDING',
      attempts: 0,
      gatewayReference: null,
      voidReason: null,
    });
    expectEntryShape(res.body.transaction);
    expect(res.body.transaction).toStrictEqual({
      transactionId: held.transactionId,
      accountId,
      type: 'PAYOUT',
      amount: 300,
      currency: 'USD',
      balanceAfter: null,
      sequence: null,
      idempotencyKey: key,
      createdAt: held.createdAt,
      status: 'PENDING',
      destination,
    });

    const posted = await waitForPayoutResolved(tokens.alice, accountId, held.transactionId);
    expectPayoutShape(posted);
    expect(posted).toMatchObject({
      transactionId: held.transactionId,
      accountId,
      amount: 300,
      currency: 'USD',
      destination,
      status: 'POSTED',
      createdAt: held.createdAt,
      holdExpiresAt: held.holdExpiresAt,
      voidReason: null,
    });
    expect(await gatewayRecord(held.transactionId)).toMatchObject({
      idempotencyKey: held.transactionId,
      amount: 300,
      currency: 'USD',
      destination,
      status: 'SUCCEEDED',
      reference: posted.gatewayReference,
      executions: 1,
    });

    expect(await balanceOf(tokens.alice, accountId)).toMatchObject({
      balance: 700,
      available: 700,
      pending: 0,
    });
    const read = await call<Account>('GET', `/accounts/${accountId}`, { token: tokens.alice });
    expectAccountShape(read.body);
    expect(read.body).toMatchObject({ balance: 700, available: 700, pending: 0 });
    const history = await waitForStatement(tokens.alice, accountId, 2);
    history.forEach((entry) => expectEntryShape(entry));
    expect(history.filter((e) => e.type === 'PAYOUT')).toHaveLength(1);
    expect(history[0]).toStrictEqual({
      transactionId: held.transactionId,
      accountId,
      type: 'PAYOUT',
      amount: 300,
      currency: 'USD',
      balanceAfter: 700,
      sequence: 2,
      idempotencyKey: key,
      createdAt: held.createdAt,
      // The line counts from the post, not from the request.
      postedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      status: 'POSTED',
      destination,
    });
    expect(history[0]?.postedAt && history[0].postedAt > held.createdAt).toBe(true);
  });

  it('voids a payout the gateway refuses: available restored, balance unchanged, one VOIDED line', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const { accountId } = account;
    await snapshot(tokens.alice, accountId, 1);
    const destination = newDestination('refusing');
    await setDestinationMode(destination, 'refuse');

    const res = await requestPayout(tokens.alice, accountId, 400, destination);
    expect(res.body).toMatchObject({ balance: 1000, available: 600, pending: 400 });
    expect(res.body.payout.status).toBe('PENDING');
    const { transactionId } = res.body.payout;

    const voided = await waitForPayoutResolved(tokens.alice, accountId, transactionId);
    expectPayoutShape(voided);
    expect(voided).toMatchObject({
      transactionId,
      status: 'VOIDED',
      voidReason: 'destination_refused',
      gatewayReference: null,
    });
    expect(await gatewayRecord(transactionId)).toMatchObject({
      status: 'REFUSED',
      executions: 0,
    });

    expect(await balanceOf(tokens.alice, accountId)).toMatchObject({
      balance: 1000,
      available: 1000,
      pending: 0,
    });
    const history = await waitForStatement(tokens.alice, accountId, 2);
    expect(history[0]).toMatchObject({
      transactionId,
      type: 'PAYOUT',
      amount: 400,
      status: 'VOIDED',
      destination,
      balanceAfter: 1000,
      sequence: 2,
    });
    expect(history.filter((e) => e.type === 'PAYOUT')).toHaveLength(1);

    // The released amount can be taken again: all of it.
    const all = await withdraw(tokens.alice, accountId, 1000);
    expect(all.body.balance).toBe(0);
  });

  it('gives back a posted payout the gateway reports returned: a REVERSAL_IN linked both ways', async () => {
    const { accountId } = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    await snapshot(tokens.alice, accountId, 1);
    const destination = newDestination('returning');
    await setDestinationMode(destination, 'return');

    const res = await requestPayout(tokens.alice, accountId, 300, destination);
    const { transactionId } = res.body.payout;
    const posted = await waitForPayoutResolved(tokens.alice, accountId, transactionId);
    expect(posted.status).toBe('POSTED');

    // The deposit, the payout, then its reversal by the returns reader (every few seconds here).
    const [reversal, payout] = await waitForStatement(tokens.alice, accountId, 3, {
      timeoutMs: 60_000,
    });
    expect(reversal).toMatchObject({
      type: 'REVERSAL_IN',
      amount: 300,
      reversalOf: transactionId,
      reason: 'returned by the gateway: account_closed',
      balanceAfter: 1000,
      sequence: 3,
    });
    expect(payout).toMatchObject({
      transactionId,
      type: 'PAYOUT',
      status: 'POSTED',
      balanceAfter: 700,
      reversedBy: [{ transactionId: reversal?.transactionId, amount: 300 }],
    });
    expect(await balanceOf(tokens.alice, accountId)).toMatchObject({
      balance: 1000,
      available: 1000,
      pending: 0,
    });
    expect(await gatewayRecord(transactionId)).toMatchObject({
      status: 'SUCCEEDED',
      executions: 1,
      returned: { reason: 'account_closed' },
    });
  });

  it('answers the same payout to the same Idempotency-Key (Idempotent-Replayed: true); the gateway pays once', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const { accountId } = account;
    const destination = newDestination('replayed');
    const key = newKey('payout-replay');
    const body = { amount: 250, destination };

    const first = await postPayout(tokens.alice, accountId, body, key);
    expect(first.status).toBe(202);
    const { transactionId } = first.body.payout;
    const replay = await postPayout(tokens.alice, accountId, body, key);
    expect(replay.status).toBe(202);
    expectJsonNoStore(replay);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expectPayoutShape(replay.body.payout);
    expect(replay.body.payout).toMatchObject({
      transactionId,
      amount: 250,
      destination,
      createdAt: first.body.payout.createdAt,
    });
    expect(replay.body.transaction).toMatchObject({ transactionId, idempotencyKey: key });

    await waitForPayoutResolved(tokens.alice, accountId, transactionId);
    // Once posted, a replay answers the payout as it is now.
    const late = await postPayout(tokens.alice, accountId, body, key);
    expect(late.status).toBe(202);
    expect(late.headers.get('idempotent-replayed')).toBe('true');
    expect(late.body).toMatchObject({
      payout: { transactionId, status: 'POSTED' },
      transaction: { transactionId, status: 'POSTED' },
      balance: 750,
      available: 750,
      pending: 0,
    });

    // The same key with another request: refused, nothing moves.
    for (const other of [
      { ...body, amount: 251 },
      { ...body, destination: newDestination('replayed-other') },
    ]) {
      expectError(
        await postPayout(tokens.alice, accountId, other, key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
    }

    const gateway = await gatewayRecord(transactionId);
    expect(gateway).toMatchObject({ status: 'SUCCEEDED', executions: 1 });
    expect(await gatewayRecordsFor(destination)).toHaveLength(1);
    const after = await snapshot(tokens.alice, accountId, 2);
    expect(after).toMatchObject({ balance: 750, available: 750, pending: 0 });
    expect(after.history.filter((e) => e.type === 'PAYOUT')).toHaveLength(1);
  });

  it('pays once when the same payout is sent several times at once', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const { accountId } = account;
    const destination = newDestination('parallel');
    const key = newKey('payout-parallel');
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() =>
        postPayout(tokens.alice, accountId, { amount: 400, destination }, key),
      ),
    );
    const held = answers.filter((a) => a.status === 202);
    for (const a of answers.filter((x) => x.status !== 202)) {
      expectError(a, 409, 'TRANSACTION_CONFLICT');
    }
    expect(held.length).toBeGreaterThanOrEqual(1);
    const ids = new Set(held.map((a) => a.body.payout.transactionId));
    expect(ids.size).toBe(1);
    expect(held.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);

    const [transactionId = ''] = [...ids];
    expect((await waitForPayoutResolved(tokens.alice, accountId, transactionId)).status).toBe(
      'POSTED',
    );
    expect(await gatewayRecord(transactionId)).toMatchObject({ executions: 1 });
    expect(await gatewayRecordsFor(destination)).toHaveLength(1);
    const after = await snapshot(tokens.alice, accountId, 2);
    expect(after).toMatchObject({ balance: 600, available: 600, pending: 0 });
  });

  it('keeps the hold while the gateway cannot answer (available, not balance, is what counts), and posts once it can', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const bobs = await openFundedAccount(tokens.ops, tokens.bob, 0);
    const { accountId } = account;
    await snapshot(tokens.alice, accountId, 1);
    const destination = newDestination('unavailable');
    await setDestinationMode(destination, 'unavailable');

    const res = await requestPayout(tokens.alice, accountId, 400, destination);
    const { transactionId } = res.body.payout;
    // The dispatcher tries, hears nothing definite, and changes nothing but its count.
    const deadline = Date.now() + 30_000;
    let payout = res.body.payout;
    while (payout.attempts === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const read = await call<PayoutBody['payout']>(
        'GET',
        `/accounts/${accountId}/payouts/${transactionId}`,
        { token: tokens.alice },
      );
      expect(read.status).toBe(200);
      payout = read.body;
    }
    expect(payout).toMatchObject({ status: 'PENDING', gatewayReference: null, voidReason: null });
    expect(payout.attempts).toBeGreaterThanOrEqual(1);
    expect(await gatewayRecord(transactionId)).toBeNull();

    expect(await balanceOf(tokens.alice, accountId)).toMatchObject({
      balance: 1000,
      available: 600,
      pending: 400,
    });
    const page = await call<HistoryPage>('GET', `/accounts/${accountId}/transactions`, {
      token: tokens.alice,
    });
    expect(page.status).toBe(200);
    page.body.transactions.forEach((entry) => expectEntryShape(entry));
    expect(
      page.body.transactions.map((e) => [e.type, e.status, e.balanceAfter, e.sequence]),
    ).toEqual([
      ['PAYOUT', 'PENDING', null, null],
      ['DEPOSIT', 'POSTED', 1000, 1],
    ]);

    // Above available but within the balance: refused, whichever way the money would leave.
    const held = await currentState(tokens.alice, accountId);
    expectError(
      await call('POST', `/accounts/${accountId}/withdrawals`, {
        token: tokens.alice,
        body: { amount: 601 },
        headers: { 'idempotency-key': newKey('above-available') },
      }),
      409,
      'INSUFFICIENT_FUNDS',
    );
    expectError(
      await postPayout(tokens.alice, accountId, { amount: 601, destination }),
      409,
      'INSUFFICIENT_FUNDS',
    );
    expectError(
      await postTransfer(tokens.alice, {
        fromAccountId: accountId,
        toAccountId: bobs.accountId,
        amount: 601,
      }),
      409,
      'INSUFFICIENT_FUNDS',
    );
    expect(await currentState(tokens.alice, accountId)).toStrictEqual(held);
    expect(await currentState(tokens.bob, bobs.accountId)).toMatchObject({ balance: 0 });

    // The gateway is back: the sweeper asks again (same key) and the payout posts, once.
    await setDestinationMode(destination, 'succeed');
    const posted = await waitForPayoutResolved(tokens.alice, accountId, transactionId, 90_000);
    expect(posted.status).toBe('POSTED');
    expect(await gatewayRecord(transactionId)).toMatchObject({
      status: 'SUCCEEDED',
      executions: 1,
    });
    const after = await snapshot(tokens.alice, accountId, 2);
    expect(after).toMatchObject({ balance: 600, available: 600, pending: 0 });
    expect(after.history[0]).toMatchObject({
      transactionId,
      type: 'PAYOUT',
      status: 'POSTED',
      balanceAfter: 600,
      sequence: 2,
    });
  });

  it('refuses a payout from a frozen account (423), and the same request executes once unfrozen', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 500);
    const { accountId } = account;
    const destination = newDestination('frozen');
    await setFrozen(accountId, true);
    const before = await snapshot(tokens.alice, accountId, 1);
    const key = newKey('payout-frozen');
    const body = { amount: 100, destination };

    expectError(await postPayout(tokens.alice, accountId, body, key), 423, 'ACCOUNT_FROZEN');
    expect(await currentState(tokens.alice, accountId)).toStrictEqual(before);
    expect(await gatewayRecordsFor(destination)).toEqual([]);

    await setFrozen(accountId, false);
    const res = await postPayout(tokens.alice, accountId, body, key);
    expect(res.status).toBe(202);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(res.body).toMatchObject({ balance: 500, available: 400, pending: 100 });
    await waitForPayoutResolved(tokens.alice, accountId, res.body.payout.transactionId);
  });
});

describe('GET /accounts/{id}/payouts/{transactionId}', () => {
  it('answers the payout, as it is now, to its owner and to operators', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 100);
    const { accountId } = account;
    const res = await requestPayout(tokens.alice, accountId, 10, newDestination('read'));
    const { transactionId } = res.body.payout;
    const resolved = await waitForPayoutResolved(tokens.alice, accountId, transactionId);

    const asOwner = await call('GET', `/accounts/${accountId}/payouts/${transactionId}`, {
      token: tokens.alice,
    });
    expect(asOwner.status).toBe(200);
    expectJsonNoStore(asOwner);
    expect(asOwner.body).toStrictEqual(resolved);
    const asOps = await call('GET', `/accounts/${accountId}/payouts/${transactionId}`, {
      token: tokens.ops,
    });
    expect(asOps.body).toStrictEqual(resolved);
  });
});

describe('POST /transfers', () => {
  it('moves money from alice to bob at once (201), both histories show it, and a replay moves nothing twice', async () => {
    const from = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const to = await openFundedAccount(tokens.ops, tokens.bob, 100);
    const key = newKey('transfer-happy');
    const body = {
      fromAccountId: from.accountId,
      toAccountId: to.accountId,
      amount: 250,
      currency: 'USD',
    };

    const first = await postTransfer(tokens.alice, body, key);
    expect(first.status).toBe(201);
    expectJsonNoStore(first);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(Object.keys(first.body).sort()).toEqual(TRANSFER_RESULT_FIELDS);
    expect(Object.keys(first.body.transfer).sort()).toEqual(TRANSFER_FIELDS);
    const { transaction } = first.body;
    expectEntryShape(transaction);
    expect(transaction).toMatchObject({
      accountId: from.accountId,
      type: 'TRANSFER_OUT',
      amount: 250,
      currency: 'USD',
      status: 'POSTED',
      counterpartyAccountId: to.accountId,
      idempotencyKey: key,
    });
    expect([750, null]).toContain(transaction.balanceAfter);
    expect(first.body.transfer).toStrictEqual({
      transactionId: transaction.transactionId,
      fromAccountId: from.accountId,
      toAccountId: to.accountId,
      amount: 250,
      currency: 'USD',
      createdAt: transaction.createdAt,
    });
    expect(first.body).toMatchObject({ balance: 750, available: 750 });

    const replay = await postTransfer(tokens.alice, body, key);
    expect(replay.status).toBe(201);
    expectJsonNoStore(replay);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.transfer).toStrictEqual(first.body.transfer);
    expect(replay.body.transaction.transactionId).toBe(transaction.transactionId);
    expect(replay.body).toMatchObject({ balance: 750, available: 750 });
    expectError(
      await postTransfer(tokens.alice, { ...body, amount: 251 }, key),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );

    const source = await snapshot(tokens.alice, from.accountId, 2);
    expect(source).toMatchObject({ balance: 750, available: 750, pending: 0 });
    source.history.forEach((entry) => expectEntryShape(entry));
    expect(source.history[0]).toStrictEqual({
      transactionId: transaction.transactionId,
      accountId: from.accountId,
      type: 'TRANSFER_OUT',
      amount: 250,
      currency: 'USD',
      balanceAfter: 750,
      sequence: 2,
      idempotencyKey: key,
      createdAt: transaction.createdAt,
      postedAt: transaction.createdAt,
      status: 'POSTED',
      counterpartyAccountId: to.accountId,
    });

    const destination = await snapshot(tokens.bob, to.accountId, 2);
    expect(destination).toMatchObject({ balance: 350, available: 350, pending: 0 });
    destination.history.forEach((entry) => expectEntryShape(entry));
    expect(destination.history[0]).toMatchObject({
      transactionId: transaction.transactionId,
      accountId: to.accountId,
      type: 'TRANSFER_IN',
      amount: 250,
      currency: 'USD',
      balanceAfter: 350,
      sequence: 2,
      createdAt: transaction.createdAt,
      status: 'POSTED',
      counterpartyAccountId: from.accountId,
    });
    expect(destination.history.filter((e) => e.type === 'TRANSFER_IN')).toHaveLength(1);
    expect(source.history.filter((e) => e.type === 'TRANSFER_OUT')).toHaveLength(1);
  });

  it('never overdraws under concurrent transfers, and no money appears or vanishes', async () => {
    const from = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const to = await openFundedAccount(tokens.ops, tokens.bob, 0);
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        postTransfer(tokens.alice, {
          fromAccountId: from.accountId,
          toAccountId: to.accountId,
          amount: 300,
        }),
      ),
    );
    const ok = answers.filter((a) => a.status === 201).length;
    for (const a of answers.filter((x) => x.status !== 201)) {
      expect(a.status).toBe(409);
      expect(['INSUFFICIENT_FUNDS', 'TRANSACTION_CONFLICT']).toContain(
        (a.body as unknown as { error: { code: string } }).error.code,
      );
    }
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(3);
    const source = await snapshot(tokens.alice, from.accountId, 1 + ok);
    const destination = await snapshot(tokens.bob, to.accountId, ok);
    expect(source.balance).toBe(1000 - 300 * ok);
    expect(destination.balance).toBe(300 * ok);
    expect(
      new Set(source.history.filter((e) => e.type === 'TRANSFER_OUT').map((e) => e.transactionId)),
    ).toStrictEqual(new Set(destination.history.map((e) => e.transactionId)));
  });

  it('credits a frozen destination: a freeze stops money leaving, not arriving', async () => {
    const from = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const to = await openFundedAccount(tokens.ops, tokens.bob, 0);
    await setFrozen(to.accountId, true);
    const res = await transfer(tokens.alice, from.accountId, to.accountId, 100);
    expect(res.body.balance).toBe(900);
    expect(await snapshot(tokens.bob, to.accountId, 1)).toMatchObject({ balance: 100 });
  });
});
