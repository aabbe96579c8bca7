import { accountFor, listAccounts, openAccount } from '../lib/domain/accounts';
import { accountIdOf, accountView, openAccountBody } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { AccountList } from '../lib/wire/types';

export const list = httpHandler({ operation: 'list accounts' }, async ({ caller }) => {
  const accounts = await listAccounts(serviceDeps(), caller);
  return json(200, { accounts: accounts.map(accountView) } satisfies AccountList);
});

export const open = httpHandler(
  { operation: 'open account', operatorsOnly: true, body: openAccountBody },
  async ({ caller, body }) =>
    json(201, accountView(await openAccount(serviceDeps(), caller, body))),
);

export const get = httpHandler({ operation: 'get account' }, async ({ caller, pathParameters }) => {
  const account = await accountFor(serviceDeps(), caller, accountIdOf(pathParameters));
  return json(200, accountView(account));
});
