/** Reads of the API for the run's own bookkeeping, as an operator, retried until answered. */
import type { HistoryPage, LedgerEntry } from '../../../lib/wire/types';
import type { RunContext } from './clients';
import { call, callUntil } from './http';

export function getJson(ctx: RunContext, path: string): Promise<unknown> {
  return callUntil(
    `GET ${path}`,
    () => call(ctx.apiUrl, 'GET', path, { token: ctx.users.ops.token }),
    (answer) => (answer.kind === 'response' && answer.status === 200 ? answer.json : undefined),
    20,
  );
}

export async function fullHistory(ctx: RunContext, accountId: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = (await getJson(
      ctx,
      `/accounts/${accountId}/transactions?limit=100${query}`,
    )) as HistoryPage;
    entries.push(...page.transactions);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return entries;
}
