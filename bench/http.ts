/**
 * Section 3, HTTP (for information): the same withdrawals through the local stack's HTTP API
 * (test/support/local-stack.ts: `npm start` on free ports: serverless-offline in front of the
 * handlers, cognito-local tokens), interleaved with the floor run against the stack's own
 * DynamoDB Local — startLocalStack always starts its own, so this section is the one that does
 * not share the bench's DynamoDB Local.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { decodeJwt } from 'jose';
import { DEMO_USERS, signIn } from '../local/cognito';
import { startLocalStack } from '../test/support/local-stack';
import { createAccounts } from './lib/env';
import { createFloorClient, floorOperation } from './floor';
import { interleaved, runLoad, type Load, type Operation, type ScenarioRuns } from './lib/load';
import type { Progress } from './lib/progress';

/** The table `npm start` creates (local/settings.ts). */
const STACK_TABLE = 'money-movement-local';

export interface HttpLoad {
  load: Load;
  http: ScenarioRuns;
  floor: ScenarioRuns;
  /** Every answer of the measured rounds, by status and code. */
  answers: Record<string, number>;
  /**
   * Requests that got no withdrawal, for a transient reason the contract allows under overload
   * (503 SERVICE_UNAVAILABLE, 409 TRANSACTION_CONFLICT) or because serverless-offline timed the
   * handler out three times: counted, left out of the latencies, not errors.
   */
  transient: number;
}

export interface HttpResult {
  loads: HttpLoad[];
  /** Requests sent again after serverless-offline answered with its own LambdaTimeoutError. */
  emulatorRetries: number;
  startMs: number;
}

const TRANSIENT = new Set(['503 SERVICE_UNAVAILABLE', '409 TRANSACTION_CONFLICT']);

/** No withdrawal, for a reason that may pass (see HttpLoad.transient). */
class TransientAnswer extends Error {
  override readonly name = 'TransientAnswer';
}

async function call(
  apiUrl: string,
  method: string,
  path: string,
  token: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

export async function measureHttp(options: {
  loads: Load[];
  rounds: number;
  /** No round starts after this many seconds of a load (ramp-up included). */
  budgetSeconds: (load: Load) => number;
  progress: Progress;
  /** Told how to stop the stack, so an interrupted bench can take it down too. */
  onStack?: (stop: () => Promise<void>) => void;
}): Promise<HttpResult> {
  const { progress } = options;
  const started = Date.now();
  progress.note('starting the local stack (npm start on free ports) …');
  const stack = await startLocalStack({ timeoutMs: 180_000 });
  options.onStack?.(() => stack.stop());
  const startMs = Date.now() - started;
  const floor = createFloorClient(stack.info.dynamodb);
  try {
    const password = (name: string): string =>
      DEMO_USERS.find((user) => user.username === name)?.password ?? '';
    const ops = (await signIn(stack.info.identity, 'ops', password('ops'))).accessToken;
    const alice = (await signIn(stack.info.identity, 'alice', password('alice'))).accessToken;
    const aliceId = String(decodeJwt(alice).sub);
    const concurrency = Math.max(...options.loads.map((load) => load.concurrency));

    // Accounts for the HTTP runs, opened and funded through the API by the operator.
    const apiAccounts: string[] = [];
    for (let i = 0; i < concurrency; i++) {
      const opened = await call(stack.info.apiUrl, 'POST', '/accounts', ops, {
        ownerId: aliceId,
        currency: 'USD',
      });
      if (opened.status !== 201) throw new Error(`POST /accounts: ${opened.status} ${opened.text}`);
      const accountId = String((JSON.parse(opened.text) as { accountId: string }).accountId);
      const funded = await call(
        stack.info.apiUrl,
        'POST',
        `/accounts/${accountId}/deposits`,
        ops,
        { amount: 100_000_000_000 },
        { 'idempotency-key': `bench-funding-${accountId}` },
      );
      if (funded.status !== 201) throw new Error(`deposit: ${funded.status} ${funded.text}`);
      apiAccounts.push(accountId);
    }
    const floorAccounts = await createAccounts(
      floor.doc,
      STACK_TABLE,
      aliceId,
      concurrency,
      100_000_000_000,
    );

    let emulatorRetries = 0;
    let answers: Record<string, number> = {};
    const count = (answer: string): void => {
      answers[answer] = (answers[answer] ?? 0) + 1;
    };
    const httpOperation = (label: string): Operation => {
      let run = 0;
      return async (_index, worker) => {
        const accountId = apiAccounts[worker];
        if (accountId === undefined) throw new Error(`no account for worker ${worker}`);
        const key = `${label}-${run++}`;
        for (let attempt = 1; ; attempt++) {
          const response = await call(
            stack.info.apiUrl,
            'POST',
            `/accounts/${accountId}/withdrawals`,
            alice,
            { amount: 100 },
            { 'idempotency-key': key },
          );
          // serverless-offline cut the handler off (a worker's cold start on a busy machine):
          // the same request again, same key, as any client would.
          if (response.status === 200 && response.text.includes('LambdaTimeoutError')) {
            if (attempt < 3) {
              emulatorRetries += 1;
              continue;
            }
            count('emulator timeout ×3');
            throw new TransientAnswer('serverless-offline timed the handler out 3 times');
          }
          const code = /"code":"([A-Z_]+)"/.exec(response.text)?.[1];
          const answer = code ? `${response.status} ${code}` : String(response.status);
          count(answer);
          if (response.status === 201) return;
          // The contract's answers to an overloaded DynamoDB: retry later, nothing moved.
          if (TRANSIENT.has(answer)) throw new TransientAnswer(answer);
          throw new Error(`HTTP withdrawal: ${response.status} ${response.text.slice(0, 200)}`);
        }
      };
    };

    const loads: HttpResult['loads'] = [];
    for (const load of options.loads) {
      const deadline = performance.now() + options.budgetSeconds(load) * 1000;
      answers = {};
      // serverless-offline starts one worker (a cold start) per concurrent invocation, and kills
      // it when it times out: ramp up 4 more at a time so the workers start a few at once.
      if (load.concurrency > 1) {
        const ramp = httpOperation(`http-ramp-${load.name}`);
        const steps = Array.from({ length: Math.ceil(load.concurrency / 4) }, (_, i) =>
          Math.min(load.concurrency, 4 * (i + 1)),
        );
        const step = progress.step(
          `${load.name} ramp-up to ${load.concurrency} workers`,
          steps.reduce((a, b) => a + b, 0),
        );
        for (const concurrency of steps) {
          await runLoad(ramp, { total: concurrency, concurrency, onDone: () => step.tick() });
        }
        step.done();
      }
      answers = {};
      const runs = await interleaved(
        {
          http: httpOperation(`http-${load.name}`),
          floor: floorOperation(
            floor.doc,
            STACK_TABLE,
            aliceId,
            floorAccounts,
            `http-floor-${load.name}`,
          ),
        },
        load,
        options.rounds,
        progress,
        deadline,
      );
      const transient = Object.entries(answers)
        .filter(([answer]) => answer !== '201')
        .filter(([answer]) => TRANSIENT.has(answer) || answer.startsWith('emulator'))
        .reduce((sum, [, n]) => sum + n, 0);
      loads.push({ load, http: runs.http, floor: runs.floor, answers, transient });
    }
    return { loads, emulatorRetries, startMs };
  } finally {
    floor.client.destroy();
    progress.note('stopping the local stack …');
    await stack.stop();
    rmSync(stack.dataDir, { recursive: true, force: true });
  }
}
