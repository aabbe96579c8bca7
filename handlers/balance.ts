import { balanceAndLimits } from '../lib/domain/limits';
import { accountIdOf, limitsStatusView } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { Balance } from '../lib/wire/types';

export const handler = httpHandler(
  { operation: 'get balance' },
  async ({ caller, pathParameters }) => {
    const { account, limits } = await balanceAndLimits(
      serviceDeps(),
      caller,
      accountIdOf(pathParameters),
    );
    const { accountId, currency, balance, available, pending, updatedAt } = account;
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
