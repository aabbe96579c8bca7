import { Logger } from '@aws-lambda-powertools/logger';
import { setAccountFrozen, WithdrawalSwitch } from '../../lib/domain/controls';
import { TransientStoreError, type LedgerStore } from '../../lib/domain/ports';

describe('WithdrawalSwitch', () => {
  it('reads the switch once per cache period, not once per request', async () => {
    let now = 0;
    let paused = false;
    const getWithdrawalControl = jest.fn(async () => ({ paused, changed: null }));
    const withdrawalSwitch = new WithdrawalSwitch({ getWithdrawalControl }, 5000, () => now);

    expect(await withdrawalSwitch.isPaused()).toBe(false);
    paused = true;
    now = 4999;
    expect(await withdrawalSwitch.isPaused()).toBe(false);
    now = 5000;
    expect(await withdrawalSwitch.isPaused()).toBe(true);
    expect(getWithdrawalControl).toHaveBeenCalledTimes(2);
  });

  it('shares one read between concurrent requests', async () => {
    const getWithdrawalControl = jest.fn(async () => ({ paused: true, changed: null }));
    const withdrawalSwitch = new WithdrawalSwitch({ getWithdrawalControl }, 5000, () => 0);

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => withdrawalSwitch.isPaused()),
    );

    expect(answers).toEqual(Array(10).fill(true));
    expect(getWithdrawalControl).toHaveBeenCalledTimes(1);
  });

  it('reads again after a failed read instead of caching the failure', async () => {
    const getWithdrawalControl = jest
      .fn<Promise<{ paused: boolean; changed: null }>, []>()
      .mockRejectedValueOnce(new Error('unavailable'))
      .mockResolvedValue({ paused: false, changed: null });
    const withdrawalSwitch = new WithdrawalSwitch({ getWithdrawalControl }, 5000, () => 0);

    await expect(withdrawalSwitch.isPaused()).rejects.toThrow('unavailable');
    await expect(withdrawalSwitch.isPaused()).resolves.toBe(false);
  });
});

describe('setAccountFrozen', () => {
  const account = {
    accountId: '01JACCOUNT0000000000000000',
    ownerId: 'u',
    currency: 'USD',
    balance: 1,
    version: 3,
    createdAt: 'x',
    updatedAt: 'x',
    frozen: true,
  };
  const operator = { userId: 'ops', username: 'ops', isOperator: true };
  const silent = new Logger({ logLevel: 'SILENT' });

  it('retries a freeze that collided with an in-flight withdrawal instead of failing it', async () => {
    const setFrozen = jest
      .fn()
      .mockRejectedValueOnce(new TransientStoreError('conflict'))
      .mockRejectedValueOnce(new TransientStoreError('conflict'))
      .mockResolvedValue(account);
    const deps = {
      store: { setFrozen } as unknown as LedgerStore,
      logger: silent,
      newId: () => 'id',
      now: () => new Date(0),
    };

    await expect(
      setAccountFrozen(deps, operator, { accountId: account.accountId, frozen: true, reason: 'r' }),
    ).resolves.toEqual(account);
    expect(setFrozen).toHaveBeenCalledTimes(3);
  });

  it('reports a conflict that outlasts its retries as a conflict (409), not an internal error', async () => {
    const setFrozen = jest.fn().mockRejectedValue(new TransientStoreError('conflict'));
    const deps = {
      store: { setFrozen } as unknown as LedgerStore,
      logger: silent,
      newId: () => 'id',
      now: () => new Date(0),
    };

    const failure = await setAccountFrozen(deps, operator, {
      accountId: account.accountId,
      frozen: true,
      reason: 'r',
    }).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(TransientStoreError);
    expect((failure as TransientStoreError).kind).toBe('conflict');
  });
});
