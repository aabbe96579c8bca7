/**
 * The ledger's store ports in memory, for domain unit tests that run in milliseconds. Its
 * semantics are the DynamoDB adapters' (`lib/persistence/*-store.ts`), and
 * `test/support/store-contract.ts` holds it to that: the same cases run against both. Each call
 * is atomic (it reads and writes without yielding) and every answer is a copy. For retry paths
 * and races a test can make the next calls of a method fail, before or after they take effect
 * (`failNext`, `failAfterNext`), fail every call that matches (`failWhen`), or run something just
 * before a call (`beforeNext`); `calls` tells what was asked.
 */
import {
  STATEMENT_CHUNK,
  type AccountCondition,
  type CancelledMovement,
  type LedgerStore,
  type Marker,
  type MovementWrite,
  type MovementWriteResult,
  type PayoutResolution,
  type PendingEntry,
  type ReturnsProgress,
  type Reversal,
  type ReversalWrite,
  type HistoryPosition,
  type LineKind,
  type PlacedLine,
  type StatementLine,
  type StoredFees,
  type StoredLine,
  type StoredLimits,
  SYSTEM_ACCOUNTS,
  type SystemAccount,
  type SystemLedgerStore,
} from '../../lib/domain/ports';
import {
  chargedOf,
  detailsMarkOf,
  reversalDetailsOf,
  type Account,
  type ControlChange,
  type LedgerEntry,
  type MovementDetails,
  type MovementType,
  type Payout,
} from '../../lib/domain/types';
import { openPayoutIndexAttributes, openPayoutShards } from '../../lib/persistence/keys';
import { hasFigures } from '../../lib/domain/statement-figures';
// The contract's definition of the marker a commit leaves, which the adapter is held to as well.
import { transactionRecordOf } from '../../lib/domain/reversals';
import { markerOf } from './store-contract';

export type StoreMethod = keyof LedgerStore;

/** An operator's freeze or unfreeze as the adapter records it beside the account. */
export interface ControlRecord extends ControlChange {
  id: string;
  accountId: string;
  action: 'FREEZE' | 'UNFREEZE';
}

export interface MemoryLedgerStore extends LedgerStore {
  /** The next `times` calls of `method` throw `error` and change nothing. */
  failNext(method: StoreMethod, error: Error, times?: number): void;
  /** The next `times` calls of `method` take effect, then throw `error`: an answer lost in transit. */
  failAfterNext(method: StoreMethod, error: Error, times?: number): void;
  /**
   * Runs `hook` with the call's arguments just before the next call of `method` (say, a
   * concurrent movement, or the lost first attempt of this very call); a hook that throws fails
   * the call.
   */
  beforeNext<M extends StoreMethod>(
    method: M,
    hook: (...args: Parameters<LedgerStore[M]>) => unknown,
  ): void;
  /** From now on, every call of `method` whose arguments pass `test` throws `error`. */
  failWhen<M extends StoreMethod>(
    method: M,
    test: (...args: Parameters<LedgerStore[M]>) => boolean,
    error: Error,
  ): void;
  /** The arguments of every call of `method` so far, oldest first, as they were then. */
  calls<M extends StoreMethod>(method: M): Parameters<LedgerStore[M]>[];
  /** The freeze records of an account, oldest first. */
  controlRecords(accountId: string): ControlRecord[];
}

export interface MemoryStoreOptions {
  /** Accounts as they are before the test: any balance, flags or last movement. */
  accounts?: Account[];
  /** Idempotency markers an earlier request left. */
  markers?: Marker[];
}

/** The newest lines a replay looks through for its movement's (the adapter's one Query). */
const REPLAY_LOOKBACK = 100;

/** What a round trip through the table does to a value: a deep copy, undefined attributes gone. */
const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const copyOrNull = <T>(value: T | undefined): T | null =>
  value === undefined ? null : stored(value);
const pair = (first: string, second: string): string => `${first}\u0000${second}`;
const newestFirst = (a: { sequence: number }, b: { sequence: number }) => b.sequence - a.sequence;

