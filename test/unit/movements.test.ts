import { DEFAULT_LIMITS } from '../../lib/domain/limits';
import { TermsCache } from '../../lib/domain/terms';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  deposit,
  requestHash,
  requestPayout,
  transfer,
  withdraw,
  type MovementDeps,
  type MovementRequest,
} from '../../lib/domain/movements';
import { ReplayedRefusalError } from '../../lib/domain/errors';
import { TransientStoreError, type CommittedMarker, type Marker } from '../../lib/domain/ports';
import type { Account } from '../../lib/domain/types';
import { noMetrics } from '../../lib/metrics';
import { failureOf } from '../support/failure';
import { memoryLedgerStore } from '../support/memory-store';

const ACCOUNT_ID = '01JACCOUNT0000000000000000';
const TX_ID = '01JTRANSACTION000000000000';
const alice = { userId: 'user-alice', username: 'alice', isOperator: false };
const ops = { userId: 'user-ops', username: 'ops', isOperator: true };
const NOW = '2026-11-24T10:00:00.000Z';
const conflict = () => new TransientStoreError('conflict');

const request: MovementRequest = {
  caller: alice,
  accountId: ACCOUNT_ID,
  amount: 500,
  idempotencyKey: 'key-1',
  requestId: 'req-1',
};

/** Alice's USD account after 7 movements, with `balance` available. */
const accountOf = (balance: number, extra: Partial<Account> = {}): Account => ({
  accountId: ACCOUNT_ID,
  ownerId: 'user-alice',
  currency: 'USD',
  balance,
  available: balance,
  pending: 0,
  version: 7,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
  ...extra,
});

/** A withdrawal of 500 under key-1 that committed as `transactionId`. */
const committedMarker = (
  transactionId: string,
  hash = requestHash('WITHDRAWAL', request),
): CommittedMarker => ({
  outcome: 'COMMITTED',
  accountId: ACCOUNT_ID,
  idempotencyKey: 'key-1',
  requestHash: hash,
  createdAt: '2026-11-24T09:59:00.000Z',
  transactionId,
  type: 'WITHDRAWAL',
  amount: 500,
});

/** The domain on an in-memory store holding `accounts` and `markers`. */
function ledger(accounts: Account[], markers: Marker[] = []) {
  const store = memoryLedgerStore({ accounts, markers });
  const deps: MovementDeps = {
    store,
    logger: new Logger({ logLevel: 'SILENT' }),
    newId: () => TX_ID,
    now: () => new Date(NOW),
    idempotencyTtlSeconds: 86_400,
    sleep: async () => undefined,
    termsCache: new TermsCache(),
    limitDefaults: DEFAULT_LIMITS,
    withdrawalSwitch: { isPaused: async () => false, cacheMs: 5000 },
    metrics: noMetrics,
  };
  /** The same deps, naming its next movement `transactionId`. */
  const as = (transactionId: string): MovementDeps => ({ ...deps, newId: () => transactionId });
  return { store, deps, as };
}

