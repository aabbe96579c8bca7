import { monthlyStatement } from '../lib/domain/statements';
import { accountIdOf, entryView, pageOf, periodOf } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { Statement } from '../lib/wire/types';

/** A monthly statement: its balances, totals and one page of its lines. */
export const handler = httpHandler(
  { operation: 'get statement' },
  async ({ caller, pathParameters, query }) => {
    const accountId = accountIdOf(pathParameters);
    const period = periodOf(pathParameters);
    const page = pageOf(query);
    const statement = await monthlyStatement(serviceDeps(), caller, accountId, period, page);
    return json(200, {
      ...statement,
      transactions: statement.transactions.map(entryView),
    } satisfies Statement);
  },
);
