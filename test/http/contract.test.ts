/**
 * The HTTP contract, route by route, against the real local stack: status, exact body shapes,
 * headers, balances and history, idempotent replays, concurrency. The refusals of every route
 * (status, code, nothing changed) are the matrix's: test/http/refusals.test.ts.
 * Each test opens the accounts it needs: other suites run against the same stack.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { e2eStack, expectJsonNoStore, signInDemoUser } from '../support/api-client';
import {
  BALANCE_FIELDS,
  call,
  currentState,
  deposit,
  expectAccountShape,
  expectEntryShape,
  expectError,
  newKey,
  openFundedAccount,
  signInAll,
  snapshot,
  subOf,
  tokenForNewCustomer,
  waitForStatement,
  withdraw,
  type Account,
  type HistoryPage,
  type LedgerEntry,
  type MovementBody,
  type User,
} from './fixtures';

jest.setTimeout(90_000);

let tokens: Record<User, string>;

beforeAll(async () => {
  tokens = await signInAll();
});

describe('GET /health', () => {
  it('answers 200 {"status":"ok"} without a token', async () => {
    const res = await call('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ status: 'ok' });
  });
});

describe('GET /accounts', () => {
  it("lists exactly the caller's accounts, in the Account shape", async () => {
    const first = await openFundedAccount(tokens.ops, tokens.alice);
    const second = await openFundedAccount(tokens.ops, tokens.alice, 250);
    const bobs = await openFundedAccount(tokens.ops, tokens.bob);

    const res = await call<{ accounts: Account[] }>('GET', '/accounts', { token: tokens.alice });

    expect(res.status).toBe(200);
    expectJsonNoStore(res);
    expect(Object.keys(res.body)).toEqual(['accounts']);
    for (const account of res.body.accounts) {
      expectAccountShape(account);
      expect(account.ownerId).toBe(subOf(tokens.alice));
    }
    const ids = res.body.accounts.map((a) => a.accountId);
    expect(ids).toEqual(expect.arrayContaining([first.accountId, second.accountId]));
    expect(ids).not.toContain(bobs.accountId);
    expect(res.body.accounts.find((a) => a.accountId === second.accountId)).toMatchObject({
      balance: 250,
      available: 250,
      pending: 0,
    });
  });

  it('answers {"accounts":[]} to a customer without accounts', async () => {
    const token = await tokenForNewCustomer(tokens.alice);
    const res = await call('GET', '/accounts', { token });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ accounts: [] });
  });

  it('lists every account of a customer with more than 100 (no silent truncation)', async () => {
    const token = await tokenForNewCustomer(tokens.alice);
    const opened: string[] = [];
    for (let batch = 0; batch < 101; batch += 5) {
      const accounts = await Promise.all(
        Array.from({ length: Math.min(5, 101 - batch) }, () =>
          openFundedAccount(tokens.ops, token),
        ),
      );
      opened.push(...accounts.map((a) => a.accountId));
    }
    expect(opened).toHaveLength(101);

    const res = await call<{ accounts: Account[] }>('GET', '/accounts', { token });
    expect(res.status).toBe(200);
    const listed = res.body.accounts.map((a) => a.accountId);
    expect({ count: listed.length, missing: opened.filter((id) => !listed.includes(id)) }).toEqual({
      count: 101,
      missing: [],
    });
  });
});

describe('POST /accounts (operators)', () => {
  it('opens an account with balance 0 and answers 201 with exactly the Account fields', async () => {
    const ownerId = subOf(tokens.alice);
    const res = await call<Account>('POST', '/accounts', {
      token: tokens.ops,
      body: { ownerId, currency: 'USD' },
    });

    expect(res.status).toBe(201);
    expectJsonNoStore(res);
    expectAccountShape(res.body);
    expect(res.body).toMatchObject({
      ownerId,
      currency: 'USD',
      balance: 0,
      available: 0,
      pending: 0,
    });
    expect(res.body.updatedAt).toBe(res.body.createdAt);

    const read = await call<Account>('GET', `/accounts/${res.body.accountId}`, {
      token: tokens.alice,
    });
    expect(read.status).toBe(200);
    expect(read.body).toStrictEqual(res.body);
  });
});

describe('GET /accounts/{id} and /accounts/{id}/balance', () => {
  it('answers the Account to its owner and operators, and the balance view with exactly its seven fields', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1234);

    const read = await call<Account>('GET', `/accounts/${account.accountId}`, {
      token: tokens.alice,
    });
    expect(read.status).toBe(200);
    expectJsonNoStore(read);
    expectAccountShape(read.body);
    expect(read.body).toMatchObject({
      accountId: account.accountId,
      ownerId: subOf(tokens.alice),
      currency: 'USD',
      balance: 1234,
      available: 1234,
      pending: 0,
      createdAt: account.createdAt,
    });

    // An operator reads any account, exactly as its owner does.
    const asOps = await call<Account>('GET', `/accounts/${account.accountId}`, {
      token: tokens.ops,
    });
    expect({ status: asOps.status, body: asOps.body }).toStrictEqual({
      status: 200,
      body: read.body,
    });

    const balance = await call('GET', `/accounts/${account.accountId}/balance`, {
      token: tokens.alice,
    });
    expect(balance.status).toBe(200);
    expectJsonNoStore(balance);
    expect(Object.keys(balance.body).sort()).toEqual(BALANCE_FIELDS);
    expect(balance.body).toStrictEqual({
      accountId: account.accountId,
      currency: 'USD',
      balance: 1234,
      available: 1234,
      pending: 0,
      updatedAt: read.body.updatedAt,
      // No operator set any: the service's defaults, nothing used today.
      limits: {
        daily: 1_000_000_000_000,
        perMovement: 1_000_000_000_000,
        timezone: 'UTC',
        day: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        usedToday: 0,
        remainingToday: 1_000_000_000_000,
      },
    });
  });
});

describe('POST /accounts/{id}/withdrawals (owner)', () => {
  it('moves money once: 201 {transaction, balance}, and the same key replays the same answer', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const key = newKey('withdraw-happy');

    const first = await call<MovementBody>('POST', `/accounts/${account.accountId}/withdrawals`, {
      token: tokens.alice,
      body: { amount: 300, currency: 'USD' },
      headers: { 'Idempotency-Key': key },
    });
    expect(first.status).toBe(201);
    expectJsonNoStore(first);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(Object.keys(first.body).sort()).toEqual(['balance', 'fee', 'transaction']);
    expect(first.body.fee).toBe(0); // no fee schedule on this account
    expectEntryShape(first.body.transaction);
    expect(first.body.transaction).toMatchObject({
      accountId: account.accountId,
      type: 'WITHDRAWAL',
      amount: 300,
      currency: 'USD',
      idempotencyKey: key,
      status: 'POSTED',
    });
    expect([700, null]).toContain(first.body.transaction.balanceAfter);
    expect([2, null]).toContain(first.body.transaction.sequence);
    expect(first.body.balance).toBe(700);

    const replay = await call<MovementBody>('POST', `/accounts/${account.accountId}/withdrawals`, {
      token: tokens.alice,
      body: { amount: 300, currency: 'USD' },
      headers: { 'Idempotency-Key': key },
    });
    expect(replay.status).toBe(201);
    expectJsonNoStore(replay);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expectEntryShape(replay.body.transaction);
    expect(replay.body.transaction.transactionId).toBe(first.body.transaction.transactionId);
    expect(replay.body.transaction).toMatchObject({
      type: 'WITHDRAWAL',
      amount: 300,
      idempotencyKey: key,
      createdAt: first.body.transaction.createdAt,
    });
    expect(replay.body.balance).toBe(700);

    const settled = await snapshot(tokens.alice, account.accountId, 2);
    expect(settled.balance).toBe(700);
    expect(settled.history.filter((e) => e.type === 'WITHDRAWAL')).toHaveLength(1);
    expect(settled.history[0]).toMatchObject({
      transactionId: first.body.transaction.transactionId,
      balanceAfter: 700,
      sequence: 2,
    });
  });

  it('accepts a withdrawal without currency (the account currency is implied)', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 500);
    const res = await withdraw(tokens.alice, account.accountId, 500);
    expect(res.body.balance).toBe(0);
    expect(res.body.transaction.currency).toBe('USD');
  });

  it('refuses more than the balance with 409 INSUFFICIENT_FUNDS, changes nothing, and replays the refusal', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const before = await snapshot(tokens.alice, account.accountId, 1);
    const key = newKey('overdraw');
    const send = () =>
      call('POST', `/accounts/${account.accountId}/withdrawals`, {
        token: tokens.alice,
        body: { amount: 1001 },
        headers: { 'Idempotency-Key': key },
      });

    const refused = await send();
    expectError(refused, 409, 'INSUFFICIENT_FUNDS');
    expect(refused.headers.get('idempotent-replayed')).toBeNull();
    expect(await currentState(tokens.alice, account.accountId)).toStrictEqual(before);

    // Even once the money is there, the key's recorded outcome is the answer.
    await deposit(tokens.ops, account.accountId, 5);
    const replay = await send();
    expectError(replay, 409, 'INSUFFICIENT_FUNDS');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toStrictEqual(refused.body);
    const after = await snapshot(tokens.alice, account.accountId, 2);
    expect(after.balance).toBe(1005);
    expect(after.history.filter((e) => e.type === 'WITHDRAWAL')).toHaveLength(0);
  });

  it('does not use up a key on a request refused as invalid', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 100);
    const key = newKey('invalid-first');
    const invalid = await call('POST', `/accounts/${account.accountId}/withdrawals`, {
      token: tokens.alice,
      body: { amount: 0 },
      headers: { 'Idempotency-Key': key },
    });
    expectError(invalid, 400, 'VALIDATION_ERROR');
    const valid = await withdraw(tokens.alice, account.accountId, 40, key);
    expect(valid.headers.get('idempotent-replayed')).toBeNull();
    expect(valid.body.balance).toBe(60);
  });

  it('moves money once when the same request is sent several times at once', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const key = newKey('parallel-same-key');
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() =>
        call<MovementBody>('POST', `/accounts/${account.accountId}/withdrawals`, {
          token: tokens.alice,
          body: { amount: 400 },
          headers: { 'Idempotency-Key': key },
        }),
      ),
    );
    const ok = answers.filter((a) => a.status === 201);
    // A retry-able conflict is allowed; anything else is not.
    for (const a of answers.filter((x) => x.status !== 201)) {
      expectError(a, 409, 'TRANSACTION_CONFLICT');
    }
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((a) => a.body.transaction.transactionId)).size).toBe(1);
    expect(ok.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    const after = await snapshot(tokens.alice, account.accountId, 2);
    expect(after.balance).toBe(600);
  });

  it('never overdraws under concurrent withdrawals', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice, 1000);
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        call<MovementBody>('POST', `/accounts/${account.accountId}/withdrawals`, {
          token: tokens.alice,
          body: { amount: 300 },
          headers: { 'Idempotency-Key': newKey(`parallel-${i}`) },
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
    expect(ok).toBeLessThanOrEqual(3);
    const after = await snapshot(tokens.alice, account.accountId, 1 + ok);
    expect(after.balance).toBe(1000 - 300 * ok);
    expect(after.balance).toBeGreaterThanOrEqual(0);
  });
});

describe('POST /accounts/{id}/deposits (operators)', () => {
  it('credits the account: 201 {transaction, balance}; the same key replays the same answer', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice);
    const key = newKey('deposit-happy');
    const send = () =>
      call<MovementBody>('POST', `/accounts/${account.accountId}/deposits`, {
        token: tokens.ops,
        body: { amount: 2500, currency: 'USD' },
        headers: { 'Idempotency-Key': key },
      });

    const first = await send();
    expect(first.status).toBe(201);
    expectJsonNoStore(first);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(Object.keys(first.body).sort()).toEqual(['balance', 'fee', 'transaction']);
    expect(first.body.fee).toBe(0); // no fee schedule on this account
    expectEntryShape(first.body.transaction);
    expect(first.body.transaction).toMatchObject({
      accountId: account.accountId,
      type: 'DEPOSIT',
      amount: 2500,
      currency: 'USD',
      idempotencyKey: key,
      status: 'POSTED',
    });
    expect([2500, null]).toContain(first.body.transaction.balanceAfter);
    expect(first.body.balance).toBe(2500);

    const replay = await send();
    expect(replay.status).toBe(201);
    expectJsonNoStore(replay);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.transaction.transactionId).toBe(first.body.transaction.transactionId);
    expect(replay.body.balance).toBe(2500);

    const after = await snapshot(tokens.alice, account.accountId, 1);
    expect(after.balance).toBe(2500);
    expect(after.history[0]).toMatchObject({
      transactionId: first.body.transaction.transactionId,
      type: 'DEPOSIT',
      balanceAfter: 2500,
      sequence: 1,
    });
  });

  it('accepts the largest amount, 10^12 minor units', async () => {
    const account = await openFundedAccount(tokens.ops, tokens.alice);
    const res = await deposit(tokens.ops, account.accountId, 1_000_000_000_000);
    expect(res.body.balance).toBe(1_000_000_000_000);
    expect(res.body.transaction.amount).toBe(1_000_000_000_000);
  });
});

describe('GET /accounts/{id}/transactions', () => {
  /** Five sequential movements; the settled history, newest first. */
  async function accountWithHistory(): Promise<{ account: Account; history: LedgerEntry[] }> {
    const account = await openFundedAccount(tokens.ops, tokens.alice);
    await deposit(tokens.ops, account.accountId, 1000);
    await withdraw(tokens.alice, account.accountId, 100);
    await deposit(tokens.ops, account.accountId, 50);
    await withdraw(tokens.alice, account.accountId, 200);
    await deposit(tokens.ops, account.accountId, 5);
    const history = await waitForStatement(tokens.alice, account.accountId, 5, {
      graceMs: 1500,
    });
    return { account, history };
  }

  it('lists the statement newest first, each line exact (sequence and balanceAfter)', async () => {
    const { account } = await accountWithHistory();
    const res = await call<HistoryPage>('GET', `/accounts/${account.accountId}/transactions`, {
      token: tokens.alice,
    });
    expect(res.status).toBe(200);
    expectJsonNoStore(res);
    expect(Object.keys(res.body).sort()).toEqual(['nextCursor', 'transactions']);
    expect(res.body.nextCursor).toBeNull();
    res.body.transactions.forEach((entry) => expectEntryShape(entry));
    expect(
      res.body.transactions.map((e) => [e.sequence, e.type, e.amount, e.balanceAfter, e.status]),
    ).toEqual([
      [5, 'DEPOSIT', 5, 755, 'POSTED'],
      [4, 'WITHDRAWAL', 200, 750, 'POSTED'],
      [3, 'DEPOSIT', 50, 950, 'POSTED'],
      [2, 'WITHDRAWAL', 100, 900, 'POSTED'],
      [1, 'DEPOSIT', 1000, 1000, 'POSTED'],
    ]);
    for (const entry of res.body.transactions) {
      expect(entry).toMatchObject({ accountId: account.accountId, currency: 'USD' });
    }
  });

  it.each([1, 2, 3, 4, 5])(
    'pages with limit=%i and the cursor without gap or duplicate',
    async (limit) => {
      const { account, history } = await accountWithHistory();
      const seen: LedgerEntry[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const res = await call<HistoryPage>(
          'GET',
          `/accounts/${account.accountId}/transactions?limit=${limit}${query}`,
          { token: tokens.alice },
        );
        expect(res.status).toBe(200);
        expect(res.body.transactions.length).toBeGreaterThan(0);
        expect(res.body.transactions.length).toBeLessThanOrEqual(limit);
        seen.push(...res.body.transactions);
        cursor = res.body.nextCursor;
        if (cursor !== null) expect(typeof cursor).toBe('string');
        pages++;
      } while (cursor !== null && pages < 10);
      expect(pages).toBe(Math.ceil(5 / limit));
      expect(seen).toStrictEqual(history);
    },
  );

  it('answers at most `limit` statement lines, and lists not-yet-sequenced entries on the first page only, on top', async () => {
    for (let round = 0; round < 3; round++) {
      const account = await openFundedAccount(tokens.ops, tokens.alice);
      await Promise.all([1, 2, 3, 4, 5].map((i) => deposit(tokens.ops, account.accountId, i)));
      const first = await call<HistoryPage>(
        'GET',
        `/accounts/${account.accountId}/transactions?limit=2`,
        {
          token: tokens.alice,
        },
      );
      expect(first.status).toBe(200);
      const entries = first.body.transactions;
      // Whatever is placed in the statement comes in commit order, newest first.
      const sequences = entries.flatMap((e) => (e.sequence === null ? [] : [e.sequence]));
      expect(sequences).toEqual([...sequences].sort((a, b) => b - a));
      expect(entries.filter((e) => e.sequence === null).length).toBeLessThanOrEqual(100);
      if (first.body.nextCursor !== null) {
        const next = await call<HistoryPage>(
          'GET',
          `/accounts/${account.accountId}/transactions?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
          { token: tokens.alice },
        );
        expect(next.body.transactions.length).toBeLessThanOrEqual(2);
        expect(next.body.transactions.every((e) => e.sequence !== null)).toBe(true);
        const firstIds = new Set(entries.map((e) => e.transactionId));
        expect(next.body.transactions.filter((e) => firstIds.has(e.transactionId))).toEqual([]);
      }
    }
  });

  it('never repeats an entry on the next page, even while entries are being sequenced', async () => {
    const repeated: unknown[] = [];
    for (let round = 0; round < 4; round++) {
      const account = await openFundedAccount(tokens.ops, tokens.alice);
      await Promise.all([1, 2, 3, 4, 5, 6].map((i) => deposit(tokens.ops, account.accountId, i)));
      // Several first pages read at once, each a sample of the race with the stream consumer.
      const firstPages = await Promise.all(
        [1, 2, 3, 4].map(() =>
          call<HistoryPage>('GET', `/accounts/${account.accountId}/transactions?limit=1`, {
            token: tokens.alice,
          }),
        ),
      );
      for (const first of firstPages) {
        expect(first.status).toBe(200);
        if (first.body.nextCursor === null) continue;
        const next = await call<HistoryPage>(
          'GET',
          `/accounts/${account.accountId}/transactions?limit=100&cursor=${encodeURIComponent(first.body.nextCursor)}`,
          { token: tokens.alice },
        );
        expect(next.status).toBe(200);
        const onFirst = new Set(first.body.transactions.map((e) => e.transactionId));
        const again = next.body.transactions.filter((e) => onFirst.has(e.transactionId));
        if (again.length > 0) {
          repeated.push({
            firstPage: first.body.transactions.map((e) => `${e.amount}:${e.sequence ?? 'pending'}`),
            nextPage: next.body.transactions.map((e) => `${e.amount}:${e.sequence}`),
          });
        }
      }
    }
    expect(repeated).toEqual([]);
  });

  it('keeps pending entries in newest-first order: the latest movement comes first', async () => {
    const misordered: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      const account = await openFundedAccount(tokens.ops, tokens.alice);
      await Promise.all([1, 2, 3, 4, 5].map((i) => deposit(tokens.ops, account.accountId, i)));
      const res = await call<HistoryPage>(
        'GET',
        `/accounts/${account.accountId}/transactions?limit=100`,
        { token: tokens.alice },
      );
      expect(res.status).toBe(200);
      const settled = await waitForStatement(tokens.alice, account.accountId, 5);
      const finalSequence = new Map(settled.map((e) => [e.transactionId, e.sequence ?? 0]));
      const page = res.body.transactions;
      // Pending entries cannot know their exact order among themselves; but an entry with a
      // known place (sequence) must come after every entry that is newer than it.
      for (let i = 0; i < page.length; i++) {
        for (let j = i + 1; j < page.length; j++) {
          const a = page[i];
          const b = page[j];
          if (!a || !b) continue;
          const olderFirst =
            (finalSequence.get(a.transactionId) ?? 0) < (finalSequence.get(b.transactionId) ?? 0);
          if (olderFirst && (a.sequence !== null || b.sequence !== null)) {
            misordered.push({
              page: page.map((e) => ({
                amount: e.amount,
                sequence: e.sequence,
                balanceAfter: e.balanceAfter,
                finalSequence: finalSequence.get(e.transactionId),
              })),
            });
            i = page.length;
            break;
          }
        }
      }
    }
    expect(misordered).toEqual([]);
  });
});

describe('identity on the local stack: cognito-local and npm run token', () => {
  it('refuses the ID token cognito-local issues (only access tokens open the API): 401 UNAUTHORIZED', async () => {
    const { idToken } = await signInDemoUser('alice');
    if (!idToken) throw new Error('cognito-local returned no ID token');
    expectError(await call('GET', '/accounts', { token: idToken }), 401, 'UNAUTHORIZED');
  });

  const token = (user: string) =>
    promisify(execFile)(process.execPath, ['scripts/run.js', 'scripts/token.ts', user], {
      cwd: path.resolve(__dirname, '..', '..'),
      env: { ...process.env, DATA_DIR: e2eStack().dataDir },
      timeout: 60_000,
    });

  it("prints only alice's access token, which the API accepts", async () => {
    const { stdout } = await token('alice');
    const printed = stdout.trim();
    expect(stdout).toBe(`${printed}\n`);
    expect(printed.split('.')).toHaveLength(3);
    expect(decodeJwt(printed)).toMatchObject({ sub: subOf(tokens.alice), token_use: 'access' });

    const res = await call<{ accounts: Account[] }>('GET', '/accounts', { token: printed });
    expect(res.status).toBe(200);
    for (const account of res.body.accounts) expect(account.ownerId).toBe(subOf(tokens.alice));
  });

  it('fails with a message and exit code 1 for an unknown user', async () => {
    await expect(token('mallory')).rejects.toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('Unknown user "mallory"'),
    });
  });
});
