import { sequenceChanges, type AccountChange } from '../../lib/domain/sequencer';
import type { Account } from '../../lib/domain/types';
import { STATEMENT_CHUNK, TransientStoreError } from '../../lib/domain/ports';
import { memoryLedgerStore, type MemoryLedgerStore } from '../support/memory-store';
import { accountOf, credit, holdOf } from '../support/store-contract';

/** The account item after its `version`-th movement, a deposit of 1 each time. */
function accountAt(accountId: string, version: number): Account {
  return {
    accountId,
    ownerId: 'owner',
    currency: 'USD',
    balance: version,
    pending: 0,
    available: version,
    version,
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
    lastMovement: {
      transactionId: `${accountId}-tx-${version}`,
      type: 'DEPOSIT',
      amount: 1,
      idempotencyKey: `k-${version}`,
      createdAt: '2026-12-01T00:00:00.000Z',
    },
  };
}

/** `count` consecutive changes of each account, interleaved as a stream batch would hold them. */
function changes(accounts: string[], count: number): AccountChange<string>[] {
  const out: AccountChange<string>[] = [];
  for (let v = 1; v <= count; v++) {
    for (const id of accounts) {
      out.push({ id: `${id}#${v}`, before: accountAt(id, v - 1), after: accountAt(id, v) });
    }
  }
  return out;
}

const now = () => new Date('2026-12-05T00:00:00.000Z');
const noWait = async () => {};
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** The sequences of an account's lines, in the order the store was asked to write them. */
const writtenOrder = (store: MemoryLedgerStore, accountId: string) =>
  store
    .calls('writeStatementLines')
    .flatMap(([lines]) => lines)
    .filter((line) => line.accountId === accountId)
    .map((line) => line.sequence);

/** The sequences of an account's statement as the store holds it, oldest first. */
const statement = async (store: MemoryLedgerStore, accountId: string) =>
  (await store.listStatementAbove(accountId, 0)).map((line) => line.sequence).reverse();

describe('sequenceChanges', () => {
  it("writes each account's lines in commit order, in chunks of at most STATEMENT_CHUNK", async () => {
    const store = memoryLedgerStore();
    const result = await sequenceChanges(store, changes(['A', 'B'], 60), now, noWait);

    expect(result).toEqual({ written: 120, failed: [] });
    const chunks = store.calls('writeStatementLines').map(([lines]) => lines);
    expect(chunks.every((chunk) => chunk.length <= STATEMENT_CHUNK)).toBe(true);
    expect(chunks.every((chunk) => new Set(chunk.map((l) => l.accountId)).size === 1)).toBe(true);
    for (const id of ['A', 'B']) {
      expect(writtenOrder(store, id)).toEqual(upTo(60));
      expect(await statement(store, id)).toEqual(upTo(60));
    }
  });

  it('skips a change that moved no money (same version), and writes the exact balance', async () => {
    const store = memoryLedgerStore();
    const flagOnly = { id: 'flag', before: accountAt('A', 3), after: accountAt('A', 3) };
    await sequenceChanges(store, [flagOnly, ...changes(['A'], 1)], now, noWait);

    expect(await store.listStatementAbove('A', 0)).toEqual([
      expect.objectContaining({ accountId: 'A', sequence: 1, balanceAfter: 1, status: 'POSTED' }),
    ]);
  });

  it("places a store's committed movements and retires their pending entries; a hold has no line yet", async () => {
    const account = accountOf({ balance: 0, version: 0 });
    const store = memoryLedgerStore({ accounts: [account] });
    const batch: AccountChange<number>[] = [];
    for (const movement of [credit(account, 50), credit(account, 70), holdOf(account, 20)]) {
      const before = await store.getAccount(account.accountId);
      await store.writeMovement(movement);
      batch.push({ id: batch.length, before, after: await store.getAccount(account.accountId) });
    }

    await expect(sequenceChanges(store, batch, now, noWait)).resolves.toEqual({
      written: 2,
      failed: [],
    });
    const lines = await store.listStatementAbove(account.accountId, 0);
    expect(lines.map((line) => [line.sequence, line.balanceAfter])).toEqual([
      [2, 120],
      [1, 50],
    ]);
    const pending = await store.listPending(account.accountId, 10);
    expect(pending).toEqual([expect.objectContaining({ type: 'PAYOUT', status: 'PENDING' })]);
  });

  it('tries a chunk again after a transient failure instead of failing the batch', async () => {
    const store = memoryLedgerStore();
    store.failNext('writeStatementLines', new TransientStoreError('throttled'), 2);
    const result = await sequenceChanges(store, changes(['A'], 10), now, noWait);

    expect(result.failed).toEqual([]);
    expect(await statement(store, 'A')).toEqual(upTo(10));
  });

  it("reports the first change of a failing account's chunk, stops that account, and writes the others", async () => {
    const store = memoryLedgerStore();
    store.failWhen(
      'writeStatementLines',
      ([first]) => first?.accountId === 'B' && first.sequence > STATEMENT_CHUNK,
      new TransientStoreError('unavailable'),
    );
    const result = await sequenceChanges(store, changes(['A', 'B'], 60), now, noWait);

    expect(result.failed).toEqual([`B#${STATEMENT_CHUNK + 1}`]);
    expect(await statement(store, 'A')).toEqual(upTo(60));
    // B stopped at its failed chunk: nothing after it was written out of order.
    expect(await statement(store, 'B')).toEqual(upTo(STATEMENT_CHUNK));
  });

  it('fails at once on an error that is not transient (a bug is not retried)', async () => {
    const store = memoryLedgerStore();
    store.failNext('writeStatementLines', new TypeError('bug'));
    const result = await sequenceChanges(store, changes(['A'], 3), now, noWait);

    expect(result.failed).toEqual(['A#1']);
    expect(store.calls('writeStatementLines')).toHaveLength(1);
  });
});

