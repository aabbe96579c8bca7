/**
 * The bank run's verifier, on hand-made histories: it passes a consistent one and catches each
 * kind of violation it exists for (a checker that cannot fail proves nothing).
 */
import type { LedgerEntry } from '../../lib/domain/types';
import type { BalanceSample } from '../../scripts/lib/bank/clients';
import type { Attempt, BankAccount, Operation } from '../../scripts/lib/bank/model';
import { INVARIANTS, verify, type AccountState } from '../../scripts/lib/bank/verify';

const account: BankAccount = { accountId: 'ACC', owner: 'alice', role: 'hot', label: 'hot-1' };

function committed(
  sentAt: number,
  endedAt: number,
  tx: string,
  extra: Partial<Attempt> = {},
): Attempt {
  return {
    role: 'first',
    cls: 'committed',
    sentAt,
    endedAt,
    kind: 'response',
    status: 201,
    replayed: false,
    transactionId: tx,
    balanceAfter: null,
    sequence: null,
    ...extra,
  };
}

function refused(sentAt: number, endedAt: number, extra: Partial<Attempt> = {}): Attempt {
  return {
    role: 'first',
    cls: 'refused',
    sentAt,
    endedAt,
    kind: 'response',
    status: 409,
    code: 'INSUFFICIENT_FUNDS',
    requestId: 'req-1',
    replayed: false,
    ...extra,
  };
}

let nextId = 1;
function op(
  type: Operation['type'],
  amount: number,
  attempts: Attempt[],
  outcome: Operation['outcome'],
  extra: Partial<Operation> = {},
): Operation {
  const id = nextId++;
  const first = attempts.find((a) => a.cls === 'committed' || a.cls === 'refused');
  return {
    id,
    client: 1,
    account,
    type,
    amount,
    key: `k-${id}`,
    phase: 'test',
    attempts,
    outcome,
    transactionId: first?.cls === 'committed' ? first.transactionId : undefined,
    refusal:
      first?.cls === 'refused'
        ? { status: 409, code: 'INSUFFICIENT_FUNDS', requestId: first.requestId ?? '' }
        : undefined,
    firstSentAt: attempts[0]?.sentAt ?? 0,
    definitiveAt: first?.endedAt,
    ...extra,
  };
}

