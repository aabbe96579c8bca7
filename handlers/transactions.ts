import { listTransactions } from '../lib/domain/history';
import { accountIdOf, entryView, pageOf } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { HistoryPage } from '../lib/wire/types';

export const handler = httpHandler(
  { operation: 'list transactions' },
  async ({ caller, pathParameters, query }) => {
    const page = await listTransactions(
      serviceDeps(),
      caller,
      accountIdOf(pathParameters),
      pageOf(query),
    );
    return json(200, {
      transactions: page.transactions.map(entryView),
      nextCursor: page.nextCursor,
    } satisfies HistoryPage);
  },
);
