import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '..', '..');
const eslintBin = path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

/**
 * The restricted-import errors ESLint reports for `code` as if it were the file at `file`. A
 * child process, because the flat config is ESM and jest runs CommonJS.
 */
async function boundaryErrors(file: string, code: string): Promise<{ line: number }[]> {
  const run = promisify(execFile)(
    process.execPath,
    [eslintBin, '--stdin', '--stdin-filename', file, '--format', 'json'],
    { cwd: root },
  );
  run.child.stdin?.end(code);
  // ESLint exits 1 when it reports errors; its JSON is on stdout either way.
  const { stdout } = await run.catch((error: { stdout?: string }) => ({ stdout: error.stdout }));
  const [result] = JSON.parse(stdout ?? '[]') as Array<{
    messages: Array<{ ruleId: string | null; line: number }>;
  }>;
  return (result?.messages ?? []).filter((message) => message.ruleId === 'no-restricted-imports');
}

describe('the domain boundary lint rule', () => {
  it('refuses a lib/domain module importing an adapter, the SDK, middy, Lambda or the wiring', async () => {
    const forbidden = [
      "import { dynamoLedgerStore } from '../persistence/dynamodb-store';",
      "import { GetCommand } from '@aws-sdk/lib-dynamodb';",
      "import middy from '@middy/core';",
      "import type { Context } from 'aws-lambda';",
      "import { serviceDeps } from '../service';",
    ];
    const errors = await boundaryErrors('lib/domain/example.ts', forbidden.join('\n'));
    expect(errors.map((error) => error.line)).toEqual([1, 2, 3, 4, 5]);
  });

  it('lets the domain import its own ports, and an adapter import the domain', async () => {
    const ports = "import type { LedgerStore } from './ports';\nexport type S = LedgerStore;";
    const adapter =
      "import type { LedgerStore } from '../domain/ports';\nexport type S = LedgerStore;";
    const [inDomain, inAdapter] = await Promise.all([
      boundaryErrors('lib/domain/example.ts', ports),
      boundaryErrors('lib/persistence/example.ts', adapter),
    ]);
    expect([...inDomain, ...inAdapter]).toEqual([]);
  });
});
