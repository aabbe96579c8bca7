import { ulid } from 'ulid';
import { config } from './config';
import { logger } from './logger';
import { documentClient } from './persistence/dynamodb-client';
import { LedgerStore } from './persistence/ledger-store';
import type { AccountDeps } from './domain/accounts';
import { WithdrawalSwitch, type ControlDeps } from './domain/controls';
import { cloudWatchMovementMetrics } from './metrics';
import type { MovementDeps } from './domain/movements';

let deps: (AccountDeps & MovementDeps & ControlDeps) | undefined;

/** The domain's collaborators, wired once per container. */
export function serviceDeps(): AccountDeps & MovementDeps & ControlDeps {
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
    };
  }
  return deps;
}
