/**
 * What the domain needs from the world, declared here and nowhere else: the stores (one port per
 * aggregate), the payout gateway, metrics and a logger. The DynamoDB adapters in
 * `lib/persistence/`, the HTTP gateway client in `lib/payouts/` and the in-memory store in
 * `test/support/` implement them; `lib/service.ts` wires the real ones once per container.
 */
import type {
  Account,
  ControlChange,
  DetailsMark,
  EntryStatus,
  LedgerEntry,
  MovementDetails,
  MovementType,
  Payout,
  ReversalDetails,
  WithdrawalControl,
} from './types';
import type { ErrorCode } from './errors';
import type { FeeSchedule } from './fees';
import type { LimitRefusal, LimitsChange, LimitsOverride } from './limits';
import type { AccountTerms } from './terms';

// ---------------------------------------------------------------------------------------------
// Failures every port may report

/** The store could not answer for a reason that may pass: retry, or report unavailability. */
export class TransientStoreError extends Error {
  constructor(
    readonly kind: 'conflict' | 'throttled' | 'unavailable',
    options?: { cause?: unknown },
  ) {
    super(`store ${kind}`, options);
    this.name = 'TransientStoreError';
  }
}

// ---------------------------------------------------------------------------------------------
// Accounts

export interface AccountStore {
  /** Strongly consistent: a balance read never lags a committed movement. */
  getAccount(accountId: string): Promise<Account | null>;
  /** Creates the account and its owner link together; the id is new. */
  createAccount(account: Account): Promise<void>;
  /** Every account of an owner, oldest first. */
  listAccountsByOwner(ownerId: string): Promise<Account[]>;
}

// ---------------------------------------------------------------------------------------------
// Movements and their idempotency markers

/** What an idempotency marker remembers: the request's fingerprint and its first outcome. */
export type Marker = CommittedMarker | RefusedMarker;

interface MarkerBase {
  accountId: string;
  idempotencyKey: string;
  requestHash: string;
  createdAt: string;
}

export interface CommittedMarker extends MarkerBase {
  outcome: 'COMMITTED';
  transactionId: string;
  type: MovementType;
  amount: number;
  fee?: number;
  counterpartyAccountId?: string;
  /** Written by earlier versions' sequencer; read when present (markers live a day). */
  balanceAfter?: number;
  sequence?: number;
}

export interface RefusedMarker extends MarkerBase {
  outcome: 'REFUSED';
  status: number;
  error: { code: ErrorCode; message: string; requestId: string; limit?: LimitRefusal };
}

/** The conditions one account's update carries, derived from the movement type's rules. */
export interface AccountCondition {
  accountId: string;
  effect: 'debit' | 'credit' | 'hold';
  /** Debits and holds: refused while an operator has frozen the account. */
  frozenBlocks: boolean;
  /** Only this owner may move the money (absent: anyone the route lets in). */
  requiredOwnerId?: string;
  /** Only when the client named one: then the account's currency must match. */
  currency?: string;
  /**
   * Fee-charging and limited types: the account's terms version the fee and the limits were
   * taken from (0: never set). A stale guess fails the condition and the movement is priced and
   * limited again; it never commits with stale terms.
   */
  termsVersion?: number;
  /** Debits: an operator let this one take the balance below zero (a reversal's). */
  allowNegative?: boolean;
}

export interface MovementWrite {
  transactionId: string;
  /** The account the request names; the marker lives under it. */
  accountId: string;
  type: MovementType;
  amount: number;
  /** Charged to the named account on top of `amount` (absent: none). */
  fee?: number;
  idempotencyKey: string;
  requestHash: string;
  createdAt: string;
  expiresAt: number;
  /** The named account's update, then the counterparty's (a transfer's credited side). */
  account: AccountCondition;
  counterparty?: AccountCondition & { type: MovementType };
  /** PAYOUT: the payout record written with the hold. */
  payout?: Payout;
  /** The client's details, only those given; a description or metadata get their own item. */
  details?: MovementDetails;
  /** A reversal: what it reverses, and its cap, checked in the same write. */
  reversal?: ReversalWrite;
  /** A limited type: the day's counter it adds what it charges to, within these limits. */
  limit?: LimitWrite;
  /** Room given back to a day's counter (a reversal of an outgoing movement of today). */
  limitRelease?: { day: string; amount: number };
}

