import { accountFor } from '../lib/domain/accounts';
import { accountIdOf } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { Balance } from '../lib/wire/types';

export const handler = httpHandler(
  { operation: 'get balance' },
  async ({ caller, pathParameters }) => {
    const { accountId, currency, balance, available, pending, updatedAt } = await accountFor(
      serviceDeps(),
      caller,
      accountIdOf(pathParameters),
    );
    return json(200, {
      accountId,
      currency,
      balance,
      available,
      pending,
      updatedAt,
    } satisfies Balance);
  },
);
