import { detailsOf } from '../lib/domain/details';
import { requestPayout } from '../lib/domain/movements';
import { payoutFor, sweepPayouts } from '../lib/domain/payouts';
import { consumePayoutReturns } from '../lib/domain/returns';
import { accountIdOf, entryView, payoutBody, payoutIdOf, payoutView } from '../lib/http-schemas';
import { httpHandler, idempotencyKeyOf, json } from '../lib/middleware/http';
import { payoutDispatcher } from '../lib/payout-stream';
import { logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { payoutDeps, returnDeps, serviceDeps } from '../lib/service';
import type { PayoutResult } from '../lib/wire/types';

/** POST /accounts/{accountId}/payouts: holds the funds; 202, the gateway is called after. */
export const request = httpHandler(
  { operation: 'request payout', body: payoutBody },
  async ({ caller, body, headers, pathParameters, requestId }) => {
    const result = await requestPayout(serviceDeps(), {
      caller,
      accountId: accountIdOf(pathParameters),
      amount: body.amount,
      currency: body.currency,
      destination: body.destination,
      ...detailsOf(body),
      idempotencyKey: idempotencyKeyOf(headers),
      requestId,
    });
    // A payout's hold is committed with its payout record: the answer always has it.
    if (result.payout === undefined) throw new Error('a payout answered without its record');
    return json(
      202,
      {
        payout: payoutView(result.payout),
        fee: result.fee,
        transaction: entryView(result.transaction),
        balance: result.balance,
        available: result.available,
        pending: result.pending,
      } satisfies PayoutResult,
      result.replayed ? { 'idempotent-replayed': 'true' } : {},
    );
  },
);

/** GET /accounts/{accountId}/payouts/{transactionId} */
export const get = httpHandler({ operation: 'get payout' }, async ({ caller, pathParameters }) =>
  json(
    200,
    payoutView(
      await payoutFor(
        serviceDeps(),
        caller,
        accountIdOf(pathParameters),
        payoutIdOf(pathParameters),
      ),
    ),
  ),
);

/** The table's stream: each newly committed payout is sent to the gateway once. */
export const dispatch = payoutDispatcher(payoutDeps);

/** Scheduled: expired holds are cancelled and voided, unknown outcomes asked again. */
export const sweep = async (): Promise<void> => {
  const counts = await sweepPayouts(payoutDeps());
  // Each change was logged where it happened; the pass itself only when it found work.
  if (Object.entries(counts).some(([what, n]) => what !== 'WAITING' && n > 0)) {
    logger.info('payout sweep', counts);
  }
};

/** Scheduled: payouts the gateway reports returned are reversed (the money goes back). */
export const returns = async (): Promise<void> => {
  try {
    const counts = await consumePayoutReturns(returnDeps());
    if (Object.values(counts).some((n) => n > 0)) logger.info('payout returns', counts);
  } finally {
    // The reversals' metrics, as the HTTP middleware flushes a request's.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};
