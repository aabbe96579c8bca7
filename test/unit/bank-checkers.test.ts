/**
 * The bank run's checkers can fail: each is fed a small hand-made history that breaks exactly
 * one invariant, and must report exactly that invariant and nothing else; a clean history must
 * report nothing. No stack, no network: the checkers are judged on what they are given.
 */
import type { LedgerEntry, MovementType as EntryType } from '../../lib/domain/types';
import { accountKey, markerKey, statementLineKey } from '../../lib/persistence/keys';
import { auditOne } from '../../lib/audit/account-audit';
import {
  HOLDS,
  NON_NEGATIVE,
  balanceReadViolations,
  type BalanceSample,
} from '../reliability/bank/clients';
import {
  entryTypeOf,
  settle,
  successStatusOf,
  type Attempt,
  type BankAccount,
  type Operation,
  type OperationType,
  type Owner,
  type PayoutDestination,
  type Violation,
} from '../reliability/bank/model';
import {
  SETTLEMENT_INVARIANTS,
  verifySettlement,
  type GatewayRecord,
  type Settlement,
} from '../reliability/bank/payouts';
import { historyAround } from '../reliability/bank/history';
import { INVARIANTS, verify, type AccountState } from '../reliability/bank/verify';
import {
  LIMIT_INVARIANTS,
  outgoingByDay,
  verifyLimits,
  type LimitsEvidence,
} from '../reliability/bank/limits';
import type { DailyLimits } from '../../lib/domain/limits';
import type { LimitRefusal } from '../../lib/wire/types';

// ---- fixtures ------------------------------------------------------------------------------

const account = (label: string, owner: Owner = 'alice'): BankAccount => ({
  accountId: `ACC-${label}`,
  owner,
  role: 'hot',
  label,
});
const A = account('A', 'alice');
const B = account('B', 'bob');
const SUCCEED: PayoutDestination = { name: 'gw-succeed', mode: 'succeed' };

/** How long every answer takes: an operation sent at t is answered at t + ANSWER_MS. */
const ANSWER_MS = 5;

/** A 201 (202 for a payout) carrying `transactionId`; `more` adds what the body carried. */
function committed(
  type: OperationType,
  transactionId: string,
  sentAt: number,
  more: Partial<Attempt> = {},
): Attempt {
  return {
    role: 'first',
    cls: 'committed',
    sentAt,
    endedAt: sentAt + ANSWER_MS,
    kind: 'response',
    status: successStatusOf(type),
    replayed: false,
    transactionId,
    type: entryTypeOf(type),
    createdAt: '2025-01-01T00:00:00.000Z',
    ...more,
  };
}

/** A recorded refusal (INSUFFICIENT_FUNDS and LIMIT_EXCEEDED are 409s, the others 422s). */
function refused(code: string, sentAt: number, more: Partial<Attempt> = {}): Attempt {
  return {
    role: 'first',
    cls: 'refused',
    sentAt,
    endedAt: sentAt + ANSWER_MS,
    kind: 'response',
    status: code === 'INSUFFICIENT_FUNDS' || code === 'LIMIT_EXCEEDED' ? 409 : 422,
    code,
    requestId: `req-${sentAt}`,
    replayed: false,
    ...more,
  };
}

interface OpSpec {
  id: number;
  account: BankAccount;
  type: OperationType;
  amount: number;
  /** When the first attempt is sent; default 10 × id, so operations follow each other. */
  at?: number;
  /** Refused with this code instead of committed. */
  refusedWith?: string;
  /** LIMIT_EXCEEDED: the refusal's `limit`. */
  limit?: LimitRefusal;
  /** What the account's fee schedule charges on top of the amount. */
  fee?: number;
  /** What the 201 carried besides the transaction (balance, balanceAfter, sequence, ...). */
  answer?: Partial<Attempt>;
  /** Attempts after the first (replays), in order. */
  later?: Attempt[];
  toAccount?: BankAccount;
  destination?: PayoutDestination;
  phase?: string;
}

/**
 * An operation of the run as the clients record it: key `<label>-<id>`, transactionId `TX-<id>`
 * when committed, its outcome settled from its attempts by the run's own `settle`.
 */
function op(spec: OpSpec): Operation {
  const at = spec.at ?? spec.id * 10;
  const first =
    spec.refusedWith === undefined
      ? committed(spec.type, `TX-${spec.id}`, at, { amount: spec.amount, ...spec.answer })
      : refused(spec.refusedWith, at, spec.limit ? { limit: spec.limit } : {});
  const operation: Operation = {
    id: spec.id,
    client: 1,
    account: spec.account,
    type: spec.type,
    amount: spec.amount,
    key: `${spec.account.label}-${spec.id}`,
    ...(spec.fee ? { fee: spec.fee } : {}),
    toAccount: spec.toAccount,
    destination: spec.destination,
    phase: spec.phase ?? 'traffic',
    attempts: [first, ...(spec.later ?? [])],
    outcome: 'unresolved',
    firstSentAt: at,
  };
  settle(operation);
  return operation;
}

/** The opening deposit of an account (phase `setup`, as the run makes it). */
const opening = (id: number, owner: BankAccount, amount: number): Operation =>
  op({ id, account: owner, type: 'DEPOSIT', amount, phase: 'setup' });

