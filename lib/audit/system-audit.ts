import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SYSTEM_ACCOUNTS, type SystemAccount } from '../domain/ports';
import { MOVEMENT_TYPES } from '../domain/movement-types';
import { systemPostingsOf } from '../domain/postings';
import { retry } from '../domain/retry';
import type { MovementType } from '../domain/types';
import { ledgerPartition, systemShardPartitions } from '../persistence/keys';
import { num, queryAll, scanAll, str, type Item } from './table';

const KNOWN_TYPES = new Set<string>(MOVEMENT_TYPES);
type Balances = Record<string, Partial<Record<SystemAccount, number>>>;

/**
 * The system accounts (docs/double-entry.md), straight from the table: their shards hold exactly
 * the postings of the statement lines the sequencer applied (each account's lines up to its
 * watermark). Lines past a watermark are the sequencer's work in flight, counted as unposted.
 */
export interface SystemAudit {
  balances: Balances;
  /** Lines that post to a system account, placed but not yet applied to it. */
  unposted: number;
  problems: string[];
  /** False when the sequencer moved a watermark during every read: not judged. */
  judged: boolean;
}

class Moving extends Error {}

export async function auditSystemAccounts(
  doc: DynamoDBDocumentClient,
  tableName: string,
  accountIds: string[],
  attempts = 5,
): Promise<SystemAudit> {
  const once = async (): Promise<SystemAudit> => {
    const before = await watermarks(doc, tableName);
    const balances = await shardBalances(doc, tableName);
    const { expected, unposted } = await postedByLines(doc, tableName, accountIds, before);
    const after = await watermarks(doc, tableName);
    if (JSON.stringify([...before]) !== JSON.stringify([...after])) throw new Moving();
    return { balances, unposted, problems: differences(expected, balances), judged: true };
  };
  try {
    return await retry(once, {
      attempts,
      baseMs: 200,
      capMs: 1000,
      retryable: (error) => error instanceof Moving,
    });
  } catch (error) {
    if (!(error instanceof Moving)) throw error;
    return { balances: {}, unposted: 0, problems: [], judged: false };
  }
}

/** Each account's watermark: how far its lines were applied to the system accounts. */
async function watermarks(doc: DynamoDBDocumentClient, tableName: string) {
  const marks = new Map<string, number>();
  for (const item of await scanAll(doc, tableName, 'POSTED')) {
    marks.set(str(item.pk).slice('LEDGER#'.length), num(item.appliedThrough));
  }
  return new Map([...marks].sort(([a], [b]) => a.localeCompare(b)));
}

async function shardBalances(doc: DynamoDBDocumentClient, tableName: string): Promise<Balances> {
  const balances: Balances = {};
  for (const name of SYSTEM_ACCOUNTS) {
    for (const pk of systemShardPartitions(name)) {
      for (const item of await queryAll(doc, tableName, pk))
        add(balances, str(item.sk), name, num(item.balance));
    }
  }
  return balances;
}

/** What the shards should hold: the system side of every line up to its account's watermark. */
async function postedByLines(
  doc: DynamoDBDocumentClient,
  tableName: string,
  accountIds: string[],
  marks: Map<string, number>,
): Promise<{ expected: Balances; unposted: number }> {
  const expected: Balances = {};
  let unposted = 0;
  for (const accountId of accountIds) {
    const applied = marks.get(accountId) ?? 0;
    for (const line of await queryAll(doc, tableName, ledgerPartition(accountId), 'L#')) {
      // An unknown type is the account audit's finding; it posts nothing here.
      if (!KNOWN_TYPES.has(str(line.type))) continue;
      const postings = systemPostingsOf(lineOf(line));
      if (postings.length === 0) continue;
      if (num(line.sequence) > applied) unposted += 1;
      else for (const p of postings) add(expected, str(line.currency), p.account, p.amount);
    }
  }
  return { expected, unposted };
}

const lineOf = (item: Item) => ({
  type: str(item.type) as MovementType,
  amount: num(item.amount),
  ...(item.fee !== undefined ? { fee: num(item.fee) } : {}),
  ...(typeof item.status === 'string' ? { status: item.status as 'POSTED' } : {}),
  ...(KNOWN_TYPES.has(str(item.reversedType))
    ? { reversedType: str(item.reversedType) as MovementType }
    : {}),
});

function add(balances: Balances, currency: string, name: SystemAccount, amount: number): void {
  const of = (balances[currency] ??= {});
  of[name] = (of[name] ?? 0) + amount;
}

function differences(expected: Balances, found: Balances): string[] {
  const problems: string[] = [];
  for (const currency of new Set([...Object.keys(expected), ...Object.keys(found)])) {
    for (const name of SYSTEM_ACCOUNTS) {
      const want = expected[currency]?.[name] ?? 0;
      const have = found[currency]?.[name] ?? 0;
      if (want !== have) {
        problems.push(`system account ${name} ${currency}: ${have}, its postings sum to ${want}`);
      }
    }
  }
  return problems;
}

/** The system accounts as the audit found them: balances per currency, or why not judged. */
export function formatSystemAudit(system: SystemAudit): string {
  if (!system.judged) return 'not judged (the sequencer moved during every read)';
  const balances = Object.entries(system.balances)
    .map(([currency, of]) => `${currency} ${JSON.stringify(of)}`)
    .join('; ');
  const problems =
    system.problems.length === 0 ? 'match their postings' : system.problems.join('; ');
  const unposted = system.unposted > 0 ? ` (${system.unposted} lines not yet posted)` : '';
  return `${balances || 'no postings yet'}: ${problems}${unposted}`;
}
