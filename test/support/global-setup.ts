import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { findFreePort } from '../../local/ports';

/** Where global setup records DynamoDB Local's pid for teardown (same jest process => same path). */
export const pidFile = (): string =>
  path.join(os.tmpdir(), `jest-dynamodb-local-${process.pid}.json`);

export type GlobalWithDynamoDbLocal = typeof globalThis & {
  __DYNAMODB_LOCAL__?: { pid: number; endpoint: string; logFile: string };
};

/**
 * Starts one in-memory DynamoDB Local for the whole integration run. Jest workers are started
 * after this and inherit process.env, so test files find it through DYNAMODB_ENDPOINT.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const ddb = await startDynamoDbLocal({ port: await findFreePort() });
  (globalThis as GlobalWithDynamoDbLocal).__DYNAMODB_LOCAL__ = {
    pid: ddb.pid,
    endpoint: ddb.endpoint,
    logFile: ddb.logFile,
  };
  writeFileSync(
    pidFile(),
    JSON.stringify({ pid: ddb.pid, endpoint: ddb.endpoint, logFile: ddb.logFile }),
  );
  process.env.DYNAMODB_ENDPOINT = ddb.endpoint;
  // Clients that read credentials from the environment (the service's own code) work locally.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  if (process.env.DEBUG_DYNAMODB_LOCAL !== undefined) {
    console.log(`\nDynamoDB Local ${ddb.endpoint} (pid ${ddb.pid}) in ${Date.now() - started} ms`);
  }
}
