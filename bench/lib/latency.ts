import type { ScenarioRuns } from './load';
import { curve, median, merged, round, summarize, type LatencySummary } from './stats';

export interface ScenarioSummary {
  latency: LatencySummary;
  /** Operations per second: all measured operations over their summed wall-clock time. */
  throughput: number;
  perRound: Array<{ p50: number; throughput: number }>;
  curve: Array<{ percentile: number; ms: number }>;
  failures: number;
  firstFailure?: string;
}

export function summarizeRuns(runs: ScenarioRuns): ScenarioSummary {
  const histogram = merged(runs.rounds.map((r) => r.histogram));
  const count = runs.rounds.reduce((sum, r) => sum + r.count, 0);
  const elapsed = runs.rounds.reduce((sum, r) => sum + r.elapsedMs, 0);
  return {
    latency: summarize(histogram),
    throughput: round((count / elapsed) * 1000, 1),
    perRound: runs.rounds.map((r) => ({
      p50: round(r.histogram.getValueAtPercentile(50) / 1000, 3),
      throughput: round(r.throughput, 1),
    })),
    curve: curve(histogram),
    failures: runs.failures,
    ...(runs.firstFailure === undefined ? {} : { firstFailure: runs.firstFailure }),
  };
}

export interface Comparison {
  /** subject p50 / baseline p50, from all rounds pooled. */
  p50Ratio: number;
  p99Ratio: number;
  /** subject throughput / baseline throughput. */
  throughputRatio: number;
  /** The same ratios taken round by round (each round side by side), then their median. */
  medianRoundP50Ratio: number;
  medianRoundThroughputRatio: number;
}

export function compare(subject: ScenarioSummary, baseline: ScenarioSummary): Comparison {
  const perRound = (pick: (r: { p50: number; throughput: number }) => number): number =>
    round(
      median(
        subject.perRound.map((r, i) => {
          const b = baseline.perRound[i];
          return b ? pick(r) / pick(b) : Number.NaN;
        }),
      ),
      3,
    );
  return {
    p50Ratio: round(subject.latency.p50 / baseline.latency.p50, 3),
    p99Ratio: round(subject.latency.p99 / baseline.latency.p99, 3),
    throughputRatio: round(subject.throughput / baseline.throughput, 3),
    medianRoundP50Ratio: perRound((r) => r.p50),
    medianRoundThroughputRatio: perRound((r) => r.throughput),
  };
}
