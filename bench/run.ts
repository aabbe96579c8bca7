/**
 * `npm run bench` (`--smoke`: the fast version for CI). One command, one run: starts its own
 * in-memory DynamoDB Local on a free port and a local token issuer, then measures, side by
 * side, the raw SDK floor, the full withdraw handler, the usual Powertools alternative, the HTTP
 * API of the local stack, the cost per operation, a hot account, history at scale and cold
 * starts. Writes results.json, REPORT.md and latency.svg: into bench/ for a full run; for
 * --smoke into $TMPDIR/money-movement-bench-smoke/, so CI runs never overwrite the full report.
 * `--out <dir>` chooses another directory.
 *
 * Prints whether each target is met; exits 0 unless something errored or a correctness check
 * failed (a refused or lost withdrawal, a wrong page, ...). No timing is ever asserted.
 */
import './lib/preset-env';
import os from 'node:os';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { alternativeHandler } from './alternative';
import { ceilingsOf } from './ceilings';
import { measureColdStart } from './cold-start';
import { measureCost } from './cost';
import { checkFloorFidelity, createFloorClient, floorOperation } from './floor';
import { handlerOperation, profileHandler, type LambdaHandler } from './handler';
import { measureHotAccount } from './hot-account';
import { measureHttp } from './http';
import {
  IDEMPOTENCY_TABLE,
  LEDGER_TABLE,
  createAccounts,
  startDynamo,
  swallowHandlerLogs,
  type Dynamo,
} from './lib/env';
import { compare, summarizeRuns } from './lib/latency';
import { interleaved, type Load } from './lib/load';
import { Progress } from './lib/progress';
import { stageThrottles } from './lib/throttles';
import { round } from './lib/stats';
import { renderReport, renderSvg } from './report';
import type { BenchResults, LoadResults, Target } from './results';
import { measureScale, type ScaleResult } from './scale';
import { measureSequencer } from './sequencer';
import { measureWebhooks, type WebhookPlan, type WebhookResult } from './webhooks';
import { configureHandlers, startTestIssuer, type TestIssuer } from '../test/support/in-process';

const smoke = process.argv.includes('--smoke');

interface Plan {
  costOperations: number;
  /**
   * Rounds: a multiple of 3, so that in flight each of the 3 scenarios runs first, second and
   * third alike (one at a time, they take turns request by request anyway).
   */
  latency: { rounds: number; loads: Load[] };
  /** Sequential withdrawals per scenario under the CPU profiler (0: none). */
  profileWithdrawals: number;
  hotRounds: number;
  scale: { sizes: number[]; reads: number };
  /** Section 9: movements committed, then drained by the sequencer, per load. */
  sequencer: { name: string; accounts: number; movements: number }[];
  cold: { initSamples: number; componentSamples: number; otherHandlerSamples: number };
  /** Rounds: even, so HTTP and its floor run first alike. Budget: seconds per load. */
  http: { rounds: number; loads: Load[]; budgetSeconds: number } | null;
  webhooks: WebhookPlan;
}

const PLAN: Plan = smoke
  ? {
      costOperations: 5,
      latency: {
        rounds: 3,
        loads: [
          { name: 'sequential', concurrency: 1, perRound: 10, warmup: 5 },
          { name: '32 in flight', concurrency: 32, perRound: 32, warmup: 32 },
        ],
      },
      profileWithdrawals: 0,
      hotRounds: 1,
      scale: { sizes: [10, 10_000], reads: 10 },
      sequencer: [
        { name: 'one account', accounts: 1, movements: 300 },
        { name: '16 accounts', accounts: 16, movements: 300 },
      ],
      cold: { initSamples: 5, componentSamples: 0, otherHandlerSamples: 0 },
      // Starting the whole local stack takes most of a minute; npm test's e2e suite runs it.
      http: null,
      webhooks: {
        slow: { rounds: 1, perRound: 10 },
        delivery: { events: 30, failRatio: 1 / 3, accounts: 3 },
      },
    }
  : {
      costOperations: 20,
      latency: {
        rounds: 15,
        loads: [
          { name: 'sequential', concurrency: 1, perRound: 40, warmup: 50 },
          { name: '32 in flight', concurrency: 32, perRound: 128, warmup: 160 },
        ],
      },
      profileWithdrawals: 300,
      hotRounds: 5,
      scale: { sizes: [10, 10_000, 100_000], reads: 300 },
      sequencer: [
        { name: 'one account', accounts: 1, movements: 600 },
        { name: '16 accounts', accounts: 16, movements: 600 },
      ],
      cold: { initSamples: 20, componentSamples: 5, otherHandlerSamples: 3 },
      http: {
        rounds: 2,
        loads: [
          { name: 'sequential', concurrency: 1, perRound: 30, warmup: 10 },
          { name: '32 in flight', concurrency: 32, perRound: 96, warmup: 0 },
        ],
        budgetSeconds: 75,
      },
      webhooks: {
        slow: { rounds: 1, perRound: 600 },
        delivery: { events: 1000, failRatio: 1 / 3, accounts: 10 },
      },
    };

