import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MovementType } from './domain/types';

/** What the money path counts; the domain sees this port, not CloudWatch. */
export interface MovementMetrics {
  committed(type: MovementType): void;
  replayed(type: MovementType): void;
  refused(type: MovementType, reason: string): void;
  /** A transaction cancelled by a conflicting one, retried (`gaveUp`: the retries ran out). */
  conflict(type: MovementType, gaveUp: boolean): void;
}

/** CloudWatch metrics as embedded-metric-format log lines, flushed after each invocation. */
export const metrics = new Metrics({ namespace: 'MoneyMovement', serviceName: 'money-movement' });

const FAMILY: Record<MovementType, string> = {
  WITHDRAWAL: 'Withdrawals',
  DEPOSIT: 'Deposits',
  TRANSFER_OUT: 'Transfers',
  TRANSFER_IN: 'Transfers',
  PAYOUT: 'Payouts',
};
const name = (type: MovementType, what: string) => `${FAMILY[type]}${what}`;

export const cloudWatchMovementMetrics: MovementMetrics = {
  committed: (type) => metrics.addMetric(name(type, 'Committed'), MetricUnit.Count, 1),
  replayed: (type) => metrics.addMetric(name(type, 'Replayed'), MetricUnit.Count, 1),
  refused: (type, reason) =>
    metrics
      .singleMetric()
      .addDimension('reason', reason)
      .addMetric(name(type, 'Refused'), MetricUnit.Count, 1),
  conflict: (_type, gaveUp) =>
    metrics.addMetric(
      gaveUp ? 'TransactionConflictsUnresolved' : 'TransactionConflictRetries',
      MetricUnit.Count,
      1,
    ),
};

export const noMetrics: MovementMetrics = {
  committed: () => undefined,
  replayed: () => undefined,
  refused: () => undefined,
  conflict: () => undefined,
};
