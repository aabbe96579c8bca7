/**
 * Transfers paired across the accounts audited: exactly one TRANSFER_OUT in the source naming
 * the destination, one TRANSFER_IN in the destination naming the source, same transactionId
 * and amount. A side whose partner was not seen is looked for once more in its counterparty's
 * ledger (a transfer may have committed between the two accounts' reads); a counterparty not
 * judged (busy, or unknown) is not held against it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AccountAudit, TransferSide } from './account-audit';
import { ledgerOf, num, str, type Item } from './table';

/** The sides of each transfer, by transactionId. */
function sidesByTransaction(audits: AccountAudit[]): Map<string, TransferSide[]> {
  const byTx = new Map<string, TransferSide[]>();
  for (const side of audits.flatMap((audit) => audit.transfers)) {
    const list = byTx.get(side.transactionId);
    if (list === undefined) byTx.set(side.transactionId, [side]);
    else list.push(side);
  }
  return byTx;
}

/** Both sides seen: they must name each other and move the same amount. */
function mismatch(out: TransferSide, into: TransferSide): string | undefined {
  if (
    out.counterparty === into.accountId &&
    into.counterparty === out.accountId &&
    out.amount === into.amount
  ) {
    return undefined;
  }
  return `TRANSFER_OUT ${out.amount} from ${out.accountId} to ${out.counterparty}, TRANSFER_IN ${into.amount} in ${into.accountId} from ${into.counterparty}`;
}

/** One side seen: its partner, read again from the counterparty's ledger. */
function missingPartner(seen: TransferSide, ledger: Item[]): string | undefined {
  const wanted = seen.side === 'TRANSFER_OUT' ? 'TRANSFER_IN' : 'TRANSFER_OUT';
  const found = ledger.filter(
    (item) => str(item.transactionId) === seen.transactionId && item.type === wanted,
  );
  if (
    found.length === 1 &&
    str(found[0]?.counterpartyAccountId) === seen.accountId &&
    num(found[0]?.amount) === seen.amount
  ) {
    return undefined;
  }
  const listed = found.map((f) => `${String(f.amount)} from ${str(f.counterpartyAccountId)}`);
  return `${seen.side} ${seen.amount} in ${seen.accountId} (counterparty ${seen.counterparty}): ${found.length} ${wanted} there${found.length > 0 ? ` (${listed.join(', ')})` : ''}`;
}

/** Adds each broken transfer to the problems of the account of its first side. */
export async function pairTransfers(
  doc: DynamoDBDocumentClient,
  tableName: string,
  audits: AccountAudit[],
): Promise<void> {
  const byAccount = new Map(audits.map((a) => [a.accountId, a]));
  const reread = new Map<string, Item[]>();
  const ledger = async (accountId: string): Promise<Item[]> => {
    const cached = reread.get(accountId);
    if (cached !== undefined) return cached;
    const { lines, pending } = await ledgerOf(doc, tableName, accountId);
    reread.set(accountId, [...lines, ...pending]);
    return [...lines, ...pending];
  };
  for (const [tx, sides] of sidesByTransaction(audits)) {
    const outs = sides.filter((s) => s.side === 'TRANSFER_OUT');
    const ins = sides.filter((s) => s.side === 'TRANSFER_IN');
    const first = outs[0] ?? ins[0];
    if (first === undefined) continue;
    let problem: string | undefined;
    if (outs.length > 1 || ins.length > 1) {
      problem = `${outs.length} TRANSFER_OUT and ${ins.length} TRANSFER_IN sides`;
    } else if (outs[0] !== undefined && ins[0] !== undefined) {
      problem = mismatch(outs[0], ins[0]);
    } else if (byAccount.has(first.counterparty)) {
      problem = missingPartner(first, await ledger(first.counterparty));
    }
    if (problem !== undefined)
      byAccount.get(first.accountId)?.problems.push(`transfer ${tx}: ${problem}`);
  }
}