/**
 * A POSTED ledger entry of `owner`, not yet placed (sequence and balanceAfter null): `chain`
 * places a statement's entries.
 */
function entry(
  owner: BankAccount,
  type: EntryType,
  amount: number,
  ids: { key: string; transactionId: string },
  more: Partial<LedgerEntry> = {},
): LedgerEntry {
  return {
    transactionId: ids.transactionId,
    accountId: owner.accountId,
    type,
    amount,
    currency: 'USD',
    balanceAfter: null,
    sequence: null,
    idempotencyKey: ids.key,
    createdAt: '2025-01-01T00:00:00.000Z',
    status: 'POSTED',
    ...more,
  };
}

/** The entry an operation wrote on its own account (its TRANSFER_OUT for a transfer). */
function entryOf(operation: Operation, more: Partial<LedgerEntry> = {}): LedgerEntry {
  return entry(
    operation.account,
    entryTypeOf(operation.type) as EntryType,
    operation.amount,
    { key: operation.key, transactionId: operation.transactionId ?? `TX-${operation.id}` },
    {
      counterpartyAccountId: operation.toAccount?.accountId,
      destination: operation.destination?.name,
      ...more,
    },
  );
}

/** A transfer's credit in its destination: same transactionId, the source as counterparty. */
function creditOf(transfer: Operation, more: Partial<LedgerEntry> = {}): LedgerEntry {
  if (transfer.toAccount === undefined) throw new Error('not a transfer');
  return entry(
    transfer.toAccount,
    'TRANSFER_IN',
    transfer.amount,
    { key: transfer.key, transactionId: transfer.transactionId ?? `TX-${transfer.id}` },
    { counterpartyAccountId: transfer.account.accountId, ...more },
  );
}

/** An account's statement in commit order: numbered 1..n, each balanceAfter chained. */
function chain(...entries: LedgerEntry[]): LedgerEntry[] {
  let balance = 0;
  return entries.map((e, index) => {
    if (e.status === 'POSTED')
      balance +=
        e.type === 'DEPOSIT' || e.type === 'TRANSFER_IN' ? e.amount : -(e.amount + (e.fee ?? 0));
    return { ...e, sequence: index + 1, balanceAfter: balance };
  });
}

/**
 * The account at the end of the run as the API answers it: every entry newest first (by
 * sequence), the balance the last line's unless given, nothing held.
 */
function stateOf(owner: BankAccount, lines: LedgerEntry[], balance?: number): AccountState {
  const entries = [...lines].sort((a, b) => (b.sequence ?? 0) - (a.sequence ?? 0));
  const end = balance ?? entries[0]?.balanceAfter ?? 0;
  return { account: owner, balance: end, available: end, pending: 0, entries };
}

/** A GET balance read by the sampler, sent at `sentAt`. */
function sample(
  owner: BankAccount,
  sentAt: number,
  read: { balance: number; available?: number; pending?: number },
): BalanceSample {
  const pending = read.pending ?? 0;
  return {
    accountId: owner.accountId,
    sentAt,
    endedAt: sentAt + 2,
    balance: read.balance,
    pending,
    available: read.available ?? read.balance - pending,
  };
}

/** Every payout of the run as polled at the end, each POSTED or VOIDED (none left). */
function settlementOf(...payouts: Array<[Operation, 'POSTED' | 'VOIDED']>): Settlement {
  return {
    payouts: payouts.map(([p, status]) => ({
      op: p,
      transactionId: p.transactionId ?? '',
      status,
      amount: p.amount,
      destination: p.destination?.name,
      attempts: 1,
      voidReason: null,
    })),
    left: [],
    notCommitted: 0,
    waitedMs: 0,
  };
}

/** The gateway's record of a payout: sent once, SUCCEEDED, unless told otherwise. */
function gatewayRecordOf(payout: Operation, more: Partial<GatewayRecord> = {}): GatewayRecord {
  return {
    idempotencyKey: payout.transactionId ?? '',
    amount: payout.amount,
    destination: payout.destination?.name ?? null,
    status: 'SUCCEEDED',
    requests: 1,
    executions: 1,
    ...more,
  };
}

/** What a 201 carries once its line is placed: the balance, which is its own balanceAfter. */
const placedAt = (balance: number, sequence: number): Partial<Attempt> => ({
  balance,
  available: balance,
  pending: 0,
  balanceAfter: balance,
  sequence,
});

const invariantsOf = (result: { violations: Violation[] }): Set<string> =>
  new Set(result.violations.map((v) => v.invariant));

