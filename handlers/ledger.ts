import { ledgerSummary } from '../lib/domain/ledger';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { LedgerSummary } from '../lib/wire/types';

/** GET /ledger/summary: the system accounts per currency (operators only). */
export const summary = httpHandler(
  { operation: 'ledger summary', operatorsOnly: true },
  async ({ caller }) =>
    json(200, (await ledgerSummary(serviceDeps(), caller)) satisfies LedgerSummary),
);
