/**
 * The webhook delivery worker on its own: the local queue's poller (local/delivery-queue.ts)
 * feeding the same handler Lambda runs from SQS. `npm start` runs the poller in its own process;
 * this entry lets a test run it as a process of its own, and `kill -9` it.
 *
 *   DYNAMODB_ENDPOINT, TABLE_NAME      the table of the queue, the events and the endpoints
 *   WEBHOOK_*                          the delivery settings (lib/config.ts)
 *   DELIVERY_CONCURRENCY               messages in flight at most (16)
 *   DELIVERY_VISIBILITY_SECONDS        a received message's visibility timeout (60, as SQS's)
 *   DELIVERY_MAX_RECEIVES              receives before the dead-letter partition (30)
 *
 * Prints one line `delivery worker ready` once polling; SIGTERM or SIGINT stops it after the
 * messages in flight.
 */
import { startDeliveryPoller, localDeliveryQueue } from './delivery-queue';

// The worker verifies no tokens, but the service's configuration requires an issuer.
process.env.JWT_ISSUER ??= 'http://127.0.0.1/no-tokens-here';
process.env.JWT_CLIENT_IDS ??= 'none';

const positive = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

async function main(): Promise<void> {
  // Imported after the environment is complete: the configuration is read once, on first use.
  const { config } = await import('../lib/config');
  const { documentClient } = await import('../lib/persistence/dynamodb-client');
  const { deliveryDeps, deliveryPostpone, useLocalDeliveryQueue } = await import(
    '../lib/event-service'
  );
  const { deliveryWorker } = await import('../lib/webhooks/worker');
  const { logger } = await import('../lib/logger');
  const queue = localDeliveryQueue({
    db: documentClient(),
    tableName: config().tableName,
    visibilityTimeoutSeconds: positive('DELIVERY_VISIBILITY_SECONDS', 60),
    maxReceiveCount: positive('DELIVERY_MAX_RECEIVES', 30),
    log: (message, fields) => logger.error(message, fields),
  });
  useLocalDeliveryQueue(queue);
  const poller = startDeliveryPoller({
    queue,
    handler: deliveryWorker(deliveryDeps, deliveryPostpone),
    concurrency: positive('DELIVERY_CONCURRENCY', 16),
    onError: (error) => logger.error('delivery poller', { error: error as Error }),
  });
  const stop = () => void poller.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write('delivery worker ready\n');
}

main().catch((error: unknown) => {
  console.error('delivery worker failed to start:', error);
  process.exit(1);
});
