/**
 * What each movement type does, in one table: every rule of the money path that differs by type
 * is read from its row (the conditions of its write, its refusals, who may start it, the pause
 * and the freeze, its metrics and log names, the page's sign). Adding a type is its row, its
 * handler, and its route in `serverless.yml` and `openapi.yaml` (see CONTRIBUTING.md).
 */
export interface MovementRule {
  /** Money into the account (credit) or out of it (debit) once the movement is posted. */
  direction: 'in' | 'out';
  /** Held first (available → pending), posted or voided later: a payout's two phases. */
  holdsFirst: boolean;
  /**
   * Who may request it: an operator (any account), the account's owner (their own account only),
   * or nobody directly: it is the other side of another type's movement.
   */
  initiator: 'operator' | 'owner' | 'counterparty';
  /** Refused while operators pause money leaving the service. */
  pausable: boolean;
  /** Refused on an account an operator has frozen. */
  frozenBlocks: boolean;
  /** The type written on the other account of the same transaction, if there is one. */
  counterparty: string | null;
  /**
   * The system account on the other side of its posting (double entry), or null when the other
   * side is a customer account (a transfer's two sides balance each other).
   */
  systemAccount: 'funding' | 'clearing' | 'reversed' | null;
  /**
   * The account's fee schedule may charge a fee on it (debited with the amount, to `revenue`).
   * `reversed` above: the system account of the movement it reverses (a reversal flips its legs).
   */
  feeable: boolean;
  /**
   * Counts against the account's daily and per-movement limits (lib/domain/limits.ts): money its
   * owner sends out. An operator's reversal does not; it gives room back (docs/limits.md).
   */
  limited: boolean;
  /** The word for it in log lines and messages. */
  operation: string;
  /** The CloudWatch metric family (`<family>Committed`, `<family>Refused`, …). */
  metricFamily: string;
}

export const MOVEMENT_RULES = {
  DEPOSIT: {
    direction: 'in',
    holdsFirst: false,
    initiator: 'operator',
    pausable: false,
    frozenBlocks: false,
    counterparty: null,
    systemAccount: 'funding',
    feeable: false,
    limited: false,
    operation: 'deposit',
    metricFamily: 'Deposits',
  },
  WITHDRAWAL: {
    direction: 'out',
    holdsFirst: false,
    initiator: 'owner',
    pausable: true,
    frozenBlocks: true,
    counterparty: null,
    systemAccount: 'clearing',
    feeable: true,
    limited: true,
    operation: 'withdrawal',
    metricFamily: 'Withdrawals',
  },
  TRANSFER_OUT: {
    direction: 'out',
    holdsFirst: false,
    initiator: 'owner',
    // Money stays inside the service: the pause is for money leaving it.
    pausable: false,
    frozenBlocks: true,
    counterparty: 'TRANSFER_IN',
    systemAccount: null,
    feeable: false,
    limited: true,
    operation: 'transfer',
    metricFamily: 'Transfers',
  },
  TRANSFER_IN: {
    direction: 'in',
    holdsFirst: false,
    initiator: 'counterparty',
    pausable: false,
    frozenBlocks: false,
    counterparty: null,
    systemAccount: null,
    feeable: false,
    limited: false,
    operation: 'transfer',
    metricFamily: 'Transfers',
  },
  PAYOUT: {
    direction: 'out',
    holdsFirst: true,
    initiator: 'owner',
    pausable: true,
    frozenBlocks: true,
    counterparty: null,
    // Posted payouts only: a hold or a void moves no posted money.
    systemAccount: 'clearing',
    feeable: true,
    limited: true,
    operation: 'payout',
    metricFamily: 'Payouts',
  },
  /** Money given back to the account: the reversal of a withdrawal, a payout or a transfer's source. */
  REVERSAL_IN: {
    direction: 'in',
    holdsFirst: false,
    initiator: 'operator',
    // An operator's correction: neither the pause nor the freeze is for it.
    pausable: false,
    frozenBlocks: false,
    // A transfer's reversal takes the money back from its destination.
    counterparty: 'REVERSAL_OUT',
    systemAccount: 'reversed',
    feeable: false,
    limited: false,
    operation: 'reversal',
    metricFamily: 'Reversals',
  },
  /** Money taken back from the account: the reversal of a deposit or of a transfer's destination. */
  REVERSAL_OUT: {
    direction: 'out',
    holdsFirst: false,
    initiator: 'operator',
    pausable: false,
    frozenBlocks: false,
    counterparty: null,
    systemAccount: 'reversed',
    feeable: false,
    limited: false,
    operation: 'reversal',
    metricFamily: 'Reversals',
  },
} as const satisfies Record<string, MovementRule>;

/** The movement types: the table's rows, so a new type is its row and nothing else here. */
export type MovementType = keyof typeof MOVEMENT_RULES;

export const MOVEMENT_TYPES = Object.keys(MOVEMENT_RULES) as MovementType[];

/** The types a request starts; the others happen only as another type's counterparty side. */
export type RequestedMovement = {
  [T in MovementType]: (typeof MOVEMENT_RULES)[T]['initiator'] extends 'counterparty' ? never : T;
}[MovementType];

export const ruleOf = (type: MovementType): MovementRule & { counterparty: MovementType | null } =>
  MOVEMENT_RULES[type];

/** What a movement does to its account when it is requested. */
export function requestEffect(type: MovementType): 'debit' | 'credit' | 'hold' {
  const rule = ruleOf(type);
  if (rule.holdsFirst) return 'hold';
  return rule.direction === 'in' ? 'credit' : 'debit';
}

/** +1 for money into the account once posted, -1 for money out: the page's sign, the ledger's. */
export const signOf = (type: MovementType): 1 | -1 => (ruleOf(type).direction === 'in' ? 1 : -1);

/**
 * The other side of a two-account movement (a transfer's destination, or a transfer reversal's):
 * its line names the account it came with, but its row names no counterparty of its own. It is
 * known by the movement's id, not by the requester's Idempotency-Key.
 */
export const isOtherSide = (line: { type: MovementType; counterpartyAccountId?: string }) =>
  line.counterpartyAccountId !== undefined && ruleOf(line.type).counterparty === null;

/** The types a fee schedule may charge: the rows marked `feeable`. */
export type FeeableMovement = {
  [T in MovementType]: (typeof MOVEMENT_RULES)[T]['feeable'] extends true ? T : never;
}[MovementType];

export const FEEABLE_TYPES = MOVEMENT_TYPES.filter(
  (type) => ruleOf(type).feeable,
) as FeeableMovement[];
