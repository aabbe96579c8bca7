import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type AttributeValue,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  Account,
  ControlChange,
  LastMovement,
  LedgerEntry,
  MovementType,
  WithdrawalControl,
} from '../domain/types';
import {
  LINE_PREFIX,
  accountKey,
  ledgerPartition,
  markerKey,
  ownerLinkKey,
  ownerLinkPrefix,
  ownerPartition,
  pendingEntryKey,
  pendingPartitions,
  statementLineKey,
  accountControlKey,
  withdrawalSwitchKey,
} from './keys';

/** What an idempotency marker remembers: the request's fingerprint and its first outcome. */
export type Marker = CommittedMarker | RefusedMarker;

interface MarkerBase {
  accountId: string;
  idempotencyKey: string;
  requestHash: string;
  createdAt: string;
}

export interface CommittedMarker extends MarkerBase {
  outcome: 'COMMITTED';
  transactionId: string;
  type: MovementType;
  amount: number;
  /** Filled in by the sequencer once the entry has its place in the statement. */
  balanceAfter?: number;
  sequence?: number;
}

export interface RefusedMarker extends MarkerBase {
  outcome: 'REFUSED';
  status: number;
  error: { code: string; message: string; requestId: string };
}

export interface MovementWrite {
  transactionId: string;
  accountId: string;
  type: MovementType;
  amount: number;
  /** Only when the client named one: then the account's currency must match. */
  currency?: string;
  idempotencyKey: string;
  requestHash: string;
  createdAt: string;
  /** Withdrawals: the caller must own the account. */
  requiredOwnerId?: string;
  expiresAt: number;
}

/** Why a money transaction was cancelled, read from CancellationReasons in item order. */
export interface CancelledMovement {
  committed: false;
  /** The account's condition failed; `account` is its state at that moment (null: no such item). */
  accountRefused: boolean;
  account: Account | null;
  /** A marker already exists for this (account, key). */
  existingMarker: Marker | null;
}

export type MovementWriteResult = { committed: true } | CancelledMovement;

/** The store could not answer for a reason that may pass: retry, or report unavailability. */
export class TransientStoreError extends Error {
  constructor(
    readonly kind: 'conflict' | 'throttled' | 'unavailable',
    options?: { cause?: unknown },
  ) {
    super(`DynamoDB ${kind}`, options);
    this.name = 'TransientStoreError';
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/** Maps SDK errors that may pass to TransientStoreError; anything else is rethrown as a bug. */
function translateError(error: unknown): never {
  if (error instanceof Error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (THROTTLING.has(error.name)) throw new TransientStoreError('throttled', { cause: error });
    if (
      error.name === 'TransactionInProgressException' ||
      error.name === 'TransactionConflictException'
    ) {
      throw new TransientStoreError('conflict', { cause: error });
    }
    const network = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|TimeoutError/i;
    if (
      (status !== undefined && status >= 500) ||
      error.name === 'TimeoutError' ||
      error.name === 'InternalServerError' ||
      error.name === 'ServiceUnavailable' ||
      network.test(error.name) ||
      network.test(error.message) ||
      network.test(String((error as { code?: unknown }).code ?? ''))
    ) {
      throw new TransientStoreError('unavailable', { cause: error });
    }
  }
  throw error;
}

async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    return translateError(error);
  }
}

const fromRaw = (
  item: Record<string, AttributeValue> | undefined,
): Record<string, unknown> | null => (item ? unmarshall(item) : null);

function toAccount(item: Record<string, unknown>): Account {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as Account;
}

function toMarker(item: Record<string, unknown>): Marker {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, ...rest } = item;
  return rest as unknown as Marker;
}

function toStatementLine(item: Record<string, unknown>): LedgerEntry {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as LedgerEntry;
}

export interface PendingEntry {
  transactionId: string;
  accountId: string;
  type: MovementType;
  amount: number;
  idempotencyKey: string;
  createdAt: string;
}

