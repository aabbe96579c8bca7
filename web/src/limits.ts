/**
 * Withdrawal limits on the page (issue 20): how much may still leave an account today and per
 * movement, as the API last said with the balance. The page refuses a movement above them before
 * sending it; the server checks them again inside the movement's own transaction and has the last
 * word, which the page then shows.
 */
import { ApiError, type LimitRefusal, type LimitsChange, type LimitsStatus } from './api';
import { messageFor } from './messages';
import { formatMinor } from './money';

/** The movements the limits cap, as the page words them. */
export type LimitedAction = 'withdrawal' | 'payout' | 'transfer';

/** A movement the customer asked for: its amount and the fee the page showed for it. */
export interface Charge {
  action: LimitedAction;
  amount: bigint;
  /** 0 when the fee is not known yet: the server prices it and decides. */
  fee: bigint;
}

/**
 * Why the page will not send this movement under these limits, or null when they allow it.
 * Checked in the server's order: the per-movement limit first, then what remains today.
 */
export function overLimit(limits: LimitsStatus, charge: Charge, currency: string): string | null {
  const money = (minor: number | bigint) => formatMinor(minor, currency);
  const total = charge.amount + charge.fee;
  const what = `This ${charge.action} comes to ${money(total)}${charge.fee > 0n ? ` with its fee of ${money(charge.fee)}` : ''}`;
  if (total > BigInt(limits.perMovement)) {
    return `${what}, above this account's limit of ${money(limits.perMovement)} per movement. Nothing was sent.`;
  }
  if (total > BigInt(limits.remainingToday)) {
    return `${what}, above what may still leave this account today: ${money(limits.remainingToday)} of its daily limit of ${money(limits.daily)}. Nothing was sent.`;
  }
  return null;
}

/** The server's LIMIT_EXCEEDED, with the numbers its `error.limit` gave. */
export function limitRefusalText(refusal: LimitRefusal, currency: string): string {
  const money = (minor: number) => formatMinor(minor, currency);
  if (refusal.kind === 'perMovement') {
    return `The service refused it: above this account's limit of ${money(refusal.limit)} per movement, fees included. Nothing was changed.`;
  }
  return `The service refused it: above what may still leave this account today. ${money(refusal.remaining)} of the daily limit of ${money(refusal.limit)} remains (${money(refusal.used)} used). Nothing was changed.`;
}

/** What to say about a failed movement: a limit's refusal with its numbers, else the usual. */
export function refusalMessage(error: unknown, action: LimitedAction, currency: string): string {
  if (error instanceof ApiError && error.code === 'LIMIT_EXCEEDED' && error.limit) {
    return limitRefusalText(error.limit, currency);
  }
  return messageFor(error, action);
}

/** How long limits read with a balance are trusted for a check before they are read again. */
const FRESH_MS = 30_000;

/**
 * One account's limits as last read with its balance. A check uses a recent read, reading again
 * first when it is older (an operator may have changed them, another tab used some room); when
 * they cannot be read, the page sends and the server decides.
 */
export class LimitsRoom {
  private status: LimitsStatus | null = null;
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** Reads the balance (and so the limits) again; it calls `saw` with what it read. */
    private readonly readAgain: () => Promise<unknown>,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Limits just read with a balance (none from an API without limits). */
  saw(status: LimitsStatus | undefined): void {
    this.status = status ?? null;
    this.readAt = this.now();
  }

  /** The limits read within the last FRESH_MS, reading them again if need be; null if unknown. */
  async current(): Promise<LimitsStatus | null> {
    if (!this.fresh()) await this.readAgain();
    return this.fresh() ? this.status : null;
  }

  /** Why the page will not send this movement, or null (send it; the server decides). */
  async refusal(charge: Charge, currency: string): Promise<string | null> {
    const limits = await this.current();
    return limits && overLimit(limits, charge, currency);
  }

  private fresh(): boolean {
    return this.now() - this.readAt < FRESH_MS;
  }
}

/** The fee the page showed, or 0 when it was not known (the server prices it). */
export const knownFee = (fee: bigint | 'reading' | 'unknown'): bigint =>
  typeof fee === 'bigint' ? fee : 0n;

/** An operator's change, as the page says it: who, when, why, and what went from what to what. */
export function limitsChangeText(
  change: LimitsChange,
  currency: string,
  when: (iso: string) => string,
): string {
  const money = (minor: number) => formatMinor(minor, currency);
  const { previous, limits } = change;
  const parts = [
    previous.daily !== limits.daily &&
      `daily limit ${money(previous.daily)} → ${money(limits.daily)}`,
    previous.perMovement !== limits.perMovement &&
      `per movement ${money(previous.perMovement)} → ${money(limits.perMovement)}`,
    previous.timezone !== limits.timezone && `timezone ${previous.timezone} → ${limits.timezone}`,
  ].filter((part): part is string => typeof part === 'string');
  const what = parts.length > 0 ? parts.join('; ') : 'limits unchanged';
  return `Changed ${when(change.at)} by ${change.by}: ${change.reason}. ${capitalize(what)}.`;
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** A timezone the browser knows by its IANA name (the service refuses others). */
export function isTimezone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