/** The items of the one table, each map keyed as its item is found. */
class Tables {
  readonly accounts = new Map<string, Account>();
  /** By (account, idempotency key). */
  readonly markers = new Map<string, Marker>();
  /** By (account, transaction id). */
  readonly pending = new Map<string, PendingEntry>();
  /** By (account, transaction id). */
  readonly payouts = new Map<string, Payout>();
  /** By account, then sequence. */
  readonly lines = new Map<string, Map<number, StoredLine>>();
  /** A movement's description and metadata, by transaction id. */
  readonly details = new Map<string, MovementDetails>();
  readonly controls: ControlRecord[] = [];
  /** How far each account's lines were posted to the system accounts. */
  readonly applied = new Map<string, number>();
  /** By (currency, system account): the shards' sum (the fake keeps no shards). */
  readonly system = new Map<string, number>();
  /** A reversed movement's count of its reversals, by its transaction id (the first creates it). */
  readonly reversalCounts = new Map<string, { reversed: number; reversals: Reversal[] }>();
  /** By account: its fee schedule and last change (the version is on the account too). */
  readonly fees = new Map<string, StoredFees>();
  /** By account: its limits override and last change. */
  readonly limits = new Map<string, StoredLimits>();
  /** By (account, day): what left the account that day. */
  readonly limitUsed = new Map<string, number>();
  withdrawals: { paused: boolean; changed: ControlChange } | undefined;
  /** The returns reader's progress (one item). */
  returnsProgress: ReturnsProgress | undefined;

  account(accountId: string): Account {
    const account = this.accounts.get(accountId);
    if (account === undefined) throw new Error(`no account ${accountId}`);
    return account;
  }

  linesOf(accountId: string): StoredLine[] {
    return [...(this.lines.get(accountId)?.values() ?? [])].sort(newestFirst);
  }
}

export function memoryLedgerStore(options: MemoryStoreOptions = {}): MemoryLedgerStore {
  const tables = new Tables();
  for (const account of options.accounts ?? []) {
    tables.accounts.set(account.accountId, stored(account));
  }
  for (const marker of options.markers ?? []) {
    tables.markers.set(pair(marker.accountId, marker.idempotencyKey), stored(marker));
  }
  const ports: LedgerStore = {
    ...accountPorts(tables),
    ...movementPorts(tables),
    ...payoutPorts(tables),
    ...statementPorts(tables),
    ...controlPorts(tables),
    ...systemPorts(tables),
    ...termsPorts(tables),
    ...transactionPorts(tables),
    ...returnsPorts(tables),
  };
  return {
    ...instrumented(ports),
    controlRecords: (id) => stored(tables.controls.filter((r) => r.accountId === id)),
  };
}

// ---------------------------------------------------------------------------------------------
// Fault injection and call records

type Hook = (...args: unknown[]) => unknown;

interface Interception {
  hook: Hook;
  /** Run after the call took effect (its answer lost) rather than before it. */
  after: boolean;
}

type Instrumentation = Omit<MemoryLedgerStore, 'controlRecords'>;

function instrumented(ports: LedgerStore): Instrumentation {
  const always = new Map<StoreMethod, Hook[]>();
  const once = new Map<StoreMethod, Interception[]>();
  const log = new Map<StoreMethod, unknown[][]>();
  const add = <T>(map: Map<StoreMethod, T[]>, method: StoreMethod, ...items: T[]) => {
    map.set(method, [...(map.get(method) ?? []), ...items]);
  };
  const wrapped: Record<string, unknown> = {};
  for (const method of Object.keys(ports) as StoreMethod[]) {
    const run = ports[method] as (...args: unknown[]) => Promise<unknown>;
    wrapped[method] = async (...args: unknown[]) => {
      add(log, method, structuredClone(args));
      for (const hook of always.get(method) ?? []) await hook(...args);
      const next = once.get(method)?.shift();
      if (next && !next.after) await next.hook(...args);
      const result = await run(...args);
      if (next?.after) await next.hook(...args);
      return result;
    };
  }
  const failing = (error: Error, after: boolean, times: number): Interception[] =>
    Array.from({ length: times }, () => ({ hook: () => Promise.reject(error), after }));
  return {
    ...(wrapped as unknown as LedgerStore),
    failNext: (method, error, times = 1) => add(once, method, ...failing(error, false, times)),
    failAfterNext: (method, error, times = 1) => add(once, method, ...failing(error, true, times)),
    beforeNext: (method, hook) => add(once, method, { hook: hook as Hook, after: false }),
    failWhen: (method, test, error) =>
      add(always, method, (...args) => ((test as Hook)(...args) ? Promise.reject(error) : null)),
    calls: <M extends StoreMethod>(method: M) =>
      (log.get(method) ?? []) as unknown as Parameters<LedgerStore[M]>[],
  };
}

