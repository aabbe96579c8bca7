import { ForbiddenError } from './errors';
import { SYSTEM_ACCOUNTS, type SystemAccount, type SystemLedgerStore } from './ports';
import type { Caller } from './types';

export interface LedgerSummary {
  currencies: Record<string, { systemAccounts: Record<SystemAccount, number> }>;
}

/**
 * The system accounts' balances per currency (docs/double-entry.md), for operators: read from
 * their shards, never from customer accounts. By double entry, the customers' balances in a
 * currency sum to minus its system accounts' total, once the sequencer has posted every line.
 */
export async function ledgerSummary(
  deps: { store: Pick<SystemLedgerStore, 'systemBalances'> },
  caller: Caller,
): Promise<LedgerSummary> {
  if (!caller.isOperator) throw new ForbiddenError();
  const balances = await deps.store.systemBalances();
  const currencies: LedgerSummary['currencies'] = {};
  for (const [currency, of] of Object.entries(balances).sort(([a], [b]) => a.localeCompare(b))) {
    const systemAccounts = Object.fromEntries(
      SYSTEM_ACCOUNTS.map((name) => [name, of[name] ?? 0]),
    ) as Record<SystemAccount, number>;
    currencies[currency] = { systemAccounts };
  }
  return { currencies };
}
