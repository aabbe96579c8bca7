import { listTransactions } from '../lib/domain/history';
import { listTransactionsByReference } from '../lib/domain/reference-lookup';
import { csvHeaderRow, csvPagesOf } from '../lib/domain/statement-csv';
import { filteredHistory, historyExport, isFiltered } from '../lib/domain/statements';
import { accountIdOf, entryView, historyFilterOf, pageOf, referenceOf } from '../lib/http-schemas';
import { csvPart, wantsCsv } from '../lib/middleware/csv-response';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { HistoryPage } from '../lib/wire/types';

/**
 * The history; with `?reference=` the movements that carry that reference; with any of `from`,
 * `to`, `type`, `status` the statement lines they let through (docs/statements.md); with
 * `Accept: text/csv` all of those lines as CSV.
 */
export const handler = httpHandler(
  { operation: 'list transactions' },
  async ({ caller, pathParameters, query, headers }) => {
    const accountId = accountIdOf(pathParameters);
    const page = pageOf(query);
    const reference = referenceOf(query);
    const filter = { ...historyFilterOf(query), ...(reference === undefined ? {} : { reference }) };
    if (wantsCsv(headers)) {
      const { pages } = await historyExport(serviceDeps(), caller, accountId, filter, page.cursor);
      return csvPart(csvPagesOf(pages), {
        headers,
        filename: `transactions-${accountId}.csv`,
        header: csvHeaderRow(),
        nextLink: (cursor) => `transactions?${sameQueryAt(query, cursor)}`,
      });
    }
    const found = isFiltered(filter)
      ? await filteredHistory(serviceDeps(), caller, accountId, filter, page)
      : reference === undefined
        ? await listTransactions(serviceDeps(), caller, accountId, page)
        : await listTransactionsByReference(serviceDeps(), caller, accountId, reference, page);
    return json(
      200,
      {
        transactions: found.transactions.map(entryView),
        nextCursor: found.nextCursor,
      } satisfies HistoryPage,
      { vary: 'accept' },
    );
  },
);

/** The request's filters again, with the cursor of the next part of the export. */
function sameQueryAt(query: Record<string, string | undefined>, cursor: string): string {
  const next = new URLSearchParams();
  for (const name of ['from', 'to', 'type', 'status', 'reference']) {
    const value = query[name];
    if (value !== undefined) next.set(name, value);
  }
  next.set('cursor', cursor);
  return next.toString();
}
