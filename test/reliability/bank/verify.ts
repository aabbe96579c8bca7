/**
 * The bank run's invariants, checked from the client-side model against each account's
 * ledger as the API returns it once the sequencer has placed every entry.
 *
 * Racing clients make "what was the balance when the service decided" a question of windows:
 * anything a client observed between sending and receiving saw one of the ledger's states
 * `L..U` (timeline.ts). Then:
 * - a balance read (GET balance, a 201's `balance`) must be one of balanceAfter(L..U), and for
 *   a 201 also at or after its own entry: anything else is a stale or invented balance;
 * - an INSUFFICIENT_FUNDS refusal of amount A (window: the operation's first send to its
 *   first refusal) is consistent only if some balanceAfter(L..U) < A. A violation means the
 *   funds were there at every point of the request's window.
 * On a dedicated account (one sequential client) the window is a single state and the same
 * checks are exact; the clients also check those inline against their own running balance.
 *
 * Transfers and payouts (hot accounts only):
 * - a transfer's TRANSFER_OUT is the source's entry under its key; its TRANSFER_IN in the
 *   destination carries the same transactionId (not the sender's key: the receiving side knows
 *   the transfer by id), so the destination's entries are matched to the transfers sent to it
 *   through the transactionId (answered, or found in the source's history), and both sides must
 *   exist exactly once;
 * - a payout's hold moves `available`, not the balance, and has no statement line: its line
 *   (POSTED or VOIDED) is written when the gateway answered, after the 202. So a payout never
 *   bounds a window from below (acknowledged ≠ placed), and INSUFFICIENT_FUNDS is judged on the
 *   least `available` each state may have had: its balance less every hold that may have been
 *   open then (a payout sent before the refusal came back, not yet resolved at that state).
 */
import type { LedgerEntry } from '../../../lib/wire/types';
import { chainProblems } from '../../support/ledger';
import { HOLDS, NON_NEGATIVE, type BalanceSample } from './clients';
import {
  entryTypeOf,
  isDefinitive,
  type Attempt,
  type BankAccount,
  type Operation,
  type Violation,
} from './model';
import { timelineOf, windowOf, type Placed, type Timeline } from './timeline';

export interface AccountState {
  account: BankAccount;
  balance: number;
  /** Every ledger entry, newest first, as GET /transactions pages them. */
  entries: LedgerEntry[];
  /** GET balance's `available` and `pending` at the end. */
  available?: number;
  pending?: number;
}

export interface VerifyResult {
  violations: Violation[];
  /** How many times each invariant was checked. */
  checks: Record<string, number>;
  /** Operations never answered definitively whose movement is in the ledger (it did commit). */
  unresolvedButCommitted: number;
}

export const INVARIANTS = {
  nonNegative: NON_NEGATIVE,
  holds: HOLDS,
  chain:
    'balance = sum of the ledger, and each balanceAfter chains from the previous one (by sequence)',
  exactlyOnce: 'every acknowledged movement is in the ledger exactly once',
  nothingElse: 'nothing unacknowledged is in the ledger (unless a retry confirmed it)',
  replay: 'a replay returns the first response (same status and transactionId / error code)',
  replayFlag: 'only a repeated request is flagged Idempotent-Replayed',
  reused: 'a reused key with another amount gets IDEMPOTENCY_KEY_REUSED',
  funds: 'INSUFFICIENT_FUNDS only when the funds were not there',
  fresh:
    'every balance answered is a state of the ledger within the request window (no stale read)',
  exact: 'balanceAfter and sequence in an answer are the ledger’s own',
  resolved: 'every operation gets a definitive answer',
  transferOnce:
    'a transfer key moves money once: one TRANSFER_OUT in the source, one TRANSFER_IN in the destination, same transactionId and amount',
  fees: 'every withdrawal and payout is charged the fee its account’s schedule sets, no other',
} as const;

// ---- the evidence: the run's history and the ledger, indexed once ------------------------------