describe('withdraw', () => {
  it('commits in one write, then reads the account for the exact new balance', async () => {
    const { store, deps } = ledger([accountOf(2000)]);

    const result = await withdraw(deps, request);

    expect(store.calls('writeMovement')).toHaveLength(1);
    expect(result).toEqual({
      replayed: false,
      fee: 0,
      balance: 1500,
      available: 1500,
      pending: 0,
      transaction: expect.objectContaining({
        transactionId: TX_ID,
        type: 'WITHDRAWAL',
        amount: 500,
        currency: 'USD',
        balanceAfter: 1500,
        sequence: 8,
      }),
    });
    expect(await store.getAccount(ACCOUNT_ID)).toMatchObject({ balance: 1500, version: 8 });
  });

  it('leaves balanceAfter null (pending) when another movement committed right after it, never guessing', async () => {
    const { store, deps, as } = ledger([accountOf(2000)]);
    store.beforeNext('getAccount', () =>
      deposit(as('SOMEONE-ELSE'), { ...request, caller: ops, amount: 100, idempotencyKey: 'k2' }),
    );

    const result = await withdraw(deps, request);

    expect(result.transaction.balanceAfter).toBeNull();
    expect(result.transaction.sequence).toBeNull();
    expect(result.balance).toBe(1600);
  });

  it('refuses with INSUFFICIENT_FUNDS when the persisted balance is short, and records the refusal under the key', async () => {
    const { store, deps } = ledger([accountOf(499)]);

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('INSUFFICIENT_FUNDS');
    expect(error.status).toBe(409);
    expect(await store.getMarker(ACCOUNT_ID, 'key-1')).toEqual({
      outcome: 'REFUSED',
      accountId: ACCOUNT_ID,
      idempotencyKey: 'key-1',
      requestHash: requestHash('WITHDRAWAL', request),
      createdAt: NOW,
      status: 409,
      error: expect.objectContaining({ code: 'INSUFFICIENT_FUNDS', requestId: 'req-1' }),
    });
    expect(await store.getAccount(ACCOUNT_ID)).toEqual(accountOf(499));
  });

  it('refuses with CURRENCY_MISMATCH when the named currency is not the account currency', async () => {
    const { deps } = ledger([accountOf(10_000)]);

    const error = await failureOf(withdraw(deps, { ...request, currency: 'EUR' }));

    expect(error.code).toBe('CURRENCY_MISMATCH');
    expect(error.status).toBe(422);
  });

  it('answers ACCOUNT_NOT_FOUND for an account that does not exist and records nothing', async () => {
    const { store, deps } = ledger([]);

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('ACCOUNT_NOT_FOUND');
    expect(store.calls('recordRefusal')).toHaveLength(0);
    expect(await store.getMarker(ACCOUNT_ID, 'key-1')).toBeNull();
  });

  it("answers ACCOUNT_NOT_FOUND for another customer's account, even when its key has a marker", async () => {
    const bobs = accountOf(10_000, { ownerId: 'user-bob' });
    const { store, deps } = ledger([bobs], [committedMarker('BOBS-TX')]);

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('ACCOUNT_NOT_FOUND');
    expect(store.calls('recordRefusal')).toHaveLength(0);
  });

  it("tells an operator withdrawing from a customer's account that it is FORBIDDEN", async () => {
    const { deps } = ledger([accountOf(10_000)]);

    const error = await failureOf(withdraw(deps, { ...request, caller: ops }));

    expect(error.code).toBe('FORBIDDEN');
  });

  it('replays the first outcome when the key already committed with the same request', async () => {
    const { store, deps, as } = ledger([accountOf(2000)]);
    await withdraw(as('FIRST-TX'), request);

    const result = await withdraw(deps, request);

    expect(result.replayed).toBe(true);
    expect(result.transaction).toEqual(
      expect.objectContaining({ transactionId: 'FIRST-TX', balanceAfter: 1500 }),
    );
    expect(store.calls('writeMovement')).toHaveLength(2);
    expect(await store.getAccount(ACCOUNT_ID)).toMatchObject({ balance: 1500 });
  });

  it('takes the exact balanceAfter from the marker once the sequencer has filled it in', async () => {
    const marker = { ...committedMarker('FIRST-TX'), balanceAfter: 2000, sequence: 5 };
    const { deps } = ledger([accountOf(700, { version: 9 })], [marker]);

    const result = await withdraw(deps, request);

    expect(result.transaction).toEqual(
      expect.objectContaining({ transactionId: 'FIRST-TX', balanceAfter: 2000, sequence: 5 }),
    );
    expect(result.balance).toBe(700);
  });

  it("finds a replayed movement's statement line once the sequencer has placed it", async () => {
    const { store, deps, as } = ledger([accountOf(2000)]);
    const first = await withdraw(as('FIRST-TX'), request);
    await store.writeStatementLines(
      [{ ...first.transaction, balanceAfter: 1500, sequence: 8 }],
      NOW,
    );
    await deposit(as('LATER'), { ...request, caller: ops, idempotencyKey: 'k2' });

    const result = await withdraw(deps, request);

    expect(result.transaction).toMatchObject({ balanceAfter: 1500, sequence: 8 });
    expect(result.balance).toBe(2000);
  });

  it('prefers the recorded outcome over a refusal when both the key and the balance fail', async () => {
    const { store, deps, as } = ledger([accountOf(500)]);
    await withdraw(as('FIRST-TX'), request);

    const result = await withdraw(deps, request);

    expect(result.replayed).toBe(true);
    expect(result.transaction.transactionId).toBe('FIRST-TX');
    expect(store.calls('recordRefusal')).toHaveLength(0);
  });

  it('treats its own earlier attempt (response lost after commit) as committed, not replayed', async () => {
    const { store, deps } = ledger([accountOf(2000)]);
    store.failAfterNext('writeMovement', conflict());

    const result = await withdraw(deps, request);

    expect(result.replayed).toBe(false);
    expect(result.transaction).toMatchObject({ transactionId: TX_ID, balanceAfter: 1500 });
    expect(await store.getAccount(ACCOUNT_ID)).toMatchObject({ balance: 1500 });
  });

  it('answers IDEMPOTENCY_KEY_REUSED when the key was used with another amount', async () => {
    const { deps, as } = ledger([accountOf(2000)]);
    await withdraw(as('FIRST-TX'), request);

    const error = await failureOf(withdraw(deps, { ...request, amount: 600 }));

    expect(error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(error.status).toBe(422);
  });

  it('replays a recorded refusal with its first status, code and request id, even once funds arrived', async () => {
    const { deps, as } = ledger([accountOf(100)]);
    await failureOf(withdraw(deps, { ...request, requestId: 'first-request' }));
    await deposit(as('FUNDING'), { ...request, caller: ops, amount: 5000, idempotencyKey: 'k2' });

    const error = await failureOf(withdraw(deps, request));

    expect(error).toBeInstanceOf(ReplayedRefusalError);
    expect(error).toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
      status: 409,
      originalRequestId: 'first-request',
    });
  });

  it('answers its own refusal as a first answer when the put recording it committed but its answer was lost', async () => {
    const { store, deps } = ledger([accountOf(0)]);
    // The lost first attempt of this very put got there first; the retry finds its marker.
    store.beforeNext('recordRefusal', (marker, expiresAt) =>
      store.recordRefusal(marker, expiresAt),
    );

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('INSUFFICIENT_FUNDS');
    expect(error).not.toBeInstanceOf(ReplayedRefusalError);
    expect(store.calls('recordRefusal')).toHaveLength(2);
  });

  it('replays the refusal another request with the same key recorded first', async () => {
    const { store, deps } = ledger([accountOf(0)]);
    store.beforeNext('recordRefusal', (marker, expiresAt) =>
      store.recordRefusal({ ...marker, error: { ...marker.error, requestId: 'other' } }, expiresAt),
    );

    const error = await failureOf(withdraw(deps, request));

    expect(error).toBeInstanceOf(ReplayedRefusalError);
    expect(error).toMatchObject({ code: 'INSUFFICIENT_FUNDS', originalRequestId: 'other' });
  });

  it('answers with the committed outcome when its refusal loses the race for the key', async () => {
    const { store, deps, as } = ledger([accountOf(0)]);
    // Between the refused write and the refusal's put, funds arrive and a retry of the same
    // request commits under the key.
    store.beforeNext('recordRefusal', async () => {
      await deposit(as('FUNDING'), { ...request, caller: ops, amount: 500, idempotencyKey: 'k2' });
      await withdraw(as('WINNER'), request);
    });

    const result = await withdraw(deps, request);

    expect(result.transaction.transactionId).toBe('WINNER');
    expect(result.replayed).toBe(true);
  });

  it('retries a conflict with the same transaction id and succeeds', async () => {
    const { store, deps } = ledger([accountOf(2000)]);
    store.failNext('writeMovement', conflict(), 2);

    const result = await withdraw(deps, request);

    expect(result.transaction.transactionId).toBe(TX_ID);
    const ids = store.calls('writeMovement').map(([movement]) => movement.transactionId);
    expect(ids).toEqual([TX_ID, TX_ID, TX_ID]);
  });

  it('gives up on persistent conflicts with TRANSACTION_CONFLICT, never INSUFFICIENT_FUNDS', async () => {
    const { store, deps } = ledger([accountOf(0)]);
    store.failNext('writeMovement', conflict(), 4);

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('TRANSACTION_CONFLICT');
    expect(error.status).toBe(409);
    expect(store.calls('writeMovement')).toHaveLength(4);
    expect(store.calls('recordRefusal')).toHaveLength(0);
  });

  it('maps throttling that outlived the SDK retries to SERVICE_UNAVAILABLE with Retry-After, without retrying it', async () => {
    const { store, deps } = ledger([accountOf(2000)]);
    store.failNext('writeMovement', new TransientStoreError('throttled'));

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect(store.calls('writeMovement')).toHaveLength(1);
  });
});

