import type { MovementDeps, MovementRequest, MovementResult } from '../domain/movements';
import { accountIdOf, entryView, movementBody } from '../http-schemas';
import { serviceDeps } from '../service';
import { httpHandler, idempotencyKeyOf, json } from './http';

/** Withdrawals and deposits share one HTTP shape: 201 with the entry and the new balance. */
export function movementHandler(
  operation: 'withdrawal' | 'deposit',
  move: (deps: MovementDeps, request: MovementRequest) => Promise<MovementResult>,
) {
  return httpHandler(
    { operation, operatorsOnly: operation === 'deposit', body: movementBody },
    async (request) => {
      const result = await move(serviceDeps(), {
        caller: request.caller,
        accountId: accountIdOf(request.pathParameters),
        idempotencyKey: idempotencyKeyOf(request.headers),
        amount: request.body.amount,
        currency: request.body.currency,
        requestId: request.requestId,
      });
      return json(
        201,
        { transaction: entryView(result.transaction), balance: result.balance },
        result.replayed ? { 'idempotent-replayed': 'true' } : {},
      );
    },
  );
}
