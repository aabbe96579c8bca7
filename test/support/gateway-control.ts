/**
 * The simulated payout gateway's control API (local/payout-gateway.ts), as the e2e and browser
 * suites drive it: a destination's mode, and what the gateway recorded.
 */
import { randomUUID } from 'node:crypto';
import type { DestinationMode, SimulatedPayout } from '../../local/payout-gateway';
import { e2eStack } from './api-client';

/** A destination no other test uses, so its gateway mode and records are this test's alone. */
export const newDestination = (label = 'dest'): string => `${label}-${randomUUID()}`;

/** Tells the simulated gateway what to do with payouts to `destination`. */
export async function setDestinationMode(
  destination: string,
  mode: DestinationMode,
): Promise<void> {
  const res = await fetch(
    `${e2eStack().gatewayUrl}/_control/destinations/${encodeURIComponent(destination)}`,
    {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode }),
    },
  );
  if (res.status !== 204) throw new Error(`gateway control answered ${res.status}`);
}

/** The gateway's record of a payout, or null if it never heard of it. */
export async function gatewayRecord(transactionId: string): Promise<SimulatedPayout | null> {
  const res = await fetch(
    `${e2eStack().gatewayUrl}/_control/payouts/${encodeURIComponent(transactionId)}`,
  );
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`gateway control answered ${res.status}`);
  return (await res.json()) as SimulatedPayout;
}

/** Every record the gateway holds, oldest first; only those to `destination` when given. */
export async function gatewayRecords(destination?: string): Promise<SimulatedPayout[]> {
  const res = await fetch(`${e2eStack().gatewayUrl}/_control/payouts`);
  if (res.status !== 200) throw new Error(`gateway control answered ${res.status}`);
  const records = (await res.json()) as SimulatedPayout[];
  return destination === undefined ? records : records.filter((r) => r.destination === destination);
}
