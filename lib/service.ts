import { ulid } from 'ulid';
import { config } from './config';
import { logger } from './logger';
import { documentClient } from './persistence/dynamodb-client';
import { LedgerStore } from './persistence/ledger-store';
import type { AccountDeps } from './domain/accounts';
import type { MovementDeps } from './domain/movements';

let deps: (AccountDeps & MovementDeps) | undefined;

/** The domain's collaborators, wired once per container. */
export function serviceDeps(): AccountDeps & MovementDeps {
  const c = config();
  deps ??= {
    store: new LedgerStore(documentClient(), c.tableName),
    logger,
    newId: ulid,
    now: () => new Date(),
    idempotencyTtlSeconds: c.idempotencyTtlSeconds,
  };
  return deps;
}
