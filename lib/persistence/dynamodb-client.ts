import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config';

const MAX_SOCKETS = 256;

export function createDocumentClient(options: {
  region: string;
  endpoint?: string;
}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: options.region,
    // Throttling, 5xx and network errors get the SDK's standard retries; transaction
    // conflicts are retried by the domain, which knows the request is idempotent.
    maxAttempts: 3,
    // Without a timeout, a response lost after DynamoDB committed would hang until Lambda kills
    // the invocation; with one, the SDK retries, and the retry finds the committed marker.
    // `throwOnRequestTimeout`: since @smithy/node-http-handler 4.x a breached requestTimeout only
    // logs a warning without it (older versions, as in some Lambda runtimes, always threw).
    // 256 sockets, not the SDK's 50: the sequencer keeps up to 200 writes in flight when DynamoDB
    // is slow to answer (under load each write can take a second or more), and a smaller pool
    // would make its lines trail the commits.
    requestHandler: {
      connectionTimeout: 1000,
      requestTimeout: 3000,
      throwOnRequestTimeout: true,
      httpAgent: { maxSockets: MAX_SOCKETS },
      httpsAgent: { maxSockets: MAX_SOCKETS },
    },
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

let shared: DynamoDBDocumentClient | undefined;

/** One client per container, created on first use and reused by every invocation. */
export function documentClient(): DynamoDBDocumentClient {
  const c = config();
  shared ??= createDocumentClient({ region: c.region, endpoint: c.dynamodbEndpoint });
  return shared;
}