/** Limits from issue 6. */
export const LIMITS = {
  p50Ratio: 1.1,
  throughputRatio: 0.9,
  roundTrips: 2,
  bundleKb: 300,
  initRatio: 2,
  scaleFlatRatio: 1.25,
  hotSuccesses: 64,
  /** Issue 17: the sequencer writes lines at least twice as fast as movements commit. */
  sequencerRatio: 2,
  /** Issue 22: a slow webhook endpoint leaves the withdrawal's p50 within this ratio. */
  slowEndpointP50Ratio: 1.1,
};

const outFlag = process.argv.indexOf('--out');
const OUT_DIR = path.resolve(
  outFlag >= 0 && process.argv[outFlag + 1]
    ? (process.argv[outFlag + 1] ?? '')
    : smoke
      ? path.join(os.tmpdir(), 'money-movement-bench-smoke')
      : __dirname,
);

/**
 * Ctrl-C or SIGTERM: stop the local stack if it runs, then exit, which takes DynamoDB Local
 * down with this process (local/dynamodb-local.ts stops it on exit).
 */
let stopStack: (() => Promise<void>) | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping …\n`);
    void (stopStack?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
const OWNER = 'bench-user';

async function main(): Promise<number> {
  const started = Date.now();
  const progress = new Progress();
  const logs = swallowHandlerLogs();
  const errors: string[] = [];
  const results: BenchResults = {
    p50Ratio: Number.NaN,
    throughputRatio: Number.NaN,
    roundTripsPerWithdrawal: Number.NaN,
    withdrawBundleKB: Number.NaN,
    initRatio: Number.NaN,
    alternativeRoundTripsPerWithdrawal: Number.NaN,
    targets: [],
    meta: {
      mode: smoke ? 'smoke' : 'full',
      startedAt: new Date(started).toISOString(),
      durationSeconds: 0,
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAverageAtStart: os.loadavg().map((v) => round(v, 2)),
      loadAverageAtEnd: [],
      handlerLogLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
      handlerLogLines: 0,
      errors,
    },
    sections: {},
  };
  const section = async (name: string, body: () => Promise<void>): Promise<void> => {
    progress.begin(name);
    try {
      await body();
    } catch (error) {
      const message = `${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      errors.push(message);
      progress.note(`ERROR ${message}`);
    }
  };

  let dynamo: Dynamo | undefined;
  let issuer: TestIssuer | undefined;
  const clients: DynamoDBClient[] = [];
  try {
    progress.begin(
      `bench (${smoke ? 'smoke' : 'full'}): DynamoDB Local (in-memory, free port), token issuer`,
    );
    dynamo = await startDynamo();
    issuer = await startTestIssuer();
    configureHandlers({ tableName: LEDGER_TABLE, endpoint: dynamo.endpoint, issuer });
    const token = await issuer.token({ sub: OWNER, username: 'bench' });
    const ours = (await import('../handlers/withdrawals')).handler as unknown as LambdaHandler;
    const { documentClient } = await import('../lib/persistence/dynamodb-client');
    const floor = createFloorClient(dynamo.endpoint);
    const alt = createFloorClient(dynamo.endpoint);
    clients.push(floor.client, alt.client);
    const alternative = alternativeHandler({
      client: alt.client,
      doc: alt.doc,
      tableName: LEDGER_TABLE,
      idempotencyTable: IDEMPOTENCY_TABLE,
    });
    const d = dynamo;

    // First, while the table's stream holds nothing else: the sequencer reads it from the start.
    await section('5. Cost per operation', async () => {
      results.sections.cost = await measureCost({
        dynamo: d,
        ours: {
          handler: ours,
          // The DocumentClient shares its middleware stack with the SDK client underneath.
          client: documentClient() as unknown as Pick<DynamoDBClient, 'middlewareStack'>,
        },
        alternative: { handler: alternative, client: alt.client },
        token,
        ownerId: OWNER,
        operations: PLAN.costOperations,
        progress,
      });
      results.sections.ceilings = ceilingsOf(results.sections.cost, stageThrottles());
    });

    await section('1, 2, 4. Floor, handler and the usual alternative, interleaved', async () => {
      const [handlerAccount, floorAccount] = await createAccounts(
        d.setupDoc,
        LEDGER_TABLE,
        OWNER,
        2,
        1e12,
      );
      const fidelity = await checkFloorFidelity({
        handler: ours,
        handlerClient: documentClient() as unknown as Pick<
          DynamoDBClient,
          'middlewareStack' | 'config'
        >,
        floor,
        tableName: LEDGER_TABLE,
        token,
        ownerId: OWNER,
        handlerAccount: handlerAccount ?? '',
        floorAccount: floorAccount ?? '',
      });
      results.sections.floorFidelity = fidelity;
      if (!fidelity.identical) {
        errors.push(
          `the floor no longer sends what a withdrawal sends (update bench/floor.ts): handler only: ${fidelity.onlyHandler.join('; ')}; floor only: ${fidelity.onlyFloor.join('; ')}`,
        );
      }
      const latency: LoadResults[] = [];
      for (const load of PLAN.latency.loads) {
        const accounts = async () =>
          createAccounts(d.setupDoc, LEDGER_TABLE, OWNER, load.concurrency, 1e12);
        const runs = await interleaved(
          {
            floor: floorOperation(
              floor.doc,
              LEDGER_TABLE,
              OWNER,
              await accounts(),
              `floor-${load.name}`,
            ),
            handler: handlerOperation(ours, token, await accounts(), `handler-${load.name}`),
            alternative: handlerOperation(alternative, token, await accounts(), `alt-${load.name}`),
          },
          load,
          PLAN.latency.rounds,
          progress,
        );
        const floorSummary = summarizeRuns(runs.floor);
        const handlerSummary = summarizeRuns(runs.handler);
        const alternativeSummary = summarizeRuns(runs.alternative);
        latency.push({
          name: load.name,
          concurrency: load.concurrency,
          perRound: load.perRound,
          warmup: load.warmup,
          rounds: PLAN.latency.rounds,
          floor: floorSummary,
          handler: handlerSummary,
          alternative: alternativeSummary,
          handlerVsFloor: compare(handlerSummary, floorSummary),
          alternativeVsHandler: compare(alternativeSummary, handlerSummary),
        });
        for (const [name, summary] of Object.entries({
          floorSummary,
          handlerSummary,
          alternativeSummary,
        })) {
          if (summary.failures > 0) {
            errors.push(
              `${load.name} ${name}: ${summary.failures} failed, e.g. ${summary.firstFailure ?? '?'}`,
            );
          }
        }
      }
      results.sections.latency = latency;
      if (PLAN.profileWithdrawals > 0) {
        const step = progress.step('CPU profile: floor vs handler, sequential', 1);
        const [floorAccount, handlerAccount] = await createAccounts(
          d.setupDoc,
          LEDGER_TABLE,
          OWNER,
          2,
          1e12,
        );
        results.sections.handlerCpu = await profileHandler({
          floor: floorOperation(
            floor.doc,
            LEDGER_TABLE,
            OWNER,
            [floorAccount ?? ''],
            'profile-floor',
          ),
          handler: handlerOperation(ours, token, [handlerAccount ?? ''], 'profile-handler'),
          withdrawals: PLAN.profileWithdrawals,
        });
        step.tick();
        step.done();
      }
    });

    await section('9. Sequencer', async () => {
      // A DynamoDB Local of its own: the emulator slows down with what earlier sections left in
      // it (after sections 1-5 it committed 6 movements/s where a fresh one commits 60), which
      // measures the emulator's state, not the sequencer. Both rates still come from one instance.
      const own = await startDynamo();
      const sequencer = await measureSequencer({
        dynamo: own,
        ownerId: OWNER,
        loads: PLAN.sequencer,
        progress,
      }).finally(() => own.process.stop());
      results.sections.sequencer = sequencer;
      errors.push(...sequencer.failures.map((f) => `sequencer: ${f}`));
      for (const load of sequencer.loads.filter((l) => !l.complete)) {
        errors.push(
          `sequencer ${load.name}: lines missing or entries left pending after the drain`,
        );
      }
    });

    await section('10. Webhooks', async () => {
      // Its own DynamoDB Local too: the pipeline's three stream and queue readers, measured alone.
      const own = await startDynamo();
      const webhooks = await measureWebhooks({
        dynamo: own,
        ownerId: OWNER,
        plan: PLAN.webhooks,
        progress,
      }).finally(() => own.process.stop());
      results.sections.webhooks = webhooks;
      errors.push(...webhooks.failures.map((f) => `webhooks: ${f}`));
    });

    await section('6. Hot account', async () => {
      const hot = await measureHotAccount({
        dynamo: d,
        handler: ours,
        token,
        ownerId: OWNER,
        rounds: PLAN.hotRounds,
        progress,
      });
      results.sections.hotAccount = hot;
      if (!hot.correct) {
        errors.push(
          `hot account: ${hot.successes}/${hot.attempted} succeeded; rounds ${JSON.stringify(hot.rounds.map((r) => r.statuses))}`,
        );
      }
    });

    await section('7. Scale', async () => {
      const scale = await measureScale({ dynamo: d, ownerId: OWNER, ...PLAN.scale, progress });
      results.sections.scale = scale;
      errors.push(...scale.failures.map((f) => `scale: ${f}`));
    });
  } catch (error) {
    errors.push(
      `set-up: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    for (const client of clients) client.destroy();
    await issuer?.stop();
    await dynamo?.process.stop();
  }
  if (results.sections.cost) {
    errors.push(...results.sections.cost.failures.map((f) => `cost: ${f}`));
  }

  await section('8. Cold start', async () => {
    results.sections.coldStart = await measureColdStart({ ...PLAN.cold, progress });
  });

  const httpPlan = PLAN.http;
  if (httpPlan === null) {
    results.sections.http = {
      skipped: 'not in --smoke: starting the local stack takes most of a minute',
    };
  } else
    await section('3. HTTP (information)', async () => {
      try {
        const http = await measureHttp({
          loads: httpPlan.loads,
          rounds: httpPlan.rounds,
          budgetSeconds: () => httpPlan.budgetSeconds,
          progress,
          onStack: (stop) => {
            stopStack = stop;
          },
        });
        stopStack = undefined;
        results.sections.http = {
          emulatorRetries: http.emulatorRetries,
          stackStartSeconds: round(http.startMs / 1000, 1),
          budgetSeconds: httpPlan.budgetSeconds,
          loads: http.loads.map(({ load, http: h, floor, answers, transient }) => {
            const httpSummary = summarizeRuns(h);
            const floorSummary = summarizeRuns(floor);
            if (httpSummary.failures > transient || floorSummary.failures > 0) {
              errors.push(
                `HTTP ${load.name}: ${httpSummary.failures - transient} wrong answers, ${floorSummary.failures} floor failures, e.g. ${httpSummary.firstFailure ?? floorSummary.firstFailure ?? '?'}`,
              );
            }
            return {
              name: load.name,
              concurrency: load.concurrency,
              perRound: load.perRound,
              rounds: h.rounds.length,
              cutShort: h.cutShort === true,
              answers,
              transient,
              http: httpSummary,
              floor: floorSummary,
              httpVsFloor: compare(httpSummary, floorSummary),
            };
          }),
        };
      } catch (error) {
        results.sections.http = { error: error instanceof Error ? error.message : String(error) };
        throw error;
      }
    });

  results.targets = targets(results);
  fillHeadline(results);
  results.meta.durationSeconds = round((Date.now() - started) / 1000, 1);
  results.meta.loadAverageAtEnd = os.loadavg().map((v) => round(v, 2));
  results.meta.handlerLogLines = logs.lines();
  logs.restore();

  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(path.join(OUT_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(OUT_DIR, 'latency.svg'), renderSvg(results));
  writeFileSync(path.join(OUT_DIR, 'REPORT.md'), await renderReport(results));

  progress.begin('targets');
  for (const t of results.targets) {
    progress.note(
      `${t.met ? 'met   ' : 'MISSED'}  ${t.section} · ${t.name}: ${t.value} (target ${t.target})`,
    );
  }
  for (const e of errors) progress.note(`ERROR ${e.split('\n')[0] ?? e}`);
  progress.note(
    `wrote results.json, REPORT.md and latency.svg to ${OUT_DIR} in ${results.meta.durationSeconds} s`,
  );
  return errors.length === 0 ? 0 : 1;
}

function fillHeadline(results: BenchResults): void {
  const latency = results.sections.latency;
  const sequential = latency?.find((l) => l.concurrency === 1);
  const concurrent = latency?.find((l) => l.concurrency > 1);
  results.p50Ratio = sequential?.handlerVsFloor.p50Ratio ?? Number.NaN;
  results.throughputRatio = concurrent?.handlerVsFloor.throughputRatio ?? Number.NaN;
  results.roundTripsPerWithdrawal = results.sections.cost?.ours.committed.roundTrips ?? Number.NaN;
  results.alternativeRoundTripsPerWithdrawal =
    results.sections.cost?.alternative.committed.roundTrips ?? Number.NaN;
  results.withdrawBundleKB = results.sections.coldStart?.withdraw.kb ?? Number.NaN;
  results.initRatio = results.sections.coldStart?.initRatio ?? Number.NaN;
}

function targets(results: BenchResults): Target[] {
  const list: Target[] = [];
  const x = (v: number): string => `${v.toFixed(2)}×`;
  for (const load of results.sections.latency ?? []) {
    const c = load.handlerVsFloor;
    list.push({
      section: '2. Handler',
      name: `p50 vs floor, ${load.name}`,
      target: `≤ ${x(LIMITS.p50Ratio)}`,
      value: `${x(c.p50Ratio)} (${load.handler.latency.p50} ms vs ${load.floor.latency.p50} ms; median of rounds ${x(c.medianRoundP50Ratio)}${
        c.p50Ratio <= LIMITS.p50Ratio !== c.medianRoundP50Ratio <= LIMITS.p50Ratio
          ? ', on the other side: within noise'
          : ''
      })`,
      met: c.p50Ratio <= LIMITS.p50Ratio,
    });
    list.push({
      section: '2. Handler',
      name: `throughput vs floor, ${load.name}`,
      target: `≥ ${x(LIMITS.throughputRatio)}`,
      value: `${x(c.throughputRatio)} (${load.handler.throughput}/s vs ${load.floor.throughput}/s; median of rounds ${x(c.medianRoundThroughputRatio)}${
        c.throughputRatio >= LIMITS.throughputRatio !==
        c.medianRoundThroughputRatio >= LIMITS.throughputRatio
          ? ', on the other side: within noise'
          : ''
      })`,
      met: c.throughputRatio >= LIMITS.throughputRatio,
    });
  }
  const cost = results.sections.cost;
  if (cost) {
    const committed = cost.ours.committed;
    list.push({
      section: '5. Cost',
      name: 'round trips per committed withdrawal',
      target: `≤ ${LIMITS.roundTrips}`,
      value: String(committed.roundTrips),
      met: committed.roundTrips <= LIMITS.roundTrips,
    });
    // docs/double-entry.md: a fee keeps the two round trips once the container has the schedule.
    list.push({
      section: '5. Cost',
      name: 'round trips per committed withdrawal with a fee, schedule seen by the container',
      target: `≤ ${LIMITS.roundTrips}`,
      value: `${cost.fee.committed.roundTrips} (the first in a fresh container: ${cost.fee.first.roundTrips})`,
      met: cost.fee.committed.roundTrips <= LIMITS.roundTrips,
    });
    list.push({
      section: '5. Cost',
      name: 'units per committed withdrawal',
      target: `minimum: ${cost.minimumCommitted.wcu} WCU + ${cost.minimumCommitted.rcu} RCU`,
      value: `${committed.wcu} WCU + ${committed.rcu} RCU`,
      met: committed.wcu <= cost.minimumCommitted.wcu && committed.rcu <= cost.minimumCommitted.rcu,
    });
  }
  const hot = results.sections.hotAccount;
  if (hot) {
    list.push({
      section: '6. Hot account',
      name: `successes of ${hot.concurrency} concurrent withdrawals on one account`,
      target: `${hot.concurrency}/${hot.concurrency} every round`,
      value: `${hot.successes}/${hot.attempted} over ${hot.rounds.length} round(s)`,
      met: hot.correct,
    });
  }
  const scale = results.sections.scale;
  if (scale) {
    const largest = scale.sizes[scale.sizes.length - 1]?.entries ?? 0;
    const smallest = scale.sizes[0]?.entries ?? 0;
    for (const [name, ratio] of [
      ['balance read', scale.balanceFlatRatio],
      ['first history page', scale.historyFlatRatio],
      ['filtered page (types + date range)', scale.filteredFlatRatio],
      ['balance at an instant', scale.asOfFlatRatio],
    ] as const) {
      list.push({
        section: '7. Scale',
        name: `${name}: p50 at ${largest.toLocaleString('en-US')} entries vs ${smallest}`,
        target: `flat: ≤ ${x(LIMITS.scaleFlatRatio)}`,
        value: x(ratio),
        met: ratio <= LIMITS.scaleFlatRatio,
      });
    }
    list.push(...scaleCostTargets(scale));
  }
  for (const load of results.sections.sequencer?.loads ?? []) {
    list.push({
      section: '9. Sequencer',
      name: `lines written vs movements committed, ${load.name}`,
      target: `≥ ${x(LIMITS.sequencerRatio)}`,
      value: `${x(load.ratio)} (${load.sequencerRate}/s vs ${load.commitRate}/s)`,
      met: load.ratio >= LIMITS.sequencerRatio && load.complete,
    });
  }
  list.push(...webhookTargets(results.sections.webhooks));
  const cold = results.sections.coldStart;
  if (cold) {
    list.push({
      section: '8. Cold start',
      name: 'withdraw bundle size',
      target: `≤ ${LIMITS.bundleKb} KB`,
      value: `${cold.withdraw.kb} KB`,
      met: cold.withdraw.kb <= LIMITS.bundleKb,
    });
    list.push({
      section: '8. Cold start',
      name: 'withdraw init vs bare DynamoDB client',
      target: `≤ ${x(LIMITS.initRatio)}`,
      value: `${x(cold.initRatio)} (${cold.withdraw.initMs?.median} ms vs ${cold.bare.initMs?.median} ms)`,
      met: cold.initRatio <= LIMITS.initRatio,
    });
  }
  return list;
}

/**
 * Issue 21: a filtered page and a balance at an instant read the same at every history length:
 * the same round trips and read units (metered, not timed) at the largest size as at the smallest.
 */
function webhookTargets(w: WebhookResult | undefined): Target[] {
  if (w === undefined) return [];
  const x = (v: number): string => `${v.toFixed(2)}×`;
  const d = w.delivery;
  return [
    {
      section: '10. Webhooks',
      name: 'withdrawal p50 with a 10 s endpoint listening vs none',
      target: `≤ ${x(LIMITS.slowEndpointP50Ratio)}`,
      value: `${x(w.slowEndpoint.p50Ratio)} (${w.slowEndpoint.withSlowEndpoint.p50} vs ${w.slowEndpoint.without.p50} ms)`,
      met: w.slowEndpoint.p50Ratio <= LIMITS.slowEndpointP50Ratio,
    },
    {
      section: '10. Webhooks',
      name: `every event delivered, a third of answers refused`,
      target: 'all, nothing else',
      value: `${d.delivered} of ${d.events}, ${d.unexpected} unexpected, ${d.attempts} attempts`,
      met: d.missing === 0 && d.unexpected === 0 && d.events > 0,
    },
  ];
}

function scaleCostTargets(scale: ScaleResult): Target[] {
  const smallest = scale.sizes[0];
  const largest = scale.sizes[scale.sizes.length - 1];
  if (!smallest || !largest) return [];
  return (
    [
      ['filtered page (types + date range)', 'filtered'],
      ['balance at an instant', 'asOf'],
    ] as const
  ).map(([name, kind]) => {
    const small = smallest.cost[kind];
    const large = largest.cost[kind];
    const cost = (c: typeof small): string => `${c.rcu} RCU, ${c.roundTrips} round trips`;
    return {
      section: '7. Scale',
      name: `${name}: read units and round trips at ${largest.entries.toLocaleString('en-US')} entries vs ${smallest.entries}`,
      target: 'flat: equal',
      value: `${cost(large)} vs ${cost(small)}`,
      met: large.rcu === small.rcu && large.roundTrips === small.roundTrips,
    };
  });
}

// Exit explicitly: keep-alive sockets and timers of the clients must not hold the process.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
