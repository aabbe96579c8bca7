import { RouteNotFoundError } from '../lib/domain/errors';
import { httpHandler } from '../lib/middleware/http';

/** API Gateway's $default route: unknown routes answer in the contract's error shape. */
export const handler = httpHandler({ operation: 'route', auth: false }, async () => {
  throw new RouteNotFoundError();
});
