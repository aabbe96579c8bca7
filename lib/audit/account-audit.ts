/**
 * One account judged as the table holds it (its item, statement lines, pending entries and
 * markers, read at rest): each rule of the audit (ledger-audit.ts) is a function here that
 * lists what breaks it. Transfers are paired across accounts afterwards (transfers.ts).
 */
import { balanceEffect, type EntryStatus, type MovementType } from '../domain/types';
import { MOVEMENT_TYPES, isOtherSide } from '../domain/movement-types';
import { num, str, type Item } from './table';

export interface AccountAudit {
  accountId: string;
  ownerId: string;
  balance: number;
  version: number;
  statementLines: number;
  lastSequence: number;
  pending: Array<{ transactionId: string; type: string; amount: number }>;
  markers: number;
  problems: string[];
  /** Both sides of transfers seen on the account (statement lines and pending entries). */
  transfers: TransferSide[];
}

export interface TransferSide {
  transactionId: string;
  side: 'TRANSFER_OUT' | 'TRANSFER_IN';
  accountId: string;
  counterparty: string;
  amount: number;
}

const KNOWN_TYPES = new Set<string>(MOVEMENT_TYPES);
/** What an entry does to the posted balance (an unknown type poisons the sum on purpose). */
const signed = (item: Item): number =>
  KNOWN_TYPES.has(str(item.type))
    ? balanceEffect({
        type: item.type as MovementType,
        amount: num(item.amount),
        fee: item.fee === undefined ? 0 : num(item.fee),
        status: (item.status as EntryStatus | undefined) ?? 'POSTED',
      })
    : Number.NaN;
/** An open payout's hold: in the pending partition, but no version bump and no balance effect yet. */
const isOpenHold = (item: Item): boolean => item.type === 'PAYOUT' && item.status === 'PENDING';

/** What the account's ledger says, gathered while its rules are checked. */
interface Reading {
  accountId: string;
  /** An operator let a reversal take this account below zero. */
  overdraft: boolean;
  problems: string[];
  /** Statement lines by sequence. */
  sorted: Item[];
  lineTx: Map<string, Item>;
  /** Each idempotency key that moved money, and the transaction it moved. */
  movedKeys: Map<string, string>;
}

/** No key moves money twice; a transfer's credit carries the source's key (keys are per debited account). */
function noteMovedKey(reading: Reading, item: Item, tx: string): void {
  if (
    KNOWN_TYPES.has(str(item.type)) &&
    isOtherSide({
      type: item.type as MovementType,
      ...(item.counterpartyAccountId !== undefined
        ? { counterpartyAccountId: str(item.counterpartyAccountId) }
        : {}),
    })
  )
    return;
  const key = str(item.idempotencyKey);
  const other = reading.movedKeys.get(key);
  if (other !== undefined) {
    reading.problems.push(
      `idempotency key ${JSON.stringify(key)} moved money twice (${other}, ${tx})`,
    );
  }
  reading.movedKeys.set(key, tx);
}

/**
 * Below zero only by an operator's word: some movement of the account was a reversal with
 * `negativeAllowed` (docs/double-entry.md).
 */
const negativeAllowedIn = (items: Item[]): boolean =>
  items.some((item) => item.negativeAllowed === true);

function balanceProblems(account: Item, balance: number, overdraft: boolean): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(balance))
    problems.push(`balance is not an integer: ${String(account.balance)}`);
  if (balance < 0 && !overdraft) problems.push(`balance ${balance} is below zero`);
  return problems;
}

/**
 * Lines numbered 1..n without gap or repeat, each balanceAfter chained, never below zero but by a
 * reversal an operator allowed to, or on the way back up from one.
 */
