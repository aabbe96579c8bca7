import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { sequenceAccountChange } from './domain/sequencer';
import type { Account } from './domain/types';
import { logger } from './logger';
import { ACCOUNT_SORT_KEY } from './persistence/keys';
import type { LedgerStore } from './persistence/ledger-store';

type Image = Record<string, AttributeValue> | undefined;
const accountOf = (image: unknown): Account | null =>
  image ? (unmarshall(image as Record<string, AttributeValue>) as Account) : null;

/**
 * The stream consumer that writes statement lines: in AWS behind the table's event source
 * mapping, locally behind the stream poller. Records of one item arrive in order; on a
 * failure it reports the failed record, so the batch resumes there and no line is skipped.
 */
export function sequencerHandler(store: () => LedgerStore) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const record of event.Records) {
      const change = record.dynamodb;
      if (change?.Keys?.sk?.S !== ACCOUNT_SORT_KEY) continue;
      try {
        await sequenceAccountChange(
          store(),
          accountOf(change.OldImage as Image),
          accountOf(change.NewImage as Image),
        );
      } catch (error) {
        logger.error('sequencing failed', { error: error as Error, eventID: record.eventID });
        return { batchItemFailures: [{ itemIdentifier: change.SequenceNumber ?? '' }] };
      }
    }
    return { batchItemFailures: [] };
  };
}
