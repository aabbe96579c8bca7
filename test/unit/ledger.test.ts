import { ledgerSummary } from '../../lib/domain/ledger';
import { ForbiddenError } from '../../lib/domain/errors';
import type { Caller } from '../../lib/domain/types';
import { memoryLedgerStore } from '../support/memory-store';

const operator: Caller = { userId: 'ops', username: 'ops', isOperator: true };
const customer: Caller = { userId: 'alice', username: 'alice', isOperator: false };

describe('ledgerSummary', () => {
  it('answers every system account of each currency money moved in, 0 where none posted', async () => {
    const store = memoryLedgerStore();
    const chunk = { firstSequence: 1, lastSequence: 1 };
    await store.applySystemPostings({
      ...chunk,
      accountId: 'A',
      currency: 'USD',
      amounts: { funding: -100 },
    });
    await store.applySystemPostings({
      ...chunk,
      accountId: 'B',
      currency: 'EUR',
      amounts: { clearing: 7 },
    });

    await expect(ledgerSummary({ store }, operator)).resolves.toEqual({
      currencies: {
        EUR: { systemAccounts: { funding: 0, clearing: 7, revenue: 0 } },
        USD: { systemAccounts: { funding: -100, clearing: 0, revenue: 0 } },
      },
    });
  });

  it('refuses a customer, and reads nothing for them', async () => {
    const store = memoryLedgerStore();

    await expect(ledgerSummary({ store }, customer)).rejects.toBeInstanceOf(ForbiddenError);
    expect(store.calls('systemBalances')).toEqual([]);
  });
});
