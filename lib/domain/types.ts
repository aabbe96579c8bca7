import { signOf, type MovementType } from './movement-types';

export type { MovementType };

/** Money is always an integer count of the currency's minor units (cents for USD). */
export type MinorUnits = number;

/**
 * POSTED entries moved the balance. A payout is PENDING while its funds are held (then it is
 * not in the statement yet), and ends POSTED (sent) or VOIDED (released, balance unchanged).
 */
export type EntryStatus = 'POSTED' | 'PENDING' | 'VOIDED';

/** What one entry does to the posted balance: credits add, debits subtract, voids nothing. */
export function balanceEffect(entry: {
  type: MovementType;
  amount: MinorUnits;
  fee?: MinorUnits;
  status?: EntryStatus;
}): MinorUnits {
  if ((entry.status ?? 'POSTED') !== 'POSTED') return 0;
  return signOf(entry.type) * (entry.amount + (entry.fee ?? 0));
}

/** What a movement adds to or holds from its account: the amount, and the fee charged with it. */
export const chargedOf = (movement: { amount: MinorUnits; fee?: MinorUnits }): MinorUnits =>
  movement.amount + (movement.fee ?? 0);

/** What ties a reversal to the movement it reverses (docs/double-entry.md). */
export interface ReversalDetails {
  /** The reversed movement's transaction id. */
  reversalOf?: string;
  /** Its type on this account: its system account is the reversal's (with the signs flipped). */
  reversedType?: MovementType;
  /** The operator's reason. */
  reason?: string;
  /** The operator let this reversal take the balance below zero. */
  negativeAllowed?: boolean;
}

/**
 * A client's own words on a movement (bounds and why in lib/domain/details.ts): its reference,
 * a description and a small map of metadata.
 */
export interface MovementDetails {
  reference?: string;
  description?: string;
  metadata?: Record<string, string>;
}

/**
 * What the money path's items carry of a movement's details: the reference (the lookup's index
 * key), and whether a description or metadata sit in the movement's details item. Those two
 * would not fit the account item's 1 KB at their bounds (docs/double-entry.md).
 */
export interface DetailsMark {
  reference?: string;
  hasDetails?: true;
}

/** The last movement applied to an account, kept on the account so its stream record is self-contained. */
export interface LastMovement extends DetailsMark, ReversalDetails {
  transactionId: string;
  type: MovementType;
  amount: MinorUnits;
  /** Charged on top of `amount` (withdrawals and payouts with a fee); absent means none. */
  fee?: MinorUnits;
  idempotencyKey: string;
  createdAt: string;
  /** Absent means POSTED. */
  status?: EntryStatus;
  /** Transfers: the other account. */
  counterpartyAccountId?: string;
  /** Payouts: where the money goes. */
  destination?: string;
}

export interface Account {
  accountId: string;
  ownerId: string;
  currency: string;
  /** Posted balance. */
  balance: MinorUnits;
  /** Held by payouts not yet posted or voided. */
  pending: MinorUnits;
  /** balance − pending, stored so a condition can test it: never below zero. */
  available: MinorUnits;
  /** Count of movements committed on the account; the commit order of its ledger. */
  version: number;
  createdAt: string;
  updatedAt: string;
  lastMovement?: LastMovement;
  /** Set by an operator: withdrawals are refused, deposits still land. */
  frozen?: boolean;
  /** The account's version when it was last frozen: no movement after it is a withdrawal. */
  frozenAtVersion?: number;
  /**
   * The version of the account's terms, its fee schedule and limits (absent: never set, 0;
   * lib/domain/terms.ts). They are items of their own: the account item stays under 1 KB, and
   * only the version is in every withdrawal's condition.
   */
  termsVersion?: number;
}

/** Who changed an operator control, when and why. */
export interface ControlChange {
  by: string;
  at: string;
  reason: string;
}