function entry(o: Operation, sequence: number, balanceAfter: number): LedgerEntry {
  return {
    transactionId: o.transactionId ?? 'missing',
    accountId: account.accountId,
    type: o.type,
    amount: o.amount,
    currency: 'USD',
    balanceAfter,
    sequence,
    idempotencyKey: o.key,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

/** deposit 100 (t 0-10), withdrawal 60 (t 20-30), withdrawal 50 refused (t 40-50), deposit 30 (t 60-70). */
function history() {
  nextId = 1;
  const d1 = op('DEPOSIT', 100, [committed(0, 10, 'T1', { balance: 100 })], 'committed');
  const w1 = op('WITHDRAWAL', 60, [committed(20, 30, 'T2', { balance: 40 })], 'committed');
  const w2 = op('WITHDRAWAL', 50, [refused(40, 50)], 'refused');
  const d2 = op('DEPOSIT', 30, [committed(60, 70, 'T3', { balance: 70 })], 'committed');
  const ops = [d1, w1, w2, d2];
  const entries = [entry(d2, 3, 70), entry(w1, 2, 40), entry(d1, 1, 100)];
  const samples: BalanceSample[] = [{ accountId: 'ACC', sentAt: 35, endedAt: 36, balance: 40 }];
  return { ops, entries, samples, d1, w1, w2, d2 };
}

const states = (entries: LedgerEntry[], balance = 70): AccountState[] => [
  { account, balance, entries },
];
const broken = (result: ReturnType<typeof verify>) => result.violations.map((v) => v.invariant);

it('passes a consistent history', () => {
  const { ops, entries, samples } = history();
  const result = verify(ops, samples, states(entries));
  expect(result.violations).toEqual([]);
  expect(result.checks[INVARIANTS.funds]).toBe(1);
  expect(result.checks[INVARIANTS.fresh]).toBeGreaterThanOrEqual(4);
});

it('catches an INSUFFICIENT_FUNDS refusal while the funds were there all along', () => {
  const { ops, entries, samples, w2 } = history();
  w2.amount = 30; // the balance was 40 throughout its window
  expect(broken(verify(ops, samples, states(entries)))).toEqual([INVARIANTS.funds]);
});

it('accepts a refusal when a racing withdrawal may have emptied the account inside its window', () => {
  const { ops, entries, samples, w1, w2 } = history();
  // The refusal was sent before w1 was answered: the balance it saw may be 100 or 40.
  w2.attempts = [refused(25, 50)];
  w2.firstSentAt = 25;
  w2.amount = 50;
  expect(verify(ops, samples, states(entries)).violations).toEqual([]);
  // ... but not when it needs less than every state of its window.
  w2.amount = 40;
  expect(broken(verify(ops, samples, states(entries)))).toEqual([INVARIANTS.funds]);
  expect(w1.outcome).toBe('committed');
});

it('catches a stale balance read', () => {
  const { ops, entries } = history();
  const stale: BalanceSample[] = [{ accountId: 'ACC', sentAt: 35, endedAt: 36, balance: 100 }];
  expect(broken(verify(ops, stale, states(entries)))).toEqual([INVARIANTS.fresh]);
});

it('catches an acknowledged movement missing from the ledger, and one recorded twice', () => {
  const { ops, entries, samples, d2, w1 } = history();
  const missing = verify(
    ops,
    samples,
    states(
      entries.filter((e) => e.transactionId !== 'T3'),
      40,
    ),
  );
  expect(broken(missing)).toContain(INVARIANTS.exactlyOnce);
  const doubled = [{ ...entry(w1, 4, 10), transactionId: 'T4' }, ...entries];
  const result = verify(ops, samples, states(doubled, 10));
  expect(broken(result)).toContain(INVARIANTS.exactlyOnce);
  expect(d2.outcome).toBe('committed');
});

it('catches money moved for a refused request, and a ledger entry nobody asked for', () => {
  const { ops, entries, samples, w2 } = history();
  const moved = [{ ...entry(w2, 4, 20), transactionId: 'T5' }, ...entries];
  expect(broken(verify(ops, samples, states(moved, 20)))).toContain(INVARIANTS.nothingElse);
  const stranger = [
    {
      ...entries[0],
      transactionId: 'T9',
      idempotencyKey: 'nobody',
      sequence: 4,
      balanceAfter: 100,
      type: 'DEPOSIT' as const,
      amount: 30,
    },
    ...entries,
  ] as LedgerEntry[];
  expect(broken(verify(ops, samples, states(stranger, 100)))).toContain(INVARIANTS.nothingElse);
});

it('catches a broken chain and a balance that is not the ledger sum', () => {
  const { ops, entries, samples } = history();
  expect(broken(verify(ops, samples, states(entries, 71)))).toContain(INVARIANTS.chain);
});

it('catches a replay answering differently, and a first request flagged as a replay', () => {
  const { ops, entries, samples, d1, w2 } = history();
  d1.attempts.push(committed(80, 90, 'T-other', { role: 'replay', replayed: true }));
  w2.attempts[0] = refused(40, 50, { replayed: true });
  const found = broken(verify(ops, samples, states(entries)));
  expect(found).toContain(INVARIANTS.replay);
  expect(found).toContain(INVARIANTS.replayFlag);
});

it('catches a reused key that moved money instead of IDEMPOTENCY_KEY_REUSED', () => {
  const { ops, entries, samples, w1 } = history();
  const reuse = op('WITHDRAWAL', 61, [committed(80, 90, 'T6')], 'committed', {
    reuseOf: w1.id,
    key: w1.key,
  });
  expect(broken(verify([...ops, reuse], samples, states(entries)))).toContain(INVARIANTS.reused);
});
