import type { Ceilings } from './ceilings';
import type { ColdStartResult } from './cold-start';
import type { CostResult } from './cost';
import type { Fidelity } from './floor';
import type { HandlerCpu } from './handler';
import type { HotAccountResult } from './hot-account';
import type { Comparison, ScenarioSummary } from './lib/latency';
import type { ScaleResult } from './scale';
import type { SequencerResult } from './sequencer';
import type { WebhookResult } from './webhooks';

export interface Target {
  section: string;
  name: string;
  target: string;
  value: string;
  met: boolean;
}

export interface LoadResults {
  name: string;
  concurrency: number;
  perRound: number;
  warmup: number;
  rounds: number;
  floor: ScenarioSummary;
  handler: ScenarioSummary;
  alternative: ScenarioSummary;
  handlerVsFloor: Comparison;
  alternativeVsHandler: Comparison;
}

export interface HttpLoadResults {
  name: string;
  concurrency: number;
  perRound: number;
  rounds: number;
  http: ScenarioSummary;
  floor: ScenarioSummary;
  httpVsFloor: Comparison;
  /** The time budget ended the load before all its rounds. */
  cutShort: boolean;
  /** Answers of the measured rounds by status and code. */
  answers: Record<string, number>;
  /** Requests without a withdrawal for a transient reason (503, 409 conflict, emulator timeouts). */
  transient: number;
}

export interface BenchResults {
  /** Handler p50 / floor p50, sequential (one request at a time). */
  p50Ratio: number;
  /** Handler throughput / floor throughput, 32 requests in flight. */
  throughputRatio: number;
  /** DynamoDB HTTP round trips per committed withdrawal (SDK attempts, retries included). */
  roundTripsPerWithdrawal: number;
  withdrawBundleKB: number;
  /** Median init of the withdraw bundle / median init of the bare-client bundle. */
  initRatio: number;
  /** The same for the Powertools Idempotency alternative. */
  alternativeRoundTripsPerWithdrawal: number;
  targets: Target[];
  meta: {
    mode: 'full' | 'smoke';
    startedAt: string;
    durationSeconds: number;
    node: string;
    cpus: number;
    cpuModel: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
    handlerLogLevel: string;
    handlerLogLines: number;
    errors: string[];
  };
  sections: {
    floorFidelity?: Fidelity;
    latency?: LoadResults[];
    handlerCpu?: HandlerCpu;
    http?:
      | {
          loads: HttpLoadResults[];
          emulatorRetries: number;
          stackStartSeconds: number;
          budgetSeconds: number;
        }
      | { error: string }
      | { skipped: string };
    cost?: CostResult;
    /** Derived from the cost section's units and the configured limits (bench/ceilings.ts). */
    ceilings?: Ceilings;
    hotAccount?: HotAccountResult;
    scale?: ScaleResult;
    coldStart?: ColdStartResult;
    sequencer?: SequencerResult;
    webhooks?: WebhookResult;
  };
}