/** One account's ledger with what the clients did to it. */
interface AccountEvidence {
  accountId: string;
  state: AccountState;
  entries: LedgerEntry[];
  /** Operations on the account that sent a key of their own (reused keys aside), in order. */
  originals: Operation[];
  originalByKey: Map<string, Operation>;
  /** Entries by idempotency key; a TRANSFER_IN is known by the transfer's id instead. */
  byKey: Map<string, LedgerEntry[]>;
  /** Transfers the clients sent to this account. */
  incoming: Operation[];
  /** An operation's entry's sequence, for those in the ledger. */
  seqOfOp: Map<number, number>;
  timeline: Timeline;
  /** Payouts that may have held funds: amount, first send, line sequence (Infinity: no line). */
  holds: Array<{ amount: number; sentAt: number; seq: number }>;
}

interface Evidence {
  ops: Operation[];
  samples: BalanceSample[];
  accounts: AccountEvidence[];
  byAccount: Map<string, AccountEvidence>;
  entriesOf: Map<string, LedgerEntry[]>;
  /** Each transfer by its transactionId: answered, or (never answered) its TRANSFER_OUT's. */
  transferByTx: Map<string, Operation>;
}

function groupBy<T>(items: T[], keyOf: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === undefined) continue;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

function transfersByTx(ops: Operation[], entriesOf: Map<string, LedgerEntry[]>) {
  const byTx = new Map<string, Operation>();
  for (const op of ops) {
    if (op.type !== 'TRANSFER' || op.reuseOf !== undefined) continue;
    const out = (entriesOf.get(op.account.accountId) ?? []).find(
      (e) => e.type === 'TRANSFER_OUT' && e.idempotencyKey === op.key,
    );
    const tx = op.outcome === 'committed' ? op.transactionId : out?.transactionId;
    if (tx !== undefined) byTx.set(tx, op);
  }
  return byTx;
}

function evidenceOf(ops: Operation[], samples: BalanceSample[], states: AccountState[]): Evidence {
  const opsByAccount = groupBy(ops, (op) => op.account.accountId);
  const incoming = groupBy(ops, (op) =>
    op.type === 'TRANSFER' ? op.toAccount?.accountId : undefined,
  );
  const entriesOf = new Map(states.map((st) => [st.account.accountId, st.entries]));
  const transferByTx = transfersByTx(ops, entriesOf);
  const accounts = states.map((state) => {
    const accountId = state.account.accountId;
    const accountOps = opsByAccount.get(accountId) ?? [];
    return accountEvidence(state, accountOps, incoming.get(accountId) ?? [], transferByTx);
  });
  const byAccount = new Map(accounts.map((a) => [a.accountId, a]));
  return { ops, samples, accounts, byAccount, entriesOf, transferByTx };
}

function accountEvidence(
  state: AccountState,
  accountOps: Operation[],
  incoming: Operation[],
  transferByTx: Map<string, Operation>,
): AccountEvidence {
  const accountId = state.account.accountId;
  const entries = state.entries;
  const byKey = groupBy(entries, (e) => (e.type === 'TRANSFER_IN' ? undefined : e.idempotencyKey));
  const originals = accountOps.filter((op) => op.reuseOf === undefined);
  const seqOfOp = new Map<number, number>();
  for (const op of originals) {
    const sequence = (byKey.get(op.key) ?? [])[0]?.sequence;
    const placed = op.outcome === 'committed' || op.outcome === 'unresolved';
    if (placed && sequence !== undefined && sequence !== null) seqOfOp.set(op.id, sequence);
  }
  // Transfers credited here place this account's states too (their TRANSFER_IN's sequence).
  const placed: Placed[] = accountOps
    .filter((op) => seqOfOp.has(op.id))
    .map((op) => ({ op, seq: seqOfOp.get(op.id) ?? 0 }));
  for (const entry of entries) {
    if (entry.type !== 'TRANSFER_IN' || entry.sequence === null) continue;
    const op = transferByTx.get(entry.transactionId);
    if (op?.toAccount?.accountId === accountId) placed.push({ op, seq: entry.sequence });
  }
  const holds = originals
    .filter((op) => op.type === 'PAYOUT' && ['committed', 'unresolved'].includes(op.outcome))
    .map((op) => ({
      amount: op.amount + (op.fee ?? 0),
      sentAt: op.firstSentAt,
      seq: (byKey.get(op.key) ?? [])[0]?.sequence ?? Infinity,
    }));
  return {
    accountId,
    state,
    entries,
    originals,
    originalByKey: new Map(originals.map((op) => [op.key, op])),
    byKey,
    incoming,
    seqOfOp,
    timeline: timelineOf(entries, placed),
    holds,
  };
}

