import { createHash } from 'node:crypto';

/**
 * The table's key layout, and the only place key strings are built.
 *
 * - The account item is alone on its partition key, so a busy account's write ceiling is its
 *   own item's (about 500 transactional writes per second), not shared with its ledger.
 * - An account's ledger lives under a partition key of its own: committed-but-unsequenced
 *   entries under `P#<transactionId>`, statement lines under `L#<sequence>`. Descending order
 *   therefore lists pending entries first, then the statement newest first.
 * - Idempotency markers are spread: one partition key per (account, key), the key hashed so
 *   its length never grows the item.
 * - Owner links let a customer list their accounts with one strongly consistent Query.
 */
const ACCOUNT_SK = 'ACCOUNT';
const MARKER_SK = 'MARKER';
const SEQUENCE_DIGITS = 15;

export type Key = {
  pk: string;
  sk: string;
};

export const accountKey = (accountId: string): Key => ({
  pk: `ACCOUNT#${accountId}`,
  sk: ACCOUNT_SK,
});

export const ownerLinkKey = (ownerId: string, accountId: string): Key => ({
  pk: `OWNER#${ownerId}`,
  sk: `ACCOUNT#${accountId}`,
});
export const ownerPartition = (ownerId: string): string => `OWNER#${ownerId}`;
export const ownerLinkPrefix = 'ACCOUNT#';

export const ledgerPartition = (accountId: string): string => `LEDGER#${accountId}`;
export const PENDING_PREFIX = 'P#';
export const LINE_PREFIX = 'L#';

export const pendingEntryKey = (accountId: string, transactionId: string): Key => ({
  pk: ledgerPartition(accountId),
  sk: `${PENDING_PREFIX}${transactionId}`,
});

export const statementLineKey = (accountId: string, sequence: number): Key => ({
  pk: ledgerPartition(accountId),
  sk: `${LINE_PREFIX}${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`,
});

export const markerKey = (accountId: string, idempotencyKey: string): Key => ({
  pk: `MARKER#${accountId}#${createHash('sha256').update(idempotencyKey).digest('base64url')}`,
  sk: MARKER_SK,
});

/** Sort-key value of the account item; the stream consumer filters on it. */
export const ACCOUNT_SORT_KEY = ACCOUNT_SK;
