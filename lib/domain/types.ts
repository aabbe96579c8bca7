/** Money is always an integer count of the currency's minor units (cents for USD). */
export type MinorUnits = number;

export type MovementType = 'DEPOSIT' | 'WITHDRAWAL';

/** The last movement applied to an account, kept on the account so its stream record is self-contained. */
export interface LastMovement {
  transactionId: string;
  type: MovementType;
  amount: MinorUnits;
  idempotencyKey: string;
  createdAt: string;
}

export interface Account {
  accountId: string;
  ownerId: string;
  currency: string;
  balance: MinorUnits;
  /** Count of movements committed on the account; the commit order of its ledger. */
  version: number;
  createdAt: string;
  updatedAt: string;
  lastMovement?: LastMovement;
  /** Set by an operator: withdrawals are refused, deposits still land. */
  frozen?: boolean;
  /** The account's version when it was last frozen: no movement after it is a withdrawal. */
  frozenAtVersion?: number;
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

export interface LedgerEntry {
  transactionId: string;
  accountId: string;
  type: MovementType;
  amount: MinorUnits;
  currency: string;
  /** Exact balance right after this entry; null while the entry is committed but not yet sequenced. */
  balanceAfter: MinorUnits | null;
  /** Position in the account's commit order (1, 2, ...); null while pending. */
  sequence: number | null;
  idempotencyKey: string;
  createdAt: string;
}

export interface Caller {
  userId: string;
  username: string;
  isOperator: boolean;
}