describe('operator controls on withdrawals', () => {
  const paused = (deps: MovementDeps) => ({
    ...deps,
    termsCache: new TermsCache(),
    limitDefaults: DEFAULT_LIMITS,
    withdrawalSwitch: { isPaused: async () => true, cacheMs: 5000 },
  });

  it('refuses every withdrawal while paused, before any write, with Retry-After', async () => {
    const { store, deps } = ledger([accountOf(2000)]);

    const error = await failureOf(withdraw(paused(deps), request));

    expect(error).toMatchObject({ code: 'WITHDRAWALS_PAUSED', status: 503, retryAfterSeconds: 5 });
    expect(store.calls('writeMovement')).toHaveLength(0);
  });

  it('keeps deposits working while withdrawals are paused', async () => {
    const { deps } = ledger([accountOf(2000)]);

    await expect(deposit(paused(deps), { ...request, caller: ops })).resolves.toMatchObject({
      balance: 2500,
    });
  });

  it('conditions every withdrawal on the account not being frozen', async () => {
    const { store, deps } = ledger([accountOf(2000)]);

    await withdraw(deps, request);

    expect(store.calls('writeMovement')[0]?.[0].account).toMatchObject({ frozenBlocks: true });
  });

  it('answers ACCOUNT_FROZEN for a frozen account and records no refusal, so a retry after unfreezing runs', async () => {
    const { store, deps } = ledger([accountOf(10_000, { frozen: true, frozenAtVersion: 7 })]);

    const error = await failureOf(withdraw(deps, request));

    expect(error).toMatchObject({ code: 'ACCOUNT_FROZEN', status: 423 });
    expect(store.calls('recordRefusal')).toHaveLength(0);
    await store.setFrozen(ACCOUNT_ID, false, { id: 'c', by: 'ops', at: NOW, reason: 'cleared' });
    await expect(withdraw(deps, request)).resolves.toMatchObject({ balance: 9_500 });
  });
});

