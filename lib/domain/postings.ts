import { ruleOf } from './movement-types';
import type { SystemAccount } from './ports';
import { balanceEffect, type EntryStatus, type MinorUnits, type MovementType } from './types';

/**
 * Double entry (docs/double-entry.md): every movement is a set of postings that sum to zero per
 * currency. A customer account's posting is what the movement does to its balance; the other side
 * is another customer's (a transfer's two lines) or a system account's, named by the type's row.
 */
export type Posting =
  | { account: { customer: string }; amount: MinorUnits }
  | { account: { system: SystemAccount }; amount: MinorUnits };

interface PostedLine {
  accountId: string;
  type: MovementType;
  amount: MinorUnits;
  status?: EntryStatus;
}

/** The system account's side of one customer line, or null when it has none. */
export function systemPostingOf(
  line: Omit<PostedLine, 'accountId'>,
): { account: SystemAccount; amount: MinorUnits } | null {
  const account = ruleOf(line.type).systemAccount;
  const customer = balanceEffect(line);
  if (account === null || customer === 0) return null;
  return { account, amount: -customer };
}

/** Both sides of one customer line that a system account balances (a transfer's: its own side). */
export function postingsOf(line: PostedLine): Posting[] {
  const customer = balanceEffect(line);
  if (customer === 0) return [];
  const system = systemPostingOf(line);
  return [
    { account: { customer: line.accountId }, amount: customer },
    ...(system === null ? [] : [{ account: { system: system.account }, amount: system.amount }]),
  ];
}

/** What each system account receives from some lines, summed. */
export function systemAmounts(
  lines: Omit<PostedLine, 'accountId'>[],
): Partial<Record<SystemAccount, MinorUnits>> {
  const amounts: Partial<Record<SystemAccount, MinorUnits>> = {};
  for (const line of lines) {
    const posting = systemPostingOf(line);
    if (posting !== null)
      amounts[posting.account] = (amounts[posting.account] ?? 0) + posting.amount;
  }
  return amounts;
}
