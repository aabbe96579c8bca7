import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalStack, type RunningStack } from './local-stack';

export const e2eStackFile = (): string =>
  path.join(os.tmpdir(), `mm-e2e-stack-${process.pid}.json`);

type GlobalWithStack = typeof globalThis & { __E2E_STACK__?: RunningStack };

/** One real local stack (npm start) for the HTTP and browser suites; tests find it via E2E_STACK. */
export default async function setup(): Promise<void> {
  const stack = await startLocalStack();
  await warmUp(stack.info.apiUrl);
  (globalThis as GlobalWithStack).__E2E_STACK__ = stack;
  writeFileSync(e2eStackFile(), JSON.stringify({ ...stack.info, dataDir: stack.dataDir }));
  process.env.E2E_STACK = e2eStackFile();
}

/**
 * serverless-offline loads each function on its first call, which takes seconds on a busy
 * 2-core machine: call every route once (unauthenticated: a 401 loads the handler just the
 * same) so no test pays for a cold start.
 */
async function warmUp(apiUrl: string): Promise<void> {
  const id = '01JWARMUP00000000000000000';
  const routes: Array<[string, string]> = [
    ['GET', '/health'],
    ['GET', '/accounts'],
    ['POST', '/accounts'],
    ['GET', `/accounts/${id}`],
    ['GET', `/accounts/${id}/balance`],
    ['POST', `/accounts/${id}/withdrawals`],
    ['POST', `/accounts/${id}/deposits`],
    ['GET', `/accounts/${id}/transactions`],
    ['GET', `/accounts/${id}/statements/2026-01`],
    ['POST', `/accounts/${id}/freeze`],
    ['POST', `/accounts/${id}/unfreeze`],
    ['GET', '/controls/withdrawals'],
    ['GET', '/ledger/summary'],
    ['GET', `/accounts/${id}/fees`],
    ['PUT', `/accounts/${id}/fees`],
    ['GET', `/accounts/${id}/limits`],
    ['PUT', `/accounts/${id}/limits`],
    ['POST', `/transactions/${id}/reversals`],
    ['POST', '/transfers'],
    ['POST', `/accounts/${id}/payouts`],
    ['GET', `/accounts/${id}/payouts/${id}`],
    ['POST', '/controls/withdrawals'],
    ['GET', '/events'],
    ['GET', '/webhook-endpoints'],
    ['POST', '/webhook-endpoints'],
    ['GET', `/webhook-endpoints/${id}`],
    ['DELETE', `/webhook-endpoints/${id}`],
    ['POST', `/webhook-endpoints/${id}/redeliveries`],
    ['GET', `/webhook-endpoints/${id}/attempts`],
    ['GET', '/no-such-route'],
  ];
  // Two at a time: the machine has two cores.
  for (let i = 0; i < routes.length; i += 2) {
    await Promise.all(
      routes
        .slice(i, i + 2)
        .map(([method, route]) => fetch(`${apiUrl}${route}`, { method }).then((r) => r.text())),
    );
  }
}
