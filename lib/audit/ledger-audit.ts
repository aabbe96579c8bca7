/**
 * The ledger audit, straight from the table: every account item (a strongly consistent Scan
 * on sk = 'ACCOUNT'), its statement lines and pending entries (strongly consistent Queries),
 * and the idempotency markers. For each account:
 * - statement lines are numbered 1..n without gap or repeat, and each balanceAfter chains
 *   from the previous one (0 before the first) by its amount, never below zero;
 * - balance = the sum of its statement lines + the sum of its pending entries (committed, not
 *   yet sequenced: allowed, reported), and version = n + the number of pending entries;
 * - no transaction and no idempotency key moves money twice;
 * - a transfer has exactly its two sides: one TRANSFER_OUT in the source naming the destination,
 *   one TRANSFER_IN in the destination naming the source, same transactionId and amount;
 * - a committed marker names a transaction in the ledger, with the same amount, and its
 *   balanceAfter/sequence (once the sequencer set them) are the statement line's; a refused
 *   marker's key moved no money.
 * A live stack keeps moving while the audit reads: an account is judged only on a read at
 * rest — its version the same before and after its ledger was read (no movement committed in
 * between) — tried up to 5 times; one that moved every time is listed as not judged.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { accountKey, ledgerPartition, markerKey, pendingPartitions } from '../persistence/keys';
import { balanceEffect, type EntryStatus, type MovementType } from '../domain/types';

type Item = Record<string, unknown>;

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

interface TransferSide {
  transactionId: string;
  side: 'TRANSFER_OUT' | 'TRANSFER_IN';
  accountId: string;
  counterparty: string;
  amount: number;
}

export interface AuditResult {
  tableName: string;
  accounts: number;
  statementLines: number;
  pendingEntries: number;
  markers: number;
  drifting: AccountAudit[];
  withPending: AccountAudit[];
  /** Accounts that moved during every attempt to read them: not judged (audit again when quieter). */
  busy: string[];
  /** Markers whose account item does not exist. */
  orphanMarkers: number;
  ok: boolean;
  durationMs: number;
}

const num = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const MOVEMENT_TYPES = new Set(['DEPOSIT', 'WITHDRAWAL', 'TRANSFER_IN', 'TRANSFER_OUT', 'PAYOUT']);
/** What an entry does to the posted balance (an unknown type poisons the sum on purpose). */
const signed = (item: Item): number =>
  MOVEMENT_TYPES.has(str(item.type))
    ? balanceEffect({
        type: item.type as MovementType,
        amount: num(item.amount),
        status: (item.status as EntryStatus | undefined) ?? 'POSTED',
      })
    : Number.NaN;
/** An open payout's hold: in the pending partition, but no version bump and no balance effect yet. */
const isOpenHold = (item: Item): boolean => item.type === 'PAYOUT' && item.status === 'PENDING';