/** The day's counter a limited movement adds to, and the limits its condition holds it to. */
export interface LimitWrite {
  day: string;
  daily: number;
  perMovement: number;
}

/** A reversal's link to the original and the counter that caps all its reversals. */
export interface ReversalWrite extends Required<Pick<ReversalDetails, 'reversalOf' | 'reason'>> {
  /** The original's type on the named account. */
  reversedType: MovementType;
  /** The original's type on the counterparty (a transfer's destination). */
  counterpartyReversedType?: MovementType;
  /** The original's amount: the reversals' total may not pass it. */
  originalAmount: number;
  negativeAllowed?: boolean;
}

/** Why a money transaction was cancelled: which conditions failed, and the state then. */
export interface CancelledMovement {
  committed: false;
  /** The account's condition failed; `account` is its state at that moment (null: no such item). */
  accountRefused: boolean;
  account: Account | null;
  /** Transfers: the credited account's condition failed, and its state then. */
  counterpartyRefused: boolean;
  counterparty: Account | null;
  /** A marker already exists for this (account, key). */
  existingMarker: Marker | null;
  /** A reversal's cap refused it: what the original's reversals took before it. */
  reversalRefused?: { reversed: number };
  /** The day's counter refused it (a limit): what the day had used before it. */
  limitRefused?: { used: number };
}

export type MovementWriteResult = { committed: true } | CancelledMovement;

export interface MovementStore {
  /**
   * One movement as ONE atomic write: every account's conditional update, their pending entries,
   * the payout record for a payout, and the idempotency marker. Conditions that fail come back
   * as a `CancelledMovement`; a conflict or throttling as `TransientStoreError`.
   */
  writeMovement(movement: MovementWrite): Promise<MovementWriteResult>;
  getMarker(accountId: string, idempotencyKey: string): Promise<Marker | null>;
  /** Records a refusal as the key's outcome, unless another attempt's marker got there first. */
  recordRefusal(
    marker: RefusedMarker,
    expiresAt: number,
  ): Promise<{ recorded: true } | { recorded: false; existing: Marker }>;
}

// ---------------------------------------------------------------------------------------------
// Payouts

export type PayoutResolution =
  | { status: 'POSTED'; gatewayReference: string; at: string }
  | { status: 'VOIDED'; voidReason: string; at: string };

export interface PayoutStore {
  getPayout(accountId: string, transactionId: string): Promise<Payout | null>;
  /** Posts or voids a PENDING payout's hold atomically; false when it was no longer PENDING. */
  resolvePayout(payout: Payout, resolution: PayoutResolution): Promise<boolean>;
  /** Records a gateway call whose outcome is unknown (no-op once resolved). */
  recordPayoutAttempt(payout: Payout, at: string, error: string): Promise<void>;
  /** Unresolved payouts, soonest hold expiry first; may lag the table (eventually consistent). */
  listOpenPayouts(limitPerShard: number): Promise<Payout[]>;
}

// ---------------------------------------------------------------------------------------------
// The statement: pending entries and sequenced lines

/** A movement committed but not yet given its place in the statement. */
export interface PendingEntry extends DetailsMark, ReversalDetails {
  transactionId: string;
  accountId: string;
  type: MovementType;
  amount: number;
  fee?: number;
  idempotencyKey: string;
  createdAt: string;
  /** Payouts: PENDING while held, then the outcome until the sequencer writes the line. */
  status?: EntryStatus;
  counterpartyAccountId?: string;
  destination?: string;
}

/**
 * A statement line as the sequencer writes it: its place and balance are known. `committedAt`,
 * the instant of the account's change, is what its `postedAt` derives from; it is not kept.
 */
export type StatementLine = LedgerEntry & {
  sequence: number;
  balanceAfter: number;
  committedAt?: string;
};

/** What each type of movement moved (posted lines' amounts); a type with none is absent. */
export type MovementTotals = Partial<Record<MovementType, number>>;

/**
 * The running figures of an account's statement through one line (lib/domain/statement-figures.ts):
 * a statement, a filter or a balance at an instant reads two lines, not the lines between them.
 */
export interface LineFigures {
  /** The instant the line counts at: its commit instant, never before the previous line's. */
  postedAt: string;
  /** What each type's posted lines moved, from the first line through this one. */
  totalsAfter: MovementTotals;
  /** The fees posted lines charged, from the first line through this one. */
  feesAfter: number;
}

