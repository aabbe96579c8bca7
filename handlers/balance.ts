import { balanceAndLimits } from '../lib/domain/limits';
import { balanceAt } from '../lib/domain/statements';
import { accountIdOf, instantOf, limitsStatusView } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { Balance, BalanceAt } from '../lib/wire/types';

/** The balance now, or with `?at=` the posted balance at that instant (from the statement). */
export const handler = httpHandler(
  { operation: 'get balance' },
  async ({ caller, pathParameters, query }) => {
    const accountId = accountIdOf(pathParameters);
    const at = instantOf(query, 'at');
    if (at !== undefined) {
      return json(200, (await balanceAt(serviceDeps(), caller, accountId, at)) satisfies BalanceAt);
    }
    const { account, limits } = await balanceAndLimits(serviceDeps(), caller, accountId);
    const { currency, balance, available, pending, updatedAt } = account;
    return json(200, {
      accountId,
      currency,
      balance,
      available,
      pending,
      updatedAt,
      limits: limitsStatusView(limits),
    } satisfies Balance);
  },
);
