import { csvHeaderRow, csvPagesOf } from '../lib/domain/statement-csv';
import { monthlyStatement, statementExport } from '../lib/domain/statements';
import { accountIdOf, entryView, pageOf, periodOf } from '../lib/http-schemas';
import { csvPart, wantsCsv } from '../lib/middleware/csv-response';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { Statement } from '../lib/wire/types';

/** A monthly statement: its balances, totals and one page of its lines; or all of them as CSV. */
export const handler = httpHandler(
  { operation: 'get statement' },
  async ({ caller, pathParameters, query, headers }) => {
    const accountId = accountIdOf(pathParameters);
    const period = periodOf(pathParameters);
    const page = pageOf(query);
    if (wantsCsv(headers)) {
      const { pages } = await statementExport(
        serviceDeps(),
        caller,
        accountId,
        period,
        page.cursor,
      );
      return csvPart(csvPagesOf(pages), {
        headers,
        filename: `statement-${accountId}-${period}.csv`,
        header: csvHeaderRow(),
        nextLink: (cursor) => `${period}?${new URLSearchParams({ cursor }).toString()}`,
      });
    }
    const statement = await monthlyStatement(serviceDeps(), caller, accountId, period, page);
    return json(
      200,
      { ...statement, transactions: statement.transactions.map(entryView) } satisfies Statement,
      { vary: 'accept' },
    );
  },
);