// ---- the checkers: one per invariant -----------------------------------------------------------

interface Verdict {
  /** One check of the checker's invariant: a violation unless `ok`. */
  check(ok: boolean, violation: Omit<Violation, 'invariant'>): void;
  /** Checks made in bulk (every line of a chain). */
  count(checks: number): void;
}

type Checker = (evidence: Evidence, verdict: Verdict) => void;

const whereOf = (op: Operation) => ({
  accountId: op.account.accountId,
  operation: op.id,
  key: op.key,
});

function everyOperationResolved(e: Evidence, v: Verdict): void {
  for (const op of e.ops) {
    v.check(op.outcome !== 'unresolved', {
      ...whereOf(op),
      detail: `${op.type} ${op.amount}: ${op.attempts.length} attempts, none definitive (${op.attempts.map((a) => a.code ?? a.status ?? a.kind).join(', ')})`,
    });
  }
}

function sameAnswer(first: Attempt, later: Attempt): boolean {
  return (
    later.cls === first.cls &&
    later.status === first.status &&
    (first.cls !== 'committed' ||
      (later.transactionId === first.transactionId &&
        later.amount === first.amount &&
        later.createdAt === first.createdAt)) &&
    (first.cls !== 'refused' || (later.code === first.code && later.requestId === first.requestId))
  );
}

function replaysRepeatTheAnswer(e: Evidence, v: Verdict): void {
  for (const op of e.ops) {
    const [first, ...later] = op.attempts.filter(isDefinitive);
    if (first === undefined) continue;
    for (const answer of later) {
      v.check(sameAnswer(first, answer), {
        ...whereOf(op),
        detail: `first ${describe(first)}, then ${describe(answer)}`,
      });
    }
  }
}

function onlyRepeatsFlaggedAsReplays(e: Evidence, v: Verdict): void {
  for (const op of e.ops) {
    const first = op.attempts.find(isDefinitive);
    if (first === undefined) continue;
    // A request sent after a definitive answer is a replay and says so.
    for (const later of op.attempts) {
      if (later.sentAt <= first.endedAt || !isDefinitive(later) || later.cls === 'key-reused') {
        continue;
      }
      v.check(later.replayed, {
        ...whereOf(op),
        detail: `a repeat sent after the answer came back without Idempotent-Replayed: ${describe(later)}`,
      });
    }
    // The very first request of a key, alone, is never a replay.
    const opening = op.attempts[0];
    if (
      op.reuseOf === undefined &&
      opening !== undefined &&
      opening.role === 'first' &&
      isDefinitive(opening) &&
      !op.attempts.some((a) => a.role === 'concurrent')
    ) {
      v.check(!opening.replayed, {
        ...whereOf(op),
        detail: `the first request with this key was answered as a replay: ${describe(opening)}; attempts: ${op.attempts.map(describe).join(' | ')}`,
      });
    }
  }
}

function reusedKeysRefused(e: Evidence, v: Verdict): void {
  for (const op of e.ops) {
    const definitive = op.attempts.filter(isDefinitive);
    if (definitive.length === 0) continue;
    if (op.reuseOf === undefined) {
      v.check(op.outcome !== 'key-reused', {
        ...whereOf(op),
        detail: `a fresh key was answered IDEMPOTENCY_KEY_REUSED`,
      });
      continue;
    }
    for (const answer of definitive) {
      v.check(answer.cls === 'key-reused', {
        ...whereOf(op),
        detail: `key of operation ${op.reuseOf} sent with amount ${op.amount}: ${describe(answer)}`,
      });
    }
  }
}

