import { StatementCatchingUpError, ValidationError } from '../../lib/domain/errors';
import { monthBounds } from '../../lib/domain/months';
import type { StatementLine } from '../../lib/domain/ports';
import {
  LINE_KINDS,
  figuresBetween,
  nextFigures,
  withFigures,
} from '../../lib/domain/statement-figures';
import { sequenceChanges } from '../../lib/domain/sequencer';
import { deposit, requestPayout, type MovementDeps } from '../../lib/domain/movements';
import { balanceAt, kindsOf, type StatementsDeps } from '../../lib/domain/statements';
import type { Account, Caller } from '../../lib/domain/types';
import { historyFilterOf, instantOf, periodOf } from '../../lib/http-schemas';
import { memoryMovementDeps } from '../support/memory-deps';
import { memoryLedgerStore } from '../support/memory-store';
import { accountOf } from '../support/store-contract';

const line = (overrides: Partial<StatementLine> & { sequence: number }): StatementLine => ({
  transactionId: `tx-${overrides.sequence}`,
  accountId: 'acct',
  type: 'DEPOSIT',
  amount: 100,
  currency: 'USD',
  balanceAfter: 0,
  idempotencyKey: `k-${overrides.sequence}`,
  createdAt: '2026-03-01T10:00:00.000Z',
  status: 'POSTED',
  ...overrides,
});

describe('running figures', () => {
  it('never lets postedAt go back along the commit order: a line stamped before the previous one counts at its instant', () => {
    const first = nextFigures(null, line({ sequence: 1, createdAt: '2026-03-01T10:00:00.500Z' }));
    const second = nextFigures(first, line({ sequence: 2, createdAt: '2026-03-01T10:00:00.200Z' }));
    const third = nextFigures(second, line({ sequence: 3, createdAt: '2026-03-01T10:00:01.000Z' }));
    expect([first.postedAt, second.postedAt, third.postedAt]).toEqual([
      '2026-03-01T10:00:00.500Z',
      '2026-03-01T10:00:00.500Z',
      '2026-03-01T10:00:01.000Z',
    ]);
  });

  it('adds posted amounts to their type and fees apart; a voided payout adds nothing', () => {
    const placed = withFigures(null, [
      line({ sequence: 2, type: 'WITHDRAWAL', amount: 300, fee: 5 }),
      line({ sequence: 1, type: 'DEPOSIT', amount: 1_000 }),
      line({ sequence: 3, type: 'PAYOUT', amount: 200, fee: 7, status: 'VOIDED' }),
      line({ sequence: 4, type: 'PAYOUT', amount: 100, fee: 7 }),
    ]);
    expect(placed.map((l) => l.sequence)).toEqual([1, 2, 3, 4]);
    expect(placed[3]).toMatchObject({
      totalsAfter: { DEPOSIT: 1_000, WITHDRAWAL: 300, PAYOUT: 100 },
      feesAfter: 12,
    });
    expect(figuresBetween(placed[0] ?? null, placed[3] ?? null)).toEqual({
      totals: { WITHDRAWAL: 300, PAYOUT: 100 },
      fees: 12,
    });
    expect(figuresBetween(null, null)).toEqual({ totals: {}, fees: 0 });
  });

  it('has one history index partition per type and status a line can have', () => {
    expect(LINE_KINDS).toHaveLength(8);
    expect(LINE_KINDS.filter((kind) => kind.type === 'PAYOUT').map((k) => k.status)).toEqual([
      'POSTED',
      'VOIDED',
    ]);
    expect(kindsOf({ statuses: ['VOIDED'] })).toEqual([{ type: 'PAYOUT', status: 'VOIDED' }]);
    expect(kindsOf({ types: ['DEPOSIT', 'WITHDRAWAL'], statuses: ['VOIDED'] })).toEqual([]);
  });
});

