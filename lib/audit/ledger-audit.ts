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
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { retry } from '../domain/retry';
import { markerKey } from '../persistence/keys';
import { auditOne, type AccountAudit } from './account-audit';
import { getAccount, getItem, ledgerOf, num, scanAll, str, type Item } from './table';
import { auditSystemAccounts, formatSystemAudit, type SystemAudit } from './system-audit';
import { pairTransfers } from './transfers';

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
  /** The system accounts against the postings of the lines applied to them (double entry). */
  system: SystemAudit;
  ok: boolean;
  durationMs: number;
}

/** Every idempotency marker, by account. */
async function markersByAccount(
  doc: DynamoDBDocumentClient,
  tableName: string,
  known: Set<string>,
): Promise<{ byAccount: Map<string, Item[]>; count: number; orphans: number }> {
  const byAccount = new Map<string, Item[]>();
  let count = 0;
  let orphans = 0;
  for (const marker of await scanAll(doc, tableName, 'MARKER')) {
    count += 1;
    const accountId = str(marker.accountId);
    if (!known.has(accountId)) orphans += 1;
    const list = byAccount.get(accountId);
    if (list === undefined) byAccount.set(accountId, [marker]);
    else list.push(marker);
  }
  return { byAccount, count, orphans };
}

/**
 * The markers of an account's entries: those the scan found, and any written since (markers
 * are written in the same transaction as their movement, so a movement read after the scan
 * has its marker, looked up by key).
 */
async function markersOf(
  doc: DynamoDBDocumentClient,
  tableName: string,
  accountId: string,
  scanned: Item[],
  entries: Item[],
): Promise<Item[]> {
  const markers = [...scanned];
  const haveMarker = new Set(markers.map((m) => str(m.idempotencyKey)));
  for (const entry of entries) {
    const key = str(entry.idempotencyKey);
    if (haveMarker.has(key)) continue;
    const found = await getItem(doc, tableName, markerKey(accountId, key));
    if (found !== undefined) markers.push(found);
    haveMarker.add(key);
  }
  return markers;
}

/** The account moved while it was read, or only the sequencer's work in flight was found. */
class NotAtRest extends Error {}

/**
 * The account before and after its ledger is read: the same version means no movement
 * committed in between, so the ledger read is the account's, exactly. Undefined: no account.
 */
async function readAtRest(doc: DynamoDBDocumentClient, tableName: string, accountId: string) {
  const before = await getAccount(doc, tableName, accountId);
  const { lines, pending } = await ledgerOf(doc, tableName, accountId);
  const after = await getAccount(doc, tableName, accountId);
  if (before === undefined || after === undefined) return undefined;
  if (num(before.version) !== num(after.version)) throw new NotAtRest();
  return { account: after, lines, pending };
}

/**
 * One account judged on a read at rest, tried `attempts` times; undefined when it moved every
 * time (or vanished). A line written and its pending entry not yet retired is the sequencer at
 * work: read again, unless it is the last try.
 */
async function auditAtRest(
  doc: DynamoDBDocumentClient,
  tableName: string,
  accountId: string,
  scannedMarkers: Item[],
  attempts: number,
): Promise<AccountAudit | undefined> {
  let attempt = 0;
  const once = async (): Promise<AccountAudit | undefined> => {
    attempt += 1;
    const read = await readAtRest(doc, tableName, accountId);
    if (read === undefined) return undefined;
    const entries = [...read.lines, ...read.pending];
    const markers = await markersOf(doc, tableName, accountId, scannedMarkers, entries);
    const audit = auditOne(read.account, read.lines, read.pending, markers);
    const inFlight = audit.problems.every((problem) => problem.includes('(not retired)'));
    if (audit.problems.length > 0 && inFlight && attempt < attempts) throw new NotAtRest();
    return audit;
  };
  try {
    return await retry(once, {
      attempts,
      baseMs: 200,
      capMs: 1000,
      retryable: (error) => error instanceof NotAtRest,
    });
  } catch (error) {
    if (error instanceof NotAtRest) return undefined;
    throw error;
  }
}

export async function auditLedger(
  client: DynamoDBClient,
  tableName: string,
  options: { attempts?: number } = {},
): Promise<AuditResult> {
  const started = Date.now();
  const doc = DynamoDBDocumentClient.from(client);
  const accountIds = (await scanAll(doc, tableName, 'ACCOUNT')).map((a) => str(a.accountId));
  const markers = await markersByAccount(doc, tableName, new Set(accountIds));
  const audits: AccountAudit[] = [];
  const busy: string[] = [];
  for (const accountId of accountIds) {
    const scanned = markers.byAccount.get(accountId) ?? [];
    const audit = await auditAtRest(doc, tableName, accountId, scanned, options.attempts ?? 5);
    if (audit === undefined) busy.push(accountId);
    else audits.push(audit);
  }
  await pairTransfers(doc, tableName, audits);
  const drifting = audits.filter((a) => a.problems.length > 0);
  const system = await auditSystemAccounts(doc, tableName, accountIds, {
    attempts: options.attempts ?? 5,
    atRest: busy.length === 0 && audits.every((a) => a.pending.length === 0),
  });
  return {
    tableName,
    accounts: audits.length + busy.length,
    statementLines: audits.reduce((sum, a) => sum + a.statementLines, 0),
    pendingEntries: audits.reduce((sum, a) => sum + a.pending.length, 0),
    markers: markers.count,
    drifting,
    withPending: audits.filter((a) => a.pending.length > 0),
    busy,
    orphanMarkers: markers.orphans,
    system,
    ok: drifting.length === 0 && system.problems.length === 0,
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
  lines.push(`  system accounts: ${formatSystemAudit(result.system)}`);
  for (const problem of result.system.problems) lines.push(`  DRIFT ${problem}`);
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