// ---------------------------------------------------------------------------------------------
// Accounts

function accountPorts(
  tables: Tables,
): Pick<LedgerStore, 'getAccount' | 'createAccount' | 'listAccountsByOwner' | 'ping'> {
  return {
    async getAccount(accountId) {
      return copyOrNull(tables.accounts.get(accountId));
    },
    async createAccount(account) {
      // The adapter's conditional puts fail as a cancelled transaction: not a transient error.
      if (tables.accounts.has(account.accountId)) {
        throw new Error(`account ${account.accountId} already exists`);
      }
      tables.accounts.set(account.accountId, stored(account));
    },
    async listAccountsByOwner(ownerId) {
      return [...tables.accounts.values()]
        .filter((account) => account.ownerId === ownerId)
        .sort(
          (a, b) =>
            a.createdAt.localeCompare(b.createdAt) || a.accountId.localeCompare(b.accountId),
        )
        .map(stored);
    },
    async ping() {},
  };
}

// ---------------------------------------------------------------------------------------------
// Movements and markers

/** One account's part in a movement: its condition, and the pending entry it gets. */
interface Side {
  condition: AccountCondition;
  entry: PendingEntry;
}

function movementPorts(
  tables: Tables,
): Pick<LedgerStore, 'writeMovement' | 'getMarker' | 'recordRefusal'> {
  return {
    async writeMovement(movement) {
      return writeMovement(tables, stored(movement));
    },
    async getMarker(accountId, idempotencyKey) {
      return copyOrNull(tables.markers.get(pair(accountId, idempotencyKey)));
    },
    async recordRefusal(marker) {
      const key = pair(marker.accountId, marker.idempotencyKey);
      const existing = tables.markers.get(key);
      if (existing !== undefined) return { recorded: false, existing: stored(existing) };
      tables.markers.set(key, stored(marker));
      return { recorded: true };
    },
  };
}

/** All or nothing, as the adapter's one TransactWriteItems. */
function writeMovement(tables: Tables, movement: MovementWrite): MovementWriteResult {
  const sides = sidesOf(movement);
  if (sides[1]?.condition.accountId === movement.account.accountId) {
    // DynamoDB refuses a transaction with two operations on one item (a ValidationException).
    throw new Error('a movement cannot update one account twice');
  }
  const refused = sides.map(
    ({ condition, entry }) =>
      !meets(tables.accounts.get(condition.accountId), condition, chargedOf(entry)),
  );
  const marker = tables.markers.get(pair(movement.accountId, movement.idempotencyKey));
  const reversal = reversalRefused(tables, movement);
  const limit = limitRefused(tables, movement);
  if (refused.includes(true) || marker !== undefined || reversal !== undefined || limit) {
    return { ...cancellation(tables, sides, refused, marker), ...reversal, ...limit };
  }
  if (movement.payout && tables.payouts.has(pair(movement.accountId, movement.transactionId))) {
    // No condition the adapter reads failed: it rethrows the cancellation as the bug it is.
    throw new Error(`payout ${movement.transactionId} already exists`);
  }
  commit(tables, movement, sides);
  return { committed: true };
}

/** The reversal's cap, as the adapter's condition on the reversed movement's count. */
function reversalRefused(
  tables: Tables,
  movement: MovementWrite,
): { reversalRefused: { reversed: number } } | undefined {
  const reversal = movement.reversal;
  if (reversal === undefined) return undefined;
  const reversed = tables.reversalCounts.get(reversal.reversalOf)?.reversed ?? 0;
  if (reversed + movement.amount > reversal.originalAmount) {
    return { reversalRefused: { reversed } };
  }
  return undefined;
}

