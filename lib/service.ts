import { ulid } from 'ulid';
import { config } from './config';
import { logger } from './logger';
import { cloudWatchMovementMetrics } from './metrics';
import type { AccountDeps } from './domain/accounts';
import type { LimitsDeps } from './domain/limits';
import { TermsCache } from './domain/terms';
import { WithdrawalSwitch, type ControlDeps } from './domain/controls';
import type { HistoryDeps } from './domain/history';
import type { MovementDeps } from './domain/movements';
import type { PayoutDeps } from './domain/payouts';
import type { LedgerStore, PayoutGateway, PayoutReturnsFeed } from './domain/ports';
import type { ReturnDeps } from './domain/returns';
import { documentClient } from './persistence/dynamodb-client';
import { dynamoLedgerStore } from './persistence/dynamodb-store';
import { createHttpPayoutGateway } from './payouts/gateway';

/**
 * The one place the domain meets the real world: the DynamoDB adapters, the gateway client,
 * CloudWatch metrics and the logger, wired once per container.
 */
export type ServiceDeps = AccountDeps &
  MovementDeps &
  ControlDeps &
  HistoryDeps &
  LimitsDeps & { store: LedgerStore; payoutHoldSeconds: number };

let deps: ServiceDeps | undefined;
let gateway: (PayoutGateway & PayoutReturnsFeed) | undefined;
let payouts: PayoutDeps | undefined;
let returns: ReturnDeps | undefined;

/** The domain's collaborators for the HTTP handlers. */
export function serviceDeps(): ServiceDeps {
  if (deps === undefined) {
    const c = config();
    const store = dynamoLedgerStore(documentClient(), c.tableName);
    deps = {
      store,
      logger,
      newId: ulid,
      now: () => new Date(),
      idempotencyTtlSeconds: c.idempotencyTtlSeconds,
      termsCache: new TermsCache(),
      limitDefaults: c.limitDefaults,
      withdrawalSwitch: new WithdrawalSwitch(store, c.pauseSwitchCacheMs),
      metrics: cloudWatchMovementMetrics,
      payoutHoldSeconds: c.payoutHoldSeconds,
    };
  }
  return deps;
}

/** The payout gateway's HTTP client, one per container. */
function gatewayClient(): PayoutGateway & PayoutReturnsFeed {
  if (gateway === undefined) {
    const c = config();
    if (c.payoutGatewayUrl === undefined) {
      throw new Error('PAYOUT_GATEWAY_URL is not set: payouts cannot be dispatched');
    }
    gateway = createHttpPayoutGateway({
      baseUrl: c.payoutGatewayUrl,
      timeoutMs: c.payoutGatewayTimeoutMs,
    });
  }
  return gateway;
}

/** The payout dispatcher's and sweeper's collaborators: the store and the gateway client. */
export function payoutDeps(): PayoutDeps {
  payouts ??= {
    store: serviceDeps().store,
    gateway: gatewayClient(),
    logger,
    now: () => new Date(),
    retryAfterMs: config().payoutRetryMs,
  };
  return payouts;
}

/** The returns reader's: the money path's (a return is reversed as any reversal) and the feed. */
export function returnDeps(): ReturnDeps {
  returns ??= {
    ...serviceDeps(),
    gateway: gatewayClient(),
    returnWaitMs: config().payoutReturnWaitMs,
  };
  return returns;
}