/** The 201s that carry the account's balance. */
function committedAnswers(op: Operation): Array<Attempt & { balance: number }> {
  return op.attempts.filter(
    (a): a is Attempt & { balance: number } =>
      isDefinitive(a) && a.cls === 'committed' && a.balance !== undefined,
  );
}

/** Balance reads that carry `available` and `pending`. */
function fullSamples(samples: BalanceSample[]) {
  return samples.filter(
    (s): s is BalanceSample & { available: number; pending: number } =>
      s.available !== undefined && s.pending !== undefined,
  );
}

function neverBelowZero(e: Evidence, v: Verdict): void {
  for (const op of e.ops) {
    for (const answer of committedAnswers(op)) {
      v.check(answer.balance >= 0 && (answer.available ?? 0) >= 0, {
        ...whereOf(op),
        detail: `${String(answer.status)} answered balance ${answer.balance}, available ${String(answer.available)}`,
      });
    }
  }
  for (const sample of fullSamples(e.samples)) {
    v.check(sample.balance >= 0 && sample.available >= 0, {
      accountId: sample.accountId,
      detail: `GET balance answered balance ${sample.balance}, available ${sample.available}`,
    });
  }
  for (const account of e.accounts) {
    for (const entry of account.entries) {
      if (entry.balanceAfter === null) continue;
      v.check(entry.balanceAfter >= 0, {
        accountId: account.accountId,
        detail: `sequence ${String(entry.sequence)} has balanceAfter ${entry.balanceAfter}`,
      });
    }
  }
}

function holdsAddUp(e: Evidence, v: Verdict): void {
  const addsUp = (r: { balance: number; available: number; pending: number }) =>
    r.pending >= 0 && r.available === r.balance - r.pending;
  for (const op of e.ops) {
    for (const answer of committedAnswers(op)) {
      if (answer.available === undefined || answer.pending === undefined) continue;
      const { balance, available, pending } = answer;
      v.check(addsUp({ balance, available, pending }), {
        ...whereOf(op),
        detail: `${String(answer.status)} answered balance ${balance}, pending ${pending}, available ${available}`,
      });
    }
  }
  for (const sample of fullSamples(e.samples)) {
    v.check(addsUp(sample), {
      accountId: sample.accountId,
      detail: `GET balance answered balance ${sample.balance}, pending ${sample.pending}, available ${sample.available}`,
    });
  }
}

function chainAddsUp(e: Evidence, v: Verdict): void {
  for (const account of e.accounts) {
    const where = { accountId: account.accountId };
    const unsequenced = account.entries.filter(
      (entry) => entry.sequence === null || entry.balanceAfter === null,
    );
    v.check(unsequenced.length === 0, {
      ...where,
      detail: `${unsequenced.length} entries still without sequence/balanceAfter after the wait`,
    });
    const bySequence = [...account.entries].sort((a, b) => (b.sequence ?? 0) - (a.sequence ?? 0));
    for (const problem of chainProblems(bySequence, account.state.balance)) {
      v.check(false, { ...where, detail: problem });
    }
    v.count(account.entries.length);
  }
}

function acknowledgedExactlyOnce(e: Evidence, v: Verdict): void {
  for (const account of e.accounts) {
    const seenTx = new Set<string>();
    for (const entry of account.entries) {
      v.check(!seenTx.has(entry.transactionId), {
        accountId: account.accountId,
        detail: `transaction ${entry.transactionId} listed twice`,
      });
      seenTx.add(entry.transactionId);
    }
    for (const op of account.originals) {
      const found = account.byKey.get(op.key) ?? [];
      if (op.outcome === 'committed') inLedgerOnce(op, found, v);
      if (op.outcome === 'unresolved') {
        v.check(found.length <= 1, {
          ...whereOf(op),
          detail: `${found.length} ledger entries carry the key of one (unanswered) operation`,
        });
      }
    }
  }
}