/** The day's limit counter, as the adapter's condition on it. */
function limitRefused(
  tables: Tables,
  movement: MovementWrite,
): { limitRefused: { used: number } } | undefined {
  const { limit } = movement;
  if (limit === undefined) return undefined;
  const used = tables.limitUsed.get(pair(movement.accountId, limit.day));
  const charged = chargedOf(movement);
  const fits =
    charged <= limit.perMovement &&
    (used === undefined ? charged <= limit.daily : used <= limit.daily - charged);
  return fits ? undefined : { limitRefused: { used: used ?? 0 } };
}

function addToLimit(tables: Tables, accountId: string, day: string, amount: number): void {
  const key = pair(accountId, day);
  tables.limitUsed.set(key, (tables.limitUsed.get(key) ?? 0) + amount);
}

function sidesOf(movement: MovementWrite): Side[] {
  const { account, counterparty, payout, reversal } = movement;
  const common = {
    transactionId: movement.transactionId,
    amount: movement.amount,
    createdAt: movement.createdAt,
    ...detailsMarkOf(movement.details ?? {}),
  };
  const own: Side = {
    condition: account,
    entry: {
      ...common,
      accountId: account.accountId,
      type: movement.type,
      idempotencyKey: movement.idempotencyKey,
      ...(counterparty ? { counterpartyAccountId: counterparty.accountId } : {}),
      ...(payout ? { status: 'PENDING', destination: payout.destination } : {}),
      ...(movement.fee ? { fee: movement.fee } : {}),
      ...(reversal ? reversalDetails(reversal, reversal.reversedType) : {}),
    },
  };
  if (counterparty === undefined) return [own];
  // The credited side knows the movement by its id: the Idempotency-Key is the requester's.
  const entry = { ...common, accountId: counterparty.accountId, type: counterparty.type };
  return [
    own,
    {
      condition: counterparty,
      entry: {
        ...entry,
        idempotencyKey: movement.transactionId,
        counterpartyAccountId: account.accountId,
        ...(reversal?.counterpartyReversedType
          ? reversalDetails(reversal, reversal.counterpartyReversedType)
          : {}),
      },
    },
  ];
}

const reversalDetails = (reversal: ReversalWrite, reversedType: MovementType) =>
  reversalDetailsOf({
    reversalOf: reversal.reversalOf,
    reversedType,
    ...(reversal.negativeAllowed ? { negativeAllowed: true } : {}),
  });

/** The account item's condition: it exists, has the funds or the room, and fits the rest. */
function meets(account: Account | undefined, condition: AccountCondition, amount: number): boolean {
  if (account === undefined) return false;
  const funded =
    condition.effect === 'credit'
      ? account.balance <= Number.MAX_SAFE_INTEGER - amount
      : condition.allowNegative === true || account.available >= amount;
  const priced =
    condition.termsVersion === undefined || condition.termsVersion === (account.termsVersion ?? 0);
  return (
    funded &&
    priced &&
    !(condition.frozenBlocks && account.frozen === true) &&
    (condition.requiredOwnerId === undefined || account.ownerId === condition.requiredOwnerId) &&
    (condition.currency === undefined || account.currency === condition.currency)
  );
}

/** What the adapter reads from the cancellation reasons: only a refused account's item. */
function cancellation(
  tables: Tables,
  sides: Side[],
  refused: boolean[],
  marker: Marker | undefined,
): CancelledMovement {
  const stateOf = (index: number) => {
    const accountId = sides[index]?.condition.accountId;
    return refused[index] === true && accountId !== undefined
      ? copyOrNull(tables.accounts.get(accountId))
      : null;
  };
  return {
    committed: false,
    accountRefused: refused[0] === true,
    account: stateOf(0),
    counterpartyRefused: refused[1] === true,
    counterparty: stateOf(1),
    existingMarker: copyOrNull(marker),
  };
}