/** DynamoDB persistence of accounts, ledgers and idempotency markers. Knows nothing of HTTP. */
export class LedgerStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async ping(): Promise<void> {
    await guarded(() =>
      this.db.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: 'HEALTH', sk: 'HEALTH' } }),
      ),
    );
  }

  /** Strongly consistent: a balance read never lags a committed movement. */
  async getAccount(accountId: string): Promise<Account | null> {
    const result = await guarded(() =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: accountKey(accountId),
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? toAccount(result.Item) : null;
  }

  /** Creates the account and its owner link together; the id is new, so neither may exist. */
  async createAccount(account: Account): Promise<void> {
    await guarded(() =>
      this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...accountKey(account.accountId), ...account },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...ownerLinkKey(account.ownerId, account.accountId),
                  accountId: account.accountId,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      ),
    );
  }

  /** Every account of an owner, oldest first. */
  async listAccountsByOwner(ownerId: string): Promise<Account[]> {
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await guarded(() =>
        this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: {
              ':pk': ownerPartition(ownerId),
              ':prefix': ownerLinkPrefix,
            },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      ids.push(...(page.Items ?? []).map((item) => String(item.accountId)));
      start = page.LastEvaluatedKey;
    } while (start);
    const accounts: Account[] = [];
    // BatchGetItem takes at most 100 keys.
    for (let i = 0; i < ids.length; i += 100) {
      accounts.push(...(await this.getAccounts(ids.slice(i, i + 100))));
    }
    return accounts.sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.accountId.localeCompare(b.accountId),
    );
  }

  private async getAccounts(ids: string[]): Promise<Account[]> {
    const accounts: Account[] = [];
    let keys: Record<string, unknown>[] = ids.map((id) => accountKey(id));
    // BatchGet may leave keys unprocessed under load; ask again for those, a bounded number of times.
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt === 5) throw new TransientStoreError('throttled');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      const batch = await guarded(() =>
        this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        ),
      );
      accounts.push(...(batch.Responses?.[this.tableName] ?? []).map(toAccount));
      keys = batch.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return accounts;
  }

  /**
   * One movement as ONE TransactWriteItems: the account's conditional update, the pending
   * ledger entry and the idempotency marker. No read before it and no version condition, so
   * concurrent movements on one account never invalidate each other; `version` is incremented
   * unconditionally to record commit order, not to guard.
   */
  async writeMovement(movement: MovementWrite): Promise<MovementWriteResult> {
    const isWithdrawal = movement.type === 'WITHDRAWAL';
    const conditions = ['attribute_exists(pk)'];
    const values: Record<string, unknown> = {
      ':amount': movement.amount,
      ':one': 1,
      ':now': movement.createdAt,
      ':last': {
        transactionId: movement.transactionId,
        type: movement.type,
        amount: movement.amount,
        idempotencyKey: movement.idempotencyKey,
        createdAt: movement.createdAt,
      } satisfies LastMovement,
    };
    if (isWithdrawal) {
      conditions.push('balance >= :amount', '(attribute_not_exists(frozen) OR frozen = :false)');
      values[':false'] = false;
    } else {
      conditions.push('balance <= :ceiling');
      values[':ceiling'] = Number.MAX_SAFE_INTEGER - movement.amount;
    }
    if (movement.currency !== undefined) {
      conditions.push('currency = :currency');
      values[':currency'] = movement.currency;
    }
    if (movement.requiredOwnerId !== undefined) {
      conditions.push('ownerId = :owner');
      values[':owner'] = movement.requiredOwnerId;
    }
    const pendingEntry: PendingEntry = {
      transactionId: movement.transactionId,
      accountId: movement.accountId,
      type: movement.type,
      amount: movement.amount,
      idempotencyKey: movement.idempotencyKey,
      createdAt: movement.createdAt,
    };
    const marker: CommittedMarker = {
      outcome: 'COMMITTED',
      accountId: movement.accountId,
      idempotencyKey: movement.idempotencyKey,
      requestHash: movement.requestHash,
      createdAt: movement.createdAt,
      transactionId: movement.transactionId,
      type: movement.type,
      amount: movement.amount,
    };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: accountKey(movement.accountId),
                UpdateExpression: `SET balance = balance ${isWithdrawal ? '-' : '+'} :amount, version = version + :one, updatedAt = :now, lastMovement = :last`,
                ConditionExpression: conditions.join(' AND '),
                ExpressionAttributeValues: values,
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...pendingEntryKey(movement.accountId, movement.transactionId),
                  ...pendingEntry,
                },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...markerKey(movement.accountId, movement.idempotencyKey),
                  ...marker,
                  expiresAt: movement.expiresAt,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      );
      return { committed: true };
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        return readCancellation(error.CancellationReasons ?? [], error);
      }
      return translateError(error);
    }
  }

  async getMarker(accountId: string, idempotencyKey: string): Promise<Marker | null> {
    const result = await guarded(() =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: markerKey(accountId, idempotencyKey),
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? toMarker(result.Item) : null;
  }

  /**
   * Records a refusal as the key's outcome, unless another attempt with the same key got
   * there first: then that attempt's marker is returned and is the answer.
   */
  async recordRefusal(
    marker: RefusedMarker,
    expiresAt: number,
  ): Promise<{ recorded: true } | { recorded: false; existing: Marker }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...markerKey(marker.accountId, marker.idempotencyKey), ...marker, expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { recorded: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const existing = fromRaw(error.Item);
        if (existing) return { recorded: false, existing: toMarker(existing) };
        // The condition failed yet nothing came back: read it rather than guess.
        const read = await this.getMarker(marker.accountId, marker.idempotencyKey);
        if (read) return { recorded: false, existing: read };
        throw new TransientStoreError('conflict', { cause: error });
      }
      return translateError(error);
    }
  }

  /** Entries committed but not yet given their place in the statement, newest first. */
  async listPending(accountId: string, limit: number): Promise<PendingEntry[]> {
    const shards = await Promise.all(
      pendingPartitions(accountId).map((pk) =>
        guarded(() =>
          this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': pk },
              ConsistentRead: true,
              ScanIndexForward: false,
              Limit: limit,
            }),
          ),
        ),
      ),
    );
    return shards
      .flatMap((result) => result.Items ?? [])
      .map(({ pk: _pk, sk: _sk, ...rest }) => rest as PendingEntry)
      .sort((a, b) => b.transactionId.localeCompare(a.transactionId))
      .slice(0, limit);
  }

  /** Statement lines newest first, starting below `beforeSequence` when given. */
  async listStatement(
    accountId: string,
    limit: number,
    beforeSequence?: number,
  ): Promise<LedgerEntry[]> {
    if (beforeSequence !== undefined && beforeSequence <= 1) return [];
    const upper =
      beforeSequence === undefined
        ? `${LINE_PREFIX}~`
        : statementLineKey(accountId, beforeSequence - 1).sk;
    const result = await guarded(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lower AND :upper',
          ExpressionAttributeValues: {
            ':pk': ledgerPartition(accountId),
            ':lower': LINE_PREFIX,
            ':upper': upper,
          },
          ConsistentRead: true,
          ScanIndexForward: false,
          // One more than asked, to know whether another page exists.
          Limit: limit + 1,
        }),
      ),
    );
    return (result.Items ?? []).map(toStatementLine);
  }

  /**
   * Freezes or unfreezes an account and records who, when and why, in one transaction. The
   * flag lives on the account item, inside every withdrawal's own condition, so it cannot race:
   * a withdrawal that commits after the freeze is impossible. Returns null for no such account.
   */
  async setFrozen(
    accountId: string,
    frozen: boolean,
    change: ControlChange & { id: string },
  ): Promise<Account | null> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: accountKey(accountId),
                UpdateExpression: frozen
                  ? 'SET frozen = :frozen, frozenAtVersion = version'
                  : 'SET frozen = :frozen',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeValues: { ':frozen': frozen },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...accountControlKey(accountId, change.at, change.id),
                  accountId,
                  action: frozen ? 'FREEZE' : 'UNFREEZE',
                  by: change.by,
                  at: change.at,
                  reason: change.reason,
                },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = error.CancellationReasons ?? [];
        if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
          throw new TransientStoreError('conflict', { cause: error });
        }
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return null;
      }
      return translateError(error);
    }
    return this.getAccount(accountId);
  }

  async getWithdrawalControl(): Promise<WithdrawalControl> {
    const result = await guarded(() =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: withdrawalSwitchKey,
          ConsistentRead: true,
        }),
      ),
    );
    const item = result.Item;
    if (!item) return { paused: false, changed: null };
    return {
      paused: item.paused === true,
      changed: { by: String(item.by), at: String(item.at), reason: String(item.reason) },
    };
  }

  async setWithdrawalControl(control: { paused: boolean; changed: ControlChange }): Promise<void> {
    await guarded(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...withdrawalSwitchKey, paused: control.paused, ...control.changed },
        }),
      ),
    );
  }

  /** Statement lines above `afterSequence`, newest first (those sequenced moments ago). */
  async listStatementAbove(
    accountId: string,
    afterSequence: number,
    limit: number,
  ): Promise<LedgerEntry[]> {
    const result = await guarded(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lower AND :upper',
          ExpressionAttributeValues: {
            ':pk': ledgerPartition(accountId),
            ':lower': statementLineKey(accountId, afterSequence + 1).sk,
            ':upper': `${LINE_PREFIX}~`,
          },
          ConsistentRead: true,
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (result.Items ?? []).map(toStatementLine);
  }

  /**
   * Writes the statement line for one committed movement and retires its pending entry.
   * Idempotent: a redelivered stream record writes the same line again and deletes nothing new.
   */
  async writeStatementLine(
    line: LedgerEntry & { sequence: number; balanceAfter: number },
  ): Promise<void> {
    // The line first, then the pending entry's removal: a reader never finds the entry in
    // neither place, and lines appear in sequence order (records arrive in order).
    await guarded(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...statementLineKey(line.accountId, line.sequence), ...line },
        }),
      ),
    );
    await guarded(() =>
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: pendingEntryKey(line.accountId, line.transactionId),
        }),
      ),
    );
    // Let replays of this key report the exact balance too. The marker may have expired.
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: markerKey(line.accountId, line.idempotencyKey),
          UpdateExpression: 'SET balanceAfter = :balance, #sequence = :sequence',
          ConditionExpression: 'attribute_exists(pk) AND transactionId = :tx',
          ExpressionAttributeNames: { '#sequence': 'sequence' },
          ExpressionAttributeValues: {
            ':balance': line.balanceAfter,
            ':sequence': line.sequence,
            ':tx': line.transactionId,
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) translateError(error);
    }
  }
}

/** CancellationReasons come in TransactItems order: account, pending entry, marker. */
function readCancellation(reasons: CancellationReason[], error: Error): CancelledMovement {
  const [accountReason, , markerReason] = reasons;
  if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
    throw new TransientStoreError('conflict', { cause: error });
  }
  if (
    reasons.some(
      (reason) =>
        reason.Code === 'ThrottlingError' || reason.Code === 'ProvisionedThroughputExceeded',
    )
  ) {
    throw new TransientStoreError('throttled', { cause: error });
  }
  const accountRefused = accountReason?.Code === 'ConditionalCheckFailed';
  const markerExists = markerReason?.Code === 'ConditionalCheckFailed';
  if (!accountRefused && !markerExists) {
    // No condition of ours failed: a cancellation we do not understand is a bug, not a refusal.
    throw error;
  }
  const accountItem = accountRefused ? fromRaw(accountReason?.Item) : null;
  const markerItem = markerExists ? fromRaw(markerReason?.Item) : null;
  return {
    committed: false,
    accountRefused,
    account: accountItem ? toAccount(accountItem) : null,
    existingMarker: markerItem ? toMarker(markerItem) : null,
  };
}
