import { build, type Histogram } from 'hdr-histogram-js';

/**
 * Latencies are recorded in microseconds in HdrHistograms (3 significant digits), and reported
 * in milliseconds.
 */
export type { Histogram };

export function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

const ms = (micros: number): number => Math.round(micros) / 1000;

export function summarize(histogram: Histogram): LatencySummary {
  return {
    count: histogram.totalCount,
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
  };
}

/** Percentiles for a latency curve: dense near the tail, as in HdrHistogram's own plots. */
export const CURVE_PERCENTILES = [
  0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96.25, 97.5, 98, 98.5, 99, 99.25, 99.5,
  99.75, 99.9,
];

export function curve(histogram: Histogram): Array<{ percentile: number; ms: number }> {
  return CURVE_PERCENTILES.map((percentile) => ({
    percentile,
    ms: ms(histogram.getValueAtPercentile(percentile === 0 ? 0.0001 : percentile)),
  }));
}

export function merged(histograms: Histogram[]): Histogram {
  const total = newHistogram();
  for (const histogram of histograms) total.add(histogram);
  return total;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
};

export const round = (value: number, digits = 3): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};