function readStatement(reading: Reading): number {
  let running = 0;
  reading.sorted.forEach((line, index) => {
    const sequence = num(line.sequence);
    const problem = (text: string): void => {
      reading.problems.push(text);
    };
    if (sequence !== index + 1)
      problem(`statement line ${index + 1} has sequence ${sequence} (gap or repeat)`);
    if (line.sk !== `L#${String(sequence).padStart(15, '0')}`)
      problem(`sequence ${sequence} is stored under ${str(line.sk)}`);
    if (str(line.accountId) !== reading.accountId)
      problem(`sequence ${sequence} belongs to ${str(line.accountId)}`);
    const amount = num(line.amount);
    if (!Number.isSafeInteger(amount) || amount < 1)
      problem(`sequence ${sequence} has amount ${String(line.amount)}`);
    const before = running;
    running += signed(line);
    if (num(line.balanceAfter) !== running) {
      problem(
        `sequence ${sequence}: balanceAfter ${String(line.balanceAfter)}, chained ${running}`,
      );
      running = num(line.balanceAfter);
    }
    const allowed = line.negativeAllowed === true || (before < 0 && running >= before);
    if (running < 0 && !allowed) problem(`sequence ${sequence}: balance below zero (${running})`);
    const tx = str(line.transactionId);
    if (reading.lineTx.has(tx)) problem(`transaction ${tx} has two statement lines`);
    reading.lineTx.set(tx, line);
    noteMovedKey(reading, line, tx);
  });
  const last = reading.sorted[reading.sorted.length - 1];
  return last === undefined ? 0 : num(last.balanceAfter);
}

/** Pending entries (committed, not yet sequenced) and open holds, none already a line. */
function readPending(reading: Reading, pendingItems: Item[]) {
  const pending: AccountAudit['pending'] = [];
  const totals = { pendingSum: 0, heldSum: 0, openHolds: 0 };
  for (const entry of pendingItems) {
    const tx = str(entry.transactionId);
    const line = reading.lineTx.get(tx);
    if (line !== undefined) {
      reading.problems.push(
        `pending entry ${tx} is already statement line ${String(line.sequence)} (not retired)`,
      );
      continue;
    }
    if (isOpenHold(entry)) {
      totals.openHolds += 1;
      // A payout holds its fee with its amount.
      totals.heldSum += num(entry.amount) + (entry.fee === undefined ? 0 : num(entry.fee));
    } else {
      pending.push({ transactionId: tx, type: str(entry.type), amount: num(entry.amount) });
      totals.pendingSum += signed(entry);
    }
    noteMovedKey(reading, entry, tx);
  }
  return { pending, ...totals };
}

/**
 * Holds: pending = the open holds' sum, available = balance − pending, never below zero;
 * balance = statement + pending entries; version = lines + pending entries.
 */
function totalsProblems(
  account: Item,
  reading: Reading,
  lastBalance: number,
  pending: ReturnType<typeof readPending>,
): string[] {
  const problems: string[] = [];
  const balance = num(account.balance);
  const version = num(account.version);
  const held = num(account.pending ?? 0);
  const available = num(account.available ?? balance);
  if (held !== pending.heldSum)
    problems.push(`pending ${held} ≠ the ${pending.openHolds} open holds' sum ${pending.heldSum}`);
  if (available !== balance - held)
    problems.push(`available ${available} ≠ balance ${balance} − pending ${held}`);
  if (available < 0 && !reading.overdraft) problems.push(`available ${available} is below zero`);
  const expected = lastBalance + pending.pendingSum;
  if (balance !== expected) {
    problems.push(
      `balance ${balance} ≠ statement (${lastBalance}) + pending (${pending.pendingSum}) = ${expected}`,
    );
  }
  const lines = reading.sorted.length;
  if (version !== lines + pending.pending.length)
    problems.push(
      `version ${version} ≠ ${lines} statement lines + ${pending.pending.length} pending`,
    );
  return problems;
}

/** With nothing pending, the account's lastMovement is its last statement line. */
function lastMovementProblems(account: Item, reading: Reading, pendingCount: number): string[] {
  const last = account.lastMovement as Item | undefined;
  const lastLine = reading.sorted[reading.sorted.length - 1];
  if (pendingCount > 0 || lastLine === undefined || last === undefined) return [];
  if (str(last.transactionId) === str(lastLine.transactionId)) return [];
  return [
    `lastMovement ${str(last.transactionId)} is not the last statement line ${str(lastLine.transactionId)}`,
  ];
}

