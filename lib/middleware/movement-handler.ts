import { detailsOf } from '../domain/details';
import type { MovementDeps, MovementRequest, MovementResult } from '../domain/movements';
import { ruleOf } from '../domain/movement-types';
import type { MovementType } from '../domain/types';
import { accountIdOf, entryView, movementBody } from '../http-schemas';
import type { Movement } from '../wire/types';
import { httpHandler, idempotencyKeyOf, json } from './http';

/**
 * Movements on one account share one HTTP shape: 201 with the entry and the new balance. Who may
 * call the route comes from the type's row (an operator-initiated type is for operators only).
 */
export function movementHandler(
  type: MovementType,
  move: (deps: MovementDeps, request: MovementRequest) => Promise<MovementResult>,
  deps: () => MovementDeps,
) {
  const rule = ruleOf(type);
  return httpHandler(
    { operation: rule.operation, operatorsOnly: rule.initiator === 'operator', body: movementBody },
    async (request) => {
      const result = await move(deps(), {
        caller: request.caller,
        accountId: accountIdOf(request.pathParameters),
        idempotencyKey: idempotencyKeyOf(request.headers),
        amount: request.body.amount,
        currency: request.body.currency,
        ...detailsOf(request.body),
        requestId: request.requestId,
      });
      return json(
        201,
        {
          transaction: entryView(result.transaction),
          balance: result.balance,
          fee: result.fee,
        } satisfies Movement,
        result.replayed ? { 'idempotent-replayed': 'true' } : {},
      );
    },
  );
}
