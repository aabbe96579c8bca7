import { detailsOf } from '../lib/domain/details';
import { transfer } from '../lib/domain/movements';
import { accountIdFrom, entryView, transferBody } from '../lib/http-schemas';
import { httpHandler, idempotencyKeyOf, json } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import type { TransferResult } from '../lib/wire/types';

export const handler = httpHandler(
  { operation: 'transfer', body: transferBody },
  async ({ caller, body, headers, requestId }) => {
    const result = await transfer(serviceDeps(), {
      caller,
      accountId: accountIdFrom(body.fromAccountId),
      toAccountId: accountIdFrom(body.toAccountId, 'The destination account does not exist.'),
      amount: body.amount,
      currency: body.currency,
      ...detailsOf(body),
      idempotencyKey: idempotencyKeyOf(headers),
      requestId,
    });
    const t = result.transaction;
    return json(
      201,
      {
        transfer: {
          transactionId: t.transactionId,
          fromAccountId: t.accountId,
          toAccountId: t.counterpartyAccountId ?? body.toAccountId,
          amount: t.amount,
          currency: t.currency,
          createdAt: t.createdAt,
        },
        transaction: entryView(t),
        balance: result.balance,
        available: result.available,
      } satisfies TransferResult,
      result.replayed ? { 'idempotent-replayed': 'true' } : {},
    );
  },
);
