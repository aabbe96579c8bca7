import { setAccountFrozen, setWithdrawalsPaused, withdrawalControl } from '../lib/domain/controls';
import { accountIdOf, accountView, freezeBody, withdrawalSwitchBody } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { WithdrawalControl } from '../lib/wire/types';

const accountFreezeHandler = (frozen: boolean) =>
  httpHandler(
    {
      operation: frozen ? 'freeze account' : 'unfreeze account',
      operatorsOnly: true,
      body: freezeBody,
    },
    async ({ caller, pathParameters, body }) => {
      const account = await setAccountFrozen(serviceDeps(), caller, {
        accountId: accountIdOf(pathParameters),
        frozen,
        reason: body.reason,
      });
      return json(200, accountView(account));
    },
  );

export const freeze = accountFreezeHandler(true);
export const unfreeze = accountFreezeHandler(false);

export const getWithdrawalSwitch = httpHandler(
  { operation: 'read withdrawals switch', operatorsOnly: true },
  async ({ caller }) =>
    json(200, (await withdrawalControl(serviceDeps(), caller)) satisfies WithdrawalControl),
);

export const setWithdrawalSwitch = httpHandler(
  { operation: 'set withdrawals switch', operatorsOnly: true, body: withdrawalSwitchBody },
  async ({ caller, body }) =>
    json(
      200,
      (await setWithdrawalsPaused(serviceDeps(), caller, body)) satisfies WithdrawalControl,
    ),
);
