import { sequenceChanges, type AccountChange } from '../../lib/domain/sequencer';
import type { Account } from '../../lib/domain/types';
import {
  STATEMENT_CHUNK,
  TransientStoreError,
  type LedgerStore,
  type StatementLine,
} from '../../lib/domain/ports';

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

/** A store that records the chunks it is asked to write and fails as `fail` says. */
function recordingStore(fail: (chunk: StatementLine[], call: number) => Error | null) {
  const written: StatementLine[][] = [];
  let calls = 0;
  const store = {
    async writeStatementLines(chunk: StatementLine[]) {
      const error = fail(chunk, ++calls);
      if (error) throw error;
      written.push(chunk);
    },
  } as unknown as LedgerStore;
  return { store, written };
}

const now = () => new Date('2026-12-05T00:00:00.000Z');
const noWait = async () => {};
const sequencesOf = (written: StatementLine[][], accountId: string) =>
  written
    .flat()
    .filter((l) => l.accountId === accountId)
    .map((l) => l.sequence);

describe('sequenceChanges', () => {
  it("writes each account's lines in commit order, in chunks of at most STATEMENT_CHUNK", async () => {
    const { store, written } = recordingStore(() => null);
    const result = await sequenceChanges(store, changes(['A', 'B'], 60), now, noWait);

    expect(result).toEqual({ written: 120, failed: [] });
    expect(written.every((chunk) => chunk.length <= STATEMENT_CHUNK)).toBe(true);
    expect(written.every((chunk) => new Set(chunk.map((l) => l.accountId)).size === 1)).toBe(true);
    for (const id of ['A', 'B']) {
      expect(sequencesOf(written, id)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    }
  });

  it('skips a change that moved no money (same version), and writes the exact balance', async () => {
    const { store, written } = recordingStore(() => null);
    const flagOnly = { id: 'flag', before: accountAt('A', 3), after: accountAt('A', 3) };
    await sequenceChanges(store, [flagOnly, ...changes(['A'], 1)], now, noWait);

    expect(written.flat()).toEqual([
      expect.objectContaining({ accountId: 'A', sequence: 1, balanceAfter: 1, status: 'POSTED' }),
    ]);
  });

  it('tries a chunk again after a transient failure instead of failing the batch', async () => {
    const { store, written } = recordingStore((_chunk, call) =>
      call <= 2 ? new TransientStoreError('throttled') : null,
    );
    const result = await sequenceChanges(store, changes(['A'], 10), now, noWait);

    expect(result.failed).toEqual([]);
    expect(sequencesOf(written, 'A')).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it("reports the first change of a failing account's chunk, stops that account, and writes the others", async () => {
    const { store, written } = recordingStore((chunk) =>
      chunk[0]?.accountId === 'B' && chunk[0].sequence > STATEMENT_CHUNK
        ? new TransientStoreError('unavailable')
        : null,
    );
    const result = await sequenceChanges(store, changes(['A', 'B'], 60), now, noWait);

    expect(result.failed).toEqual([`B#${STATEMENT_CHUNK + 1}`]);
    expect(sequencesOf(written, 'A')).toHaveLength(60);
    // B stopped at its failed chunk: nothing after it was written out of order.
    expect(sequencesOf(written, 'B')).toEqual(
      Array.from({ length: STATEMENT_CHUNK }, (_, i) => i + 1),
    );
  });

  it('fails at once on an error that is not transient (a bug is not retried)', async () => {
    let calls = 0;
    const { store } = recordingStore(() => {
      calls += 1;
      return new TypeError('bug');
    });
    const result = await sequenceChanges(store, changes(['A'], 3), now, noWait);

    expect(result.failed).toEqual(['A#1']);
    expect(calls).toBe(1);
  });
});
