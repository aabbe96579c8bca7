import { accountLimits, setAccountLimits } from '../lib/domain/limits';
import { accountIdOf, limitsBody, limitsView } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';

/** GET /accounts/{accountId}/limits: the limits, today's use and the last change. */
export const get = httpHandler({ operation: 'read limits' }, async ({ caller, pathParameters }) =>
  json(200, limitsView(await accountLimits(serviceDeps(), caller, accountIdOf(pathParameters)))),
);

/** PUT /accounts/{accountId}/limits (operators): changes the limits sent, audited. */
export const set = httpHandler(
  { operation: 'set limits', operatorsOnly: true, body: limitsBody },
  async ({ caller, pathParameters, body: { reason, ...limits } }) =>
    json(
      200,
      limitsView(
        await setAccountLimits(serviceDeps(), caller, {
          accountId: accountIdOf(pathParameters),
          limits,
          reason,
        }),
      ),
    ),
);
