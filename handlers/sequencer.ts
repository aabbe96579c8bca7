import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { sequenceAccountChange } from '../lib/domain/sequencer';
import type { Account } from '../lib/domain/types';
import { logger } from '../lib/logger';
import { ACCOUNT_SORT_KEY } from '../lib/persistence/keys';
import { serviceDeps } from '../lib/service';

type Image = Record<string, AttributeValue> | undefined;
const accountOf = (image: Image): Account | null => (image ? (unmarshall(image) as Account) : null);

/**
 * Consumes the table's stream (in AWS through the event source mapping, locally through the
 * stream poller) and writes statement lines. Records of one item arrive in order; on a
 * failure the batch resumes from the failed record, so no line is skipped.
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { store } = serviceDeps();
  for (const record of event.Records) {
    if (record.dynamodb?.Keys?.sk?.S !== ACCOUNT_SORT_KEY) continue;
    try {
      const outcome = await sequenceAccountChange(
        store,
        accountOf(record.dynamodb.OldImage as Image),
        accountOf(record.dynamodb.NewImage as Image),
      );
      if (outcome === 'written') {
        const account = accountOf(record.dynamodb.NewImage as Image);
        logger.debug('statement line written', {
          accountId: account?.accountId,
          sequence: account?.version,
          transactionId: account?.lastMovement?.transactionId,
        });
      }
    } catch (error) {
      logger.error('sequencing failed', { error: error as Error, eventID: record.eventID });
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}