describe('metrics', () => {
  function recording(deps: MovementDeps) {
    const events: string[] = [];
    const metrics = {
      committed: (type: string) => events.push(`committed ${type}`),
      replayed: (type: string) => events.push(`replayed ${type}`),
      refused: (type: string, reason: string) => events.push(`refused ${type} ${reason}`),
      conflict: (type: string, gaveUp: boolean) =>
        events.push(`conflict ${type} ${gaveUp ? 'gave up' : 'retried'}`),
    };
    return { events, counted: { ...deps, metrics } };
  }

  it('counts a commit after retried conflicts', async () => {
    const { store, deps } = ledger([accountOf(2000)]);
    const { events, counted } = recording(deps);
    store.failNext('writeMovement', conflict());

    await withdraw(counted, request);

    expect(events).toEqual(['conflict WITHDRAWAL retried', 'committed WITHDRAWAL']);
  });

  it('counts a refusal by its reason', async () => {
    const { deps } = ledger([accountOf(1)]);
    const { events, counted } = recording(deps);

    await failureOf(withdraw(counted, request));

    expect(events).toEqual(['refused WITHDRAWAL INSUFFICIENT_FUNDS']);
  });
});

describe('deposit', () => {
  it('is refused to customers, even on their own account, before touching the store', async () => {
    const { store, deps } = ledger([accountOf(2000)]);

    const error = await failureOf(deposit(deps, request));

    expect(error.code).toBe('FORBIDDEN');
    expect(store.calls('writeMovement')).toHaveLength(0);
  });

  it('lets an operator credit any account without an owner condition', async () => {
    const { store, deps } = ledger([accountOf(2000)]);

    const result = await deposit(deps, { ...request, caller: ops });

    expect(store.calls('writeMovement')[0]?.[0].account.requiredOwnerId).toBeUndefined();
    expect(result.transaction).toEqual(
      expect.objectContaining({ type: 'DEPOSIT', balanceAfter: 2500 }),
    );
  });

  it('refuses a deposit that would push the balance past Number.MAX_SAFE_INTEGER', async () => {
    const { deps } = ledger([accountOf(Number.MAX_SAFE_INTEGER - 10)]);

    const error = await failureOf(deposit(deps, { ...request, caller: ops }));

    expect(error.code).toBe('BALANCE_LIMIT_EXCEEDED');
  });
});

