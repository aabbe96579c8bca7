/**
 * lib/wire/openapi.ts is openapi.yaml as openapi-typescript prints it: printed again here, to
 * memory and offline (the document is a local file), and compared, so a change to the document
 * without `npm run generate:types` fails before any type drifts from the contract. The printer
 * runs as its own process because it is an ES module jest's CommonJS runtime cannot load.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dump, load } from 'js-yaml';

const root = path.join(__dirname, '..', '..');
const documentPath = path.join(root, 'openapi.yaml');
const cli = path.join(
  path.dirname(require.resolve('openapi-typescript/package.json')),
  'bin',
  'cli.js',
);

/** What `npm run generate:types` writes, for the document in `openapi.yaml` or on stdin. */
function printed(document?: string): string {
  const args = document === undefined ? [cli, documentPath] : [cli];
  return execFileSync(process.execPath, args, { cwd: root, input: document, encoding: 'utf8' });
}

const committed = readFileSync(path.join(root, 'lib', 'wire', 'openapi.ts'), 'utf8');

it('lib/wire/openapi.ts is what npm run generate:types prints from openapi.yaml', () => {
  expect(committed).toBe(printed());
});

it('prints something else once the document changes, so a stale file cannot pass', () => {
  const document = load(readFileSync(documentPath, 'utf8')) as {
    components: { schemas: { Account: { required: string[] } } };
  };
  const account = document.components.schemas.Account;
  account.required = account.required.filter((field) => field !== 'frozen');
  const changed = printed(dump(document));
  expect(changed).not.toBe(committed);
  expect(changed).toContain('frozen?: boolean;');
});