/** An acknowledged operation: one entry under its key, the one it was answered with. */
function inLedgerOnce(op: Operation, found: LedgerEntry[], v: Verdict): void {
  v.check(found.length === 1, {
    ...whereOf(op),
    detail: `${op.type} ${op.amount} acknowledged (${String(op.transactionId)}), ${found.length} ledger entries carry its key`,
  });
  const entry = found[0];
  if (entry === undefined) return;
  v.check(
    entry.transactionId === op.transactionId &&
      entry.amount === op.amount &&
      entry.type === entryTypeOf(op.type),
    {
      ...whereOf(op),
      detail: `acknowledged ${op.type} ${op.amount} as ${String(op.transactionId)}, the ledger has ${entry.type} ${entry.amount} as ${entry.transactionId}`,
    },
  );
}

function nothingUnacknowledged(e: Evidence, v: Verdict): void {
  for (const account of e.accounts) {
    for (const op of account.originals) {
      if (op.outcome !== 'refused') continue;
      const found = account.byKey.get(op.key) ?? [];
      v.check(found.length === 0, {
        ...whereOf(op),
        detail: `${op.type} ${op.amount} was refused (${String(op.refusal?.code)}), yet the ledger has ${found.map((e) => e.transactionId).join(', ')}`,
      });
    }
    for (const [key, found] of account.byKey) {
      v.check(account.originalByKey.has(key), {
        accountId: account.accountId,
        key,
        detail: `ledger entries ${found.map((e) => `${e.type} ${e.amount}`).join(', ')} carry a key no client sent to this account`,
      });
    }
  }
}

/**
 * Transfers: the source's TRANSFER_OUT names this destination; an account's TRANSFER_INs are
 * exactly the transfers sent there that moved money, once each.
 */
function transfersMoveMoneyOnce(e: Evidence, v: Verdict): void {
  for (const account of e.accounts) {
    outgoingTransfersCredited(e, account, v);
    creditsAreTransfers(e, account, v);
    acknowledgedTransfersCredited(account, v);
  }
}

function outgoingTransfersCredited(e: Evidence, account: AccountEvidence, v: Verdict): void {
  for (const op of account.originals) {
    if (op.type !== 'TRANSFER') continue;
    const destination = op.toAccount?.accountId;
    for (const out of account.byKey.get(op.key) ?? []) {
      const into = (e.entriesOf.get(destination ?? '') ?? []).filter(
        (entry) => entry.type === 'TRANSFER_IN' && entry.transactionId === out.transactionId,
      );
      v.check(
        out.counterpartyAccountId === destination &&
          into.length === 1 &&
          into[0]?.amount === out.amount &&
          into[0]?.counterpartyAccountId === account.accountId,
        {
          ...whereOf(op),
          detail: `TRANSFER_OUT ${out.amount} (${out.transactionId}) to ${String(out.counterpartyAccountId)}, sent to ${String(destination)}: ${into.length} TRANSFER_IN in the destination (${into.map((entry) => `${entry.amount} from ${String(entry.counterpartyAccountId)}`).join(', ')})`,
        },
      );
    }
  }
}

function creditsAreTransfers(e: Evidence, account: AccountEvidence, v: Verdict): void {
  const accountId = account.accountId;
  const seenIn = new Map<string, number>();
  for (const entry of account.entries) {
    if (entry.type !== 'TRANSFER_IN') continue;
    seenIn.set(entry.transactionId, (seenIn.get(entry.transactionId) ?? 0) + 1);
    const op = e.transferByTx.get(entry.transactionId);
    const from = `TRANSFER_IN ${entry.amount} (${entry.transactionId}) from ${String(entry.counterpartyAccountId)}`;
    v.check(
      op !== undefined &&
        op.toAccount?.accountId === accountId &&
        op.account.accountId === entry.counterpartyAccountId &&
        (op.outcome === 'committed' || op.outcome === 'unresolved') &&
        (op.outcome !== 'committed' || op.transactionId === entry.transactionId) &&
        op.amount === entry.amount,
      {
        accountId,
        key: op?.key,
        operation: op?.id,
        detail:
          op === undefined
            ? `${from}: no client's transfer has that transaction`
            : `${from} for transfer ${op.id} (${op.account.accountId} → ${String(op.toAccount?.accountId)}), answered ${op.outcome} ${String(op.transactionId ?? op.refusal?.code ?? '')} for ${op.amount}`,
      },
    );
  }
  for (const [tx, count] of seenIn) {
    v.check(count === 1, {
      accountId,
      detail: `${count} TRANSFER_IN entries carry transaction ${tx}`,
    });
  }
}

