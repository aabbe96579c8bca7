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
