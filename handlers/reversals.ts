import { reverseTransaction } from '../lib/domain/reversals';
import { entryView, reversalBody, transactionIdOf } from '../lib/http-schemas';
import { httpHandler, idempotencyKeyOf, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { ReversalResult } from '../lib/wire/types';

/** POST /transactions/{transactionId}/reversals (operators): 201 with the reversal's entry. */
export const handler = httpHandler(
  { operation: 'reversal', operatorsOnly: true, body: reversalBody },
  async ({ caller, body, headers, pathParameters, requestId }) => {
    const result = await reverseTransaction(serviceDeps(), {
      caller,
      transactionId: transactionIdOf(pathParameters),
      ...(body.amount !== undefined ? { amount: body.amount } : {}),
      reason: body.reason,
      ...(body.allowNegative !== undefined ? { allowNegative: body.allowNegative } : {}),
      idempotencyKey: idempotencyKeyOf(headers),
      requestId,
    });
    return json(
      201,
      {
        transaction: entryView(result.transaction),
        balance: result.balance,
        available: result.available,
        pending: result.pending,
        reversed: result.reversed,
      } satisfies ReversalResult,
      result.replayed ? { 'idempotent-replayed': 'true' } : {},
    );
  },
);
