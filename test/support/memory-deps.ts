import { DEFAULT_LIMITS } from '../../lib/domain/limits';
import type { MovementDeps } from '../../lib/domain/movements';
import type { LedgerStore } from '../../lib/domain/ports';
import { TermsCache } from '../../lib/domain/terms';
import { noMetrics } from '../../lib/metrics';

/**
 * The money path's dependencies over a store for unit tests: a clock and ids the test gives, a
 * silent logger, no pause, no metrics, default limits, no waiting between retries.
 */
export function memoryMovementDeps<S extends LedgerStore>(
  store: S,
  given: { now: () => Date; newId: () => string },
): MovementDeps & { store: S } {
  return {
    store,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    idempotencyTtlSeconds: 86_400,
    sleep: async () => undefined,
    termsCache: new TermsCache(),
    limitDefaults: DEFAULT_LIMITS,
    withdrawalSwitch: { isPaused: async () => false, cacheMs: 5000 },
    metrics: noMetrics,
    ...given,
  };
}
