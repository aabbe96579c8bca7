import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { sequenceChanges, type AccountChange, type SequencerStore } from './domain/sequencer';
import type { Account } from './domain/types';
import { logger } from './logger';
import { ACCOUNT_SORT_KEY } from './persistence/keys';

type Image = Record<string, AttributeValue> | undefined;
const accountOf = (image: unknown): Account | null =>
  image ? (unmarshall(image as Record<string, AttributeValue>) as Account) : null;

/**
 * The stream consumer that writes statement lines: in AWS behind the table's event source
 * mapping, locally behind the stream poller. Records of one item arrive in order; the batch's
 * accounts are sequenced in parallel, each in order. On a failure it reports each failed
 * account's first record; the batch resumes at the earliest, so no line is ever skipped.
 */
export function sequencerHandler(store: () => SequencerStore, now: () => Date = () => new Date()) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const changes: AccountChange<string>[] = [];
    for (const record of event.Records) {
      const change = record.dynamodb;
      if (change?.Keys?.sk?.S !== ACCOUNT_SORT_KEY) continue;
      changes.push({
        id: change.SequenceNumber ?? '',
        before: accountOf(change.OldImage as Image),
        after: accountOf(change.NewImage as Image),
      });
    }
    const started = Date.now();
    const result = await sequenceChanges(store(), changes, now);
    const oldest = Math.min(
      started,
      ...changes.map((c) => Date.parse(c.after?.lastMovement?.createdAt ?? '') || started),
    );
    // One line per batch: what was placed, how long it took, how far behind the oldest commit was.
    logger.info('statement lines written', {
      lines: result.written,
      records: event.Records.length,
      durationMs: Date.now() - started,
      oldestLagMs: Date.now() - oldest,
    });
    if (result.failed.length > 0) {
      logger.error('sequencing failed', {
        error: result.error as Error,
        failedRecords: result.failed.length,
      });
    }
    return { batchItemFailures: result.failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
