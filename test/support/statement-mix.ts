import type { MovementType } from '../../lib/domain/types';
import type { SeedLine } from './statement-seed';

/** Lines of a mixed history are this far apart. */
export const MIX_SPACING_MS = 60_000;

/**
 * Line `index` of a mixed history starting at `startMs`, a minute apart: in every 5 lines, one
 * credit (a deposit or a transfer in, alternately) and four withdrawals and payouts (a payout in
 * 20 voided), so a filter on withdrawals and payouts finds 4 lines in 5 from the first ten on.
 * Credits are large enough that the balance never goes below zero.
 */
export function mixedLine(startMs: number, index: number): SeedLine {
  const createdAt = new Date(startMs + index * MIX_SPACING_MS).toISOString();
  const slot = index % 5;
  if (slot === 0) {
    const type: MovementType = index % 10 === 0 ? 'DEPOSIT' : 'TRANSFER_IN';
    return { type, amount: type === 'DEPOSIT' ? 100_000 : 5_000, createdAt };
  }
  if (slot === 1 || slot === 3) {
    return { type: 'WITHDRAWAL', amount: 100 + (index % 50), fee: 2, createdAt };
  }
  return {
    type: 'PAYOUT',
    amount: 200 + (index % 37),
    ...(index % 20 === 4 ? { status: 'VOIDED' as const } : {}),
    createdAt,
  };
}

/** The instant of line `index` of a mixed history. */
export const mixedInstant = (startMs: number, index: number): string =>
  new Date(startMs + index * MIX_SPACING_MS).toISOString();
