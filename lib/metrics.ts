import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ruleOf } from './domain/movement-types';
import type { DeliveryMetrics } from './domain/deliveries';
import type { MovementMetrics } from './domain/ports';
import type { MovementType } from './domain/types';

/** CloudWatch metrics as embedded-metric-format log lines, flushed after each invocation. */
export const metrics = new Metrics({ namespace: 'MoneyMovement', serviceName: 'money-movement' });

const name = (type: MovementType, what: string) => `${ruleOf(type).metricFamily}${what}`;

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

/** The webhook delivery worker's: an endpoint disabled after failing for days (alarmed on). */
export const cloudWatchDeliveryMetrics: DeliveryMetrics = {
  endpointDisabled: () => metrics.addMetric('WebhookEndpointsDisabled', MetricUnit.Count, 1),
};
