import {
  deleteEndpoint,
  endpointFor,
  listEndpoints,
  registerEndpoint,
} from '../lib/domain/webhooks';
import {
  accountIdFrom,
  endpointIdOf,
  newWebhookEndpointBody,
  webhookEndpointCreatedView,
  webhookEndpointView,
} from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { webhookDeps } from '../lib/event-service';

/** POST /webhook-endpoints: 201 with the signing secret, shown only here. */
export const register = httpHandler(
  { operation: 'register webhook endpoint', body: newWebhookEndpointBody },
  async ({ caller, body }) => {
    const endpoint = await registerEndpoint(webhookDeps(), caller, {
      url: body.url,
      eventTypes: body.eventTypes,
      ...(body.accountId !== undefined ? { accountId: accountIdFrom(body.accountId) } : {}),
    });
    return json(201, webhookEndpointCreatedView(endpoint));
  },
);

/** GET /webhook-endpoints: the caller's own. */
export const list = httpHandler({ operation: 'list webhook endpoints' }, async ({ caller }) =>
  json(200, { endpoints: (await listEndpoints(webhookDeps(), caller)).map(webhookEndpointView) }),
);

/** GET /webhook-endpoints/{endpointId} */
export const get = httpHandler(
  { operation: 'get webhook endpoint' },
  async ({ caller, pathParameters }) =>
    json(
      200,
      webhookEndpointView(await endpointFor(webhookDeps(), caller, endpointIdOf(pathParameters))),
    ),
);

/** DELETE /webhook-endpoints/{endpointId}: 204, no body. */
export const remove = httpHandler(
  { operation: 'delete webhook endpoint' },
  async ({ caller, pathParameters }) => {
    await deleteEndpoint(webhookDeps(), caller, endpointIdOf(pathParameters));
    return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
  },
);
