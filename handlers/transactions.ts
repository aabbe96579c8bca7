import { listTransactions } from '../lib/domain/history';
import { listTransactionsByReference } from '../lib/domain/reference-lookup';
import { accountIdOf, entryView, pageOf, referenceOf } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { HistoryPage } from '../lib/wire/types';

/** The history, or with `?reference=` the movements that carry that reference. */
export const handler = httpHandler(
  { operation: 'list transactions' },
  async ({ caller, pathParameters, query }) => {
    const accountId = accountIdOf(pathParameters);
    const page = pageOf(query);
    const reference = referenceOf(query);
    const found =
      reference === undefined
        ? await listTransactions(serviceDeps(), caller, accountId, page)
        : await listTransactionsByReference(serviceDeps(), caller, accountId, reference, page);
    return json(200, {
      transactions: found.transactions.map(entryView),
      nextCursor: found.nextCursor,
    } satisfies HistoryPage);
  },
);