function acknowledgedTransfersCredited(account: AccountEvidence, v: Verdict): void {
  for (const op of account.incoming) {
    if (op.reuseOf !== undefined || op.outcome !== 'committed') continue;
    const into = account.entries.filter(
      (entry) => entry.type === 'TRANSFER_IN' && entry.transactionId === op.transactionId,
    );
    v.check(into.length === 1, {
      accountId: account.accountId,
      operation: op.id,
      key: op.key,
      detail: `transfer ${String(op.transactionId)} of ${op.amount} from ${op.account.accountId} acknowledged; ${into.length} TRANSFER_IN here`,
    });
  }
}

function refusedOnlyWithoutFunds(e: Evidence, v: Verdict): void {
  for (const op of e.ops) {
    const account = e.byAccount.get(op.account.accountId);
    const refusedAt = op.definitiveAt;
    if (account === undefined || refusedAt === undefined) continue;
    if (op.outcome !== 'refused' || op.refusal?.code !== 'INSUFFICIENT_FUNDS') continue;
    const [low, high] = windowOf(account.timeline, op.firstSentAt, refusedAt);
    // The least available at each state: its balance less the holds that may have been open.
    const available = account.timeline.balanceAt
      .slice(low, high + 1)
      .map(
        (balance, i) =>
          balance -
          account.holds
            .filter((h) => h.sentAt <= refusedAt && h.seq > low + i)
            .reduce((sum, h) => sum + h.amount, 0),
      );
    v.check(
      available.some((b) => b < op.amount + (op.fee ?? 0)),
      {
        ...whereOf(op),
        detail: `${op.type.toLowerCase()} of ${op.amount} refused; least available at sequences ${low}..${high} of its window: ${available.slice(0, 12).join(', ')}${available.length > 12 ? ', …' : ''}`,
      },
    );
  }
}

/** The fee on each acknowledged movement's entry and answer is its schedule's, on this amount. */
function feesAsScheduled(e: Evidence, v: Verdict): void {
  for (const account of e.accounts) {
    for (const op of account.originals) {
      if (op.outcome !== 'committed') continue;
      const charged = (account.byKey.get(op.key) ?? []).map((entry) => entry.fee ?? 0);
      const answered = op.attempts.filter((a) => a.cls === 'committed').map((a) => a.fee ?? 0);
      v.check(
        [...charged, ...answered].every((fee) => fee === (op.fee ?? 0)),
        {
          ...whereOf(op),
          detail: `${op.type} ${op.amount} should cost a fee of ${op.fee ?? 0}: its entry says ${charged.join(', ')}, its answers ${answered.join(', ')}`,
        },
      );
    }
  }
}

/** Each operation placed in the ledger, with its account and its 201s. */
function* placedAnswers(e: Evidence) {
  for (const op of e.ops) {
    const account = e.byAccount.get(op.account.accountId);
    const seq = account?.seqOfOp.get(op.id);
    if (account === undefined || seq === undefined) continue;
    for (const answer of op.attempts) {
      if (answer.cls !== 'committed' || answer.transactionId !== op.transactionId) continue;
      yield { op, account, seq, answer };
    }
  }
}

