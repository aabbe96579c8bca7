/**
 * The HTTP contract as the repository states it: the error codes and their statuses from
 * README.md's error table, and the routes from serverless.yml's httpApi events. Read at run
 * time, so a code or a route added to the contract is fuzzed and checked without edits here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** code => HTTP status, from the `| status | \`CODE\` | when |` rows of README.md. */
export function contractErrorCodes(readme = path.join(ROOT, 'README.md')): Map<string, number> {
  const codes = new Map<string, number>();
  for (const line of readFileSync(readme, 'utf8').split('\n')) {
    const match = /^\|\s*(\d{3})\s*\|\s*`([A-Z][A-Z_]+)`\s*\|/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) codes.set(match[2], Number(match[1]));
  }
  if (codes.size === 0) throw new Error(`no error table found in ${readme}`);
  return codes;
}

export interface Route {
  method: string;
  path: string;
}

/** Every `method:`/`path:` pair of an httpApi event in serverless.yml (the catch-all excluded). */
export function contractRoutes(file = path.join(ROOT, 'serverless.yml')): Route[] {
  const text = readFileSync(file, 'utf8');
  const routes: Route[] = [];
  const pattern = /method:\s*([A-Za-z]+)\s*\n\s*path:\s*(\S+)/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const method = match[1];
    const routePath = match[2];
    if (method !== undefined && routePath !== undefined) {
      routes.push({ method: method.toUpperCase(), path: routePath.replace(/['"]/g, '') });
    }
  }
  return routes;
}
