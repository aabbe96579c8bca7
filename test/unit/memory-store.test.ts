import { TransientStoreError } from '../../lib/domain/ports';
import { memoryLedgerStore } from '../support/memory-store';
import {
  accountOf,
  credit,
  debit,
  ledgerStoreContract,
  markerOf,
  transferOf,
} from '../support/store-contract';

describe('the in-memory LedgerStore keeps the store contract', () => {
  ledgerStoreContract({ open: async () => memoryLedgerStore() });
});

describe('the in-memory LedgerStore for tests', () => {
  const conflict = new TransientStoreError('conflict');

  it('starts with the accounts and markers it is given', async () => {
    const account = accountOf({ balance: 42, frozen: true });
    const earlier = debit(account, 1);
    const store = memoryLedgerStore({ accounts: [account], markers: [markerOf(earlier)] });

    expect(await store.getAccount(account.accountId)).toEqual(account);
    expect(await store.getMarker(account.accountId, earlier.idempotencyKey)).toEqual(
      markerOf(earlier),
    );
  });

  it('fails the next calls of a method as told, changing nothing, then works again', async () => {
    const account = accountOf();
    const store = memoryLedgerStore({ accounts: [account] });
    store.failNext('writeMovement', conflict, 2);

    await expect(store.writeMovement(debit(account, 10))).rejects.toBe(conflict);
    await expect(store.writeMovement(debit(account, 10))).rejects.toBe(conflict);
    expect(await store.getAccount(account.accountId)).toEqual(account);
    await expect(store.writeMovement(debit(account, 10))).resolves.toEqual({ committed: true });
  });

  it('can lose the answer of a call that took effect', async () => {
    const account = accountOf();
    const store = memoryLedgerStore({ accounts: [account] });
    const movement = debit(account, 10);
    store.failAfterNext('writeMovement', conflict);

    await expect(store.writeMovement(movement)).rejects.toBe(conflict);
    expect(await store.getMarker(account.accountId, movement.idempotencyKey)).toEqual(
      markerOf(movement),
    );
  });

  it('runs a hook just before the next call, such as a concurrent movement', async () => {
    const account = accountOf({ balance: 100 });
    const store = memoryLedgerStore({ accounts: [account] });
    store.beforeNext('writeMovement', () => store.writeMovement(debit(account, 60)));

    await expect(store.writeMovement(debit(account, 60))).resolves.toMatchObject({
      accountRefused: true,
      account: { balance: 40 },
    });
  });

  it('records the arguments of every call as they were then', async () => {
    const account = accountOf();
    const store = memoryLedgerStore({ accounts: [account] });
    const movement = credit(account, 5);
    await store.writeMovement(movement);
    movement.amount = 6;

    expect(store.calls('writeMovement')).toEqual([[{ ...movement, amount: 5 }]]);
    expect(store.calls('getAccount')).toEqual([]);
  });

  it('records who froze an account, when and why', async () => {
    const account = accountOf();
    const store = memoryLedgerStore({ accounts: [account] });
    await store.setFrozen(account.accountId, true, { id: 'c1', by: 'ops', at: 't1', reason: 'r' });
    await store.setFrozen(account.accountId, false, { id: 'c2', by: 'ops', at: 't2', reason: 's' });

    expect(store.controlRecords(account.accountId)).toEqual([
      {
        id: 'c1',
        by: 'ops',
        at: 't1',
        reason: 'r',
        accountId: account.accountId,
        action: 'FREEZE',
      },
      {
        id: 'c2',
        by: 'ops',
        at: 't2',
        reason: 's',
        accountId: account.accountId,
        action: 'UNFREEZE',
      },
    ]);
  });

  it('refuses a movement that names one account twice, as DynamoDB refuses such a transaction', async () => {
    const account = accountOf();
    const store = memoryLedgerStore({ accounts: [account] });

    await expect(store.writeMovement(transferOf(account, account, 1))).rejects.toThrow(
      'one account twice',
    );
  });
});
