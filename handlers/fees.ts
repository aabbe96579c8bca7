import { feeSchedule, setFeeSchedule } from '../lib/domain/fees';
import { accountIdOf, feeScheduleView, feesBody } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';

/** GET /accounts/{accountId}/fees: the schedule, for the page to show a fee before confirming. */
export const get = httpHandler({ operation: 'read fees' }, async ({ caller, pathParameters }) =>
  json(200, feeScheduleView(await feeSchedule(serviceDeps(), caller, accountIdOf(pathParameters)))),
);

/** PUT /accounts/{accountId}/fees (operators): replaces the schedule. */
export const set = httpHandler(
  { operation: 'set fees', operatorsOnly: true, body: feesBody },
  async ({ caller, pathParameters, body: { reason, ...schedule } }) =>
    json(
      200,
      feeScheduleView(
        await setFeeSchedule(serviceDeps(), caller, {
          accountId: accountIdOf(pathParameters),
          schedule,
          reason,
        }),
      ),
    ),
);