describe('postings to the system accounts (double entry)', () => {
  /** The account after `movements`, each a deposit (+) or a withdrawal (-) of its amount. */
  function history(accountId: string, movements: number[]): AccountChange<string>[] {
    let balance = 0;
    return movements.map((signed, index) => {
      const before = index === 0 ? null : { ...accountAt(accountId, index), balance };
      balance += signed;
      const after: Account = {
        ...accountAt(accountId, index + 1),
        balance,
        available: balance,
        lastMovement: {
          transactionId: `${accountId}-tx-${index + 1}`,
          type: signed > 0 ? 'DEPOSIT' : 'WITHDRAWAL',
          amount: Math.abs(signed),
          idempotencyKey: `k-${index + 1}`,
          createdAt: '2026-12-01T00:00:00.000Z',
        },
      };
      return { id: `${accountId}#${index + 1}`, before, after };
    });
  }

  it('posts deposits against funding and withdrawals to clearing, so every currency sums to zero', async () => {
    const store = memoryLedgerStore();
    await sequenceChanges(
      store,
      [...history('A', [100, 50, -30]), ...history('B', [7])],
      now,
      noWait,
    );

    const system = await store.systemBalances();
    expect(system).toEqual({ USD: { funding: -157, clearing: 30 } });
    const customers = await Promise.all(
      ['A', 'B'].map(async (id) => (await store.listStatementAbove(id, 0))[0]?.balanceAfter ?? 0),
    );
    const systemTotal = (system.USD?.funding ?? 0) + (system.USD?.clearing ?? 0);
    expect(customers.reduce((sum, balance) => sum + balance, 0) + systemTotal).toBe(0);
  });

  it('posts a redelivered batch once, however the redelivery cuts its chunks', async () => {
    const store = memoryLedgerStore();
    const all = history(
      'A',
      upTo(40).map((i) => (i % 4 === 0 ? -1 : 2)),
    );
    await sequenceChanges(store, all.slice(0, 30), now, noWait);
    // The stream delivers again from change 20, then on to the end: 20..30 were posted already.
    await sequenceChanges(store, all.slice(19), now, noWait);
    await sequenceChanges(store, all, now, noWait);

    const deposits = upTo(40).filter((i) => i % 4 !== 0).length * 2;
    const withdrawals = upTo(40).filter((i) => i % 4 === 0).length;
    expect(await store.systemBalances()).toEqual({
      USD: { funding: -deposits, clearing: withdrawals },
    });
  });

  it('writes nothing to the system accounts for lines that post to none (a voided payout)', async () => {
    const store = memoryLedgerStore();
    const voided = history('A', [10]).map((change) => ({
      ...change,
      after: change.after && {
        ...change.after,
        balance: 0,
        available: 0,
        lastMovement: change.after.lastMovement && {
          ...change.after.lastMovement,
          type: 'PAYOUT' as const,
          status: 'VOIDED' as const,
        },
      },
    }));
    await sequenceChanges(store, voided, now, noWait);

    // The watermark moves (so no gap stays open behind it); no system account is touched.
    expect(store.calls('applySystemPostings')).toEqual([
      [{ accountId: 'A', currency: 'USD', firstSequence: 1, lastSequence: 1, amounts: {} }],
    ]);
    expect(await store.systemBalances()).toEqual({});
  });

  it('holds back lines past a gap until the lines before them are posted (a restarted stream)', async () => {
    const store = memoryLedgerStore();
    const all = history('A', [100, 50, 20, -30, 5]);
    await sequenceChanges(store, all.slice(0, 1), now, noWait);

    // After a restart, a new shard of the stream delivers 4..5 before the old one delivers 2..3.
    const early = await sequenceChanges(store, all.slice(3), now, noWait);
    expect(early.failed).toEqual(['A#4']);
    expect(await store.systemBalances()).toEqual({ USD: { funding: -100 } });

    await sequenceChanges(store, all.slice(1, 3), now, noWait);
    await sequenceChanges(store, all.slice(3), now, noWait);
    expect(await store.systemBalances()).toEqual({ USD: { funding: -175, clearing: 30 } });
  });
});
