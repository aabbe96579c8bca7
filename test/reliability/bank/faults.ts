import type { FaultPlan, FaultRule } from '../fault-proxy';

/** A stretch of the run with one fault plan. */
export interface Phase {
  label: string;
  rules: FaultRule[];
}

/**
 * The fault phases of a bank run, in order; the operations are split evenly among them.
 * Probabilities are per DynamoDB request of the service (the API and the sequencer), so a
 * withdrawal (two or three requests) meets a fault more often than the figure says.
 */
export const FAULT_PHASES: Phase[] = [
  { label: 'baseline', rules: [] },
  { label: 'conflict', rules: [{ kind: 'conflict', probability: 0.2 }] },
  { label: 'throttling', rules: [{ kind: 'throttling', probability: 0.08 }] },
  {
    label: 'provisioned-throughput',
    rules: [{ kind: 'provisioned-throughput', probability: 0.08 }],
  },
  { label: 'server-error', rules: [{ kind: 'server-error', probability: 0.08 }] },
  { label: 'latency', rules: [{ kind: 'latency', probability: 0.25, latencyMs: [5, 200] }] },
  { label: 'reset-before', rules: [{ kind: 'reset-before', probability: 0.06 }] },
  { label: 'lost-response', rules: [{ kind: 'lost-response', probability: 0.12 }] },
  {
    label: 'mixed',
    rules: [
      { kind: 'conflict', probability: 0.05 },
      { kind: 'lost-response', probability: 0.04 },
      { kind: 'reset-before', probability: 0.02 },
      { kind: 'throttling', probability: 0.02 },
      { kind: 'provisioned-throughput', probability: 0.02 },
      { kind: 'server-error', probability: 0.02 },
      { kind: 'latency', probability: 0.1, latencyMs: [5, 150] },
    ],
  },
];

export const NO_FAULT_PHASES: Phase[] = [{ label: 'no faults', rules: [] }];

export function planOf(phase: Phase, extra: FaultRule[]): FaultPlan | null {
  const rules = [...extra, ...phase.rules];
  return rules.length === 0 ? null : { label: phase.label, rules };
}