/** A line with its figures; lines written before the figures existed have none until completed. */
export type PlacedLine = StatementLine & LineFigures;
export type StoredLine = StatementLine & Partial<LineFigures>;

/** A movement type and a status its lines can have: one partition of the history index. */
export interface LineKind {
  type: MovementType;
  status: EntryStatus;
}

/** A place in the history index's order: by `postedAt`, then `sequence`. */
export interface HistoryPosition {
  postedAt: string;
  sequence: number;
}

/** One read of the history index: the lines of `kinds` with `postedAt` in [from, to). */
export interface IndexedLinesQuery {
  kinds: LineKind[];
  /** Instants (ISO 8601, UTC, milliseconds): `from` included, `to` excluded. */
  from?: string;
  to?: string;
  /** Only lines past this place (in the direction read). */
  after?: HistoryPosition;
  newestFirst: boolean;
  limit: number;
}

/** The most lines `writeStatementLines` takes at once: the sequencer's chunk of one account. */
export const STATEMENT_CHUNK = 25;

export interface StatementStore {
  /** Pending entries newest first by transaction id, below `beforeTransactionId` when given. */
  listPending(
    accountId: string,
    limit: number,
    beforeTransactionId?: string,
  ): Promise<PendingEntry[]>;
  /** Statement lines newest first below `beforeSequence`; one more than `limit` if there are. */
  listStatement(accountId: string, limit: number, beforeSequence?: number): Promise<LedgerEntry[]>;
  /** Every line above `afterSequence`, newest first. */
  listStatementAbove(accountId: string, afterSequence: number): Promise<LedgerEntry[]>;
  /**
   * Writes up to `STATEMENT_CHUNK` lines of one account, then retires their pending entries.
   * Lines with figures are also indexed by (account, type, status, `postedAt`).
   */
  writeStatementLines(
    lines: Array<StatementLine & Partial<LineFigures>>,
    sequencedAt: string,
  ): Promise<void>;
  /** Lines from `fromSequence` up through `throughSequence` (if given), oldest first; strongly consistent. */
  readStatement(
    accountId: string,
    fromSequence: number,
    limit: number,
    throughSequence?: number,
  ): Promise<StoredLine[]>;
  /** Sets the figures of lines written before figures existed (and indexes them). */
  setLineFigures(lines: PlacedLine[]): Promise<void>;
  /**
   * The line latest in the history index's order whose `postedAt` is before `before`, among
   * `kinds`. The index trails the statement by about a second: callers confirm with `readStatement`.
   */
  lastIndexedLineBefore(
    accountId: string,
    before: string,
    kinds: LineKind[],
  ): Promise<PlacedLine | null>;
  /** Lines of the history index, merged across `kinds` in its order; one more than `limit` if there are. */
  listIndexedLines(accountId: string, query: IndexedLinesQuery): Promise<PlacedLine[]>;
  /** A movement's line among the account's newest lines; null when pending or older. */
  findRecentLine(accountId: string, transactionId: string): Promise<LedgerEntry | null>;
  /**
   * The lines that carry `reference`, newest first below `beforeSequence`; one more than `limit`
   * if there are. From an index: a line may show up there a moment after it was written.
   */
  listStatementByReference(
    accountId: string,
    reference: string,
    limit: number,
    beforeSequence?: number,
  ): Promise<LedgerEntry[]>;
  /** The description and metadata of the movements given, by transaction id (none: absent). */
  readDetails(transactionIds: string[]): Promise<Map<string, MovementDetails>>;
}

// ---------------------------------------------------------------------------------------------
// System accounts (double entry; docs/double-entry.md)

/** The service's own accounts, one per currency: the other side of money entering or leaving. */
export const SYSTEM_ACCOUNTS = ['funding', 'clearing', 'revenue'] as const;
export type SystemAccount = (typeof SYSTEM_ACCOUNTS)[number];

/** One account's chunk of statement lines, as the system accounts receive it. */
export interface SystemPostings {
  accountId: string;
  currency: string;
  /** The chunk's first and last sequence: the account's lines applied are tracked by sequence. */
  firstSequence: number;
  lastSequence: number;
  /** What each system account receives from the chunk, summed (absent or 0: nothing). */
  amounts: Partial<Record<SystemAccount, number>>;
}

