/**
 * An account's ledger as a timeline, for the window checks of verify.ts: which of its states
 * (balanceAfter by sequence) a client may have seen between sending at t0 and receiving at t1.
 * Commits are totally ordered per account, so that is a range of sequences L..U:
 * - L = the highest sequence of a movement whose definitive answer arrived before t0 (it had
 *   committed before the observation began);
 * - U = one less than the lowest sequence of a movement whose first attempt was sent after t1
 *   (it cannot have committed before the observation ended), or the last sequence.
 */
import type { LedgerEntry } from '../../../lib/wire/types';
import type { Operation } from './model';

export interface Timeline {
  balanceAt: number[];
  maxSeq: number;
  /** (definitiveAt, seq) of committed operations, by time, with the running max of seq. */
  acked: Array<{ at: number; maxSeq: number }>;
  /** (firstSentAt, seq), by time, with the min of seq from there on. */
  started: Array<{ at: number; minSeq: number }>;
}

/** An operation placed in the ledger: the sequence of its entry (or of its TRANSFER_IN). */
export interface Placed {
  op: Operation;
  seq: number;
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

/** The sequences L..U of the states an observation from t0 to t1 may have seen. */
export function windowOf(timeline: Timeline, t0: number, t1: number): [number, number] {
  const ackedBefore = lowerIndex(timeline.acked, t0) - 1;
  const low = ackedBefore >= 0 ? (timeline.acked[ackedBefore]?.maxSeq ?? 0) : 0;
  const startedAfter = lowerIndex(timeline.started, t1 + 1e-9);
  const next = timeline.started[startedAfter]?.minSeq;
  const high = next === undefined ? timeline.maxSeq : Math.min(timeline.maxSeq, next - 1);
  return [low, Math.max(low, high)];
}

export function timelineOf(entries: LedgerEntry[], placed: Placed[]): Timeline {
  const maxSeq = entries.reduce((max, e) => Math.max(max, e.sequence ?? 0), 0);
  const balanceAt: number[] = new Array<number>(maxSeq + 1).fill(0);
  for (const e of entries) {
    if (e.sequence !== null && e.balanceAfter !== null) balanceAt[e.sequence] = e.balanceAfter;
  }
  return { balanceAt, maxSeq, acked: ackedBounds(placed), started: startedBounds(placed) };
}

/** A payout's line is written after its 202 (when the gateway answered): never a lower bound. */
function ackedBounds(placed: Placed[]): Timeline['acked'] {
  const acked = placed
    .filter(({ op }) => op.definitiveAt !== undefined && op.type !== 'PAYOUT')
    .map(({ op, seq }) => ({ at: op.definitiveAt ?? 0, seq }))
    .sort((a, b) => a.at - b.at);
  let runningMax = 0;
  return acked.map((a) => {
    runningMax = Math.max(runningMax, a.seq);
    return { at: a.at, maxSeq: runningMax };
  });
}

function startedBounds(placed: Placed[]): Timeline['started'] {
  const started = placed
    .map(({ op, seq }) => ({ at: op.firstSentAt, seq }))
    .sort((a, b) => a.at - b.at);
  const bounds = new Array<{ at: number; minSeq: number }>(started.length);
  let runningMin = Infinity;
  for (let i = started.length - 1; i >= 0; i--) {
    const s = started[i];
    if (s === undefined) continue;
    runningMin = Math.min(runningMin, s.seq);
    bounds[i] = { at: s.at, minSeq: runningMin };
  }
  return bounds;
}
