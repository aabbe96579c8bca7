/**
 * The bank run's invariants, checked from the client-side model against each account's
 * ledger as the API returns it once the sequencer has placed every entry.
 *
 * Racing clients make "what was the balance when the service decided" a question of windows.
 * Commits are totally ordered per account (the entry's `sequence`), so for anything a client
 * observed between sending at t0 and receiving at t1, the account state it saw is one of the
 * ledger's states `L..U`:
 * - L = the highest sequence of a movement whose definitive answer arrived before t0 (it had
 *   committed before the observation began);
 * - U = one less than the lowest sequence of a movement whose first attempt was sent after
 *   t1 (it cannot have committed before the observation ended), or the last sequence.
 * Then:
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
import type { LedgerEntry } from '../../../lib/domain/types';
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
} as const;

interface Timeline {
  balanceAt: number[];
  maxSeq: number;
  /** (definitiveAt, seq) of committed operations, by time, with the running max of seq. */
  acked: Array<{ at: number; maxSeq: number }>;
  /** (firstSentAt, seq), by time, with the min of seq from there on. */
  started: Array<{ at: number; minSeq: number }>;
}

function lowerIndex<T extends { at: number }>(items: T[], t: number): number {
  // First index with at >= t.
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((items[mid]?.at ?? Infinity) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function windowOf(timeline: Timeline, t0: number, t1: number): [number, number] {
  const ackedBefore = lowerIndex(timeline.acked, t0) - 1;
  const low = ackedBefore >= 0 ? (timeline.acked[ackedBefore]?.maxSeq ?? 0) : 0;
  const startedAfter = lowerIndex(timeline.started, t1 + 1e-9);
  const next = timeline.started[startedAfter]?.minSeq;
  const high = next === undefined ? timeline.maxSeq : Math.min(timeline.maxSeq, next - 1);
  return [low, Math.max(low, high)];
}

export function verify(
  ops: Operation[],
  samples: BalanceSample[],
  states: AccountState[],
): VerifyResult {
  const violations: Violation[] = [];
  const checks: Record<string, number> = {};
  const check = (invariant: string, ok: boolean, v: Omit<Violation, 'invariant'>): void => {
    checks[invariant] = (checks[invariant] ?? 0) + 1;
    if (!ok) violations.push({ invariant, ...v });
  };
  let unresolvedButCommitted = 0;

  // ---- per operation: the answers agree with each other -------------------------------
  for (const op of ops) {
    const where = { accountId: op.account.accountId, operation: op.id, key: op.key };
    check(INVARIANTS.resolved, op.outcome !== 'unresolved', {
      ...where,
      detail: `${op.type} ${op.amount}: ${op.attempts.length} attempts, none definitive (${op.attempts.map((a) => a.code ?? a.status ?? a.kind).join(', ')})`,
    });
    const definitive = op.attempts.filter(isDefinitive);
    const first = definitive[0];
    if (first === undefined) continue;
    for (const later of definitive.slice(1)) {
      const same =
        later.cls === first.cls &&
        later.status === first.status &&
        (first.cls !== 'committed' ||
          (later.transactionId === first.transactionId &&
            later.amount === first.amount &&
            later.createdAt === first.createdAt)) &&
        (first.cls !== 'refused' ||
          (later.code === first.code && later.requestId === first.requestId));
      check(INVARIANTS.replay, same, {
        ...where,
        detail: `first ${describe(first)}, then ${describe(later)}`,
      });
    }
    // A request sent after a definitive answer is a replay and says so.
    for (const later of op.attempts) {
      if (later.sentAt <= first.endedAt || !isDefinitive(later) || later.cls === 'key-reused') {
        continue;
      }
      check(INVARIANTS.replayFlag, later.replayed, {
        ...where,
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
      check(INVARIANTS.replayFlag, !opening.replayed, {
        ...where,
        detail: `the first request with this key was answered as a replay: ${describe(opening)}; attempts: ${op.attempts.map(describe).join(' | ')}`,
      });
    }
    if (op.reuseOf !== undefined) {
      for (const answer of definitive) {
        check(INVARIANTS.reused, answer.cls === 'key-reused', {
          ...where,
          detail: `key of operation ${op.reuseOf} sent with amount ${op.amount}: ${describe(answer)}`,
        });
      }
    } else {
      check(INVARIANTS.reused, op.outcome !== 'key-reused', {
        ...where,
        detail: `a fresh key was answered IDEMPOTENCY_KEY_REUSED`,
      });
    }
    for (const answer of definitive) {
      if (answer.cls === 'committed' && answer.balance !== undefined) {
        check(INVARIANTS.nonNegative, answer.balance >= 0 && (answer.available ?? 0) >= 0, {
          ...where,
          detail: `${String(answer.status)} answered balance ${answer.balance}, available ${String(answer.available)}`,
        });
      }
      if (
        answer.cls === 'committed' &&
        answer.balance !== undefined &&
        answer.available !== undefined &&
        answer.pending !== undefined
      ) {
        check(
          INVARIANTS.holds,
          answer.pending >= 0 && answer.available === answer.balance - answer.pending,
          {
            ...where,
            detail: `${String(answer.status)} answered balance ${answer.balance}, pending ${answer.pending}, available ${answer.available}`,
          },
        );
      }
    }
  }
  for (const sample of samples) {
    if (sample.available === undefined || sample.pending === undefined) continue;
    check(INVARIANTS.nonNegative, sample.balance >= 0 && sample.available >= 0, {
      accountId: sample.accountId,
      detail: `GET balance answered balance ${sample.balance}, available ${sample.available}`,
    });
    check(
      INVARIANTS.holds,
      sample.pending >= 0 && sample.available === sample.balance - sample.pending,
      {
        accountId: sample.accountId,
        detail: `GET balance answered balance ${sample.balance}, pending ${sample.pending}, available ${sample.available}`,
      },
    );
  }

  // ---- per account: the ledger ------------------------------------------------------------
  const opsByAccount = new Map<string, Operation[]>();
  for (const op of ops) {
    const list = opsByAccount.get(op.account.accountId) ?? [];
    list.push(op);
    opsByAccount.set(op.account.accountId, list);
  }
  /** Transfers by destination account. */
  const incoming = new Map<string, Operation[]>();
  for (const op of ops) {
    if (op.type !== 'TRANSFER' || op.toAccount === undefined) continue;
    const list = incoming.get(op.toAccount.accountId) ?? [];
    list.push(op);
    incoming.set(op.toAccount.accountId, list);
  }
  const entriesOf = new Map(states.map((st) => [st.account.accountId, st.entries]));
  /** Each transfer's transactionId: answered, or (never answered) its TRANSFER_OUT's, by key. */
  const transferByTx = new Map<string, Operation>();
  for (const op of ops) {
    if (op.type !== 'TRANSFER' || op.reuseOf !== undefined) continue;
    const out = (entriesOf.get(op.account.accountId) ?? []).find(
      (e) => e.type === 'TRANSFER_OUT' && e.idempotencyKey === op.key,
    );
    const tx = op.outcome === 'committed' ? op.transactionId : out?.transactionId;
    if (tx !== undefined) transferByTx.set(tx, op);
  }
  const timelines = new Map<
    string,
    {
      timeline: Timeline;
      seqOfOp: Map<number, number>;
      /** Payouts of the account that may hold funds: amount, first send, line sequence. */
      holds: Array<{ amount: number; sentAt: number; seq: number }>;
    }
  >();

  for (const state of states) {
    const accountId = state.account.accountId;
    const where = { accountId };
    const entries = state.entries;
    const unsequenced = entries.filter((e) => e.sequence === null || e.balanceAfter === null);
    check(INVARIANTS.chain, unsequenced.length === 0, {
      ...where,
      detail: `${unsequenced.length} entries still without sequence/balanceAfter after the wait`,
    });
    for (const problem of chainProblems(
      [...entries].sort((a, b) => (b.sequence ?? 0) - (a.sequence ?? 0)),
      state.balance,
    )) {
      check(INVARIANTS.chain, false, { ...where, detail: problem });
    }
    checks[INVARIANTS.chain] = (checks[INVARIANTS.chain] ?? 0) + entries.length;
    for (const entry of entries) {
      if (entry.balanceAfter !== null) {
        check(INVARIANTS.nonNegative, entry.balanceAfter >= 0, {
          ...where,
          detail: `sequence ${String(entry.sequence)} has balanceAfter ${entry.balanceAfter}`,
        });
      }
    }
    const seenTx = new Set<string>();
    for (const entry of entries) {
      check(INVARIANTS.exactlyOnce, !seenTx.has(entry.transactionId), {
        ...where,
        detail: `transaction ${entry.transactionId} listed twice`,
      });
      seenTx.add(entry.transactionId);
    }

    // A TRANSFER_IN is known by the transfer's id: matched to the transfers sent here, below.
    const byKey = new Map<string, LedgerEntry[]>();
    for (const entry of entries) {
      if (entry.type === 'TRANSFER_IN') continue;
      const list = byKey.get(entry.idempotencyKey) ?? [];
      list.push(entry);
      byKey.set(entry.idempotencyKey, list);
    }
    const accountOps = opsByAccount.get(accountId) ?? [];
    const originals = new Map<string, Operation>();
    for (const op of accountOps) if (op.reuseOf === undefined) originals.set(op.key, op);

    const seqOfOp = new Map<number, number>();
    for (const op of accountOps) {
      if (op.reuseOf !== undefined) continue;
      const found = byKey.get(op.key) ?? [];
      const w = { ...where, operation: op.id, key: op.key };
      if (op.outcome === 'committed') {
        check(INVARIANTS.exactlyOnce, found.length === 1, {
          ...w,
          detail: `${op.type} ${op.amount} acknowledged (${String(op.transactionId)}), ${found.length} ledger entries carry its key`,
        });
        const entry = found[0];
        if (entry !== undefined) {
          check(
            INVARIANTS.exactlyOnce,
            entry.transactionId === op.transactionId &&
              entry.amount === op.amount &&
              entry.type === entryTypeOf(op.type),
            {
              ...w,
              detail: `acknowledged ${op.type} ${op.amount} as ${String(op.transactionId)}, the ledger has ${entry.type} ${entry.amount} as ${entry.transactionId}`,
            },
          );
          if (entry.sequence !== null) seqOfOp.set(op.id, entry.sequence);
        }
      } else if (op.outcome === 'refused') {
        check(INVARIANTS.nothingElse, found.length === 0, {
          ...w,
          detail: `${op.type} ${op.amount} was refused (${String(op.refusal?.code)}), yet the ledger has ${found.map((e) => e.transactionId).join(', ')}`,
        });
      } else if (op.outcome === 'unresolved') {
        const entry = found[0];
        if (entry !== undefined) {
          unresolvedButCommitted += 1;
          if (entry.sequence !== null) seqOfOp.set(op.id, entry.sequence);
        }
        check(INVARIANTS.exactlyOnce, found.length <= 1, {
          ...w,
          detail: `${found.length} ledger entries carry the key of one (unanswered) operation`,
        });
      }
    }
    for (const [key, found] of byKey) {
      const op = originals.get(key);
      check(INVARIANTS.nothingElse, op !== undefined, {
        ...where,
        key,
        detail: `ledger entries ${found.map((e) => `${e.type} ${e.amount}`).join(', ')} carry a key no client sent to this account`,
      });
    }

    // Transfers: the source's TRANSFER_OUT names this destination; this account's TRANSFER_INs
    // are exactly the transfers sent here that moved money, once each.
    for (const op of accountOps) {
      if (op.type !== 'TRANSFER' || op.reuseOf !== undefined) continue;
      for (const out of byKey.get(op.key) ?? []) {
        const into = (entriesOf.get(op.toAccount?.accountId ?? '') ?? []).filter(
          (e) => e.type === 'TRANSFER_IN' && e.transactionId === out.transactionId,
        );
        check(
          INVARIANTS.transferOnce,
          out.counterpartyAccountId === op.toAccount?.accountId &&
            into.length === 1 &&
            into[0]?.amount === out.amount &&
            into[0]?.counterpartyAccountId === accountId,
          {
            ...where,
            operation: op.id,
            key: op.key,
            detail: `TRANSFER_OUT ${out.amount} (${out.transactionId}) to ${String(out.counterpartyAccountId)}, sent to ${String(op.toAccount?.accountId)}: ${into.length} TRANSFER_IN in the destination (${into.map((e) => `${e.amount} from ${String(e.counterpartyAccountId)}`).join(', ')})`,
          },
        );
      }
    }
    const sentHere = incoming.get(accountId) ?? [];
    const seenIn = new Map<string, number>();
    for (const entry of entries) {
      if (entry.type !== 'TRANSFER_IN') continue;
      seenIn.set(entry.transactionId, (seenIn.get(entry.transactionId) ?? 0) + 1);
      const op = transferByTx.get(entry.transactionId);
      check(
        INVARIANTS.transferOnce,
        op !== undefined &&
          op.toAccount?.accountId === accountId &&
          op.account.accountId === entry.counterpartyAccountId &&
          (op.outcome === 'committed' || op.outcome === 'unresolved') &&
          (op.outcome !== 'committed' || op.transactionId === entry.transactionId) &&
          op.amount === entry.amount,
        {
          ...where,
          key: op?.key,
          operation: op?.id,
          detail:
            op === undefined
              ? `TRANSFER_IN ${entry.amount} (${entry.transactionId}) from ${String(entry.counterpartyAccountId)}: no client's transfer has that transaction`
              : `TRANSFER_IN ${entry.amount} (${entry.transactionId}) from ${String(entry.counterpartyAccountId)} for transfer ${op.id} (${op.account.accountId} → ${String(op.toAccount?.accountId)}), answered ${op.outcome} ${String(op.transactionId ?? op.refusal?.code ?? '')} for ${op.amount}`,
        },
      );
    }
    for (const [tx, count] of seenIn) {
      check(INVARIANTS.transferOnce, count === 1, {
        ...where,
        detail: `${count} TRANSFER_IN entries carry transaction ${tx}`,
      });
    }
    for (const op of sentHere) {
      if (op.reuseOf !== undefined || op.outcome !== 'committed') continue;
      const into = entries.filter(
        (e) => e.type === 'TRANSFER_IN' && e.transactionId === op.transactionId,
      );
      check(INVARIANTS.transferOnce, into.length === 1, {
        ...where,
        operation: op.id,
        key: op.key,
        detail: `transfer ${String(op.transactionId)} of ${op.amount} from ${op.account.accountId} acknowledged; ${into.length} TRANSFER_IN here`,
      });
    }

    // Timeline for the window checks.
    const maxSeq = entries.reduce((max, e) => Math.max(max, e.sequence ?? 0), 0);
    const balanceAt: number[] = new Array<number>(maxSeq + 1).fill(0);
    for (const e of entries) {
      if (e.sequence !== null && e.balanceAfter !== null) balanceAt[e.sequence] = e.balanceAfter;
    }
    // Transfers credited here place this account's states too (their TRANSFER_IN's sequence).
    const placed: Array<{ op: Operation; seq: number }> = accountOps
      .filter((op) => seqOfOp.has(op.id))
      .map((op) => ({ op, seq: seqOfOp.get(op.id) ?? 0 }));
    for (const entry of entries) {
      if (entry.type !== 'TRANSFER_IN' || entry.sequence === null) continue;
      const op = transferByTx.get(entry.transactionId);
      if (op?.toAccount?.accountId === accountId) placed.push({ op, seq: entry.sequence });
    }
    // A payout's line is written after its 202 (when the gateway answered): never a lower bound.
    const acked = placed
      .filter(({ op }) => op.definitiveAt !== undefined && op.type !== 'PAYOUT')
      .map(({ op, seq }) => ({ at: op.definitiveAt ?? 0, seq }))
      .sort((a, b) => a.at - b.at);
    let runningMax = 0;
    const ackedMax = acked.map((a) => {
      runningMax = Math.max(runningMax, a.seq);
      return { at: a.at, maxSeq: runningMax };
    });
    const started = placed
      .map(({ op, seq }) => ({ at: op.firstSentAt, seq }))
      .sort((a, b) => a.at - b.at);
    const startedMin: Array<{ at: number; minSeq: number }> = new Array<{
      at: number;
      minSeq: number;
    }>(started.length);
    let runningMin = Infinity;
    for (let i = started.length - 1; i >= 0; i--) {
      const s = started[i];
      if (s === undefined) continue;
      runningMin = Math.min(runningMin, s.seq);
      startedMin[i] = { at: s.at, minSeq: runningMin };
    }
    // Holds: every payout that may have held funds (not refused), with its line's sequence
    // (Infinity: no line, still held at the end).
    const holds = accountOps
      .filter(
        (op) =>
          op.type === 'PAYOUT' &&
          op.reuseOf === undefined &&
          (op.outcome === 'committed' || op.outcome === 'unresolved'),
      )
      .map((op) => ({
        amount: op.amount,
        sentAt: op.firstSentAt,
        seq: (byKey.get(op.key) ?? [])[0]?.sequence ?? Infinity,
      }));
    timelines.set(accountId, {
      timeline: { balanceAt, maxSeq, acked: ackedMax, started: startedMin },
      seqOfOp,
      holds,
    });
  }

  // ---- windows: refusals and reads --------------------------------------------------------
  for (const op of ops) {
    const t = timelines.get(op.account.accountId);
    if (t === undefined) continue;
    const where = { accountId: op.account.accountId, operation: op.id, key: op.key };
    if (
      op.outcome === 'refused' &&
      op.refusal?.code === 'INSUFFICIENT_FUNDS' &&
      op.definitiveAt !== undefined
    ) {
      const [low, high] = windowOf(t.timeline, op.firstSentAt, op.definitiveAt);
      const refusedAt = op.definitiveAt;
      // The least available at each state: its balance less the holds that may have been open.
      const states = t.timeline.balanceAt
        .slice(low, high + 1)
        .map(
          (balance, i) =>
            balance -
            t.holds
              .filter((h) => h.sentAt <= refusedAt && h.seq > low + i)
              .reduce((sum, h) => sum + h.amount, 0),
        );
      check(
        INVARIANTS.funds,
        states.some((b) => b < op.amount),
        {
          ...where,
          detail: `${op.type.toLowerCase()} of ${op.amount} refused; least available at sequences ${low}..${high} of its window: ${states.slice(0, 12).join(', ')}${states.length > 12 ? ', …' : ''}`,
        },
      );
    }
    const seq = t.seqOfOp.get(op.id);
    if (seq === undefined) continue;
    for (const answer of op.attempts) {
      if (answer.cls !== 'committed' || answer.transactionId !== op.transactionId) continue;
      if (answer.balanceAfter !== null && answer.balanceAfter !== undefined) {
        check(INVARIANTS.exact, answer.balanceAfter === t.timeline.balanceAt[seq], {
          ...where,
          detail: `answered balanceAfter ${answer.balanceAfter}, the ledger's entry (sequence ${seq}) has ${String(t.timeline.balanceAt[seq])}`,
        });
      }
      if (answer.sequence !== null && answer.sequence !== undefined) {
        check(INVARIANTS.exact, answer.sequence === seq, {
          ...where,
          detail: `answered sequence ${answer.sequence}, the ledger has ${seq}`,
        });
      }
      if (answer.balance !== undefined) {
        const [low, high] = windowOf(t.timeline, answer.sentAt, answer.endedAt);
        // A payout's answer comes from the hold, before its own line.
        const from = op.type === 'PAYOUT' ? low : Math.max(low, seq);
        const states = t.timeline.balanceAt.slice(from, Math.max(from, high) + 1);
        check(INVARIANTS.fresh, states.includes(answer.balance), {
          ...where,
          detail: `201 answered balance ${answer.balance}; the ledger's states ${from}..${Math.max(from, high)} are ${states.slice(0, 12).join(', ')}`,
        });
      }
    }
  }
  for (const sample of samples) {
    const t = timelines.get(sample.accountId);
    if (t === undefined) continue;
    const [low, high] = windowOf(t.timeline, sample.sentAt, sample.endedAt);
    const states = t.timeline.balanceAt.slice(low, high + 1);
    check(INVARIANTS.fresh, states.includes(sample.balance), {
      accountId: sample.accountId,
      detail: `GET balance answered ${sample.balance}; the ledger's states ${low}..${high} are ${states.slice(0, 12).join(', ')}`,
    });
  }
  return { violations, checks, unresolvedButCommitted };
}

function describe(a: Attempt): string {
  if (a.cls === 'committed')
    return `201 ${String(a.transactionId)}${a.replayed ? ' (replayed)' : ''}`;
  return `${String(a.status ?? a.kind)} ${a.code ?? ''}${a.replayed ? ' (replayed)' : ''}`.trim();
}