/** The table's items for one account read at rest: its item, statement lines and markers. */
function tableOf(owner: BankAccount, lines: LedgerEntry[]) {
  const last = [...lines].sort((a, b) => (b.sequence ?? 0) - (a.sequence ?? 0))[0];
  const balance = last?.balanceAfter ?? 0;
  const item = {
    ...accountKey(owner.accountId),
    accountId: owner.accountId,
    ownerId: `user-${owner.owner}`,
    currency: 'USD',
    balance,
    available: balance,
    pending: 0,
    version: lines.length,
  };
  const rows = lines.map((line) => ({
    ...statementLineKey(owner.accountId, line.sequence ?? 0),
    ...line,
  }));
  // One marker per key (the first line that moved money under it), as the service writes it.
  const markers = new Map<string, Record<string, unknown>>();
  for (const line of [...lines].sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0))) {
    if (markers.has(line.idempotencyKey)) continue;
    markers.set(line.idempotencyKey, {
      ...markerKey(owner.accountId, line.idempotencyKey),
      accountId: owner.accountId,
      idempotencyKey: line.idempotencyKey,
      outcome: 'COMMITTED',
      transactionId: line.transactionId,
      type: line.type,
      amount: line.amount,
      sequence: line.sequence,
      balanceAfter: line.balanceAfter,
    });
  }
  return { item, rows, markers: [...markers.values()] };
}

// ---- a clean history -------------------------------------------------------------------------

/**
 * Two hot accounts: opening deposits, a withdrawal, a transfer A → B, a payout from A sent once
 * by the gateway, a withdrawal refused for want of funds, and balance reads; every answer
 * carries the balance, balanceAfter and sequence the ledger has.
 */
function cleanHistory() {
  const openA = op({
    id: 1,
    account: A,
    type: 'DEPOSIT',
    amount: 1000,
    phase: 'setup',
    answer: placedAt(1000, 1),
  });
  const openB = op({
    id: 2,
    account: B,
    type: 'DEPOSIT',
    amount: 500,
    phase: 'setup',
    answer: placedAt(500, 1),
  });
  // Answered at 35, and replayed at 37 with the same body, flagged as a replay.
  const withdrawal = op({
    id: 3,
    account: A,
    type: 'WITHDRAWAL',
    amount: 300,
    answer: placedAt(700, 2),
    later: [
      committed('WITHDRAWAL', 'TX-3', 37, {
        role: 'replay',
        replayed: true,
        amount: 300,
        ...placedAt(700, 2),
      }),
    ],
  });
  const transfer = op({
    id: 4,
    account: A,
    type: 'TRANSFER',
    amount: 200,
    toAccount: B,
    answer: placedAt(500, 3),
  });
  // The payout's 202 comes from the hold (balance 500, 100 held); its line comes later.
  const payout = op({
    id: 5,
    account: A,
    type: 'PAYOUT',
    amount: 100,
    destination: SUCCEED,
    answer: {
      balance: 500,
      available: 400,
      pending: 100,
      balanceAfter: null,
      sequence: null,
      payoutStatus: 'PENDING',
    },
  });
  const tooMuch = op({
    id: 6,
    account: A,
    type: 'WITHDRAWAL',
    amount: 5000,
    refusedWith: 'INSUFFICIENT_FUNDS',
  });
  const linesA = chain(entryOf(openA), entryOf(withdrawal), entryOf(transfer), entryOf(payout));
  const linesB = chain(entryOf(openB), creditOf(transfer));
  return {
    ops: [openA, openB, withdrawal, transfer, payout, tooMuch],
    samples: [sample(A, 70, { balance: 400 }), sample(B, 72, { balance: 700 })],
    states: [stateOf(A, linesA), stateOf(B, linesB)],
    settlement: settlementOf([payout, 'POSTED']),
    gateway: [gatewayRecordOf(payout)],
    linesA,
  };
}

// ---- verify (test/reliability/bank/verify.ts) ---------------------------------------------

/** A opened with 1000 (operation 1), then a committed withdrawal of 300 (operation 2). */
function depositThenWithdrawal() {
  return {
    deposit: opening(1, A, 1000),
    withdrawal: op({ id: 2, account: A, type: 'WITHDRAWAL', amount: 300 }),
  };
}

/** A and B opened with 1000 and 500, and a TRANSFER_IN of 200 into B that no transfer sent. */
function ghostTransferIn() {
  const openA = opening(1, A, 1000);
  const openB = opening(2, B, 500);
  const ghost = entry(
    B,
    'TRANSFER_IN',
    200,
    { key: 'A-99', transactionId: 'TX-ghost' },
    { counterpartyAccountId: A.accountId },
  );
  const states = [stateOf(A, chain(entryOf(openA))), stateOf(B, chain(entryOf(openB), ghost))];
  return { openA, openB, states };
}

