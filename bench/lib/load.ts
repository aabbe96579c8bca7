import { performance } from 'node:perf_hooks';
import type { Progress } from './progress';
import { newHistogram, recordMs, type Histogram } from './stats';

/** One operation of a scenario; `worker` is the in-flight slot (0..concurrency-1). Throws on a wrong outcome. */
export type Operation = (index: number, worker: number) => Promise<void>;

export interface LoadResult {
  histogram: Histogram;
  count: number;
  elapsedMs: number;
  /** Completed operations per second over the wall-clock time of the run. */
  throughput: number;
  failures: number;
  firstFailure?: string;
}

/**
 * A closed loop: `concurrency` workers each start the next operation as soon as their last one
 * ended, until `total` have run. Every successful operation's latency goes into the histogram;
 * failures are counted (and make the run an error).
 */
export async function runLoad(
  operation: Operation,
  options: {
    total: number;
    concurrency: number;
    onDone?: () => void;
    /** performance.now() after which no operation is started (a time budget). */
    deadline?: number;
  },
): Promise<LoadResult> {
  const histogram = newHistogram();
  let next = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const worker = async (slot: number): Promise<void> => {
    for (;;) {
      if (options.deadline !== undefined && performance.now() > options.deadline) return;
      const index = next++;
      if (index >= options.total) return;
      const t0 = performance.now();
      try {
        await operation(index, slot);
        recordMs(histogram, performance.now() - t0);
      } catch (error) {
        failures += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
      options.onDone?.();
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.total) }, (_, slot) => worker(slot)),
  );
  const elapsedMs = performance.now() - started;
  const count = Math.min(next, options.total);
  return {
    histogram,
    count,
    elapsedMs,
    throughput: count / (elapsedMs / 1000),
    failures,
    firstFailure,
  };
}

export interface Load {
  name: string;
  concurrency: number;
  /** Operations per round (and per scenario). */
  perRound: number;
  warmup: number;
}

export interface ScenarioRuns {
  /** Every measured round, in order. */
  rounds: LoadResult[];
  failures: number;
  firstFailure?: string;
  /** The time budget ran out before every round had run. */
  cutShort?: boolean;
}

/**
 * Runs scenarios side by side, so drift and noise on a shared machine fall on all of them alike.
 *
 * - One at a time (concurrency 1): the scenarios take turns operation by operation, in a
 *   rotating order (A B C, B C A, C A B, ...); a "round" is `perRound` consecutive turns, and a
 *   scenario's throughput is its operations over the time they took.
 * - In flight (concurrency > 1): each round runs every scenario once as a closed loop of
 *   `perRound` operations, the order rotating each round (use a multiple of the number of
 *   scenarios as `rounds`, so each runs first, second, ... equally often).
 *
 * A warm-up of each scenario comes first and is not measured.
 */
export async function interleaved<Name extends string>(
  scenarios: Record<Name, Operation>,
  load: Load,
  rounds: number,
  progress: Progress,
  /** performance.now() after which no further round starts (rounds always complete). */
  deadline?: number,
): Promise<Record<Name, ScenarioRuns>> {
  const names = Object.keys(scenarios) as Name[];
  const results = {} as Record<Name, ScenarioRuns>;
  for (const name of names) results[name] = { rounds: [], failures: 0 };
  const keep = (name: Name, result: LoadResult, measured: boolean): void => {
    const runs = results[name];
    if (measured) runs.rounds.push(result);
    runs.failures += result.failures;
    runs.firstFailure ??= result.firstFailure;
  };
  const rotation = (turn: number): Name[] =>
    names.map((_, i) => names[(i + turn) % names.length] as Name);

  if (load.concurrency === 1) {
    const turns = async (count: number, first: number, measured: boolean, tick: () => void) => {
      const partial = Object.fromEntries(
        names.map((name) => [name, { histogram: newHistogram(), elapsedMs: 0, failures: 0 }]),
      ) as Record<
        Name,
        { histogram: Histogram; elapsedMs: number; failures: number; firstFailure?: string }
      >;
      for (let i = 0; i < count; i++) {
        for (const name of rotation(first + i)) {
          const own = partial[name];
          const t0 = performance.now();
          try {
            await scenarios[name](first + i, 0);
            recordMs(own.histogram, performance.now() - t0);
          } catch (error) {
            own.failures += 1;
            own.firstFailure ??= error instanceof Error ? error.message : String(error);
          }
          own.elapsedMs += performance.now() - t0;
          tick();
        }
      }
      for (const name of names) {
        const own = partial[name];
        keep(
          name,
          {
            histogram: own.histogram,
            count,
            elapsedMs: own.elapsedMs,
            throughput: count / (own.elapsedMs / 1000),
            failures: own.failures,
            firstFailure: own.firstFailure,
          },
          measured,
        );
      }
    };
    if (load.warmup > 0) {
      const step = progress.step(`${load.name} warm-up`, load.warmup * names.length);
      await turns(load.warmup, 0, false, () => step.tick());
      step.done();
    }
    const step = progress.step(
      `${load.name}, taking turns × ${rounds * load.perRound}`,
      load.perRound * names.length * rounds,
    );
    for (let round = 0; round < rounds; round++) {
      if (deadline !== undefined && performance.now() > deadline) {
        for (const name of names) results[name].cutShort = true;
        break;
      }
      await turns(load.perRound, load.warmup + round * load.perRound, true, () => step.tick());
    }
    step.done();
    return results;
  }

  if (load.warmup > 0) {
    const step = progress.step(`${load.name} warm-up`, load.warmup * names.length);
    for (const name of names) {
      const result = await runLoad(scenarios[name], {
        total: load.warmup,
        concurrency: load.concurrency,
        onDone: () => step.tick(),
      });
      keep(name, result, false);
    }
    step.done();
  }
  const step = progress.step(
    `${load.name} × ${rounds} rounds`,
    load.perRound * names.length * rounds,
  );
  for (let round = 0; round < rounds; round++) {
    if (deadline !== undefined && performance.now() > deadline) {
      for (const name of names) results[name].cutShort = true;
      break;
    }
    for (const name of rotation(round)) {
      const result = await runLoad(scenarios[name], {
        total: load.perRound,
        concurrency: load.concurrency,
        onDone: () => step.tick(),
      });
      keep(name, result, true);
    }
  }
  step.done();
  return results;
}
