import { rmSync } from 'node:fs';
import { e2eStackFile } from './e2e-setup';
import type { RunningStack } from './local-stack';

export default async function teardown(): Promise<void> {
  const stack = (globalThis as typeof globalThis & { __E2E_STACK__?: RunningStack }).__E2E_STACK__;
  if (stack) {
    await stack.stop();
    if (!process.env.KEEP_STACK_DATA) rmSync(stack.dataDir, { recursive: true, force: true });
  }
  rmSync(e2eStackFile(), { force: true });
}