describe('verify: the run’s history against the ledger', () => {
  it('reports nothing for a clean history, having checked every invariant it involves', () => {
    const h = cleanHistory();

    const result = verify(h.ops, h.samples, h.states);

    expect(result.violations).toEqual([]);
    for (const invariant of [
      INVARIANTS.resolved,
      INVARIANTS.replay,
      INVARIANTS.replayFlag,
      INVARIANTS.reused,
      INVARIANTS.nonNegative,
      INVARIANTS.holds,
      INVARIANTS.chain,
      INVARIANTS.exactlyOnce,
      INVARIANTS.nothingElse,
      INVARIANTS.transferOnce,
      INVARIANTS.funds,
      INVARIANTS.exact,
      INVARIANTS.fresh,
      INVARIANTS.fees,
    ]) {
      expect({ invariant, checked: (result.checks[invariant] ?? 0) > 0 }).toEqual({
        invariant,
        checked: true,
      });
    }
  });

  it('reports a withdrawal acknowledged once but in the ledger twice as a double debit (exactly once)', () => {
    const { deposit, withdrawal } = depositThenWithdrawal();
    const lines = chain(
      entryOf(deposit),
      entryOf(withdrawal),
      entryOf(withdrawal, { transactionId: 'TX-2-again' }),
    );

    const result = verify([deposit, withdrawal], [], [stateOf(A, lines)]);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.exactlyOnce]));
    expect(result.violations.map((v) => v.key)).toEqual(['A-2', 'A-2']);
    expect(result.violations[0]?.detail).toContain('2 ledger entries carry its key');
  });

  it('reports an acknowledged withdrawal missing from the ledger (exactly once)', () => {
    const { deposit, withdrawal } = depositThenWithdrawal();

    const result = verify([deposit, withdrawal], [], [stateOf(A, chain(entryOf(deposit)))]);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.exactlyOnce]));
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]?.detail).toContain('0 ledger entries carry its key');
  });

  it('reports a balance read whose available is below zero, its balance a state of the ledger (non-negative)', () => {
    const { deposit, withdrawal } = depositThenWithdrawal();
    const lines = chain(entryOf(deposit), entryOf(withdrawal));
    // 800 held on 700: available −100, and available = balance − pending still holds.
    const read = sample(A, 30, { balance: 700, pending: 800, available: -100 });

    const result = verify([deposit, withdrawal], [read], [stateOf(A, lines)]);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.nonNegative]));
    expect(result.violations).toHaveLength(1);
  });

  it('reports a withdrawal that took the ledger below zero as non-negative, and as the chain (its helper flags a line below zero too)', () => {
    const deposit = opening(1, A, 1000);
    const overdraft = op({ id: 2, account: A, type: 'WITHDRAWAL', amount: 1300 });
    const lines = chain(entryOf(deposit), entryOf(overdraft));
    expect(lines[1]?.balanceAfter).toBe(-300);

    const result = verify([deposit, overdraft], [], [stateOf(A, lines)]);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.nonNegative, INVARIANTS.chain]));
    expect(result.violations.find((v) => v.invariant === INVARIANTS.chain)?.detail).toContain(
      'below zero',
    );
  });

  it.each([
    [
      'another transactionId',
      committed('WITHDRAWAL', 'TX-other', 20, { role: 'replay', replayed: true, amount: 300 }),
    ],
    [
      'another status (a refusal after the 201)',
      refused('INSUFFICIENT_FUNDS', 20, { role: 'replay', replayed: true }),
    ],
  ])('reports a replay of an acknowledged withdrawal answered with %s (replay)', (_, replay) => {
    const deposit = opening(1, A, 1000);
    const withdrawal = op({ id: 2, account: A, type: 'WITHDRAWAL', amount: 300, later: [replay] });
    const lines = chain(entryOf(deposit), entryOf(withdrawal));

    const result = verify([deposit, withdrawal], [], [stateOf(A, lines)]);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.replay]));
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]?.key).toBe('A-2');
  });

  it('reports two statement lines whose sequences are swapped against their balanceAfter chain (chain)', () => {
    const { deposit, withdrawal } = depositThenWithdrawal();
    const topUp = op({ id: 3, account: A, type: 'DEPOSIT', amount: 500 });
    const [first, second, third] = chain(entryOf(deposit), entryOf(withdrawal), entryOf(topUp));
    if (first === undefined || second === undefined || third === undefined) throw new Error();
    // Sequence 2 is now the deposit (balanceAfter 1200), sequence 3 the withdrawal (700).
    const lines = [first, { ...second, sequence: 3 }, { ...third, sequence: 2 }];

    const result = verify([deposit, withdrawal, topUp], [], [stateOf(A, lines, 1200)]);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.chain]));
    expect(result.violations.map((v) => v.detail)).toEqual([
      'sequence 2: balanceAfter 1200, chained 1500',
      'sequence 3: balanceAfter 700, chained 1200',
    ]);
  });

  it('reports a TRANSFER_IN larger than its TRANSFER_OUT (transfer moves money once)', () => {
    const openA = opening(1, A, 1000);
    const openB = opening(2, B, 500);
    const transfer = op({ id: 3, account: A, type: 'TRANSFER', amount: 200, toAccount: B });
    const states = [
      stateOf(A, chain(entryOf(openA), entryOf(transfer))),
      stateOf(B, chain(entryOf(openB), creditOf(transfer, { amount: 250 }))),
    ];

    const result = verify([openA, openB, transfer], [], states);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.transferOnce]));
    // Both sides see it: the source's TRANSFER_OUT, and the destination's TRANSFER_IN.
    expect(result.violations.map((v) => v.accountId).sort()).toEqual([A.accountId, B.accountId]);
  });

  it('reports a TRANSFER_IN that no client’s transfer has, with no TRANSFER_OUT anywhere (transfer moves money once)', () => {
    const { openA, openB, states } = ghostTransferIn();

    const result = verify([openA, openB], [], states);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.transferOnce]));
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]?.detail).toContain("no client's transfer has that transaction");
  });

  it('reports an acknowledged transfer whose TRANSFER_OUT is missing as exactly once (its credit alone is a well-formed side)', () => {
    const openA = opening(1, A, 1000);
    const openB = opening(2, B, 500);
    const transfer = op({ id: 3, account: A, type: 'TRANSFER', amount: 200, toAccount: B });
    const states = [
      stateOf(A, chain(entryOf(openA))),
      stateOf(B, chain(entryOf(openB), creditOf(transfer))),
    ];

    const result = verify([openA, openB, transfer], [], states);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.exactlyOnce]));
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]?.key).toBe('A-3');
  });

  it('reports a deposit refused (BALANCE_LIMIT_EXCEEDED) whose movement is in the ledger anyway (nothing unacknowledged)', () => {
    const deposit = opening(1, A, 1000);
    const refusedDeposit = op({
      id: 2,
      account: A,
      type: 'DEPOSIT',
      amount: 500,
      refusedWith: 'BALANCE_LIMIT_EXCEEDED',
    });
    const lines = chain(entryOf(deposit), entryOf(refusedDeposit));

    const result = verify([deposit, refusedDeposit], [], [stateOf(A, lines)]);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.nothingElse]));
    expect(result.violations).toHaveLength(1);
  });

  it('reports INSUFFICIENT_FUNDS for a withdrawal of 300 from an account holding 1000 all along (funds)', () => {
    const deposit = opening(1, A, 1000);
    const withdrawal = op({
      id: 2,
      account: A,
      type: 'WITHDRAWAL',
      amount: 300,
      refusedWith: 'INSUFFICIENT_FUNDS',
    });

    const result = verify([deposit, withdrawal], [], [stateOf(A, chain(entryOf(deposit)))]);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.funds]));
    expect(result.violations).toHaveLength(1);
  });

  it('reports a withdrawal charged another fee than its account’s schedule sets (fees)', () => {
    const deposit = opening(1, A, 1000);
    const withdrawal = op({
      id: 2,
      account: A,
      type: 'WITHDRAWAL',
      amount: 300,
      answer: { fee: 5 },
    });
    withdrawal.fee = 5; // what the schedule charges on 300
    const lines = chain(entryOf(deposit), entryOf(withdrawal, { fee: 7 }));

    const result = verify([deposit, withdrawal], [], [stateOf(A, lines)]);

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.fees]));
    expect(result.violations[0]?.detail).toBe(
      'WITHDRAWAL 300 should cost a fee of 5: its entry says 7, its answers 5',
    );
  });

  it('reports a balance read after an acknowledged withdrawal that still shows the balance before it (no stale read)', () => {
    const { deposit, withdrawal } = depositThenWithdrawal();
    const lines = chain(entryOf(deposit), entryOf(withdrawal));

    const result = verify(
      [deposit, withdrawal],
      [sample(A, 30, { balance: 1000 })],
      [stateOf(A, lines)],
    );

    expect(invariantsOf(result)).toEqual(new Set([INVARIANTS.fresh]));
    expect(result.violations).toHaveLength(1);
  });
});

