import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { listDeliveryAttempts, redeliver } from '../lib/domain/deliveries';
import { deliveryAttemptView, endpointIdOf, pageOf, redeliveryBody } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { metrics } from '../lib/metrics';
import { deliveryDeps, deliveryPostpone } from '../lib/event-service';
import { deliveryWorker } from '../lib/webhooks/worker';
import type { DeliveryAttemptPage, Redelivery } from '../lib/wire/types';

const worker = deliveryWorker(deliveryDeps, deliveryPostpone);

/** The delivery queue's consumer (SQS, ReportBatchItemFailures): one attempt per message. */
export const deliver = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  try {
    return await worker(event);
  } finally {
    // An endpoint disabled in this batch: its metric, as the HTTP middleware flushes a request's.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};

/** POST /webhook-endpoints/{endpointId}/redeliveries (operators): 202 once queued. */
export const redeliverEvent = httpHandler(
  { operation: 'redeliver webhook', operatorsOnly: true, body: redeliveryBody },
  async ({ caller, body, pathParameters }) =>
    json(
      202,
      (await redeliver(
        deliveryDeps(),
        caller,
        endpointIdOf(pathParameters),
        body.eventId,
      )) satisfies Redelivery,
    ),
);

/** GET /webhook-endpoints/{endpointId}/attempts: its owner's or an operator's. */
export const attempts = httpHandler(
  { operation: 'list delivery attempts' },
  async ({ caller, pathParameters, query }) => {
    const page = await listDeliveryAttempts(
      deliveryDeps(),
      caller,
      endpointIdOf(pathParameters),
      pageOf(query),
    );
    return json(200, {
      attempts: page.attempts.map(deliveryAttemptView),
      nextCursor: page.nextCursor ?? null,
    } satisfies DeliveryAttemptPage);
  },
);
