/**
 * How far behind the commits the stream consumers run, measured from the table and the gateway:
 *
 * - the sequencer: from a movement's commit (its `createdAt`, stamped just before the
 *   transaction) to its statement line (`sequencedAt`, stamped by the sequencer as it writes the
 *   line; a redelivered line is stamped again, so a crash shows as lag, never hides it);
 * - the payout dispatcher: from the hold's commit to the gateway's first request for it, and to
 *   the payout's resolution (POSTED or VOIDED).
 *
 * Payouts' own lines are left out of the sequencer's figures: they wait for the gateway, which
 * the payout figures show.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ledgerPartition, pendingPartitions } from '../../../lib/persistence/keys';
import { queryAll } from '../../../lib/audit/table';

export interface Spread {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return {
    count: sorted.length,
    p50Ms: Math.round(at(0.5) ?? 0),
    p99Ms: Math.round(at(0.99) ?? 0),
    maxMs: Math.round(sorted[sorted.length - 1] ?? 0),
  };
}

/** Commit-to-line lag of every non-payout line committed in [from, to] (epoch ms), by commit time. */
export async function sequencerLags(
  client: DynamoDBClient,
  tableName: string,
  accountIds: string[],
  window: { from: number; to: number },
): Promise<Array<{ committedAt: number; lagMs: number }>> {
  const lags: Array<{ committedAt: number; lagMs: number }> = [];
  for (const accountId of accountIds) {
    for (const line of await queryAll(
      DynamoDBDocumentClient.from(client),
      tableName,
      ledgerPartition(accountId),
    )) {
      const committedAt = Date.parse(String(line.createdAt));
      const placed = Date.parse(String(line.sequencedAt));
      if (line.type === 'PAYOUT' || Number.isNaN(placed)) continue;
      if (committedAt >= window.from && committedAt <= window.to) {
        lags.push({ committedAt, lagMs: placed - committedAt });
      }
    }
  }
  return lags;
}

/** Movements committed before `before` (epoch ms) still without their line: payouts aside. */
export async function unsequencedBefore(
  client: DynamoDBClient,
  tableName: string,
  accountIds: string[],
  before: number,
): Promise<Array<{ accountId: string; transactionId: string; type: string }>> {
  const left: Array<{ accountId: string; transactionId: string; type: string }> = [];
  for (const accountId of accountIds) {
    for (const pk of pendingPartitions(accountId)) {
      for (const entry of await queryAll(DynamoDBDocumentClient.from(client), tableName, pk)) {
        if (entry.type === 'PAYOUT' || Date.parse(String(entry.createdAt)) >= before) continue;
        left.push({
          accountId,
          transactionId: String(entry.transactionId),
          type: String(entry.type),
        });
      }
    }
  }
  return left;
}

/** Hold-to-dispatch (the gateway's first request) and hold-to-settled, over the run's payouts. */
export function payoutLatencies(
  payouts: Array<{ transactionId: string; status: string; createdAt?: string; updatedAt?: string }>,
  gateway: Array<{ idempotencyKey: string; createdAt?: string }>,
): { holdToDispatch: Spread; holdToSettled: Spread } {
  const firstRequest = new Map(
    gateway.map((g) => [g.idempotencyKey, Date.parse(g.createdAt ?? '')]),
  );
  const dispatch: number[] = [];
  const settled: number[] = [];
  for (const p of payouts) {
    const held = Date.parse(p.createdAt ?? '');
    if (Number.isNaN(held)) continue;
    const sent = firstRequest.get(p.transactionId);
    if (sent !== undefined && !Number.isNaN(sent)) dispatch.push(sent - held);
    const resolved = Date.parse(p.updatedAt ?? '');
    if ((p.status === 'POSTED' || p.status === 'VOIDED') && !Number.isNaN(resolved)) {
      settled.push(resolved - held);
    }
  }
  return { holdToDispatch: spread(dispatch), holdToSettled: spread(settled) };
}
