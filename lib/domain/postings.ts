import { ruleOf } from './movement-types';
import type { SystemAccount } from './ports';
import { balanceEffect, type EntryStatus, type MinorUnits, type MovementType } from './types';

/**
 * Double entry (docs/double-entry.md): every movement is a set of postings that sum to zero per
 * currency. A customer account's posting is what the movement does to its balance; the other side
 * is another customer's (a transfer's two lines) or system accounts', named by the type's row: the
 * amount to its system account, a fee to `revenue`, a reversal to the reversed type's, flipped.
 */
export type Posting =
  | { account: { customer: string }; amount: MinorUnits }
  | { account: { system: SystemAccount }; amount: MinorUnits };

interface PostedLine {
  accountId: string;
  type: MovementType;
  amount: MinorUnits;
  fee?: MinorUnits;
  status?: EntryStatus;
  reversedType?: MovementType;
}

type SystemPosting = { account: SystemAccount; amount: MinorUnits };

/** The system account a line's amount posts against, or null when a customer is the other side. */
function systemAccountOf(line: Omit<PostedLine, 'accountId'>): SystemAccount | null {
  const account = ruleOf(line.type).systemAccount;
  if (account !== 'reversed') return account;
  // A reversal that names nothing posts nothing: the audit's Σ = 0 check reports it.
  if (line.reversedType === undefined) return null;
  const reversed = ruleOf(line.reversedType).systemAccount;
  return reversed === 'reversed' ? null : reversed;
}

/** The system accounts' side of one customer line: none, its amount's, and its fee's. */
export function systemPostingsOf(line: Omit<PostedLine, 'accountId'>): SystemPosting[] {
  if (balanceEffect(line) === 0) return [];
  const sign = -Math.sign(balanceEffect(line));
  const account = systemAccountOf(line);
  const fee = line.fee ?? 0;
  return [
    ...(account === null ? [] : [{ account, amount: sign * line.amount }]),
    ...(fee > 0 ? [{ account: 'revenue' as const, amount: sign * fee }] : []),
  ];
}

/** Every posting of one customer line: its own, and the system accounts' that balance it. */
export function postingsOf(line: PostedLine): Posting[] {
  const customer = balanceEffect(line);
  if (customer === 0) return [];
  return [
    { account: { customer: line.accountId }, amount: customer },
    ...systemPostingsOf(line).map((p) => ({ account: { system: p.account }, amount: p.amount })),
  ];
}

/** What each system account receives from some lines, summed. */
export function systemAmounts(
  lines: Omit<PostedLine, 'accountId'>[],
): Partial<Record<SystemAccount, MinorUnits>> {
  const amounts: Partial<Record<SystemAccount, MinorUnits>> = {};
  for (const line of lines) {
    for (const posting of systemPostingsOf(line)) {
      amounts[posting.account] = (amounts[posting.account] ?? 0) + posting.amount;
    }
  }
  return amounts;
}
