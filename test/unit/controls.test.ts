import { WithdrawalSwitch } from '../../lib/domain/controls';

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