// ---- withdrawal limits (test/reliability/bank/limits.ts) -----------------------------------

const DAY = '2025-01-01';
const LIMITS: DailyLimits = { daily: 1000, perMovement: 400, timezone: 'UTC' };
/** The run's clock (performance.now()) as the wall clock: operation times fall on DAY. */
const wallOf = (t: number): number => Date.parse(`${DAY}T00:00:00.000Z`) + t;

/**
 * A, limited to 1000 a day and 400 a movement: opened with 2000, then a withdrawal of 300 (fee
 * 10), a transfer of 200 to B, a payout of 100 posted and one of 150 voided; a withdrawal of 500
 * refused per movement, one of 350 refused for the day (760 used, 240 left), and the withdrawal
 * reversed in part (100) the same day. What left A that day: 310 + 200 + 100 − 100 = 510.
 */
function limitedHistory(over: { usedToday?: number; counters?: Map<string, number> } = {}) {
  const openA = opening(1, A, 2000);
  const withdrawal = op({ id: 2, account: A, type: 'WITHDRAWAL', amount: 300, fee: 10 });
  const transfer = op({ id: 3, account: A, type: 'TRANSFER', amount: 200, toAccount: B });
  const posted = op({ id: 4, account: A, type: 'PAYOUT', amount: 100, destination: SUCCEED });
  const voided = op({ id: 5, account: A, type: 'PAYOUT', amount: 150, destination: SUCCEED });
  const perMovement = op({
    id: 6,
    account: A,
    type: 'WITHDRAWAL',
    amount: 500,
    refusedWith: 'LIMIT_EXCEEDED',
    limit: { kind: 'perMovement', limit: 400, used: 760, remaining: 240 },
  });
  const daily = op({
    id: 7,
    account: A,
    type: 'WITHDRAWAL',
    amount: 350,
    refusedWith: 'LIMIT_EXCEEDED',
    limit: { kind: 'daily', limit: 1000, used: 760, remaining: 240 },
  });
  const reversal = entry(
    A,
    'REVERSAL_IN',
    100,
    { key: 'reverse-2', transactionId: 'TX-reversal' },
    { reversalOf: 'TX-2', createdAt: `${DAY}T00:00:05.000Z` },
  );
  const linesA = chain(
    entryOf(openA),
    entryOf(withdrawal, { fee: 10 }),
    entryOf(transfer),
    entryOf(posted),
    entryOf(voided, { status: 'VOIDED' }),
    reversal,
  );
  const ops = [openA, withdrawal, transfer, posted, voided, perMovement, daily];
  const read = (used: number) => ({ ...LIMITS, day: DAY, usedToday: used });
  const evidence: LimitsEvidence[] = [
    {
      account: A,
      entries: linesA,
      read: read(over.usedToday ?? 510),
      counters: over.counters ?? new Map([[DAY, 510]]),
    },
    {
      account: B,
      entries: chain(creditOf(transfer)),
      read: { daily: 1e12, perMovement: 1e12, timezone: 'UTC', day: DAY, usedToday: 0 },
      counters: new Map(),
    },
  ];
  return { ops, evidence, linesA, model: new Map([[A.accountId, LIMITS]]) };
}

