import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createDocumentClient } from '../../lib/persistence/dynamodb-client';
import { TransientStoreError } from '../../lib/domain/ports';
import { dynamoLedgerStore } from '../../lib/persistence/dynamodb-store';

/**
 * A DynamoDB that accepts the request and never answers (a response lost after it committed):
 * the service's client must give up on each attempt, retry, and report the store unavailable,
 * instead of hanging until Lambda kills the invocation.
 */
describe('the service DynamoDB client', () => {
  let server: Server;
  let requests = 0;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk) => {
        if (chunk.toString('latin1').startsWith('POST ')) requests += 1;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives up on an unanswered request after its timeout, retries, then reports unavailable', async () => {
    const { port } = server.address() as AddressInfo;
    const doc = createDocumentClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}` });
    const store = dynamoLedgerStore(doc, 'any-table');

    const error = await store.getAccount('01JANYACCOUNT0000000000000').then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(TransientStoreError);
    expect((error as TransientStoreError).kind).toBe('unavailable');
    // Every attempt was sent and given up on (without the timeout the first one hangs, and
    // this test fails on jest's own time limit instead).
    expect(requests).toBe(3);
    doc.destroy();
  }, 60_000);
});
