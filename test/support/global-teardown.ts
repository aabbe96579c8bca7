import { readFileSync, rmSync } from 'node:fs';
import { stopByPid } from '../../local/dynamodb-local';
import { pidFile, type GlobalWithDynamoDbLocal } from './global-setup';

/** Stops the DynamoDB Local that global setup started, by its process id. */
export default async function globalTeardown(): Promise<void> {
  const g = globalThis as GlobalWithDynamoDbLocal;
  let started: { pid?: number; logFile?: string } | undefined = g.__DYNAMODB_LOCAL__;
  if (started === undefined) {
    try {
      started = JSON.parse(readFileSync(pidFile(), 'utf8')) as { pid?: number; logFile?: string };
    } catch {
      started = undefined;
    }
  }
  if (started?.pid !== undefined) await stopByPid(started.pid);
  if (started?.logFile !== undefined) rmSync(started.logFile, { force: true });
  g.__DYNAMODB_LOCAL__ = undefined;
  rmSync(pidFile(), { force: true });
}