const limitsOf = (
  ops: Operation[],
  evidence: LimitsEvidence[],
  model: Map<string, DailyLimits> = new Map([[A.accountId, LIMITS]]),
) => verifyLimits(ops, evidence, model, wallOf);

describe('verifyLimits: no day’s outgoing total above its limit, LIMIT_EXCEEDED only when reached', () => {
  it('reports nothing for a clean history, having checked both invariants', () => {
    const h = limitedHistory();

    const result = limitsOf(h.ops, h.evidence);

    expect(result.violations).toEqual([]);
    expect(result.checks[LIMIT_INVARIANTS.within]).toBeGreaterThan(5);
    expect(result.checks[LIMIT_INVARIANTS.refused]).toBe(2);
    expect(result.refused).toEqual({ daily: 1, perMovement: 1 });
    expect(result.givenBack).toBe(100);
    expect(result.accounts).toEqual([
      expect.objectContaining({ label: 'A', byDay: { [DAY]: 510 }, usedToday: 510 }),
    ]);
  });

  it('reports a day whose outgoing total passed the daily limit, each movement within its own', () => {
    // Two more withdrawals of 300 (each within 400) take the day to 1110, and the counter with it.
    const h = limitedHistory({ usedToday: 1110, counters: new Map([[DAY, 1110]]) });
    const more = [8, 9].map((id) => op({ id, account: A, type: 'WITHDRAWAL', amount: 300 }));
    const [limited, other] = h.evidence;
    if (limited === undefined || other === undefined) throw new Error();
    const entries = chain(...h.linesA, ...more.map((m) => entryOf(m)));

    const result = limitsOf([...h.ops, ...more], [{ ...limited, entries }, other]);

    expect(invariantsOf(result)).toEqual(new Set([LIMIT_INVARIANTS.within]));
    expect(result.violations.map((v) => v.detail)).toEqual([
      '1110 left the account on 2025-01-01 (UTC), the daily limit is 1000',
    ]);
  });

  it('reports a movement that took more than the per-movement limit', () => {
    const h = limitedHistory({ usedToday: 911, counters: new Map([[DAY, 911]]) });
    const big = op({ id: 8, account: A, type: 'TRANSFER', amount: 400, toAccount: B });
    const [limited, other] = h.evidence;
    if (limited === undefined || other === undefined) throw new Error();
    // 400 is the limit itself: allowed; with a fee of 1 it is not.
    const entries = chain(...h.linesA, entryOf(big, { fee: 1 }));

    const result = limitsOf([...h.ops, big], [{ ...limited, entries }, other]);

    expect(invariantsOf(result)).toEqual(new Set([LIMIT_INVARIANTS.within]));
    expect(result.violations.map((v) => v.detail)).toEqual([
      'TRANSFER_OUT TX-8 took 401 (fee 1), the per-movement limit is 400',
    ]);
  });

  it('reports a counter that does not hold what left the account (a void that gave nothing back)', () => {
    const h = limitedHistory({ usedToday: 660, counters: new Map([[DAY, 660]]) });

    const result = limitsOf(h.ops, h.evidence);

    expect(invariantsOf(result)).toEqual(new Set([LIMIT_INVARIANTS.within]));
    expect(result.violations.map((v) => v.detail)).toEqual([
      'GET limits answers usedToday 660 on 2025-01-01; the statement says 510 left the account that day',
      'the counter of 2025-01-01 holds 660; the statement says 510 left the account that day',
    ]);
  });

  it('reports limits the service answers other than the operator set', () => {
    const h = limitedHistory();
    const [limited, other] = h.evidence;
    if (limited === undefined || other === undefined) throw new Error();

    const result = limitsOf(h.ops, [{ ...limited, read: { ...limited.read, daily: 2000 } }, other]);

    expect(invariantsOf(result)).toEqual(new Set([LIMIT_INVARIANTS.within]));
    expect(result.violations[0]?.detail).toMatch(/^GET limits answers daily 2000, .* set 1000/);
  });

  it.each([
    [
      'a daily refusal that says more was used than could have been',
      { kind: 'daily', limit: 1000, used: 900, remaining: 100 },
      /at most 760 could have left the account that day/,
    ],
    [
      'a per-movement refusal of an amount within the limit',
      { kind: 'perMovement', limit: 400, used: 760, remaining: 240 },
      /the per-movement limit in force is 400/,
    ],
    [
      'a refusal naming another limit than the one in force',
      { kind: 'daily', limit: 500, used: 760, remaining: 0 },
      /the daily limit in force is 1000/,
    ],
  ] as Array<[string, LimitRefusal, RegExp]>)('reports %s', (_, limit, why) => {
    const h = limitedHistory();
    const small = op({
      id: 8,
      account: A,
      type: 'WITHDRAWAL',
      amount: 150,
      refusedWith: 'LIMIT_EXCEEDED',
      limit,
    });

    const result = limitsOf([...h.ops, small], h.evidence);

    expect(invariantsOf(result)).toEqual(new Set([LIMIT_INVARIANTS.refused]));
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]).toMatchObject({
      operation: 8,
      detail: expect.stringMatching(why),
    });
  });

  it('reports a daily refusal before anything had left the account that day', () => {
    const openA = opening(1, A, 2000);
    const early = op({
      id: 2,
      account: A,
      type: 'WITHDRAWAL',
      amount: 350,
      refusedWith: 'LIMIT_EXCEEDED',
      limit: { kind: 'daily', limit: 1000, used: 700, remaining: 300 },
    });
    const evidence: LimitsEvidence[] = [
      {
        account: A,
        entries: chain(entryOf(openA)),
        read: { ...LIMITS, day: DAY, usedToday: 0 },
        counters: new Map(),
      },
    ];

    const result = limitsOf([openA, early], evidence);

    expect(invariantsOf(result)).toEqual(new Set([LIMIT_INVARIANTS.refused]));
    expect(result.violations[0]?.detail).toContain('at most 0 could have left the account');
  });

  it('counts each movement in its own day in the account’s timezone, and a reversal only the same day', () => {
    const at = (iso: string) => ({ createdAt: iso });
    const ids = (n: number) => ({ key: `k-${n}`, transactionId: `T-${n}` });
    const lines = [
      entry(A, 'WITHDRAWAL', 100, ids(1), at('2025-01-01T18:00:00.000Z')), // Kolkata: Jan 1, 23:30
      entry(A, 'WITHDRAWAL', 200, ids(2), at('2025-01-01T18:31:00.000Z')), // Kolkata: Jan 2
      entry(A, 'PAYOUT', 50, ids(3), { ...at('2025-01-01T19:00:00.000Z'), fee: 5 }),
      entry(A, 'PAYOUT', 70, ids(4), { ...at('2025-01-01T19:00:00.000Z'), status: 'VOIDED' }),
      entry(A, 'DEPOSIT', 1000, ids(5), at('2025-01-01T19:00:00.000Z')),
      // Reversals: of T-1 the next day (gives nothing back), of T-2 the same day (gives 60 back).
      entry(A, 'REVERSAL_IN', 40, ids(6), { ...at('2025-01-02T19:00:00.000Z'), reversalOf: 'T-1' }),
      entry(A, 'REVERSAL_IN', 60, ids(7), { ...at('2025-01-02T10:00:00.000Z'), reversalOf: 'T-2' }),
    ];

    expect(Object.fromEntries(outgoingByDay(lines, 'Asia/Kolkata'))).toEqual({
      '2025-01-01': 100,
      '2025-01-02': 200 + 55 - 60,
    });
    expect(Object.fromEntries(outgoingByDay(lines, 'UTC'))).toEqual({ '2025-01-01': 355 });
  });
});

