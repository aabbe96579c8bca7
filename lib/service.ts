import { ulid } from 'ulid';
import { config } from './config';
import { logger } from './logger';
import { documentClient } from './persistence/dynamodb-client';
import { LedgerStore } from './persistence/ledger-store';
import type { AccountDeps } from './domain/accounts';
import { WithdrawalSwitch, type ControlDeps } from './domain/controls';
import { cloudWatchMovementMetrics } from './metrics';
import type { MovementDeps } from './domain/movements';
import type { PayoutDeps } from './domain/payouts';
import { createHttpPayoutGateway } from './payouts/gateway';

type ServiceDeps = AccountDeps & MovementDeps & ControlDeps & { payoutHoldSeconds: number };
let deps: ServiceDeps | undefined;
let payouts: PayoutDeps | undefined;

/** The domain's collaborators, wired once per container. */
export function serviceDeps(): ServiceDeps {
  const c = config();
  if (deps === undefined) {
    const store = new LedgerStore(documentClient(), c.tableName);
    deps = {
      store,
      logger,
      newId: ulid,
      now: () => new Date(),
      idempotencyTtlSeconds: c.idempotencyTtlSeconds,
      withdrawalSwitch: new WithdrawalSwitch(store, c.pauseSwitchCacheMs),
      metrics: cloudWatchMovementMetrics,
      payoutHoldSeconds: c.payoutHoldSeconds,
    };
  }
  return deps;
}

/** The payout dispatcher's and sweeper's collaborators: the store and the gateway client. */
export function payoutDeps(): PayoutDeps {
  const c = config();
  if (payouts === undefined) {
    if (c.payoutGatewayUrl === undefined) {
      throw new Error('PAYOUT_GATEWAY_URL is not set: payouts cannot be dispatched');
    }
    payouts = {
      store: serviceDeps().store,
      gateway: createHttpPayoutGateway({
        baseUrl: c.payoutGatewayUrl,
        timeoutMs: c.payoutGatewayTimeoutMs,
      }),
      logger,
      now: () => new Date(),
      retryAfterMs: c.payoutRetryMs,
    };
  }
  return payouts;
}
