import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SYSTEM_ACCOUNTS, type SystemAccount } from '../domain/ports';
import { MOVEMENT_TYPES } from '../domain/movement-types';
import { postingsOf, systemPostingsOf } from '../domain/postings';
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
  /**
   * Per currency, the customers' side (their lines' postings) and the system accounts' (their
   * shards): by double entry they sum to zero once every line is posted.
   */
  totals: Record<string, { customers: number; system: number }>;
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
  options: { attempts?: number; atRest?: boolean } = {},
): Promise<SystemAudit> {
  const once = async (): Promise<SystemAudit> => {
    const before = await watermarks(doc, tableName);
    const balances = await shardBalances(doc, tableName);
    const posted = await postedByLines(doc, tableName, accountIds, before);
    const after = await watermarks(doc, tableName);
    if (JSON.stringify([...before]) !== JSON.stringify([...after])) throw new Moving();
    const totals = totalsOf(posted.customers, balances);
    // Sums to zero are judged at rest only: a transfer half sequenced is not a broken one.
    const settled = options.atRest === true && posted.unposted === 0;
    const problems = [
      ...differences(posted.expected, balances),
      ...(settled ? [...unbalanced(posted.transactions), ...nonZeroTotals(totals)] : []),
    ];
    return { balances, totals, unposted: posted.unposted, problems, judged: true };
  };
  try {
    return await retry(once, {
      attempts: options.attempts ?? 5,
      baseMs: 200,
      capMs: 1000,
      retryable: (error) => error instanceof Moving,
    });
  } catch (error) {
    if (!(error instanceof Moving)) throw error;
    return { balances: {}, totals: {}, unposted: 0, problems: [], judged: false };
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

interface Posted {
  /** What the shards should hold: the system side of every line up to its account's watermark. */
  expected: Balances;
  unposted: number;
  /** Each transaction's postings (customers' and system's), summed per currency. */
  transactions: Map<string, Map<string, number>>;
  /** The customers' postings per currency: what the service owes them. */
  customers: Map<string, number>;
}

async function postedByLines(
  doc: DynamoDBDocumentClient,
  tableName: string,
  accountIds: string[],
  marks: Map<string, number>,
): Promise<Posted> {
  const expected: Balances = {};
  const transactions = new Map<string, Map<string, number>>();
  const customers = new Map<string, number>();
  let unposted = 0;
  for (const accountId of accountIds) {
    const applied = marks.get(accountId) ?? 0;
    for (const line of await queryAll(doc, tableName, ledgerPartition(accountId), 'L#')) {
      // An unknown type is the account audit's finding; it posts nothing here.
      if (!KNOWN_TYPES.has(str(line.type))) continue;
      const currency = str(line.currency);
      const all = postingsOf({ ...lineOf(line), accountId });
      const byCurrency = transactions.get(str(line.transactionId)) ?? new Map<string, number>();
      for (const posting of all) addTo(byCurrency, currency, posting.amount);
      transactions.set(str(line.transactionId), byCurrency);
      for (const posting of all)
        if ('customer' in posting.account) addTo(customers, currency, posting.amount);
      const postings = systemPostingsOf(lineOf(line));
      if (postings.length === 0) continue;
      if (num(line.sequence) > applied) unposted += 1;
      else for (const p of postings) add(expected, str(line.currency), p.account, p.amount);
    }
  }
  return { expected, unposted, transactions, customers };
}

const addTo = (sums: Map<string, number>, key: string, amount: number) =>
  sums.set(key, (sums.get(key) ?? 0) + amount);

/** Transactions whose postings do not sum to zero in a currency. */
function unbalanced(transactions: Map<string, Map<string, number>>): string[] {
  const problems: string[] = [];
  for (const [transactionId, byCurrency] of transactions) {
    for (const [currency, sum] of byCurrency) {
      if (sum !== 0) problems.push(`transaction ${transactionId} posts ${sum} ${currency}, not 0`);
    }
  }
  return problems;
}

function totalsOf(customers: Map<string, number>, balances: Balances): SystemAudit['totals'] {
  const totals: SystemAudit['totals'] = {};
  for (const currency of new Set([...customers.keys(), ...Object.keys(balances)])) {
    const system = Object.values(balances[currency] ?? {}).reduce((sum, b) => sum + (b ?? 0), 0);
    totals[currency] = { customers: customers.get(currency) ?? 0, system };
  }
  return totals;
}

/** Σ of every account, customers' and system's, per currency: zero by double entry. */
function nonZeroTotals(totals: SystemAudit['totals']): string[] {
  return Object.entries(totals)
    .filter(([, t]) => t.customers + t.system !== 0)
    .map(
      ([currency, t]) =>
        `${currency}: customers ${t.customers} + system accounts ${t.system} = ${t.customers + t.system}, not 0`,
    );
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
  const sums = Object.entries(system.totals)
    .map(([currency, t]) => `Σ ${currency} ${t.customers + t.system}`)
    .join(', ');
  const unposted = system.unposted > 0 ? ` (${system.unposted} lines not yet posted)` : '';
  return `${balances || 'no postings yet'}: ${problems}${unposted}${sums ? `; all accounts ${sums}` : ''}`;
}