// ---- the sampler's inline checks (test/reliability/bank/clients.ts) ----------------------

describe('balanceReadViolations: the sampler’s checks of one GET balance answer', () => {
  it('reports nothing for a read whose holds add up', () => {
    expect(
      balanceReadViolations(A.accountId, { balance: 700, available: 600, pending: 100 }),
    ).toEqual([]);
  });

  it('reports a balance read below zero (non-negative)', () => {
    const violations = balanceReadViolations(A.accountId, {
      balance: -50,
      available: -50,
      pending: 0,
    });

    expect(invariantsOf({ violations })).toEqual(new Set([NON_NEGATIVE]));
    expect(violations.map((v) => v.detail)).toEqual([
      'GET balance answered balance -50',
      'GET balance answered available -50',
    ]);
  });

  it('reports a read whose available is not balance − pending (holds)', () => {
    const violations = balanceReadViolations(A.accountId, {
      balance: 700,
      available: 700,
      pending: 100,
    });

    expect(invariantsOf({ violations })).toEqual(new Set([HOLDS]));
  });
});

// ---- payouts and money (test/reliability/bank/payouts.ts) -------------------------------

describe('verifySettlement: payouts against the gateway, and money conserved', () => {
  it('reports nothing for a clean history, having checked every invariant it involves', () => {
    const h = cleanHistory();

    const result = verifySettlement(h.ops, h.states, h.settlement, h.gateway);

    expect(result.violations).toEqual([]);
    for (const invariant of Object.values(SETTLEMENT_INVARIANTS)) {
      expect({ invariant, checked: (result.checks[invariant] ?? 0) > 0 }).toEqual({
        invariant,
        checked: true,
      });
    }
    expect(result.totals).toMatchObject({ expected: 1100, balances: 1100 });
  });

  it('reports a payout the gateway executed twice (POSTED exactly when sent, never sent twice)', () => {
    const deposit = opening(1, A, 1000);
    const payout = op({ id: 2, account: A, type: 'PAYOUT', amount: 300, destination: SUCCEED });
    const states = [stateOf(A, chain(entryOf(deposit), entryOf(payout)))];

    const result = verifySettlement([deposit, payout], states, settlementOf([payout, 'POSTED']), [
      gatewayRecordOf(payout, { requests: 2, executions: 2 }),
    ]);

    expect(invariantsOf(result)).toEqual(new Set([SETTLEMENT_INVARIANTS.gateway]));
    // POSTED though not sent exactly once, and executed more than once: both are reported.
    expect(result.violations.map((v) => [v.key, v.detail])).toEqual([
      ['A-2', expect.stringContaining('TX-2 is POSTED')],
      ['A-2', expect.stringContaining('executions 2; the payout: 300')],
    ]);
  });

  it('reports the money a TRANSFER_IN larger than its TRANSFER_OUT created (conservation)', () => {
    const openA = opening(1, A, 1000);
    const openB = opening(2, B, 500);
    const transfer = op({ id: 3, account: A, type: 'TRANSFER', amount: 200, toAccount: B });
    const states = [
      stateOf(A, chain(entryOf(openA), entryOf(transfer))),
      stateOf(B, chain(entryOf(openB), creditOf(transfer, { amount: 250 }))),
    ];

    const result = verifySettlement([openA, openB, transfer], states, settlementOf(), []);

    expect(invariantsOf(result)).toEqual(new Set([SETTLEMENT_INVARIANTS.conserved]));
    expect(result.violations).toHaveLength(1);
    expect(result.totals).toMatchObject({ expected: 1500, balances: 1550 });
  });

  it('reports the money a TRANSFER_IN without any TRANSFER_OUT created (conservation)', () => {
    const { openA, openB, states } = ghostTransferIn();

    const result = verifySettlement([openA, openB], states, settlementOf(), []);

    expect(invariantsOf(result)).toEqual(new Set([SETTLEMENT_INVARIANTS.conserved]));
    expect(result.totals).toMatchObject({ expected: 1500, balances: 1700 });
  });
});

