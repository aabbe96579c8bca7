import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** test-artifacts/reliability/ of this repository (ignored by git). */
export const REPORT_DIR = path.resolve(__dirname, '..', '..', 'test-artifacts', 'reliability');

/** Writes `<name>-<time>.json` and `.txt`, and `<name>-latest.*` copies; returns the paths. */
export function writeReport(
  name: string,
  json: unknown,
  text: string,
): { json: string; text: string } {
  mkdirSync(REPORT_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = path.join(REPORT_DIR, `${name}-${stamp}`);
  const body = `${JSON.stringify(json, null, 2)}\n`;
  writeFileSync(`${base}.json`, body);
  writeFileSync(`${base}.txt`, text);
  writeFileSync(path.join(REPORT_DIR, `${name}-latest.json`), body);
  writeFileSync(path.join(REPORT_DIR, `${name}-latest.txt`), text);
  return { json: `${base}.json`, text: `${base}.txt` };
}