async function scanAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  sk: string,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'sk = :sk',
        ExpressionAttributeValues: { ':sk': sk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Every item of a partition (optionally under a sort-key prefix), strongly consistent, all pages. */
export async function queryAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  prefix?: string,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression:
          prefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues:
          prefix === undefined ? { ':pk': pk } : { ':pk': pk, ':prefix': prefix },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/**
 * Judges one account read at rest (its item, statement lines, pending entries and markers as
 * the table holds them): the problems listed at the top of this file, transfers aside.
 */
export function auditOne(
  account: Item,
  lines: Item[],
  pendingItems: Item[],
  markers: Item[],
): AccountAudit {
  const accountId = str(account.accountId);
  const problems: string[] = [];
  const balance = num(account.balance);
  const version = num(account.version);
  if (!Number.isSafeInteger(balance))
    problems.push(`balance is not an integer: ${String(account.balance)}`);
  if (balance < 0) problems.push(`balance ${balance} is below zero`);

  const sorted = [...lines].sort((a, b) => num(a.sequence) - num(b.sequence));
  let running = 0;
  const lineTx = new Map<string, Item>();
  const movedKeys = new Map<string, string>();
  sorted.forEach((line, index) => {
    const sequence = num(line.sequence);
    if (sequence !== index + 1)
      problems.push(`statement line ${index + 1} has sequence ${sequence} (gap or repeat)`);
    const expectedSk = `L#${String(sequence).padStart(15, '0')}`;
    if (line.sk !== expectedSk)
      problems.push(`sequence ${sequence} is stored under ${str(line.sk)}`);
    if (str(line.accountId) !== accountId)
      problems.push(`sequence ${sequence} belongs to ${str(line.accountId)}`);
    const amount = num(line.amount);
    if (!Number.isSafeInteger(amount) || amount < 1)
      problems.push(`sequence ${sequence} has amount ${String(line.amount)}`);
    running += signed(line);
    if (num(line.balanceAfter) !== running) {
      problems.push(
        `sequence ${sequence}: balanceAfter ${String(line.balanceAfter)}, chained ${running}`,
      );
      running = num(line.balanceAfter);
    }
    if (running < 0) problems.push(`sequence ${sequence}: balance below zero (${running})`);
    const tx = str(line.transactionId);
    if (lineTx.has(tx)) problems.push(`transaction ${tx} has two statement lines`);
    lineTx.set(tx, line);
    // A transfer's credit carries the source account's key: keys are per (debited) account.
    if (line.type !== 'TRANSFER_IN') {
      const key = str(line.idempotencyKey);
      const other = movedKeys.get(key);
      if (other !== undefined)
        problems.push(`idempotency key ${JSON.stringify(key)} moved money twice (${other}, ${tx})`);
      movedKeys.set(key, tx);
    }
  });
  const lastSequence = sorted.length;
  const lastBalance = sorted.length === 0 ? 0 : num(sorted[sorted.length - 1]?.balanceAfter);

  const pending: AccountAudit['pending'] = [];
  let pendingSum = 0;
  let heldSum = 0;
  let openHolds = 0;
  for (const entry of pendingItems) {
    const tx = str(entry.transactionId);
    if (lineTx.has(tx)) {
      problems.push(
        `pending entry ${tx} is already statement line ${String(lineTx.get(tx)?.sequence)} (not retired)`,
      );
      continue;
    }
    if (isOpenHold(entry)) {
      openHolds += 1;
      heldSum += num(entry.amount);
    } else {
      pending.push({ transactionId: tx, type: str(entry.type), amount: num(entry.amount) });
      pendingSum += signed(entry);
    }
    if (entry.type !== 'TRANSFER_IN') {
      const key = str(entry.idempotencyKey);
      const other = movedKeys.get(key);
      if (other !== undefined)
        problems.push(`idempotency key ${JSON.stringify(key)} moved money twice (${other}, ${tx})`);
      movedKeys.set(key, tx);
    }
  }
  // Holds: pending = the open holds' sum, available = balance − pending, never below zero.
  const held = num(account.pending ?? 0);
  const available = num(account.available ?? balance);
  if (held !== heldSum) {
    problems.push(`pending ${held} ≠ the ${openHolds} open holds' sum ${heldSum}`);
  }
  if (available !== balance - held) {
    problems.push(`available ${available} ≠ balance ${balance} − pending ${held}`);
  }
  if (available < 0) problems.push(`available ${available} is below zero`);
  if (balance !== lastBalance + pendingSum) {
    problems.push(
      `balance ${balance} ≠ statement (${lastBalance}) + pending (${pendingSum}) = ${lastBalance + pendingSum}`,
    );
  }
  if (version !== lastSequence + pending.length) {
    problems.push(
      `version ${version} ≠ ${lastSequence} statement lines + ${pending.length} pending`,
    );
  }
  const last = account.lastMovement as Item | undefined;
  if (pending.length === 0 && lastSequence > 0 && last !== undefined) {
    const lastLine = sorted[sorted.length - 1];
    if (str(last.transactionId) !== str(lastLine?.transactionId)) {
      problems.push(
        `lastMovement ${str(last.transactionId)} is not the last statement line ${str(lastLine?.transactionId)}`,
      );
    }
  }

  const pendingTx = new Map(pendingItems.map((p) => [str(p.transactionId), p]));
  for (const marker of markers) {
    const key = str(marker.idempotencyKey);
    if (marker.outcome === 'COMMITTED') {
      const tx = str(marker.transactionId);
      const line = lineTx.get(tx);
      const entry = line ?? pendingTx.get(tx);
      if (entry === undefined) {
        problems.push(
          `marker for key ${JSON.stringify(key)} names transaction ${tx}, which is not in the ledger`,
        );
        continue;
      }
      if (num(entry.amount) !== num(marker.amount) || entry.type !== marker.type) {
        problems.push(
          `marker for key ${JSON.stringify(key)}: ${str(marker.type)} ${String(marker.amount)}, ledger ${str(entry.type)} ${String(entry.amount)}`,
        );
      }
      if (str(entry.idempotencyKey) !== key) {
        problems.push(
          `transaction ${tx} carries key ${JSON.stringify(str(entry.idempotencyKey))}, its marker ${JSON.stringify(key)}`,
        );
      }
      if (
        line !== undefined &&
        marker.sequence !== undefined &&
        num(marker.sequence) !== num(line.sequence)
      ) {
        problems.push(
          `marker for key ${JSON.stringify(key)} says sequence ${String(marker.sequence)}, the line is ${String(line.sequence)}`,
        );
      }
      if (
        line !== undefined &&
        marker.balanceAfter !== undefined &&
        num(marker.balanceAfter) !== num(line.balanceAfter)
      ) {
        problems.push(
          `marker for key ${JSON.stringify(key)} says balanceAfter ${String(marker.balanceAfter)}, the line has ${String(line.balanceAfter)}`,
        );
      }
    } else if (marker.outcome === 'REFUSED') {
      const moved = movedKeys.get(key);
      if (moved !== undefined)
        problems.push(
          `key ${JSON.stringify(key)} is recorded as refused, yet moved money (${moved})`,
        );
    }
  }
  // Every movement's key has its marker (markers expire only after IDEMPOTENCY_TTL_DAYS).
  const markerKeys = new Set(markers.map((m) => str(m.idempotencyKey)));
  for (const [key, tx] of movedKeys) {
    if (!markerKeys.has(key))
      problems.push(`transaction ${tx} (key ${JSON.stringify(key)}) has no idempotency marker`);
  }

  const transfers: TransferSide[] = [...sorted, ...pendingItems]
    .filter((item) => item.type === 'TRANSFER_OUT' || item.type === 'TRANSFER_IN')
    .map((item) => ({
      transactionId: str(item.transactionId),
      side: item.type === 'TRANSFER_OUT' ? 'TRANSFER_OUT' : 'TRANSFER_IN',
      accountId,
      counterparty: str(item.counterpartyAccountId),
      amount: num(item.amount),
    }));

  return {
    accountId,
    ownerId: str(account.ownerId),
    balance,
    version,
    statementLines: sorted.length,
    lastSequence,
    pending,
    markers: markers.length,
    problems,
    transfers,
  };
}

/**
 * Pairs the transfers' sides across the accounts audited. A side whose partner was not seen is
 * looked for once more in its counterparty's ledger (a transfer may have committed between the
 * two accounts' reads); a counterparty not judged (busy, or unknown) is not held against it.
 */
async function pairTransfers(
  doc: DynamoDBDocumentClient,
  tableName: string,
  audits: AccountAudit[],
): Promise<void> {
  const byAccount = new Map(audits.map((a) => [a.accountId, a]));
  const byTx = new Map<string, TransferSide[]>();
  for (const audit of audits) {
    for (const side of audit.transfers) {
      const list = byTx.get(side.transactionId) ?? [];
      list.push(side);
      byTx.set(side.transactionId, list);
    }
  }
  const reread = new Map<string, Item[]>();
  const ledgerOf = async (accountId: string): Promise<Item[]> => {
    const cached = reread.get(accountId);
    if (cached !== undefined) return cached;
    const items = [
      ...(await queryAll(doc, tableName, ledgerPartition(accountId), 'L#')),
      ...(
        await Promise.all(pendingPartitions(accountId).map((pk) => queryAll(doc, tableName, pk)))
      ).flat(),
    ];
    reread.set(accountId, items);
    return items;
  };
  for (const [tx, sides] of byTx) {
    const outs = sides.filter((s) => s.side === 'TRANSFER_OUT');
    const ins = sides.filter((s) => s.side === 'TRANSFER_IN');
    const first = outs[0] ?? ins[0];
    if (first === undefined) continue;
    const owner = byAccount.get(first.accountId);
    const problem = (text: string): void => {
      owner?.problems.push(`transfer ${tx}: ${text}`);
    };
    if (outs.length > 1 || ins.length > 1) {
      problem(`${outs.length} TRANSFER_OUT and ${ins.length} TRANSFER_IN sides`);
      continue;
    }
    const out = outs[0];
    const into = ins[0];
    if (out !== undefined && into !== undefined) {
      if (
        out.counterparty !== into.accountId ||
        into.counterparty !== out.accountId ||
        out.amount !== into.amount
      ) {
        problem(
          `TRANSFER_OUT ${out.amount} from ${out.accountId} to ${out.counterparty}, TRANSFER_IN ${into.amount} in ${into.accountId} from ${into.counterparty}`,
        );
      }
      continue;
    }
    // One side only: look again where the other should be.
    const seen = first;
    const other = seen.counterparty;
    if (!byAccount.has(other)) continue;
    const wanted = seen.side === 'TRANSFER_OUT' ? 'TRANSFER_IN' : 'TRANSFER_OUT';
    const found = (await ledgerOf(other)).filter(
      (item) => str(item.transactionId) === tx && item.type === wanted,
    );
    if (
      found.length !== 1 ||
      str(found[0]?.counterpartyAccountId) !== seen.accountId ||
      num(found[0]?.amount) !== seen.amount
    ) {
      problem(
        `${seen.side} ${seen.amount} in ${seen.accountId} (counterparty ${other}): ${found.length} ${wanted} there${found.length > 0 ? ` (${found.map((f) => `${String(f.amount)} from ${str(f.counterpartyAccountId)}`).join(', ')})` : ''}`,
      );
    }
  }
}

export async function auditLedger(
  client: DynamoDBClient,
  tableName: string,
  options: { attempts?: number; retryDelayMs?: number } = {},
): Promise<AuditResult> {
  const started = Date.now();
  const doc = DynamoDBDocumentClient.from(client);
  const attempts = options.attempts ?? 5;
  const accountItems = await scanAll(doc, tableName, 'ACCOUNT');
  const known = new Set(accountItems.map((a) => str(a.accountId)));
  // Markers are written in the same transaction as their movement: every movement read after
  // this scan has its marker in it, or is found by the lookup below.
  const markersByAccount = new Map<string, Item[]>();
  let orphanMarkers = 0;
  let markerCount = 0;
  for (const marker of await scanAll(doc, tableName, 'MARKER')) {
    markerCount += 1;
    const accountId = str(marker.accountId);
    if (!known.has(accountId)) orphanMarkers += 1;
    const list = markersByAccount.get(accountId) ?? [];
    list.push(marker);
    markersByAccount.set(accountId, list);
  }
  const getAccount = async (accountId: string): Promise<Item | undefined> =>
    (
      await doc.send(
        new GetCommand({ TableName: tableName, Key: accountKey(accountId), ConsistentRead: true }),
      )
    ).Item;

  const audits: AccountAudit[] = [];
  const busy: string[] = [];
  for (const { accountId: rawId } of accountItems) {
    const accountId = str(rawId);
    let audit: AccountAudit | undefined;
    let settled = false;
    for (let attempt = 1; attempt <= attempts && !settled; attempt++) {
      if (attempt > 1)
        await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 200));
      // The account before and after its ledger is read: the same version means no movement
      // committed in between, so the ledger read is the account's, exactly.
      const before = await getAccount(accountId);
      const lines = await queryAll(doc, tableName, ledgerPartition(accountId), 'L#');
      const pending = (
        await Promise.all(pendingPartitions(accountId).map((pk) => queryAll(doc, tableName, pk)))
      ).flat();
      const after = await getAccount(accountId);
      if (before === undefined || after === undefined) break;
      if (num(before.version) !== num(after.version)) continue;
      const markers = [...(markersByAccount.get(accountId) ?? [])];
      const haveMarker = new Set(markers.map((m) => str(m.idempotencyKey)));
      for (const entry of [...lines, ...pending]) {
        const key = str(entry.idempotencyKey);
        if (haveMarker.has(key)) continue;
        const found = (
          await doc.send(
            new GetCommand({
              TableName: tableName,
              Key: markerKey(accountId, key),
              ConsistentRead: true,
            }),
          )
        ).Item;
        if (found !== undefined) markers.push(found);
        haveMarker.add(key);
      }
      audit = auditOne(after, lines, pending, markers);
      // A line written and its pending entry not yet retired is the sequencer at work.
      const onlyInFlight = audit.problems.every((problem) => problem.includes('(not retired)'));
      settled = audit.problems.length === 0 || !onlyInFlight || attempt === attempts;
    }
    if (audit === undefined || !settled) {
      busy.push(accountId);
      continue;
    }
    audits.push(audit);
  }
  await pairTransfers(doc, tableName, audits);
  const drifting = audits.filter((a) => a.problems.length > 0);
  return {
    tableName,
    accounts: audits.length + busy.length,
    statementLines: audits.reduce((sum, a) => sum + a.statementLines, 0),
    pendingEntries: audits.reduce((sum, a) => sum + a.pending.length, 0),
    markers: markerCount,
    drifting,
    withPending: audits.filter((a) => a.pending.length > 0),
    busy,
    orphanMarkers,
    ok: drifting.length === 0,
    durationMs: Date.now() - started,
  };
}

