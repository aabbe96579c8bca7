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
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  Account,
  ControlChange,
  EntryStatus,
  LastMovement,
  LedgerEntry,
  MovementType,
  Payout,
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
  payoutKey,
  openPayoutIndexAttributes,
  openPayoutShards,
  OPEN_PAYOUTS_INDEX,
  OPEN_PAYOUT_INDEX_ATTRIBUTES,
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
  counterpartyAccountId?: string;
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
  /** The debited (or, for a deposit, credited) account; the marker lives under it. */
  accountId: string;
  type: Exclude<MovementType, 'TRANSFER_IN'>;
  /** TRANSFER_OUT: the credited account. */
  toAccountId?: string;
  /** PAYOUT: the payout record written with the hold. */
  payout?: Payout;
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
  /** Transfers: the credited account's condition failed, and its state then. */
  counterpartyRefused: boolean;
  counterparty: Account | null;
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
  // `sequencedAt` is the sequencer's own timestamp (its lag is measured from it), not contract.
  const { pk: _pk, sk: _sk, sequencedAt: _at, ...rest } = item;
  return rest as unknown as LedgerEntry;
}

/** A statement line as the sequencer writes it: its place and balance are known. */
export type StatementLine = LedgerEntry & { sequence: number; balanceAfter: number };

export interface PendingEntry {
  transactionId: string;
  accountId: string;
  type: MovementType;
  amount: number;
  idempotencyKey: string;
  createdAt: string;
  /** Payouts: PENDING while held, then the outcome until the sequencer writes the line. */
  status?: EntryStatus;
  counterpartyAccountId?: string;
  destination?: string;
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

function toPayout(item: Record<string, unknown>): Payout {
  const { pk: _pk, sk: _sk, ...rest } = item;
  for (const attribute of OPEN_PAYOUT_INDEX_ATTRIBUTES) delete rest[attribute];
  return rest as unknown as Payout;
}

/** DynamoDB persistence of accounts, ledgers and idempotency markers. Knows nothing of HTTP. */
/**
 * One idempotent write of the sequencer, tried until it lands or `WRITE_ATTEMPTS` transient
 * failures (throttling, 5xx, a lost connection) in a row. Each of a chunk's 50 writes retries on
 * its own: under a steady fault rate, and once the SDK's retry quota is spent, a chunk retried as
 * a whole would rarely find all 50 lucky at once.
 */
async function persistently<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await guarded(write);
    } catch (error) {
      if (!(error instanceof TransientStoreError) || attempt >= WRITE_ATTEMPTS) throw error;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.random() * Math.min(500, 20 * 2 ** attempt)),
      );
    }
  }
}

/** Runs at most `slots` tasks at once; the others wait their turn, in order. */
function limiter(slots: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= slots) await new Promise<void>((turn) => waiting.push(turn));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