function commit(tables: Tables, movement: MovementWrite, sides: Side[]): void {
  for (const { condition, entry } of sides) {
    const account = tables.account(condition.accountId);
    tables.accounts.set(condition.accountId, applied(account, condition.effect, entry));
    tables.pending.set(pair(entry.accountId, entry.transactionId), entry);
  }
  if (movement.payout) {
    tables.payouts.set(pair(movement.accountId, movement.transactionId), movement.payout);
  }
  if (movement.limit) {
    addToLimit(tables, movement.accountId, movement.limit.day, chargedOf(movement));
  }
  if (movement.limitRelease) {
    const { day, amount } = movement.limitRelease;
    addToLimit(tables, movement.accountId, day, -amount);
  }
  const { description, metadata } = movement.details ?? {};
  if (description !== undefined || metadata !== undefined) {
    tables.details.set(movement.transactionId, {
      ...(description !== undefined ? { description } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    });
  }
  if (movement.reversal) {
    const id = movement.reversal.reversalOf;
    const record = tables.reversalCounts.get(id) ?? { reversed: 0, reversals: [] };
    tables.reversalCounts.set(id, record);
    record.reversed += movement.amount;
    record.reversals.push({
      transactionId: movement.transactionId,
      amount: movement.amount,
      reason: movement.reversal?.reason ?? '',
    });
  }
  tables.markers.set(pair(movement.accountId, movement.idempotencyKey), markerOf(movement));
}

/**
 * A credit or debit moves the balance and bumps the version with the movement as the last one;
 * a hold moves available to pending and leaves the balance, the version and the last movement.
 */
function applied(
  account: Account,
  effect: AccountCondition['effect'],
  entry: PendingEntry,
): Account {
  const { createdAt: updatedAt } = entry;
  const amount = chargedOf(entry);
  if (effect === 'hold') {
    return {
      ...account,
      pending: account.pending + amount,
      available: account.available - amount,
      updatedAt,
    };
  }
  const { accountId: _accountId, ...lastMovement } = entry;
  const signed = effect === 'credit' ? amount : -amount;
  return {
    ...account,
    balance: account.balance + signed,
    available: account.available + signed,
    version: account.version + 1,
    updatedAt,
    lastMovement,
  };
}

// ---------------------------------------------------------------------------------------------
// Payouts

function payoutPorts(
  tables: Tables,
): Pick<LedgerStore, 'getPayout' | 'resolvePayout' | 'recordPayoutAttempt' | 'listOpenPayouts'> {
  return {
    async getPayout(accountId, transactionId) {
      return copyOrNull(tables.payouts.get(pair(accountId, transactionId)));
    },
    async resolvePayout(payout, resolution) {
      return resolvePayout(tables, payout, stored(resolution));
    },
    async recordPayoutAttempt(payout, at, error) {
      const record = tables.payouts.get(pair(payout.accountId, payout.transactionId));
      // Resolved meanwhile (or never written): nothing left to record.
      if (record?.status !== 'PENDING') return;
      record.attempts += 1;
      record.lastAttemptAt = at;
      record.lastError = error;
    },
    async listOpenPayouts(limitPerShard) {
      return openPayoutsByShard(tables)
        .flatMap((shard) => shard.slice(0, limitPerShard))
        .sort((a, b) => a.holdExpiresAt.localeCompare(b.holdExpiresAt))
        .map(stored);
    },
  };
}

/** From PENDING only; the account and the hold's entry must be there (else a broken invariant). */
function resolvePayout(tables: Tables, payout: Payout, resolution: PayoutResolution): boolean {
  const key = pair(payout.accountId, payout.transactionId);
  const record = tables.payouts.get(key);
  if (record?.status !== 'PENDING') return false;
  const account = tables.accounts.get(payout.accountId);
  const entry = tables.pending.get(key);
  if (account === undefined || account.pending < chargedOf(payout) || entry === undefined) {
    throw new Error(`payout ${payout.transactionId} is PENDING but its hold is not there`);
  }
  const posted = resolution.status === 'POSTED';
  tables.payouts.set(key, {
    ...record,
    status: resolution.status,
    updatedAt: resolution.at,
    ...(posted
      ? { gatewayReference: resolution.gatewayReference }
      : { voidReason: resolution.voidReason }),
  });
  tables.accounts.set(payout.accountId, released(account, payout, resolution));
  entry.status = resolution.status;
  if (!posted && payout.limitDay !== undefined) {
    addToLimit(tables, payout.accountId, payout.limitDay, -chargedOf(payout));
  }
  return true;
}

/** Posting takes the held amount out of the balance; voiding makes it available again. */
function released(account: Account, payout: Payout, resolution: PayoutResolution): Account {
  const amount = chargedOf(payout);
  const posted = resolution.status === 'POSTED';
  return {
    ...account,
    balance: posted ? account.balance - amount : account.balance,
    available: posted ? account.available : account.available + amount,
    pending: account.pending - amount,
    version: account.version + 1,
    updatedAt: resolution.at,
    lastMovement: {
      transactionId: payout.transactionId,
      type: 'PAYOUT',
      amount: payout.amount,
      ...(payout.fee ? { fee: payout.fee } : {}),
      idempotencyKey: payout.idempotencyKey,
      createdAt: payout.createdAt,
      status: resolution.status,
      destination: payout.destination,
      ...detailsMarkOf(payout),
    },
  };
}

/** Open payouts on the adapter's index shards, each shard soonest due first (its sort key). */
function openPayoutsByShard(tables: Tables): Payout[][] {
  const open = [...tables.payouts.values()]
    .filter((payout) => payout.status === 'PENDING')
    .map((payout) => ({
      payout,
      ...openPayoutIndexAttributes(payout.transactionId, payout.holdExpiresAt),
    }))
    .sort((a, b) => (a.openPayoutDue < b.openPayoutDue ? -1 : 1));
  return openPayoutShards().map((shard) =>
    open.filter((item) => item.openPayoutShard === shard).map((item) => item.payout),
  );
}

// ---------------------------------------------------------------------------------------------
// The statement

function statementPorts(
  tables: Tables,
): Pick<
  LedgerStore,
  | 'listPending'
  | 'listStatement'
  | 'listStatementAbove'
  | 'writeStatementLines'
  | 'findRecentLine'
  | 'listStatementByReference'
  | 'readDetails'
  | 'readStatement'
  | 'setLineFigures'
  | 'lastIndexedLineBefore'
  | 'listIndexedLines'
> {
  const entry = (line: StatementLine): LedgerEntry => stored(line);
  return {
    async listPending(accountId, limit, beforeTransactionId) {
      return [...tables.pending.values()]
        .filter((e) => e.accountId === accountId)
        .filter((e) => beforeTransactionId === undefined || e.transactionId < beforeTransactionId)
        .sort((a, b) => b.transactionId.localeCompare(a.transactionId))
        .slice(0, limit)
        .map(stored);
    },
    async listStatement(accountId, limit, beforeSequence) {
      if (beforeSequence !== undefined && beforeSequence <= 1) return [];
      return tables
        .linesOf(accountId)
        .filter((line) => beforeSequence === undefined || line.sequence < beforeSequence)
        .slice(0, limit + 1)
        .map(entry);
    },
    async listStatementAbove(accountId, afterSequence) {
      const floor = Math.max(0, afterSequence);
      return tables
        .linesOf(accountId)
        .filter((line) => line.sequence > floor)
        .map(entry);
    },
    async writeStatementLines(lines) {
      if (lines.length > STATEMENT_CHUNK) {
        throw new Error(`at most ${STATEMENT_CHUNK} lines at once`);
      }
      // The lines first, then the entries they replace: as the adapter confirms its puts.
      for (const line of lines) {
        const account = tables.lines.get(line.accountId) ?? new Map<number, StoredLine>();
        tables.lines.set(line.accountId, account.set(line.sequence, stored(line)));
      }
      for (const line of lines) tables.pending.delete(pair(line.accountId, line.transactionId));
    },
    async findRecentLine(accountId, transactionId) {
      const recent = tables.linesOf(accountId).slice(0, REPLAY_LOOKBACK);
      const line = recent.find((l) => l.transactionId === transactionId);
      return line === undefined ? null : entry(line);
    },
    async listStatementByReference(accountId, reference, limit, beforeSequence) {
      return tables
        .linesOf(accountId)
        .filter((line) => line.reference === reference)
        .filter((line) => beforeSequence === undefined || line.sequence < beforeSequence)
        .slice(0, limit + 1)
        .map(entry);
    },
    async readStatement(accountId, fromSequence, limit, throughSequence) {
      return tables
        .linesOf(accountId)
        .reverse()
        .filter((line) => line.sequence >= fromSequence)
        .filter((line) => throughSequence === undefined || line.sequence <= throughSequence)
        .slice(0, limit)
        .map(stored);
    },
    async setLineFigures(lines) {
      for (const line of lines) {
        const kept = tables.lines.get(line.accountId)?.get(line.sequence);
        if (kept === undefined) throw new Error(`no line ${line.sequence}`);
        const { postedAt, totalsAfter, feesAfter } = line;
        Object.assign(kept, stored({ postedAt, totalsAfter, feesAfter }));
      }
    },
    // The adapter's history index, without its lag: the lines that have figures, by position.
    async lastIndexedLineBefore(accountId, before, kinds) {
      const [newest] = indexed(tables, accountId, kinds)
        .filter((line) => line.postedAt < before)
        .reverse();
      return newest === undefined ? null : stored(newest);
    },
    async listIndexedLines(accountId, query) {
      const { from, to, after } = query;
      const past = (line: PlacedLine) =>
        after === undefined || compareHistory(line, after) * (query.newestFirst ? -1 : 1) > 0;
      const lines = indexed(tables, accountId, query.kinds).filter(
        (line) =>
          (from === undefined || line.postedAt >= from) &&
          (to === undefined || line.postedAt < to) &&
          past(line),
      );
      if (query.newestFirst) lines.reverse();
      return lines.slice(0, query.limit + 1).map(stored);
    },
    async readDetails(transactionIds) {
      const found = transactionIds.flatMap((id) => {
        const details = tables.details.get(id);
        return details === undefined ? [] : [[id, stored(details)] as const];
      });
      return new Map(found);
    },
  };
}

/** An account's lines with figures, of the kinds asked, in the history index's order. */
function indexed(tables: Tables, accountId: string, kinds: LineKind[]): PlacedLine[] {
  const wanted = new Set(kinds.map((kind) => `${kind.type}#${kind.status}`));
  return tables
    .linesOf(accountId)
    .filter((line): line is PlacedLine => hasFigures(line))
    .filter((line) => wanted.has(`${line.type}#${line.status}`))
    .sort(compareHistory);
}

const compareHistory = (a: HistoryPosition, b: HistoryPosition): number =>
  a.postedAt === b.postedAt ? a.sequence - b.sequence : a.postedAt < b.postedAt ? -1 : 1;

// ---------------------------------------------------------------------------------------------
// Operator controls

/** System accounts: the adapter's watermark and sums, without its shards. */
function systemPorts(tables: Tables): SystemLedgerStore {
  return {
    applySystemPostings: async (postings) => {
      const appliedThrough = tables.applied.get(postings.accountId);
      if (appliedThrough !== undefined && appliedThrough !== postings.firstSequence - 1) {
        return { applied: false, appliedThrough };
      }
      tables.applied.set(postings.accountId, postings.lastSequence);
      for (const [name, amount] of Object.entries(postings.amounts)) {
        if (!amount) continue;
        const key = pair(postings.currency, name);
        tables.system.set(key, (tables.system.get(key) ?? 0) + amount);
      }
      return { applied: true };
    },
    systemBalances: async () => {
      const balances: Record<string, Partial<Record<SystemAccount, number>>> = {};
      for (const [key, balance] of tables.system) {
        const [currency = '', name = ''] = key.split('\u0000');
        const known = SYSTEM_ACCOUNTS.find((account) => account === name);
        if (known !== undefined) (balances[currency] ??= {})[known] = balance;
      }
      return balances;
    },
  };
}

/** An account's terms: the version on the account, fees and limits with their last change. */
function termsPorts(
  tables: Tables,
): Pick<
  LedgerStore,
  'setFees' | 'getFees' | 'setLimits' | 'getLimits' | 'getTerms' | 'getLimitUsed'
> {
  const nextVersion = (accountId: string): number | null => {
    const account = tables.accounts.get(accountId);
    if (account === undefined) return null;
    const version = (account.termsVersion ?? 0) + 1;
    tables.accounts.set(accountId, { ...account, termsVersion: version });
    return version;
  };
  return {
    async setFees(accountId, schedule, { id: _id, ...changed }) {
      const version = nextVersion(accountId);
      if (version === null) return null;
      const fees: StoredFees = { version, schedule, changed };
      tables.fees.set(accountId, stored(fees));
      return stored(fees);
    },
    async getFees(accountId) {
      return copyOrNull(tables.fees.get(accountId));
    },
    async setLimits(accountId, limits, { id: _id, ...changed }) {
      const version = nextVersion(accountId);
      if (version === null) return null;
      const set: StoredLimits = { version, limits, changed };
      tables.limits.set(accountId, stored(set));
      return stored(set);
    },
    async getLimits(accountId) {
      return copyOrNull(tables.limits.get(accountId));
    },
    async getTerms(accountId) {
      const fees = tables.fees.get(accountId);
      const limits = tables.limits.get(accountId);
      return stored({
        version: Math.max(fees?.version ?? 0, limits?.version ?? 0),
        fees: fees?.schedule ?? {},
        limits: limits?.limits ?? {},
      });
    },
    async getLimitUsed(accountId, day) {
      return tables.limitUsed.get(pair(accountId, day)) ?? 0;
    },
  };
}

/** Posted movements by id, from the statement line that started each (the adapter's index). */
function transactionPorts(tables: Tables): Pick<LedgerStore, 'getTransaction' | 'reversalsOf'> {
  return {
    async getTransaction(transactionId) {
      const starting = [...tables.lines.values()]
        .flatMap((lines) => [...lines.values()])
        .filter((line) => line.transactionId === transactionId)
        .map(transactionRecordOf)
        .filter((record) => record !== null);
      const record = starting[starting.length - 1];
      if (record === undefined) return null;
      const count = tables.reversalCounts.get(transactionId);
      return stored({
        ...record,
        reversed: count?.reversed ?? 0,
        reversals: count?.reversals ?? [],
      });
    },
    async reversalsOf(transactionIds) {
      const found = new Map<string, Reversal[]>();
      for (const id of transactionIds) {
        const reversals = tables.reversalCounts.get(id)?.reversals ?? [];
        if (reversals.length > 0) found.set(id, stored(reversals));
      }
      return found;
    },
  };
}

function controlPorts(
  tables: Tables,
): Pick<LedgerStore, 'setFrozen' | 'getWithdrawalControl' | 'setWithdrawalControl'> {
  return {
    async setFrozen(accountId, frozen, change) {
      const account = tables.accounts.get(accountId);
      if (account === undefined) return null;
      const flagged = frozen
        ? { ...account, frozen, frozenAtVersion: account.version }
        : { ...account, frozen };
      tables.accounts.set(accountId, flagged);
      tables.controls.push({
        ...stored(change),
        accountId,
        action: frozen ? 'FREEZE' : 'UNFREEZE',
      });
      return stored(flagged);
    },
    async getWithdrawalControl() {
      const control = tables.withdrawals;
      return control === undefined ? { paused: false, changed: null } : stored(control);
    },
    async setWithdrawalControl({ paused, changed: { by, at, reason } }) {
      tables.withdrawals = { paused, changed: { by, at, reason } };
    },
  };
}

function returnsPorts(
  tables: Tables,
): Pick<LedgerStore, 'getReturnsProgress' | 'saveReturnsProgress'> {
  return {
    async getReturnsProgress() {
      return stored(tables.returnsProgress ?? { waiting: [], version: 0 });
    },
    async saveReturnsProgress(progress) {
      if ((tables.returnsProgress?.version ?? 0) !== progress.version) return false;
      tables.returnsProgress = stored({ ...progress, version: progress.version + 1 });
      return true;
    },
  };
}