function answersAreTheLedgers(e: Evidence, v: Verdict): void {
  for (const { op, account, seq, answer } of placedAnswers(e)) {
    const balanceAfter = account.timeline.balanceAt[seq];
    if (answer.balanceAfter !== null && answer.balanceAfter !== undefined) {
      v.check(answer.balanceAfter === balanceAfter, {
        ...whereOf(op),
        detail: `answered balanceAfter ${answer.balanceAfter}, the ledger's entry (sequence ${seq}) has ${String(balanceAfter)}`,
      });
    }
    if (answer.sequence !== null && answer.sequence !== undefined) {
      v.check(answer.sequence === seq, {
        ...whereOf(op),
        detail: `answered sequence ${answer.sequence}, the ledger has ${seq}`,
      });
    }
  }
}

function noStaleRead(e: Evidence, v: Verdict): void {
  for (const { op, account, seq, answer } of placedAnswers(e)) {
    if (answer.balance === undefined) continue;
    const [low, high] = windowOf(account.timeline, answer.sentAt, answer.endedAt);
    // A payout's answer comes from the hold, before its own line.
    const from = op.type === 'PAYOUT' ? low : Math.max(low, seq);
    const states = account.timeline.balanceAt.slice(from, Math.max(from, high) + 1);
    v.check(states.includes(answer.balance), {
      ...whereOf(op),
      detail: `201 answered balance ${answer.balance}; the ledger's states ${from}..${Math.max(from, high)} are ${states.slice(0, 12).join(', ')}`,
    });
  }
  for (const sample of e.samples) {
    const account = e.byAccount.get(sample.accountId);
    if (account === undefined) continue;
    const [low, high] = windowOf(account.timeline, sample.sentAt, sample.endedAt);
    const states = account.timeline.balanceAt.slice(low, high + 1);
    v.check(states.includes(sample.balance), {
      accountId: sample.accountId,
      detail: `GET balance answered ${sample.balance}; the ledger's states ${low}..${high} are ${states.slice(0, 12).join(', ')}`,
    });
  }
}

/** Every invariant and the checker that judges it. */
const CHECKERS: Record<keyof typeof INVARIANTS, Checker> = {
  resolved: everyOperationResolved,
  replay: replaysRepeatTheAnswer,
  replayFlag: onlyRepeatsFlaggedAsReplays,
  reused: reusedKeysRefused,
  nonNegative: neverBelowZero,
  holds: holdsAddUp,
  chain: chainAddsUp,
  exactlyOnce: acknowledgedExactlyOnce,
  nothingElse: nothingUnacknowledged,
  transferOnce: transfersMoveMoneyOnce,
  funds: refusedOnlyWithoutFunds,
  exact: answersAreTheLedgers,
  fresh: noStaleRead,
  fees: feesAsScheduled,
};

export function verify(
  ops: Operation[],
  samples: BalanceSample[],
  states: AccountState[],
): VerifyResult {
  const evidence = evidenceOf(ops, samples, states);
  const violations: Violation[] = [];
  const checks: Record<string, number> = {};
  for (const [name, checker] of Object.entries(CHECKERS)) {
    const invariant = INVARIANTS[name as keyof typeof INVARIANTS];
    const count = (n: number): void => {
      checks[invariant] = (checks[invariant] ?? 0) + n;
    };
    checker(evidence, {
      check: (ok, violation) => {
        count(1);
        if (!ok) violations.push({ invariant, ...violation });
      },
      count,
    });
  }
  return { violations, checks, unresolvedButCommitted: unresolvedButCommitted(evidence) };
}

/** Operations never answered definitively whose movement is in the ledger: they did commit. */
function unresolvedButCommitted(e: Evidence): number {
  return e.accounts.reduce(
    (n, account) =>
      n +
      account.originals.filter(
        (op) => op.outcome === 'unresolved' && (account.byKey.get(op.key) ?? []).length > 0,
      ).length,
    0,
  );
}

function describe(a: Attempt): string {
  if (a.cls === 'committed')
    return `201 ${String(a.transactionId)}${a.replayed ? ' (replayed)' : ''}`;
  return `${String(a.status ?? a.kind)} ${a.code ?? ''}${a.replayed ? ' (replayed)' : ''}`.trim();
}