// ---- the table audit (lib/audit/ledger-audit.ts) --------------------------------------------

describe('auditOne: one account as the table holds it', () => {
  it('finds no problem in a clean statement', () => {
    const { linesA } = cleanHistory();
    const table = tableOf(A, linesA);

    expect(auditOne(table.item, table.rows, [], table.markers).problems).toEqual([]);
  });

  it('reports a statement whose third line has sequence 4 (numbered 1..n without gap or repeat)', () => {
    const { linesA } = cleanHistory();
    const [first, second, third] = linesA;
    if (first === undefined || second === undefined || third === undefined) throw new Error();
    const table = tableOf(A, [first, second, { ...third, sequence: 4 }]);

    expect(auditOne(table.item, table.rows, [], table.markers).problems).toEqual([
      'statement line 3 has sequence 4 (gap or repeat)',
    ]);
  });

  it('reports an idempotency key that moved money twice (no key moves money twice)', () => {
    const { deposit, withdrawal } = depositThenWithdrawal();
    const table = tableOf(
      A,
      chain(
        entryOf(deposit),
        entryOf(withdrawal),
        entryOf(withdrawal, { transactionId: 'TX-2-again' }),
      ),
    );

    expect(auditOne(table.item, table.rows, [], table.markers).problems).toEqual([
      'idempotency key "A-2" moved money twice (TX-2, TX-2-again)',
    ]);
  });
});

describe('the history printed around a violation', () => {
  it('lists the operations on the violating account around it, in send order, marking the violating one', () => {
    const ops = [
      opening(1, A, 1000),
      opening(2, B, 1000),
      ...Array.from({ length: 12 }, (_, i) =>
        op({ id: 3 + i, account: A, type: 'WITHDRAWAL', amount: 10 + i }),
      ),
      op({ id: 15, account: B, type: 'TRANSFER', amount: 5, toAccount: A }),
    ];
    const lines = historyAround(
      ops,
      { invariant: INVARIANTS.exactlyOnce, detail: 'twice', accountId: A.accountId, operation: 9 },
      2,
    );

    expect(lines.map((line) => /#(\d+)/.exec(line)?.[1])).toEqual(['7', '8', '9', '10', '11']);
    expect(lines.filter((line) => line.startsWith('>'))).toEqual([
      expect.stringContaining('#9 client 1 WITHDRAWAL 16'),
    ]);
    expect(lines[2]).toContain('committed TX-9 [201]');
  });

  it('shows a transfer on the account that received it', () => {
    const ops = [
      opening(1, B, 100),
      op({ id: 2, account: B, type: 'TRANSFER', amount: 5, toAccount: A }),
    ];
    const lines = historyAround(ops, {
      invariant: INVARIANTS.transferOnce,
      detail: 'x',
      accountId: A.accountId,
    });
    expect(lines).toEqual([expect.stringContaining(`#2 client 1 TRANSFER 5 to ${A.accountId}`)]);
  });
});