describe('transfer', () => {
  const BOBS = '01JBOBSACCOUNT000000000000';
  const bobs = (currency = 'USD') =>
    accountOf(0, { accountId: BOBS, ownerId: 'user-bob', currency, version: 0 });
  const toBob = { ...request, toAccountId: BOBS };

  it("debits the caller's account and credits the other in one write, both sides answering the transfer", async () => {
    const { store, deps } = ledger([accountOf(2000), bobs()]);

    const result = await transfer(deps, toBob);

    expect(result.transaction).toMatchObject({
      type: 'TRANSFER_OUT',
      counterpartyAccountId: BOBS,
      balanceAfter: 1500,
    });
    expect(await store.getAccount(BOBS)).toMatchObject({
      balance: 500,
      lastMovement: {
        type: 'TRANSFER_IN',
        transactionId: TX_ID,
        counterpartyAccountId: ACCOUNT_ID,
      },
    });
  });

  it('answers ACCOUNT_NOT_FOUND for a destination that does not exist, before any write', async () => {
    const { store, deps } = ledger([accountOf(2000)]);

    const error = await failureOf(transfer(deps, toBob));

    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
    expect(error.message).toContain('destination');
    expect(store.calls('writeMovement')).toHaveLength(0);
  });

  it('refuses with CURRENCY_MISMATCH a destination in another currency, and records it', async () => {
    const { store, deps } = ledger([accountOf(2000), bobs('EUR')]);

    const error = await failureOf(transfer(deps, toBob));

    expect(error.code).toBe('CURRENCY_MISMATCH');
    expect(await store.getMarker(ACCOUNT_ID, 'key-1')).toMatchObject({ outcome: 'REFUSED' });
  });

  it('refuses with INSUFFICIENT_FUNDS and credits nobody when the payer is short', async () => {
    const { store, deps } = ledger([accountOf(100), bobs()]);

    const error = await failureOf(transfer(deps, toBob));

    expect(error.code).toBe('INSUFFICIENT_FUNDS');
    expect(await store.getAccount(BOBS)).toEqual(bobs());
  });
});

describe('requestPayout', () => {
  it('holds the amount and records the payout in one write, in the account currency', async () => {
    const { store, deps } = ledger([accountOf(2000)]);

    const result = await requestPayout(
      { ...deps, payoutHoldSeconds: 600 },
      { ...request, destination: 'acct_1' },
    );

    expect(store.calls('writeMovement')).toHaveLength(1);
    expect(result).toMatchObject({
      balance: 2000,
      available: 1500,
      pending: 500,
      transaction: { type: 'PAYOUT', status: 'PENDING', destination: 'acct_1' },
      payout: { status: 'PENDING', currency: 'USD', holdExpiresAt: '2026-11-24T10:10:00.000Z' },
    });
  });
});

describe('a commit whose answer was lost, then only conflicts', () => {
  it('answers with the committed outcome found under the key, not TRANSACTION_CONFLICT', async () => {
    const { store, deps } = ledger([accountOf(2000)]);
    store.failAfterNext('writeMovement', conflict());
    store.failNext('writeMovement', conflict(), 3);

    const result = await withdraw(deps, request);

    expect(result).toMatchObject({
      replayed: false,
      transaction: { transactionId: TX_ID, balanceAfter: 1500 },
    });
  });

  it('still answers TRANSACTION_CONFLICT when the key holds nothing', async () => {
    const { store, deps } = ledger([accountOf(2000)]);
    store.failNext('writeMovement', conflict(), 4);

    const error = await failureOf(withdraw(deps, request));

    expect(error.code).toBe('TRANSACTION_CONFLICT');
    expect(store.calls('getMarker')).toHaveLength(1);
    expect(await store.getAccount(ACCOUNT_ID)).toEqual(accountOf(2000));
  });
});