describe('months in the account timezone', () => {
  it.each([
    ['2026-03', 'UTC', '2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'],
    // New York moves to summer time on 8 March 2026: March starts at UTC-5 and ends at UTC-4.
    ['2026-03', 'America/New_York', '2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z'],
    ['2026-12', 'Asia/Kolkata', '2026-11-30T18:30:00.000Z', '2026-12-31T18:30:00.000Z'],
    ['2026-12', 'UTC', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-02', 'Asia/Kathmandu', '2026-01-31T18:15:00.000Z', '2026-02-28T18:15:00.000Z'],
    ['2026-01', 'Pacific/Kiritimati', '2025-12-31T10:00:00.000Z', '2026-01-31T10:00:00.000Z'],
  ])('%s in %s runs from %s to %s', (period, timezone, from, to) => {
    expect(monthBounds(period, timezone)).toEqual({ from, to });
  });
});

describe('statement parameters', () => {
  it('takes an instant with a timezone and keeps it as UTC with milliseconds', () => {
    expect(instantOf({ at: '2026-03-01T00:00:00-05:00' }, 'at')).toBe('2026-03-01T05:00:00.000Z');
    expect(instantOf({ at: '2026-03-01T00:00Z' }, 'at')).toBe('2026-03-01T00:00:00.000Z');
    expect(instantOf({ at: '2026-03-01T00:00:00.123456Z' }, 'at')).toBe('2026-03-01T00:00:00.123Z');
    expect(instantOf({}, 'at')).toBeUndefined();
  });

  it.each([
    '2026-03-01',
    '2026-03-01T00:00:00',
    '2026-02-30T00:00:00Z',
    '2026-03-01T24:00:00Z',
    '1969-12-31T23:59:59Z',
    '2026-03-01T00:00:00+0500',
    'yesterday',
    '',
  ])('refuses %p as an instant', (at) => {
    expect(() => instantOf({ at }, 'at')).toThrow(ValidationError);
  });

  it('reads the filters, refusing a range that ends before it starts and a status no line has', () => {
    expect(
      historyFilterOf({
        from: '2026-03-01T00:00:00Z',
        to: '2026-04-01T00:00:00Z',
        type: 'WITHDRAWAL,PAYOUT,WITHDRAWAL',
        status: 'POSTED',
      }),
    ).toEqual({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
      types: ['WITHDRAWAL', 'PAYOUT'],
      statuses: ['POSTED'],
    });
    expect(historyFilterOf({ limit: '5' })).toEqual({});
    expect(() => historyFilterOf({ from: '2026-03-02T00:00Z', to: '2026-03-01T00:00Z' })).toThrow(
      'to must be after from',
    );
    expect(() => historyFilterOf({ status: 'PENDING' })).toThrow(/PENDING payout/);
    expect(() => historyFilterOf({ type: 'withdrawal' })).toThrow(ValidationError);
    expect(() => historyFilterOf({ type: 'DEPOSIT,' })).toThrow(ValidationError);
  });

  it.each(['2026-13', '2026-00', '1999-12', '9999-01', '2026-1', '2026-01-01', ''])(
    'refuses %p as a period',
    (period) => {
      expect(() => periodOf({ period })).toThrow(ValidationError);
    },
  );
});

describe('the balance at an instant', () => {
  const alice: Caller = { userId: 'alice', username: 'alice', isOperator: false };
  const ops: Caller = { userId: 'ops', username: 'ops', isOperator: true };
  const opened: Account = accountOf({ ownerId: 'alice', balance: 0, version: 0 });
  const accountId = opened.accountId;

  /** Deposits of 100 at the instants given, each placed by the sequencer unless `unplaced`. */
  const setUp = async (instants: string[], unplaced: string[] = []) => {
    const store = memoryLedgerStore({ accounts: [opened] });
    let clock = new Date('2026-03-10T00:00:00.000Z');
    let next = 0;
    const deps: MovementDeps & StatementsDeps = memoryMovementDeps(store, {
      newId: () => `01JTX${String((next += 1)).padStart(21, '0')}`,
      now: () => clock,
    });
    const depositAt = async (at: string) => {
      const before = await store.getAccount(accountId);
      clock = new Date(at);
      await deposit(deps, {
        caller: ops,
        accountId,
        amount: 100,
        idempotencyKey: at,
        requestId: at,
      });
      return { before, after: await store.getAccount(accountId) };
    };
    for (const at of instants) {
      const change = await depositAt(at);
      await sequenceChanges(store, [{ id: 0, ...change }], deps.now);
    }
    for (const at of unplaced) await depositAt(at);
    clock = new Date('2026-03-10T00:00:00.000Z');
    return { store, deps };
  };

  it('finds the right line when the index still lags behind the statement', async () => {
    const { store, deps } = await setUp(['2026-03-01T10:00:00.000Z', '2026-03-02T10:00:00.000Z']);
    // The index has not caught up with the second line yet: it answers the first.
    const [first] = await store.readStatement(accountId, 1, 1, 1);
    const lagging = {
      ...deps,
      store: { ...store, lastIndexedLineBefore: async () => first as never },
    };
    await expect(
      balanceAt(lagging, alice, accountId, '2026-03-03T00:00:00.000Z'),
    ).resolves.toMatchObject({ balance: 200, sequence: 2 });
  });

  it('is not held up by a payout on hold: its line will count from its post, which is still to come', async () => {
    const { deps } = await setUp(['2026-03-01T10:00:00.000Z']);
    const at = (instant: string) => ({ ...deps, now: () => new Date(instant) });
    await requestPayout(
      { ...at('2026-03-02T10:00:00.000Z'), payoutHoldSeconds: 900 },
      {
        caller: alice,
        accountId,
        amount: 30,
        destination: 'bank-1',
        idempotencyKey: 'held',
        requestId: 'held',
      },
    );
    // A deposit after the instant asked, not placed yet: the statement stops short of the account.
    await deposit(at('2026-03-06T10:00:00.000Z'), {
      caller: ops,
      accountId,
      amount: 5,
      idempotencyKey: 'late',
      requestId: 'late',
    });
    await expect(
      balanceAt(deps, alice, accountId, '2026-03-05T00:00:00.000Z'),
    ).resolves.toMatchObject({ balance: 100, sequence: 1 });
  });

  it('refuses to answer while a committed movement that may count before the instant has no line', async () => {
    const { deps } = await setUp(
      ['2026-03-01T10:00:00.000Z', '2026-03-02T10:00:00.000Z'],
      ['2026-03-05T10:00:00.000Z'],
    );
    await expect(
      balanceAt(deps, alice, accountId, '2026-03-06T00:00:00.000Z'),
    ).rejects.toBeInstanceOf(StatementCatchingUpError);
    // Before that movement's instant the answer cannot change any more.
    await expect(
      balanceAt(deps, alice, accountId, '2026-03-04T00:00:00.000Z'),
    ).resolves.toMatchObject({ balance: 200, sequence: 2 });
  });
});
