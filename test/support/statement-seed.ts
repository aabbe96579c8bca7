import {
  BatchWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { StatementLine } from '../../lib/domain/ports';
import { nextFigures } from '../../lib/domain/statement-figures';
import {
  balanceEffect,
  type Account,
  type EntryStatus,
  type MovementType,
} from '../../lib/domain/types';
import { accountKey } from '../../lib/persistence/keys';
import { statementLineItem } from '../../lib/persistence/statement-store';

/** What a seeded line says; the rest (sequence, balance, figures) follows from the lines before. */
export interface SeedLine {
  type: MovementType;
  amount: number;
  fee?: number;
  status?: EntryStatus;
  createdAt: string;
  reference?: string;
  counterpartyAccountId?: string;
}

const BATCH = 25;
const IN_FLIGHT = 8;

/**
 * Gives an account a statement of `count` lines at once, as the sequencer would have written
 * them (the adapter's item, the domain's running figures), and its account item the state after
 * them (balance, version). For tests and the bench that need a long history: writing it through
 * real movements would take minutes on DynamoDB Local. Lines are built a batch at a time.
 */
export async function seedStatement(
  target: { doc: DynamoDBDocumentClient; tableName: string },
  account: Account,
  count: number,
  lineAt: (index: number) => SeedLine,
): Promise<{ balance: number; version: number }> {
  let balance = account.balance;
  let figures = null as ReturnType<typeof nextFigures> | null;
  const batches: Record<string, unknown>[][] = [];
  const flush = async () => {
    const sending = batches.splice(0, batches.length);
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async (_, worker) => {
        for (let i = worker; i < sending.length; i += IN_FLIGHT) {
          await writeBatch(target, sending[i] ?? []);
        }
      }),
    );
  };
  let batch: Record<string, unknown>[] = [];
  for (let index = 0; index < count; index += 1) {
    const seed = lineAt(index);
    const sequence = account.version + index + 1;
    const line: StatementLine = {
      transactionId: `SEED${String(sequence).padStart(22, '0')}`,
      accountId: account.accountId,
      currency: account.currency,
      idempotencyKey: `seed-${sequence}`,
      status: 'POSTED',
      ...seed,
      balanceAfter: 0,
      sequence,
    };
    balance += balanceEffect(line);
    line.balanceAfter = balance;
    figures = nextFigures(figures, line);
    batch.push(statementLineItem({ ...line, ...figures }, seed.createdAt));
    if (batch.length === BATCH) {
      batches.push(batch);
      batch = [];
    }
    if (batches.length >= IN_FLIGHT * 20) await flush();
  }
  if (batch.length > 0) batches.push(batch);
  await flush();
  const version = account.version + count;
  await target.doc.send(
    new UpdateCommand({
      TableName: target.tableName,
      Key: accountKey(account.accountId),
      UpdateExpression: 'SET balance = :balance, available = :balance, version = :version',
      ExpressionAttributeValues: { ':balance': balance, ':version': version },
    }),
  );
  return { balance, version };
}

async function writeBatch(
  target: { doc: DynamoDBDocumentClient; tableName: string },
  items: Record<string, unknown>[],
): Promise<void> {
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; requests.length > 0; attempt += 1) {
    if (attempt > 20) throw new Error('DynamoDB Local kept items unprocessed');
    const result = await target.doc.send(
      new BatchWriteCommand({ RequestItems: { [target.tableName]: requests } }),
    );
    requests = (result.UnprocessedItems?.[target.tableName] ?? []).map((r) => ({
      PutRequest: { Item: r.PutRequest?.Item ?? {} },
    }));
    if (requests.length > 0) await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
  }
}