export function formatAudit(result: AuditResult): string {
  const lines = [
    `Audit of ${result.tableName}: ${result.accounts} accounts, ${result.statementLines} statement lines, ${result.pendingEntries} pending entries, ${result.markers} idempotency markers (${result.durationMs} ms)`,
  ];
  for (const a of result.withPending) {
    lines.push(
      `  pending (committed, not yet sequenced) ${a.accountId}: ${a.pending.length} entr${a.pending.length === 1 ? 'y' : 'ies'} (${a.pending
        .slice(0, 3)
        .map((p) => `${p.type} ${p.amount} ${p.transactionId}`)
        .join('; ')}${a.pending.length > 3 ? '; …' : ''})`,
    );
  }
  if (result.orphanMarkers > 0)
    lines.push(`  ${result.orphanMarkers} markers name an account that does not exist`);
  if (result.busy.length > 0) {
    lines.push(
      `  not judged (moved during every read, audit again when quieter): ${result.busy.join(', ')}`,
    );
  }
  if (result.drifting.length === 0) {
    lines.push(
      `  ${result.busy.length === 0 ? 'every account adds up' : 'every account read at rest adds up'}: no drift`,
    );
  }
  for (const a of result.drifting) {
    lines.push(
      `  DRIFT ${a.accountId} (owner ${a.ownerId}, balance ${a.balance}, version ${a.version}, ${a.statementLines} lines):`,
    );
    for (const problem of a.problems.slice(0, 20)) lines.push(`    - ${problem}`);
    if (a.problems.length > 20) lines.push(`    … ${a.problems.length - 20} more`);
  }
  return lines.join('\n');
}
