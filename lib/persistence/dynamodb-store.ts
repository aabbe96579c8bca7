import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LedgerStore } from '../domain/ports';
import { dynamoAccountStore } from './account-store';
import { dynamoControlStore } from './control-store';
import { dynamoTermsStore } from './terms-store';
import { dynamoMovementStore } from './movement-store';
import { dynamoPayoutStore } from './payout-store';
import { dynamoReturnsStore } from './returns-store';
import { dynamoStatementStore } from './statement-store';
import { dynamoSystemStore } from './system-store';
import { dynamoTransactionStore } from './transaction-store';

/** Every store port on one DynamoDB table: the adapters, one per aggregate, side by side. */
export function dynamoLedgerStore(db: DynamoDBDocumentClient, tableName: string): LedgerStore {
  const table = { db, name: tableName };
  const accounts = dynamoAccountStore(table);
  return {
    ...accounts,
    ...dynamoMovementStore(table),
    ...dynamoPayoutStore(table),
    ...dynamoStatementStore(table),
    ...dynamoSystemStore(table),
    ...dynamoControlStore(table, accounts),
    ...dynamoTermsStore(table, accounts),
    ...dynamoTransactionStore(table),
    ...dynamoReturnsStore(table),
  };
}