export interface SystemLedgerStore {
  /**
   * Adds the chunk's amounts to the system accounts and records the account's lines as applied
   * through `lastSequence`, atomically, when the chunk follows the lines applied so far exactly
   * (or the account has none applied yet). Otherwise nothing is written and the answer is how
   * far the account's lines were applied: past the chunk's start (a redelivery), or short of it
   * (a gap: earlier lines not yet posted).
   */
  applySystemPostings(
    postings: SystemPostings,
  ): Promise<{ applied: true } | { applied: false; appliedThrough: number }>;
  /** Every system account's balance per currency, summed over its shards. */
  systemBalances(): Promise<Record<string, Partial<Record<SystemAccount, number>>>>;
}

// ---------------------------------------------------------------------------------------------
// An account's terms: fee schedules (lib/domain/fees.ts) and limits (lib/domain/limits.ts)

/** An account's fee schedule as stored, with the terms version it was set at. */
export interface StoredFees {
  version: number;
  schedule: FeeSchedule;
  changed: ControlChange;
}

/** An account's limits override as stored, with the terms version it was set at. */
export interface StoredLimits {
  version: number;
  limits: LimitsOverride;
  changed: LimitsChange;
}

export interface TermsStore {
  /**
   * Replaces the account's schedule and moves the account's `termsVersion` up by one, recording
   * who changed it, when and why, atomically; null for no such account.
   */
  setFees(
    accountId: string,
    schedule: FeeSchedule,
    change: ControlChange & { id: string },
  ): Promise<StoredFees | null>;
  /** Strongly consistent; null if the account's schedule was never set. */
  getFees(accountId: string): Promise<StoredFees | null>;
  /** As `setFees`, for the limits override; the change carries the limits before and after. */
  setLimits(
    accountId: string,
    limits: LimitsOverride,
    change: LimitsChange & { id: string },
  ): Promise<StoredLimits | null>;
  /** Strongly consistent; null if the account's limits were never set. */
  getLimits(accountId: string): Promise<StoredLimits | null>;
  /** Both, in one round trip, strongly consistent: what a cancelled movement learns. */
  getTerms(accountId: string): Promise<AccountTerms>;
  /** What left the account on a day (its counter; 0 if none), strongly consistent. */
  getLimitUsed(accountId: string, day: string): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Posted movements by id, for their reversals (lib/domain/reversals.ts)

/** A posted movement as a reversal needs it: the accounts it moved and how much. */
export interface TransactionRecord {
  transactionId: string;
  accountId: string;
  type: MovementType;
  amount: number;
  currency: string;
  /** A transfer: the credited account, and its side's type. */
  counterpartyAccountId?: string;
  counterpartyType?: MovementType;
  /** A payout's outcome (a voided one is not reversed); absent means POSTED. */
  status?: EntryStatus;
  /** When it committed (absent on records of the first design): its day's limit room. */
  createdAt?: string;
}

export interface Reversal {
  transactionId: string;
  amount: number;
  reason: string;
}

export interface TransactionRecordView extends TransactionRecord {
  /** What its reversals took so far, and each of them. */
  reversed: number;
  reversals: Reversal[];
}

export interface TransactionStore {
  /**
   * Null when no posted movement has the id (yet: a movement is found once its statement line is
   * written, and the index it is found by may lag that by a moment). The count is strongly
   * consistent.
   */
  getTransaction(transactionId: string): Promise<TransactionRecordView | null>;
  /** The reversals of each of these movements that has any (history's link to them). */
  reversalsOf(transactionIds: string[]): Promise<Map<string, Reversal[]>>;
}

// ---------------------------------------------------------------------------------------------
// Operator controls

export interface ControlStore {
  /** Sets the account's freeze flag and records the change; null for no such account. */
  setFrozen(
    accountId: string,
    frozen: boolean,
    change: ControlChange & { id: string },
  ): Promise<Account | null>;
  getWithdrawalControl(): Promise<WithdrawalControl>;
  setWithdrawalControl(control: { paused: boolean; changed: ControlChange }): Promise<void>;
}

export interface HealthProbe {
  ping(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Returned payouts: how far the gateway's feed was read (lib/domain/returns.ts)

/** A return read from the feed that could not be settled yet, kept to be tried again. */
export interface WaitingReturn extends PayoutReturn {
  /** When this service first read it: how long it has waited. */
  firstSeenAt: string;
}

export interface ReturnsProgress {
  /** The feed's cursor past every return settled or kept below (absent: from the start). */
  cursor?: string;
  waiting: WaitingReturn[];
  /** 0 until first saved, then one more per save. */
  version: number;
}

export interface ReturnsStore {
  /** Strongly consistent; `{waiting: [], version: 0}` before the first save. */
  getReturnsProgress(): Promise<ReturnsProgress>;
  /**
   * Stores the cursor and the waiting returns as version `progress.version + 1`, on condition
   * that the stored version is still `progress.version`; false (nothing written) otherwise:
   * another pass saved first.
   */
  saveReturnsProgress(progress: ReturnsProgress): Promise<boolean>;
}

/** Every store port: what one adapter (DynamoDB, or the in-memory one in tests) provides. */
export type LedgerStore = AccountStore &
  MovementStore &
  TermsStore &
  TransactionStore &
  PayoutStore &
  StatementStore &
  SystemLedgerStore &
  ControlStore &
  ReturnsStore &
  HealthProbe;

// ---------------------------------------------------------------------------------------------
// The payout gateway

export interface PayoutInstruction {
  idempotencyKey: string;
  /** Integer minor units (cents), >= 1. */
  amount: number;
  currency: string;
  destination: string;
}

export type GatewayOutcome =
  /** The money was sent; definite. */
  | { status: 'SUCCEEDED'; reference: string }
  /** The money was not sent and never will be under this key; definite. */
  | { status: 'REFUSED'; reason: string };

export type CancelOutcome = { status: 'CANCELLED' } | GatewayOutcome;

export interface PayoutGateway {
  /** Idempotent by key: the same key never pays twice and answers with its first outcome. */
  send(instruction: PayoutInstruction): Promise<GatewayOutcome>;
  /**
   * Stops a payout that has not been executed (used when a hold expires). If it already finished,
   * answers its outcome instead; a cancelled key can never pay later.
   */
  cancel(idempotencyKey: string): Promise<CancelOutcome>;
}

/** A payout the gateway paid, then reported as returned: the money came back to it. */
export interface PayoutReturn {
  /** The payout's key at the gateway: its transaction id here. */
  idempotencyKey: string;
  /** The gateway's reference of the payout, when it gives one. */
  reference?: string;
  returnedAt: string;
  reason: string;
}

export interface ReturnsPage {
  /** Oldest first. */
  returns: PayoutReturn[];
  /** The cursor past this page's returns: where the next read starts. */
  next: string;
}

/**
 * The gateway's feed of returned payouts. Replayable: a return stays in the feed, and a read
 * from an earlier cursor (or from the start) reports it again, so whoever reads it keeps its own
 * cursor and settles each return idempotently.
 */
export interface PayoutReturnsFeed {
  /** The returns reported after `after` (from the first, without one). */
  returns(after?: string): Promise<ReturnsPage>;
}

/**
 * The outcome is unknown (timeout, network error, 5xx, 429, malformed answer): ask again later by
 * the same key, never guess.
 */
export class GatewayUnavailableError extends Error {
  override readonly name: string = 'GatewayUnavailableError';
  /** Machine-readable: `timeout`, `network_error`, `status_503`, `malformed_response`, … */
  readonly reason: string;
  /** The HTTP status, when the gateway answered one. */
  readonly status: number | undefined;

  constructor(reason: string, options: { status?: number; cause?: unknown } = {}) {
    super(`payout gateway outcome unknown: ${reason}`, { cause: options.cause });
    this.reason = reason;
    this.status = options.status;
  }
}

// ---------------------------------------------------------------------------------------------
// Observability

/** What the money path counts; CloudWatch in Lambda (`lib/metrics.ts`), nothing in tests. */
export interface MovementMetrics {
  committed(type: MovementType): void;
  replayed(type: MovementType): void;
  refused(type: MovementType, reason: string): void;
  /** A transaction cancelled by a conflicting one, retried (`gaveUp`: the retries ran out). */
  conflict(type: MovementType, gaveUp: boolean): void;
}

/** Structured log lines: one per state change, never a secret. */
export interface Log {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}
