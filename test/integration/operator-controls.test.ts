import {
  setAccountFrozen,
  setWithdrawalsPaused,
  withdrawalControl,
  type ControlDeps,
} from '../../lib/domain/controls';
import { DomainError } from '../../lib/domain/errors';
import { deposit, withdraw, type MovementRequest } from '../../lib/domain/movements';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';

const alice = customer('alice');
let ledger: TestLedger;
let controls: ControlDeps;

beforeAll(async () => {
  ledger = await createTestLedger('operator-controls');
  controls = ledger.deps;
});
afterAll(() => ledger.close());

const withdrawal = (accountId: string, key: string, amount = 100): MovementRequest => ({
  caller: alice,
  accountId,
  amount,
  idempotencyKey: key,
  requestId: key,
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

describe('freezing an account', () => {
  it('refuses withdrawals with ACCOUNT_FROZEN and changes nothing, still accepts deposits, and unfreezing restores', async () => {
    const account = await ledger.openAccount(alice, 1_000);
    await setAccountFrozen(controls, operator, {
      accountId: account.accountId,
      frozen: true,
      reason: 'drained by fraud',
    });
    await ledger.drain();
    const ledgerBefore = await ledger.ledgerItems(account.accountId);

    await expect(
      codeOf(withdraw(ledger.deps, withdrawal(account.accountId, 'while-frozen'))),
    ).resolves.toBe('ACCOUNT_FROZEN');
    expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(1_000);
    await ledger.drain();
    expect(await ledger.ledgerItems(account.accountId)).toEqual(ledgerBefore);

    await deposit(ledger.deps, {
      caller: operator,
      accountId: account.accountId,
      amount: 500,
      idempotencyKey: 'deposit-while-frozen',
      requestId: 'd',
    });
    expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(1_500);

    await setAccountFrozen(controls, operator, {
      accountId: account.accountId,
      frozen: false,
      reason: 'cleared',
    });
    // The refusal was not recorded: the same key now executes.
    await expect(
      codeOf(withdraw(ledger.deps, withdrawal(account.accountId, 'while-frozen'))),
    ).resolves.toBe('OK');
    expect((await ledger.store.getAccount(account.accountId))?.balance).toBe(1_400);
  });

  it('never lets a withdrawal commit after the freeze committed, racing 20 concurrent withdrawals', async () => {
    const account = await ledger.openAccount(alice, 100_000);

    const race = Array.from({ length: 20 }, (_, i) =>
      codeOf(withdraw(ledger.deps, withdrawal(account.accountId, `race-${i}`))),
    );
    const frozen = setAccountFrozen(controls, operator, {
      accountId: account.accountId,
      frozen: true,
      reason: 'incident',
    });
    const [outcomes, frozenAccount] = await Promise.all([Promise.all(race), frozen]);

    expect(outcomes.filter((o) => o !== 'OK' && o !== 'ACCOUNT_FROZEN')).toEqual([]);
    const frozenAt = frozenAccount.frozenAtVersion ?? -1;
    await ledger.drain();
    const lines = await ledger.statement(account.accountId);
    // Every committed withdrawal sits at or before the freeze in the account's commit order.
    expect(
      lines.filter((line) => line.type === 'WITHDRAWAL' && (line.sequence ?? 0) > frozenAt),
    ).toEqual([]);
    expect(lines.filter((line) => line.type === 'WITHDRAWAL')).toHaveLength(
      outcomes.filter((o) => o === 'OK').length,
    );
    const account_ = await ledger.store.getAccount(account.accountId);
    expect(account_?.version).toBe(frozenAt);
  });

  it('answers ACCOUNT_NOT_FOUND when freezing an account that does not exist', async () => {
    await expect(
      codeOf(
        setAccountFrozen(controls, operator, {
          accountId: '01JNOSUCHACCOUNT0000000000',
          frozen: true,
          reason: 'x',
        }),
      ),
    ).resolves.toBe('ACCOUNT_NOT_FOUND');
  });
});

describe('pausing all withdrawals', () => {
  it('refuses every withdrawal while paused with no change to any balance, keeps deposits and reads working, and resume restores', async () => {
    const accounts = await Promise.all([
      ledger.openAccount(alice, 1_000),
      ledger.openAccount(alice, 2_000),
    ]);
    try {
      await setWithdrawalsPaused(controls, operator, { paused: true, reason: 'incident 42' });
      expect(await withdrawalControl(controls, operator)).toMatchObject({
        paused: true,
        changed: { reason: 'incident 42' },
      });

      const outcomes = await Promise.all(
        accounts.flatMap((a, i) =>
          Array.from({ length: 5 }, (_, j) =>
            codeOf(withdraw(ledger.deps, withdrawal(a.accountId, `paused-${i}-${j}`))),
          ),
        ),
      );
      expect(outcomes).toEqual(Array(10).fill('WITHDRAWALS_PAUSED'));
      expect((await ledger.store.getAccount(accounts[0]?.accountId ?? ''))?.balance).toBe(1_000);
      expect((await ledger.store.getAccount(accounts[1]?.accountId ?? ''))?.balance).toBe(2_000);
      await expect(
        codeOf(
          deposit(ledger.deps, {
            caller: operator,
            accountId: accounts[0]?.accountId ?? '',
            amount: 1,
            idempotencyKey: 'p-dep',
            requestId: 'p',
          }),
        ),
      ).resolves.toBe('OK');
    } finally {
      await setWithdrawalsPaused(controls, operator, { paused: false, reason: 'resolved' });
    }
    await expect(
      codeOf(withdraw(ledger.deps, withdrawal(accounts[0]?.accountId ?? '', 'after-resume'))),
    ).resolves.toBe('OK');
  });
});

describe('who may use the controls', () => {
  it('refuses customers with FORBIDDEN: freeze, unfreeze, pause, resume, status', async () => {
    const account = await ledger.openAccount(alice, 100);

    const outcomes = await Promise.all([
      codeOf(
        setAccountFrozen(controls, alice, {
          accountId: account.accountId,
          frozen: true,
          reason: 'mine',
        }),
      ),
      codeOf(
        setAccountFrozen(controls, alice, {
          accountId: account.accountId,
          frozen: false,
          reason: 'mine',
        }),
      ),
      codeOf(setWithdrawalsPaused(controls, alice, { paused: true, reason: 'x' })),
      codeOf(setWithdrawalsPaused(controls, alice, { paused: false, reason: 'x' })),
      codeOf(withdrawalControl(controls, alice)),
    ]);

    expect(outcomes).toEqual(Array(5).fill('FORBIDDEN'));
    expect((await ledger.store.getAccount(account.accountId))?.frozen).toBeUndefined();
    expect((await withdrawalControl(controls, operator)).paused).toBe(false);
  });
});
