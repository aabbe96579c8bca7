import { json, httpHandler } from '../lib/middleware/http';
import { serviceDeps } from '../lib/service';
import { ServiceUnavailableError } from '../lib/domain/errors';
import type { Health } from '../lib/wire/types';

export const handler = httpHandler({ operation: 'health', auth: false }, async () => {
  try {
    await serviceDeps().store.ping();
  } catch {
    throw new ServiceUnavailableError('DynamoDB is not answering.');
  }
  return json(200, { status: 'ok' } satisfies Health);
});