export class LedgerStore {
  private readonly sequencerSlots = limiter(SEQUENCER_WRITES_IN_FLIGHT);

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
    const links = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': ownerPartition(ownerId), ':prefix': ownerLinkPrefix },
    });
    const ids = links.map((item) => String(item.accountId));
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
   * One movement as ONE TransactWriteItems: the conditional update of every account it touches,
   * their pending ledger entries, the payout record for a payout, and the idempotency marker.
   * No read before it and no version condition, so concurrent movements on one account never
   * invalidate each other; `version` is incremented unconditionally to record commit order.
   *
   * - WITHDRAWAL debits (balance and available), DEPOSIT credits.
   * - TRANSFER_OUT debits the source and credits `toAccountId` (a TRANSFER_IN line there).
   * - PAYOUT holds: available moves to pending, the posted balance and version stay, so it has
   *   no statement line until it is posted or voided (`resolvePayout`).
   */
  async writeMovement(movement: MovementWrite): Promise<MovementWriteResult> {
    const items: TransactItem[] = [];
    const last: LastMovement = {
      transactionId: movement.transactionId,
      type: movement.type,
      amount: movement.amount,
      idempotencyKey: movement.idempotencyKey,
      createdAt: movement.createdAt,
      ...(movement.toAccountId ? { counterpartyAccountId: movement.toAccountId } : {}),
    };
    const credit = movement.type === 'DEPOSIT';
    items.push(
      this.accountUpdate(
        movement.accountId,
        movement.type === 'PAYOUT' ? 'hold' : credit ? 'credit' : 'debit',
        movement,
        last,
      ),
    );
    if (movement.toAccountId !== undefined) {
      items.push(
        this.accountUpdate(movement.toAccountId, 'credit', movement, {
          ...last,
          type: 'TRANSFER_IN',
          // The sender's Idempotency-Key is theirs: the receiving side knows the transfer by id.
          idempotencyKey: movement.transactionId,
          counterpartyAccountId: movement.accountId,
        }),
      );
    }
    const entry = (accountId: string, type: MovementType, extra: Partial<PendingEntry> = {}) => ({
      Put: {
        TableName: this.tableName,
        Item: {
          ...pendingEntryKey(accountId, movement.transactionId),
          transactionId: movement.transactionId,
          accountId,
          type,
          amount: movement.amount,
          idempotencyKey: movement.idempotencyKey,
          createdAt: movement.createdAt,
          ...extra,
        } satisfies PendingEntry,
      },
    });
    if (movement.type === 'TRANSFER_OUT' && movement.toAccountId !== undefined) {
      items.push(
        entry(movement.accountId, 'TRANSFER_OUT', { counterpartyAccountId: movement.toAccountId }),
        entry(movement.toAccountId, 'TRANSFER_IN', {
          counterpartyAccountId: movement.accountId,
          idempotencyKey: movement.transactionId,
        }),
      );
    } else if (movement.type === 'PAYOUT') {
      const payout = movement.payout;
      if (payout === undefined) throw new Error('a PAYOUT movement needs its payout record');
      items.push(
        entry(movement.accountId, 'PAYOUT', { status: 'PENDING', destination: payout.destination }),
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...payoutKey(movement.accountId, movement.transactionId),
              ...payout,
              ...openPayoutIndexAttributes(movement.transactionId, payout.holdExpiresAt),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      );
    } else {
      items.push(entry(movement.accountId, movement.type));
    }
    const marker: CommittedMarker = {
      outcome: 'COMMITTED',
      accountId: movement.accountId,
      idempotencyKey: movement.idempotencyKey,
      requestHash: movement.requestHash,
      createdAt: movement.createdAt,
      transactionId: movement.transactionId,
      type: movement.type,
      amount: movement.amount,
      ...(movement.toAccountId ? { counterpartyAccountId: movement.toAccountId } : {}),
    };
    items.push({
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
    });
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return { committed: true };
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        return readCancellation(error.CancellationReasons ?? [], error, {
          counterparty: movement.toAccountId === undefined ? null : 1,
          marker: items.length - 1,
        });
      }
      return translateError(error);
    }
  }

  /**
   * The conditional update of one account in a movement. A debit or hold needs the funds to be
   * available and the account not frozen; a credit needs room under the balance ceiling.
   */
  private accountUpdate(
    accountId: string,
    effect: 'debit' | 'credit' | 'hold',
    movement: MovementWrite,
    last: LastMovement,
  ): TransactItem {
    const conditions = ['attribute_exists(pk)'];
    const values: Record<string, unknown> = {
      ':amount': movement.amount,
      ':now': movement.createdAt,
    };
    let update: string;
    if (effect === 'credit') {
      update =
        'SET balance = balance + :amount, available = available + :amount, version = version + :one, updatedAt = :now, lastMovement = :last';
      conditions.push('balance <= :ceiling');
      values[':ceiling'] = Number.MAX_SAFE_INTEGER - movement.amount;
    } else {
      update =
        effect === 'hold'
          ? 'SET pending = pending + :amount, available = available - :amount, updatedAt = :now'
          : 'SET balance = balance - :amount, available = available - :amount, version = version + :one, updatedAt = :now, lastMovement = :last';
      conditions.push('available >= :amount', '(attribute_not_exists(frozen) OR frozen = :false)');
      values[':false'] = false;
      if (movement.requiredOwnerId !== undefined) {
        conditions.push('ownerId = :owner');
        values[':owner'] = movement.requiredOwnerId;
      }
    }
    if (effect !== 'hold') {
      values[':one'] = 1;
      values[':last'] = last;
    }
    if (movement.currency !== undefined) {
      conditions.push('currency = :currency');
      values[':currency'] = movement.currency;
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: accountKey(accountId),
        UpdateExpression: update,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /**
   * Posts (the gateway sent the money) or voids (it definitely did not) a payout's hold, in one
   * transaction, from PENDING only: whatever the stream or the sweeper redelivers, a payout is
   * resolved at most once. Both bump the version, so each has its statement line; a void's line
   * leaves the balance as it was. Returns false when the payout was no longer PENDING.
   */
  async resolvePayout(
    payout: Payout,
    resolution:
      | { status: 'POSTED'; gatewayReference: string; at: string }
      | { status: 'VOIDED'; voidReason: string; at: string },
  ): Promise<boolean> {
    const last: LastMovement = {
      transactionId: payout.transactionId,
      type: 'PAYOUT',
      amount: payout.amount,
      idempotencyKey: payout.idempotencyKey,
      createdAt: payout.createdAt,
      status: resolution.status,
      destination: payout.destination,
    };
    const posted = resolution.status === 'POSTED';
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: payoutKey(payout.accountId, payout.transactionId),
                UpdateExpression: `SET #status = :to, updatedAt = :at, ${posted ? 'gatewayReference' : 'voidReason'} = :detail REMOVE ${OPEN_PAYOUT_INDEX_ATTRIBUTES.join(', ')}`,
                ConditionExpression: '#status = :pending',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':to': resolution.status,
                  ':at': resolution.at,
                  ':detail': posted ? resolution.gatewayReference : resolution.voidReason,
                  ':pending': 'PENDING',
                },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: accountKey(payout.accountId),
                UpdateExpression: posted
                  ? 'SET balance = balance - :amount, pending = pending - :amount, version = version + :one, updatedAt = :at, lastMovement = :last'
                  : 'SET pending = pending - :amount, available = available + :amount, version = version + :one, updatedAt = :at, lastMovement = :last',
                ConditionExpression: 'attribute_exists(pk) AND pending >= :amount',
                ExpressionAttributeValues: {
                  ':amount': payout.amount,
                  ':one': 1,
                  ':at': resolution.at,
                  ':last': last,
                },
              },
            },
            {
              // The hold's entry shows its outcome until the sequencer replaces it by the line.
              Update: {
                TableName: this.tableName,
                Key: pendingEntryKey(payout.accountId, payout.transactionId),
                UpdateExpression: 'SET #status = :to',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':to': resolution.status },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        if (firstConditionFailed(error)) return false;
        // The account or the hold entry missing while the payout is PENDING: a broken invariant.
        throw error;
      }
      return translateError(error);
    }
  }

  /** Records a gateway call whose outcome is unknown, so the sweeper asks again later. */
  async recordPayoutAttempt(payout: Payout, at: string, error: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: payoutKey(payout.accountId, payout.transactionId),
          UpdateExpression:
            'SET attempts = attempts + :one, lastAttemptAt = :at, lastError = :error',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':at': at,
            ':error': error,
            ':pending': 'PENDING',
          },
        }),
      );
    } catch (e) {
      // Resolved meanwhile (by the sweeper or a redelivery): nothing left to record.
      if (!(e instanceof ConditionalCheckFailedException)) translateError(e);
    }
  }

  async getPayout(accountId: string, transactionId: string): Promise<Payout | null> {
    const result = await guarded(() =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: payoutKey(accountId, transactionId),
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? toPayout(result.Item) : null;
  }

  /**
   * Unresolved payouts, soonest hold expiry first, from the sparse open-payouts index (an item
   * leaves it when resolved). The index is eventually consistent: every write that acts on what
   * it lists is conditional on the payout still being PENDING.
   */
  async listOpenPayouts(limitPerShard: number): Promise<Payout[]> {
    const shards = await Promise.all(
      openPayoutShards().map((shard) =>
        guarded(() =>
          this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: OPEN_PAYOUTS_INDEX,
              KeyConditionExpression: 'openPayoutShard = :shard',
              ExpressionAttributeValues: { ':shard': shard },
              Limit: limitPerShard,
            }),
          ),
        ),
      ),
    );
    return shards
      .flatMap((result) => result.Items ?? [])
      .map(toPayout)
      .sort((a, b) => a.holdExpiresAt.localeCompare(b.holdExpiresAt));
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

  /**
   * Entries committed but not yet given their place in the statement, newest first by
   * transaction id, below `beforeTransactionId` when given.
   */
  async listPending(
    accountId: string,
    limit: number,
    beforeTransactionId?: string,
  ): Promise<PendingEntry[]> {
    const shards = await Promise.all(
      pendingPartitions(accountId).map((pk) =>
        guarded(() =>
          this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression:
                beforeTransactionId === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :before',
              ExpressionAttributeValues: {
                ':pk': pk,
                ...(beforeTransactionId === undefined ? {} : { ':before': beforeTransactionId }),
              },
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
      if (error instanceof TransactionCanceledException && firstConditionFailed(error)) {
        return null;
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

  /**
   * Every statement line above `afterSequence`, newest first: what the sequencer placed since a
   * listing began. As many reads as it takes (a Query answers at most 1 MB).
   */
  async listStatementAbove(accountId: string, afterSequence: number): Promise<LedgerEntry[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lower AND :upper',
      ExpressionAttributeValues: {
        ':pk': ledgerPartition(accountId),
        ':lower': statementLineKey(accountId, Math.max(0, afterSequence) + 1).sk,
        ':upper': `${LINE_PREFIX}~`,
      },
      ScanIndexForward: false,
    });
    return items.map(toStatementLine);
  }

  /** Every item a strongly consistent Query finds, page after page (one answers at most 1 MB). */
  private async queryAll(
    query: Omit<QueryCommandInput, 'TableName' | 'ConsistentRead' | 'ExclusiveStartKey'>,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await guarded(() =>
        this.db.send(
          new QueryCommand({
            ...query,
            TableName: this.tableName,
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /**
   * Writes the statement lines of one account's consecutive movements (at most
   * `STATEMENT_CHUNK`), then retires their pending entries: single-item writes side by side, two
   * round trips per chunk. (Not BatchWriteItem: DynamoDB Local takes its one write lock once per
   * item of a batch, so under load a batch of 25 waits 25 turns where 25 requests wait one.) The
   * lines are confirmed before any entry is retired, so a reader never finds a movement in
   * neither place, and only this chunk's movements can be in both. Idempotent: a redelivered
   * chunk writes the same lines again and deletes nothing new.
   */
  async writeStatementLines(lines: StatementLine[], sequencedAt: string): Promise<void> {
    if (lines.length > STATEMENT_CHUNK) throw new Error(`at most ${STATEMENT_CHUNK} lines at once`);
    await Promise.all(
      lines.map((line) =>
        this.sequencerSlots(() =>
          persistently(() =>
            this.db.send(
              new PutCommand({
                TableName: this.tableName,
                Item: { ...statementLineKey(line.accountId, line.sequence), ...line, sequencedAt },
              }),
            ),
          ),
        ),
      ),
    );
    await Promise.all(
      lines.map((line) =>
        this.sequencerSlots(() =>
          persistently(() =>
            this.db.send(
              new DeleteCommand({
                TableName: this.tableName,
                Key: pendingEntryKey(line.accountId, line.transactionId),
              }),
            ),
          ),
        ),
      ),
    );
  }

  /**
   * A movement's statement line among the account's newest `REPLAY_LOOKBACK` lines: what a
   * replay answers with when its movement is no longer the account's last. Null when it is
   * still pending or older than that (the history has it).
   */
  async findRecentLine(accountId: string, transactionId: string): Promise<LedgerEntry | null> {
    const result = await guarded(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :line)',
          FilterExpression: 'transactionId = :tx',
          ExpressionAttributeValues: {
            ':pk': ledgerPartition(accountId),
            ':line': LINE_PREFIX,
            ':tx': transactionId,
          },
          ConsistentRead: true,
          ScanIndexForward: false,
          Limit: REPLAY_LOOKBACK,
        }),
      ),
    );
    const item = result.Items?.[0];
    return item ? toStatementLine(item) : null;
  }
}

/** The most lines `writeStatementLines` takes at once: the sequencer's chunk of one account. */
export const STATEMENT_CHUNK = 25;
/**
 * The sequencer's writes in flight at once, per container (the client has 256 sockets). When
 * DynamoDB answers slowly (about 1.8 s a write under the bank run's 32 clients locally), the
 * lines per second are this over the write's latency: 40 gave 11 lines/s against 16 commits/s.
 */
const SEQUENCER_WRITES_IN_FLIGHT = 200;
const WRITE_ATTEMPTS = 8;
/** Lines a replay looks through for its movement's: one Query, about 9 RCU. */
const REPLAY_LOOKBACK = 100;

/** A transaction cancelled by a conflicting one or by throttling may pass: retry, never refuse. */
function throwIfTransient(reasons: CancellationReason[], error: Error): void {
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
}

/** For transactions whose first item carries the condition that matters (the rest cannot fail). */
function firstConditionFailed(error: TransactionCanceledException): boolean {
  const reasons = error.CancellationReasons ?? [];
  throwIfTransient(reasons, error);
  return reasons[0]?.Code === 'ConditionalCheckFailed';
}

/**
 * CancellationReasons come in TransactItems order: the account, the credited account of a
 * transfer (at `counterpartyIndex`), entries, and the marker last.
 */
function readCancellation(
  reasons: CancellationReason[],
  error: Error,
  index: { counterparty: number | null; marker: number },
): CancelledMovement {
  const accountReason = reasons[0];
  const counterpartyReason = index.counterparty === null ? undefined : reasons[index.counterparty];
  const markerReason = reasons[index.marker];
  throwIfTransient(reasons, error);
  const accountRefused = accountReason?.Code === 'ConditionalCheckFailed';
  const counterpartyRefused = counterpartyReason?.Code === 'ConditionalCheckFailed';
  const markerExists = markerReason?.Code === 'ConditionalCheckFailed';
  if (!accountRefused && !counterpartyRefused && !markerExists) {
    // No condition of ours failed: a cancellation we do not understand is a bug, not a refusal.
    throw error;
  }
  const accountItem = accountRefused ? fromRaw(accountReason?.Item) : null;
  const counterpartyItem = counterpartyRefused ? fromRaw(counterpartyReason?.Item) : null;
  const markerItem = markerExists ? fromRaw(markerReason?.Item) : null;
  return {
    committed: false,
    accountRefused,
    account: accountItem ? toAccount(accountItem) : null,
    counterpartyRefused,
    counterparty: counterpartyItem ? toAccount(counterpartyItem) : null,
    existingMarker: markerItem ? toMarker(markerItem) : null,
  };
}
