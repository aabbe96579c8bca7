/**
 * Section 9, sequencer throughput: can the stream consumer that writes statement lines keep up
 * with the money path? Side by side on one DynamoDB Local, for one hot account and for many:
 * first the movements (the domain's withdraw/deposit, 8 in flight, the sequencer off: the
 * peak rate at which movements commit here, which the HTTP API can only fall short of), then the
 * real sequencer, fed from the table's stream by the local poller, drains the whole backlog.
 * Each rate is lines (or movements) over wall time; the target is their ratio.
 */
import { DEFAULT_LIMITS } from '../lib/domain/limits';
import { TermsCache } from '../lib/domain/terms';
import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { ulid } from 'ulid';
import { WithdrawalSwitch } from '../lib/domain/controls';
import { ServiceUnavailableError } from '../lib/domain/errors';
import { deposit, withdraw, type MovementDeps } from '../lib/domain/movements';
import { noMetrics } from '../lib/metrics';
import { dynamoLedgerStore } from '../lib/persistence/dynamodb-store';
import type { LedgerStore, StatementLine } from '../lib/domain/ports';
import { sequencerHandler } from '../lib/sequencer-stream';
import { startStreamPoller } from '../local/stream-poller';
import { ensureTable } from '../local/table';
import { createFloorClient } from './floor';
import { createAccounts, type Dynamo } from './lib/env';
import type { Progress } from './lib/progress';
import { round } from './lib/stats';

/** The local poller's batch, as `npm start` and serverless.yml (batchSize) set it. */
export const SEQUENCER_BATCH = 1000;
const IN_FLIGHT = 8;

export interface SequencerLoad {
  name: string;
  accounts: number;
  movements: number;
  /** Movements committed per second, IN_FLIGHT at once, sequencer off. */
  commitRate: number;
  /** Statement lines written per second while draining that backlog. */
  sequencerRate: number;
  /** sequencerRate / commitRate. */
  ratio: number;
  drainSeconds: number;
  /** Every movement has its line, and nothing is left pending. */
  complete: boolean;
}

export interface SequencerResult {
  loads: SequencerLoad[];
  batch: number;
  failures: string[];
}

export async function measureSequencer(options: {
  dynamo: Dynamo;
  ownerId: string;
  loads: { name: string; accounts: number; movements: number }[];
  progress: Progress;
}): Promise<SequencerResult> {
  const failures: string[] = [];
  const loads: SequencerLoad[] = [];
  for (const load of options.loads) {
    loads.push(await measureLoad(options, load, failures));
  }
  return { loads, batch: SEQUENCER_BATCH, failures };
}

async function measureLoad(
  options: { dynamo: Dynamo; ownerId: string; progress: Progress },
  load: { name: string; accounts: number; movements: number },
  failures: string[],
): Promise<SequencerLoad> {
  // A table of its own: its stream holds exactly this load's changes.
  const tableName = `bench-sequencer-${ulid().toLowerCase()}`;
  await ensureTable(options.dynamo.setup, tableName);
  // The service's client configuration, for the load and the sequencer alike.
  const client = createFloorClient(options.dynamo.endpoint);
  const store = dynamoLedgerStore(client.doc, tableName);
  const accounts = await createAccounts(
    options.dynamo.setupDoc,
    tableName,
    options.ownerId,
    load.accounts,
    1e12,
  );
  try {
    const commitSeconds = await commitMovements(options, store, accounts, load);
    let lines = 0;
    const counted = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'writeStatementLines') return Reflect.get(target, property, receiver);
        return (chunk: StatementLine[], at: string) =>
          target.writeStatementLines(chunk, at).then(() => {
            lines += chunk.length;
          });
      },
    });
    const step = options.progress.step(`${load.name}: sequencer drains`, 1);
    // From the first batch the poller hands over: finding the stream is not sequencing.
    let started: number | undefined;
    const sequence = sequencerHandler(() => counted);
    const poller = startStreamPoller({
      endpoint: options.dynamo.endpoint,
      tableName,
      handler: (event) => {
        started ??= performance.now();
        return sequence(event);
      },
      filter: (record) => record.dynamodb?.Keys?.sk?.S === 'ACCOUNT',
      pollIntervalMs: 20,
      batchSize: SEQUENCER_BATCH,
      onError: (error) => failures.push(`${load.name} sequencer: ${String(error)}`),
    });
    try {
      await poller.drain(600_000);
    } finally {
      await poller.stop();
    }
    const drainSeconds = (performance.now() - (started ?? performance.now())) / 1000;
    step.tick();
    step.done();
    const left = await Promise.all(accounts.map((id) => store.listPending(id, 1)));
    const commitRate = load.movements / commitSeconds;
    const sequencerRate = lines / drainSeconds;
    return {
      ...load,
      commitRate: round(commitRate, 1),
      sequencerRate: round(sequencerRate, 1),
      ratio: round(sequencerRate / commitRate, 2),
      drainSeconds: round(drainSeconds, 2),
      complete: lines >= load.movements && left.every((entries) => entries.length === 0),
    };
  } finally {
    client.client.destroy();
  }
}

/**
 * The movements, IN_FLIGHT at once spread over the accounts: withdrawals and deposits
 * alternating. (With 32 at once on one item DynamoDB Local's lock queue collapses after a few
 * hundred: requests time out, retries pile up, and nothing commits for seconds.)
 */
async function commitMovements(
  options: { ownerId: string; progress: Progress },
  store: LedgerStore,
  accounts: string[],
  load: { name: string; movements: number },
): Promise<number> {
  // Contention on one item is retried, not refused: 32 writers on one account collide.
  const deps: MovementDeps = { ...benchMovementDeps(store), maxAttempts: 50 };
  const owner = { userId: options.ownerId, username: 'bench', isOperator: false };
  const operator = { userId: 'bench-ops', username: 'ops', isOperator: true };
  const step = options.progress.step(`${load.name}: movements, sequencer off`, load.movements);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = next++; i < load.movements; i = next++) {
        const request = {
          accountId: accounts[i % accounts.length] ?? '',
          amount: 1,
          idempotencyKey: `seq-${i}`,
          requestId: 'bench',
        };
        await retried(() =>
          i % 2 === 0
            ? withdraw(deps, { ...request, caller: owner })
            : deposit(deps, { ...request, caller: operator }),
        );
        step.tick();
      }
    }),
  );
  step.done();
  return (performance.now() - started) / 1000;
}

/** The money path's collaborators on `store`, as the domain's own bench sections use them. */
export function benchMovementDeps(store: LedgerStore): MovementDeps {
  return {
    store,
    logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
    newId: ulid,
    now: () => new Date(),
    idempotencyTtlSeconds: 86_400,
    termsCache: new TermsCache(),
    limitDefaults: DEFAULT_LIMITS,
    withdrawalSwitch: new WithdrawalSwitch(store, 60_000),
    metrics: noMetrics,
  };
}

/**
 * What the API tells a client on a 503: retry with the same key. DynamoDB Local answers a write
 * that waited too long for its lock with a 500, which the SDK's three attempts may not outlast.
 */
async function retried<T>(movement: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await movement();
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError) || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
