import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { auditLedger } from '../../lib/audit/ledger-audit';
import { transfer, withdraw } from '../../lib/domain/movements';
import { statementLineKey, systemShardPartitions } from '../../lib/persistence/keys';
import { createTestLedger, customer, type TestLedger } from '../support/ledger';

const alice = customer('alice');
const bob = customer('bob');
let ledger: TestLedger;

beforeAll(async () => {
  ledger = await createTestLedger('double-entry');
});
afterAll(() => ledger.close());

const request = (accountId: string, amount: number, key: string, caller = alice) => ({
  caller,
  accountId,
  amount,
  idempotencyKey: key,
  requestId: key,
});

it('posts every movement against its system account, so customers and system accounts sum to zero', async () => {
  const a = await ledger.openAccount(alice, 1_000);
  const b = await ledger.openAccount(bob, 500);
  await withdraw(ledger.deps, request(a.accountId, 120, 'w-1'));
  await transfer(ledger.deps, { ...request(a.accountId, 80, 't-1'), toAccountId: b.accountId });
  await withdraw(ledger.deps, request(b.accountId, 30, 'w-2', bob));
  await ledger.drain();

  const system = (await ledger.store.systemBalances()).USD ?? {};
  expect(system).toEqual({ funding: -1_500, clearing: 150 });
  const customers = await Promise.all(
    [a, b].map(async ({ accountId }) => (await ledger.store.getAccount(accountId))?.balance ?? 0),
  );
  expect(customers).toEqual([800, 550]);
  const held = customers.reduce((sum, balance) => sum + balance, 0);
  expect(held + (system.funding ?? 0) + (system.clearing ?? 0)).toBe(0);

  const audit = await auditLedger(ledger.client, ledger.tableName);
  expect(audit.system).toMatchObject({ judged: true, unposted: 0, problems: [] });
  expect(audit.ok).toBe(true);
});

it('the audit reports a system account whose shards no longer hold its postings', async () => {
  await ledger.openAccount(alice, 10);
  await ledger.drain();
  const funding = (await ledger.store.systemBalances()).USD?.funding ?? 0;
  const [shard] = systemShardPartitions('funding');
  await ledger.doc.send(
    new UpdateCommand({
      TableName: ledger.tableName,
      Key: { pk: shard, sk: 'USD' },
      UpdateExpression: 'ADD balance :one',
      ExpressionAttributeValues: { ':one': 1 },
    }),
  );

  const audit = await auditLedger(ledger.client, ledger.tableName);
  expect(audit.ok).toBe(false);
  // The shard and the whole ledger: customers and system accounts no longer sum to zero.
  expect(audit.system.problems).toEqual([
    `system account funding USD: ${funding + 1}, its postings sum to ${funding}`,
    expect.stringMatching(/^USD: customers \d+ \+ system accounts -\d+ = 1, not 0$/),
  ]);
});

it('the audit reports a transaction whose postings do not sum to zero, and a ledger that does not', async () => {
  const a = await ledger.openAccount(alice, 400);
  const { transaction } = await withdraw(ledger.deps, request(a.accountId, 100, 'w-sum'));
  await ledger.drain();
  // The line now claims a type whose other side is a customer's: its clearing leg vanishes.
  const [line] = await ledger.statement(a.accountId);
  await ledger.doc.send(
    new UpdateCommand({
      TableName: ledger.tableName,
      Key: statementLineKey(a.accountId, line?.sequence ?? 0),
      UpdateExpression: 'SET #type = :type',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': 'TRANSFER_OUT' },
    }),
  );

  const audit = await auditLedger(ledger.client, ledger.tableName);

  expect(audit.ok).toBe(false);
  expect(audit.system.problems).toContain(
    `transaction ${transaction.transactionId} posts -100 USD, not 0`,
  );
});