export interface WithdrawalControl {
  paused: boolean;
  changed: ControlChange | null;
}

/** `hasDetails`: read, and replaced by the description and metadata, before an entry is shown. */
export interface LedgerEntry extends MovementDetails, DetailsMark, ReversalDetails {
  transactionId: string;
  accountId: string;
  type: MovementType;
  amount: MinorUnits;
  fee?: MinorUnits;
  /** The reversals of this movement, as far as the statement knows them. */
  reversedBy?: { transactionId: string; amount: MinorUnits }[];
  currency: string;
  /** Exact balance right after this entry; null while the entry is committed but not yet sequenced. */
  balanceAfter: MinorUnits | null;
  /** Position in the account's commit order (1, 2, ...); null while pending. */
  sequence: number | null;
  idempotencyKey: string;
  createdAt: string;
  /** Statement lines: the instant the line counts at (lib/domain/statement-figures.ts). */
  postedAt?: string;
  status: EntryStatus;
  counterpartyAccountId?: string;
  destination?: string;
}

/** A movement as the history shows it on `account`, at its place in the statement (or none yet). */
export function ledgerEntry(
  movement: LastMovement,
  account: Pick<Account, 'accountId' | 'currency'>,
  place: { balanceAfter: MinorUnits | null; sequence: number | null },
): LedgerEntry {
  return {
    transactionId: movement.transactionId,
    accountId: account.accountId,
    type: movement.type,
    amount: movement.amount,
    currency: account.currency,
    ...place,
    idempotencyKey: movement.idempotencyKey,
    createdAt: movement.createdAt,
    status: movement.status ?? 'POSTED',
    ...(movement.counterpartyAccountId !== undefined
      ? { counterpartyAccountId: movement.counterpartyAccountId }
      : {}),
    ...(movement.destination !== undefined ? { destination: movement.destination } : {}),
    ...(movement.fee ? { fee: movement.fee } : {}),
    ...reversalDetailsOf(movement),
    ...detailsMarkOf(movement),
  };
}

/** The mark of a movement's details, as the items of the money path carry it. */
export function detailsMarkOf(details: DetailsMark & MovementDetails): DetailsMark {
  return {
    ...(details.reference !== undefined ? { reference: details.reference } : {}),
    ...(details.hasDetails === true ||
    details.description !== undefined ||
    details.metadata !== undefined
      ? { hasDetails: true }
      : {}),
  };
}

/** The reversal's fields of a movement, present ones only. */
export function reversalDetailsOf(movement: ReversalDetails): ReversalDetails {
  const { reversalOf, reversedType, reason, negativeAllowed } = movement;
  return {
    ...(reversalOf !== undefined ? { reversalOf } : {}),
    ...(reversedType !== undefined ? { reversedType } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(negativeAllowed ? { negativeAllowed } : {}),
  };
}

export type PayoutStatus = 'PENDING' | 'POSTED' | 'VOIDED';

/** A payout: the hold in the ledger and the instruction to the gateway (the outbox record). */
export interface Payout extends DetailsMark {
  transactionId: string;
  accountId: string;
  amount: MinorUnits;
  currency: string;
  /** Held with the amount and charged when the payout posts; absent means none. */
  fee?: MinorUnits;
  /** The day whose limit counter the hold added to: a void gives the room back there. */
  limitDay?: string;
  destination: string;
  status: PayoutStatus;
  idempotencyKey: string;
  createdAt: string;
  updatedAt: string;
  /** Past this instant an unresolved hold is cancelled at the gateway and voided. */
  holdExpiresAt: string;
  /** Gateway calls made so far, and the last one's time and unknown-outcome reason. */
  attempts: number;
  lastAttemptAt?: string;
  lastError?: string;
  /** The gateway's reference once sent, or why it was voided. */
  gatewayReference?: string;
  voidReason?: string;
}

export interface Caller {
  userId: string;
  username: string;
  isOperator: boolean;
}