/** A committed marker names a transaction of the ledger, with its amount, type, key and place. */
function committedMarkerProblems(marker: Item, line: Item | undefined, entry: Item): string[] {
  const key = JSON.stringify(str(marker.idempotencyKey));
  const problems: string[] = [];
  if (num(entry.amount) !== num(marker.amount) || entry.type !== marker.type) {
    problems.push(
      `marker for key ${key}: ${str(marker.type)} ${String(marker.amount)}, ledger ${str(entry.type)} ${String(entry.amount)}`,
    );
  }
  if (str(entry.idempotencyKey) !== str(marker.idempotencyKey)) {
    problems.push(
      `transaction ${str(marker.transactionId)} carries key ${JSON.stringify(str(entry.idempotencyKey))}, its marker ${key}`,
    );
  }
  if (line === undefined) return problems;
  if (marker.sequence !== undefined && num(marker.sequence) !== num(line.sequence)) {
    problems.push(
      `marker for key ${key} says sequence ${String(marker.sequence)}, the line is ${String(line.sequence)}`,
    );
  }
  if (marker.balanceAfter !== undefined && num(marker.balanceAfter) !== num(line.balanceAfter)) {
    problems.push(
      `marker for key ${key} says balanceAfter ${String(marker.balanceAfter)}, the line has ${String(line.balanceAfter)}`,
    );
  }
  return problems;
}

/** Markers agree with the ledger; a refused key moved no money; every moved key has its marker. */
function markerProblems(reading: Reading, pendingItems: Item[], markers: Item[]): string[] {
  const problems: string[] = [];
  const pendingTx = new Map(pendingItems.map((p) => [str(p.transactionId), p]));
  for (const marker of markers) {
    const key = str(marker.idempotencyKey);
    if (marker.outcome === 'COMMITTED') {
      const tx = str(marker.transactionId);
      const line = reading.lineTx.get(tx);
      const entry = line ?? pendingTx.get(tx);
      if (entry === undefined) {
        problems.push(
          `marker for key ${JSON.stringify(key)} names transaction ${tx}, which is not in the ledger`,
        );
      } else problems.push(...committedMarkerProblems(marker, line, entry));
    } else if (marker.outcome === 'REFUSED') {
      const moved = reading.movedKeys.get(key);
      if (moved !== undefined)
        problems.push(
          `key ${JSON.stringify(key)} is recorded as refused, yet moved money (${moved})`,
        );
    }
  }
  // Every movement's key has its marker (markers expire only after IDEMPOTENCY_TTL_DAYS).
  const markerKeys = new Set(markers.map((m) => str(m.idempotencyKey)));
  for (const [key, tx] of reading.movedKeys) {
    if (!markerKeys.has(key))
      problems.push(`transaction ${tx} (key ${JSON.stringify(key)}) has no idempotency marker`);
  }
  return problems;
}

function transferSides(accountId: string, items: Item[]): TransferSide[] {
  return items
    .filter((item) => item.type === 'TRANSFER_OUT' || item.type === 'TRANSFER_IN')
    .map((item) => ({
      transactionId: str(item.transactionId),
      side: item.type === 'TRANSFER_OUT' ? 'TRANSFER_OUT' : 'TRANSFER_IN',
      accountId,
      counterparty: str(item.counterpartyAccountId),
      amount: num(item.amount),
    }));
}

/**
 * Judges one account read at rest (its item, statement lines, pending entries and markers as
 * the table holds them): the problems listed in ledger-audit.ts, transfers aside.
 */
export function auditOne(
  account: Item,
  lines: Item[],
  pendingItems: Item[],
  markers: Item[],
): AccountAudit {
  const accountId = str(account.accountId);
  const balance = num(account.balance);
  const overdraft = negativeAllowedIn([...lines, ...pendingItems]);
  const reading: Reading = {
    accountId,
    overdraft,
    problems: balanceProblems(account, balance, overdraft),
    sorted: [...lines].sort((a, b) => num(a.sequence) - num(b.sequence)),
    lineTx: new Map(),
    movedKeys: new Map(),
  };
  const lastBalance = readStatement(reading);
  const pending = readPending(reading, pendingItems);
  const problems = [
    ...reading.problems,
    ...totalsProblems(account, reading, lastBalance, pending),
    ...lastMovementProblems(account, reading, pending.pending.length),
    ...markerProblems(reading, pendingItems, markers),
  ];
  return {
    accountId,
    ownerId: str(account.ownerId),
    balance,
    version: num(account.version),
    statementLines: reading.sorted.length,
    lastSequence: reading.sorted.length,
    pending: pending.pending,
    markers: markers.length,
    problems,
    transfers: transferSides(accountId, [...reading.sorted, ...pendingItems]),
  };
}
