import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoDbClient } from '../../local/dynamodb-local';
import { ensureTable } from '../../local/table';

/** The endpoint of the DynamoDB Local started by the integration project's global setup. */
export function testEndpoint(): string {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (endpoint === undefined || endpoint === '') {
    throw new Error(
      'DYNAMODB_ENDPOINT is not set: run integration tests with `jest --selectProjects integration` (its global setup starts DynamoDB Local)',
    );
  }
  return endpoint;
}

/**
 * A fresh table (prefix + random suffix) defined by serverless.yml's LedgerTable, so test files
 * can run in parallel against the one DynamoDB Local. Destroy the client in afterAll.
 */
export async function createTestTable(
  prefix: string,
  options: { endpoint?: string; tableName?: string } = {},
): Promise<{ tableName: string; client: DynamoDBClient; endpoint: string }> {
  const endpoint = options.endpoint ?? testEndpoint();
  const safePrefix = prefix.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 200);
  const tableName = options.tableName ?? `${safePrefix}-${randomBytes(6).toString('hex')}`;
  // Under heavy load DynamoDB Local answers some requests on a hot item with a 500 ("timed out
  // waiting for a lock"; real DynamoDB does not): more SDK attempts ride that out.
  const client = localDynamoDbClient(endpoint, { maxAttempts: 10 });
  await ensureTable(client, tableName);
  return { tableName, client, endpoint };
}
