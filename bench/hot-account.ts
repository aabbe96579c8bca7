/**
 * Section 6, hot account: 64 withdrawals at once on one account, through the full handler.
 * Every one must succeed (the balance covers them all), the balance must drop by exactly their
 * sum and the version by exactly 64: contention is never a refusal and never a lost update.
 */
import { performance } from 'node:perf_hooks';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { accountKey } from '../lib/persistence/keys';
import { invokeWithdrawal, type LambdaHandler } from './handler';
import { LEDGER_TABLE, createAccounts, type Dynamo } from './lib/env';
import type { Progress } from './lib/progress';
import { newHistogram, recordMs, round, summarize, type LatencySummary } from './lib/stats';

export const HOT_CONCURRENCY = 64;

export interface HotRound {
  successes: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  throughput: number;
  balanceDrop: number;
  versionIncrease: number;
  correct: boolean;
}

export interface HotAccountResult {
  concurrency: number;
  rounds: HotRound[];
  latency: LatencySummary;
  /** Median over rounds of withdrawals per second. */
  throughput: number;
  successes: number;
  attempted: number;
  correct: boolean;
}

export async function measureHotAccount(options: {
  dynamo: Dynamo;
  handler: LambdaHandler;
  token: string;
  ownerId: string;
  rounds: number;
  progress: Progress;
}): Promise<HotAccountResult> {
  const { dynamo, handler, token, ownerId, progress } = options;
  const amount = 100;
  const opening = 1_000_000;
  const histogram = newHistogram();
  const rounds: HotRound[] = [];
  const step = progress.step(
    `${HOT_CONCURRENCY} at once on one account`,
    options.rounds * HOT_CONCURRENCY,
  );
  const read = async (accountId: string) => {
    const result = await dynamo.setupDoc.send(
      new GetCommand({ TableName: LEDGER_TABLE, Key: accountKey(accountId), ConsistentRead: true }),
    );
    return { balance: Number(result.Item?.balance), version: Number(result.Item?.version) };
  };
  for (let r = 0; r < options.rounds; r++) {
    const [accountId] = await createAccounts(dynamo.setupDoc, LEDGER_TABLE, ownerId, 1, opening);
    if (accountId === undefined) throw new Error('no account');
    const before = await read(accountId);
    const statuses: Record<string, number> = {};
    const started = performance.now();
    await Promise.all(
      Array.from({ length: HOT_CONCURRENCY }, async (_, i) => {
        const t0 = performance.now();
        let status: string;
        try {
          const response = await invokeWithdrawal(handler, {
            accountId,
            token,
            idempotencyKey: `hot-${r}-${i}`,
            amount,
          });
          status = String(response.statusCode);
          if (response.statusCode !== 201) {
            const code = /"code":"([A-Z_]+)"/.exec(String(response.body))?.[1];
            if (code) status += ` ${code}`;
          }
        } catch (error) {
          status = `threw ${error instanceof Error ? error.name : 'error'}`;
        }
        recordMs(histogram, performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
        step.tick();
      }),
    );
    const elapsedMs = performance.now() - started;
    const after = await read(accountId);
    const successes = statuses['201'] ?? 0;
    const balanceDrop = before.balance - after.balance;
    const versionIncrease = after.version - before.version;
    rounds.push({
      successes,
      statuses,
      elapsedMs: round(elapsedMs, 1),
      throughput: round((HOT_CONCURRENCY / elapsedMs) * 1000, 1),
      balanceDrop,
      versionIncrease,
      correct:
        successes === HOT_CONCURRENCY &&
        balanceDrop === HOT_CONCURRENCY * amount &&
        versionIncrease === HOT_CONCURRENCY,
    });
  }
  step.done();
  const throughputs = rounds.map((r) => r.throughput).sort((a, b) => a - b);
  return {
    concurrency: HOT_CONCURRENCY,
    rounds,
    latency: summarize(histogram),
    throughput: throughputs[Math.floor(throughputs.length / 2)] ?? 0,
    successes: rounds.reduce((sum, r) => sum + r.successes, 0),
    attempted: rounds.length * HOT_CONCURRENCY,
    correct: rounds.every((r) => r.correct),
  };
}
