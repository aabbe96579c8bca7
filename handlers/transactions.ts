import { listTransactions } from '../lib/domain/history';
import { listTransactionsByReference } from '../lib/domain/reference-lookup';
import { filteredHistory, isFiltered } from '../lib/domain/statements';
import { accountIdOf, entryView, historyFilterOf, pageOf, referenceOf } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { HistoryPage } from '../lib/wire/types';

/**
 * The history; with `?reference=` the movements that carry that reference; with any of `from`,
 * `to`, `type`, `status` the statement lines they let through (docs/statements.md).
 */
export const handler = httpHandler(
  { operation: 'list transactions' },
  async ({ caller, pathParameters, query }) => {
    const accountId = accountIdOf(pathParameters);
    const page = pageOf(query);
    const reference = referenceOf(query);
    const filter = historyFilterOf(query);
    const found = isFiltered(filter)
      ? await filteredHistory(serviceDeps(), caller, accountId, { ...filter, reference }, page)
      : reference === undefined
        ? await listTransactions(serviceDeps(), caller, accountId, page)
        : await listTransactionsByReference(serviceDeps(), caller, accountId, reference, page);
    return json(200, {
      transactions: found.transactions.map(entryView),
      nextCursor: found.nextCursor,
    } satisfies HistoryPage);
  },
);
