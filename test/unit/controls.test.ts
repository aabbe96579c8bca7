import { Logger } from '@aws-lambda-powertools/logger';
import {
  setAccountFrozen,
  setWithdrawalsPaused,
  withdrawalControl,
  WithdrawalSwitch,
  type ControlDeps,
} from '../../lib/domain/controls';
import { TransientStoreError } from '../../lib/domain/ports';
import type { Account } from '../../lib/domain/types';
import { failureOf } from '../support/failure';
import { memoryLedgerStore } from '../support/memory-store';

const operator = { userId: 'ops', username: 'ops', isOperator: true };
const customer = { userId: 'u', username: 'u', isOperator: false };
const changed = { by: 'ops', at: '2026-12-01T00:00:00.000Z', reason: 'incident' };

describe('WithdrawalSwitch', () => {
  it('reads the switch once per cache period, not once per request', async () => {
    const store = memoryLedgerStore();
    let now = 0;
    const withdrawalSwitch = new WithdrawalSwitch(store, 5000, () => now);

    expect(await withdrawalSwitch.isPaused()).toBe(false);
    await store.setWithdrawalControl({ paused: true, changed });
    now = 4999;
    expect(await withdrawalSwitch.isPaused()).toBe(false);
    now = 5000;
    expect(await withdrawalSwitch.isPaused()).toBe(true);
    expect(store.calls('getWithdrawalControl')).toHaveLength(2);
  });

  it('shares one read between concurrent requests', async () => {
    const store = memoryLedgerStore();
    await store.setWithdrawalControl({ paused: true, changed });
    const withdrawalSwitch = new WithdrawalSwitch(store, 5000, () => 0);

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => withdrawalSwitch.isPaused()),
    );

    expect(answers).toEqual(Array(10).fill(true));
    expect(store.calls('getWithdrawalControl')).toHaveLength(1);
  });

  it('reads again after a failed read instead of caching the failure', async () => {
    const store = memoryLedgerStore();
    store.failNext('getWithdrawalControl', new TransientStoreError('unavailable'));
    const withdrawalSwitch = new WithdrawalSwitch(store, 5000, () => 0);

    await expect(withdrawalSwitch.isPaused()).rejects.toThrow('store unavailable');
    await expect(withdrawalSwitch.isPaused()).resolves.toBe(false);
  });
});

describe('setAccountFrozen', () => {
  const account: Account = {
    accountId: '01JACCOUNT0000000000000000',
    ownerId: 'u',
    currency: 'USD',
    balance: 1,
    pending: 0,
    available: 1,
    version: 3,
    createdAt: 'x',
    updatedAt: 'x',
  };
  const freeze = { accountId: account.accountId, frozen: true, reason: 'r' };

  function controls() {
    const store = memoryLedgerStore({ accounts: [account] });
    const deps: ControlDeps = {
      store,
      logger: new Logger({ logLevel: 'SILENT' }),
      newId: () => 'change-1',
      now: () => new Date(0),
      sleep: async () => undefined,
    };
    return { store, deps };
  }

  it('freezes the account at its version and records who, when and why', async () => {
    const { store, deps } = controls();

    await expect(setAccountFrozen(deps, operator, freeze)).resolves.toEqual({
      ...account,
      frozen: true,
      frozenAtVersion: 3,
    });
    expect(store.controlRecords(account.accountId)).toEqual([
      {
        id: 'change-1',
        accountId: account.accountId,
        action: 'FREEZE',
        by: 'ops',
        at: '1970-01-01T00:00:00.000Z',
        reason: 'r',
      },
    ]);
  });

  it('answers ACCOUNT_NOT_FOUND for an unknown account, and FORBIDDEN to a customer', async () => {
    const { store, deps } = controls();

    const unknown = await failureOf(
      setAccountFrozen(deps, operator, { ...freeze, accountId: 'nope' }),
    );
    const forbidden = await failureOf(setAccountFrozen(deps, customer, freeze));

    expect(unknown.code).toBe('ACCOUNT_NOT_FOUND');
    expect(forbidden.code).toBe('FORBIDDEN');
    expect(await store.getAccount(account.accountId)).toEqual(account);
  });

  it('retries a freeze that collided with an in-flight withdrawal instead of failing it', async () => {
    const { store, deps } = controls();
    store.failNext('setFrozen', new TransientStoreError('conflict'), 2);

    await expect(setAccountFrozen(deps, operator, freeze)).resolves.toMatchObject({
      frozen: true,
    });
    expect(store.calls('setFrozen')).toHaveLength(3);
  });

  it('reports a conflict that outlasts its retries as a conflict (409), not an internal error', async () => {
    const { store, deps } = controls();
    store.failNext('setFrozen', new TransientStoreError('conflict'), 6);

    const failure = await setAccountFrozen(deps, operator, freeze).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(TransientStoreError);
    expect((failure as TransientStoreError).kind).toBe('conflict');
    expect(store.calls('setFrozen')).toHaveLength(6);
    expect(await store.getAccount(account.accountId)).toEqual(account);
  });
});

describe('the withdrawal switch', () => {
  const deps = (store = memoryLedgerStore()): ControlDeps => ({
    store,
    logger: new Logger({ logLevel: 'SILENT' }),
    newId: () => 'id',
    now: () => new Date('2026-12-01T00:00:00.000Z'),
  });

  it('is paused and resumed by an operator, who sees who changed it, when and why', async () => {
    const store = memoryLedgerStore();

    await setWithdrawalsPaused(deps(store), operator, { paused: true, reason: 'incident' });

    await expect(withdrawalControl(deps(store), operator)).resolves.toEqual({
      paused: true,
      changed,
    });
    await setWithdrawalsPaused(deps(store), operator, { paused: false, reason: 'resolved' });
    await expect(withdrawalControl(deps(store), operator)).resolves.toEqual({
      paused: false,
      changed: { ...changed, reason: 'resolved' },
    });
  });

  it('is neither changed nor read by a customer', async () => {
    const store = memoryLedgerStore();

    const change = await failureOf(
      setWithdrawalsPaused(deps(store), customer, { paused: true, reason: 'x' }),
    );
    const read = await failureOf(withdrawalControl(deps(store), customer));

    expect([change.code, read.code]).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(await store.getWithdrawalControl()).toEqual({ paused: false, changed: null });
  });
});
