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
  (globalThis as GlobalWithStack).__E2E_STACK__ = stack;
  writeFileSync(e2eStackFile(), JSON.stringify({ ...stack.info, dataDir: stack.dataDir }));
  process.env.E2E_STACK = e2eStackFile();
}
