/**
 * "No balance, hold, statement line or control changed by a refused request", judged on two
 * scans of the whole table, one before the fuzz and one after. The service keeps working
 * meanwhile: the sequencer writes statement lines and retires pending entries, the payout
 * dispatcher and sweeper post or void payouts held earlier (which moves their accounts). So a
 * difference is accepted only when a movement whose transaction existed before the fuzz explains
 * it, item kind by item kind:
 *
 * - account: the fields a movement does not touch (owner, currency, frozen, ...) are unchanged;
 *   each version it gained is the resolution of a payout held before the fuzz — known from the
 *   statement line at that version, or else from the payouts resolved between the scans — and
 *   balance, pending and available moved by exactly those resolutions' amounts;
 * - statement line: new only for a transaction from before, and never rewritten differently;
 *   its running figures and history index keys (written with it, or added to a line written
 *   before they existed when its account next moves) may appear, never change or go;
 * - pending entry: retired, or a payout's entry marked POSTED or VOIDED;
 * - payout: only a PENDING one changes, to POSTED or VOIDED (attempts, references, the index);
 *   its fee, if any, was held with it and moves with it;
 * - reversal count (what a movement's reversals took): created and moved only by a committed
 *   reversal, so never added or changed;
 * - a day's limit counter (what left an account that day): only a committed movement adds to
 *   it and only a void or a reversal gives room back, so it may only go down, by exactly what
 *   payouts held before the fuzz and voided meanwhile had counted on that day;
 * - idempotency marker: new only as a recorded refusal; a committed one only gains its
 *   statement position; gone only once expired;
 * - owner links, an account's control records (freeze, unfreeze, fee and limits changes), its fee
 *   schedule and limits override, the withdrawals switch, and any item of a kind not named here
 *   without a transaction from before: never added, changed or removed.
 *
 * A scan is not a point-in-time read, so one scan may show a payout resolved and its account not
 * yet (or the reverse): the account is then explained by its statement lines, and a version whose
 * line the sequencer has not written yet is "awaiting" — compared again later, not a violation.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';

export type Item = Record<string, unknown>;
/** Every item of the table by `pk sk`. */
export type Snapshot = Map<string, Item>;

export const itemKey = (item: Item): string => `${String(item.pk)} ${String(item.sk)}`;

export async function snapshotState(client: DynamoDBClient, tableName: string): Promise<Snapshot> {
  const doc = DynamoDBDocumentClient.from(client);
  const out: Snapshot = new Map();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) out.set(itemKey(item), item);
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out;
}

export type Kind =
  | 'account'
  | 'owner link'
  | 'statement line'
  | 'pending entry'
  | 'payout'
  | 'idempotency marker'
  | 'control record'
  | 'fee schedule'
  | 'limits override'
  | 'limit counter'
  | 'withdrawals switch'
  | 'system posting'
  | 'reversal count'
  | 'event'
  | 'webhook delivery'
  | 'webhook endpoint'
  | 'other item';

export function kindOf(item: Item): Kind {
  const pk = String(item.pk);
  const sk = String(item.sk);
  if (pk.startsWith('ACCOUNT#') && sk === 'ACCOUNT') return 'account';
  if (pk.startsWith('OWNER#')) return 'owner link';
  // The sequencer's postings to the system accounts: their shards, and each account's watermark.
  if (pk.startsWith('SYSTEM#') || (pk.startsWith('LEDGER#') && sk === 'POSTED')) {
    return 'system posting';
  }
  if (pk.startsWith('LEDGER#')) return 'statement line';
  if (pk.startsWith('TXN#')) return 'reversal count';
  if (pk.startsWith('PENDING#')) return 'pending entry';
  if (pk.startsWith('PAYOUT#')) return 'payout';
  if (pk.startsWith('MARKER#')) return 'idempotency marker';
  if (pk === 'CONTROL' && sk === 'WITHDRAWALS') return 'withdrawals switch';
  if (pk.startsWith('CONTROL#') && sk === 'FEES') return 'fee schedule';
  if (pk.startsWith('CONTROL#') && sk === 'LIMITS') return 'limits override';
  if (pk.startsWith('CONTROL')) return 'control record';
  if (pk.startsWith('LIMIT#')) return 'limit counter';
  // The publisher's events (by id, and each account's feed) and the delivery worker's queue and log.
  if (pk.startsWith('EVENT#') || pk.startsWith('EVENTS#')) return 'event';
  if (pk.startsWith('QUEUE') || pk.startsWith('ATTEMPTS#')) return 'webhook delivery';
  if (pk.startsWith('WEBHOOK')) return 'webhook endpoint';
  return 'other item';
}

export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value instanceof Set) return canonical([...(value as Set<unknown>)].map(canonical).sort());
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

const show = (value: unknown): string => {
  const text = value === undefined ? '(none)' : canonical(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** The attributes whose values differ between two versions of an item. */
function changedFields(before: Item, after: Item): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => canonical(before[n]) !== canonical(after[n])).sort();
}

const describeChange = (before: Item, after: Item, fields: string[]): string =>
  fields.map((f) => `${f} ${show(before[f])} -> ${show(after[f])}`).join(', ');

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN);
/** What a payout holds and then posts or frees: its amount and its fee (absent: none). */
const charged = (item: Item): number =>
  num(item.amount) + (typeof item.fee === 'number' ? item.fee : 0);

/** Transaction ids an item names (its own, and an account's last movement's). */
function transactionsOf(item: Item): string[] {
  const out: string[] = [];
  const own = str(item.transactionId);
  if (own !== undefined) out.push(own);
  const last = item.lastMovement as { transactionId?: unknown } | undefined;
  const moved = str(last?.transactionId);
  if (moved !== undefined) out.push(moved);
  return out;
}

/** Fields of a statement line that say what moved: a rewrite may change nothing else. */
const LINE_FIELDS = [
  'transactionId',
  'accountId',
  'type',
  'amount',
  'currency',
  'balanceAfter',
  'sequence',
  'idempotencyKey',
  'createdAt',
  'status',
  'counterpartyAccountId',
  'destination',
];
/**
 * A line's running figures and its keys in the history index (lib/domain/statement-figures.ts):
 * a line written before they existed gets them once; set, they never change.
 */
const LINE_FIGURES = ['postedAt', 'totalsAfter', 'feesAfter', 'historyKey', 'historyAt'];
/** Account fields a movement changes. Any other one changing is reported. */
const MOVED_BY_A_MOVEMENT = new Set([
  'balance',
  'available',
  'pending',
  'version',
  'updatedAt',
  'lastMovement',
]);
/** Payout fields that may change while it is PENDING (besides its status). */
const PAYOUT_PROGRESS = new Set([
  'status',
  'updatedAt',
  'attempts',
  'lastAttemptAt',
  'lastError',
  'gatewayReference',
  'voidReason',
  'openPayoutShard',
  'openPayoutDue',
]);
const RESOLVED = new Set(['POSTED', 'VOIDED']);

export interface StateComparison {
  /** Differences nothing from before the fuzz explains: each one is a violation. */
  unexplained: string[];
  /**
   * Differences work still under way will explain (an account moved by a payout resolution
   * whose statement line is not written yet): compare again a little later.
   */
  awaiting: string[];
  /** Differences explained by movements from before the fuzz, by what they were. */
  explained: Record<string, number>;
}

interface Resolution {
  transactionId: string;
  amount: number;
  status: string;
}

type Verdict = { ok: true } | { ok: false; why: string; awaiting: boolean };

interface Context {
  known: Set<string>;
  /** Statement lines after, by account then sequence. */
  lines: Map<string, Map<number, Item>>;
  /** Payouts by `accountId transactionId`. */
  payoutsBefore: Map<string, Item>;
  payoutsAfter: Map<string, Item>;
  /** Accounts that existed before the fuzz. */
  accountsBefore: Set<string>;
  /** When the withdrawals switch last changed before the fuzz. */
  switchChangedBefore: string | undefined;
  /** Events after, by id. */
  eventsAfter: Map<string, Item>;
}

function indexOf(snapshot: Snapshot, kind: Kind): Item[] {
  return [...snapshot.values()].filter((item) => kindOf(item) === kind);
}

/** Balance, pending and available moved by exactly these resolutions. */
function arithmetic(before: Item, after: Item, resolutions: Resolution[]): string[] {
  let posted = 0;
  let voided = 0;
  for (const r of resolutions) {
    if (r.status === 'POSTED') posted += r.amount;
    else voided += r.amount;
  }
  const expected: Array<[string, number]> = [
    ['balance', num(before.balance) - posted],
    ['pending', num(before.pending) - posted - voided],
    ['available', num(before.available) + voided],
  ];
  return expected
    .filter(([field, value]) => num(after[field]) !== value)
    .map(([field, value]) => `${field} ${show(after[field])}, expected ${value}`);
}

function lastMovementOf(item: Item): { transactionId?: string; status: string } {
  const last = (item.lastMovement ?? {}) as { transactionId?: unknown; status?: unknown };
  return { transactionId: str(last.transactionId), status: str(last.status) ?? 'POSTED' };
}

/** Each version gained is a statement line: the resolution of a payout held before the fuzz. */
function byStatementLines(before: Item, after: Item, ctx: Context): Verdict {
  const accountId = String(after.accountId);
  const lines = ctx.lines.get(accountId) ?? new Map<number, Item>();
  const resolutions: Resolution[] = [];
  for (let version = num(before.version) + 1; version <= num(after.version); version++) {
    const line = lines.get(version);
    if (line === undefined) {
      return { ok: false, awaiting: true, why: `no statement line yet at version ${version}` };
    }
    const tx = String(line.transactionId);
    if (!ctx.known.has(tx)) {
      return {
        ok: false,
        awaiting: false,
        why: `version ${version} is ${String(line.type)} ${tx} of ${show(line.amount)}, a transaction that did not exist before the fuzz`,
      };
    }
    const payout = ctx.payoutsBefore.get(`${accountId} ${tx}`);
    if (line.type !== 'PAYOUT' || !RESOLVED.has(String(line.status)) || payout === undefined) {
      return {
        ok: false,
        awaiting: false,
        why: `version ${version} is ${String(line.type)} ${String(line.status)} ${tx}, not the resolution of a payout held before the fuzz`,
      };
    }
    if (num(line.amount) !== num(payout.amount)) {
      return {
        ok: false,
        awaiting: false,
        why: `version ${version} resolves payout ${tx} for ${show(line.amount)}, held for ${show(payout.amount)}`,
      };
    }
    if (resolutions.some((r) => r.transactionId === tx)) {
      return { ok: false, awaiting: false, why: `payout ${tx} resolved twice` };
    }
    resolutions.push({ transactionId: tx, amount: charged(line), status: String(line.status) });
  }
  const problems = arithmetic(before, after, resolutions);
  const top = lines.get(num(after.version));
  if (top !== undefined && num(top.balanceAfter) !== num(after.balance)) {
    problems.push(`balance ${show(after.balance)}, its last line says ${show(top.balanceAfter)}`);
  }
  const last = lastMovementOf(after);
  if (top !== undefined && last.transactionId !== str(top.transactionId)) {
    problems.push(
      `last movement ${String(last.transactionId)}, its last line ${String(top.transactionId)}`,
    );
  }
  if (problems.length > 0) {
    return {
      ok: false,
      awaiting: false,
      why: `payout resolutions ${resolutions.map((r) => `${r.transactionId} ${r.status} ${r.amount}`).join(', ')} do not add up: ${problems.join('; ')}`,
    };
  }
  return { ok: true };
}

/** Or: exactly the account's payouts that went from PENDING to POSTED/VOIDED between the scans. */
function byPayoutRecords(before: Item, after: Item, ctx: Context): Verdict {
  const accountId = String(after.accountId);
  const resolutions: Resolution[] = [];
  for (const [key, held] of ctx.payoutsBefore) {
    if (!key.startsWith(`${accountId} `) || held.status !== 'PENDING') continue;
    const now = ctx.payoutsAfter.get(key);
    if (now !== undefined && RESOLVED.has(String(now.status))) {
      resolutions.push({
        transactionId: String(now.transactionId),
        amount: charged(held),
        status: String(now.status),
      });
    }
  }
  const gained = num(after.version) - num(before.version);
  const last = lastMovementOf(after);
  const matching = resolutions.find((r) => r.transactionId === last.transactionId);
  const problems = arithmetic(before, after, resolutions);
  if (resolutions.length !== gained) {
    problems.unshift(`${gained} versions gained, ${resolutions.length} payouts resolved`);
  }
  if (matching === undefined || matching.status !== last.status) {
    problems.push(`last movement ${String(last.transactionId)} ${last.status} is none of them`);
  }
  return problems.length === 0
    ? { ok: true }
    : { ok: false, awaiting: false, why: problems.join('; ') };
}

function explainAccount(before: Item, after: Item, ctx: Context): Verdict {
  const fields = changedFields(before, after);
  const fixed = fields.filter((f) => !MOVED_BY_A_MOVEMENT.has(f));
  if (fixed.length > 0) {
    return { ok: false, awaiting: false, why: describeChange(before, after, fixed) };
  }
  const from = num(before.version);
  const to = num(after.version);
  if (!(to > from)) {
    return {
      ok: false,
      awaiting: false,
      why: `${describeChange(before, after, fields)}, with no movement (version ${show(before.version)} -> ${show(after.version)})`,
    };
  }
  const lines = byStatementLines(before, after, ctx);
  if (lines.ok) return lines;
  const records = byPayoutRecords(before, after, ctx);
  if (records.ok) return records;
  const why = `${describeChange(before, after, fields)}: ${lines.why}${lines.awaiting ? ` (and from the payout records: ${records.why})` : ''}`;
  return { ok: false, awaiting: lines.awaiting, why };
}

/** A change of one item: before and after the fuzz (undefined: absent then). */
interface Change {
  kind: Kind;
  before: Item | undefined;
  after: Item | undefined;
  /** The item as it is now, or as it was when it is gone. */
  item: Item;
  tx: string | undefined;
  /** The item names a transaction that existed before the fuzz. */
  fromBefore: boolean;
  ctx: Context;
  nowSeconds: number;
}

/** Background work explains the change (the tally's name for it), or it waits on it, or not. */
type Judgement = { explained: string } | { awaiting: string } | { unexplained: string };

const explained = (what: string): Judgement => ({ explained: what });
const unexplained = (what: string): Judgement => ({ unexplained: what });

function judgeAccount({ before, after, item, ctx }: Change): Judgement {
  if (before === undefined)
    return unexplained(`a new account (owner ${show(item.ownerId)}, ${show(item.currency)})`);
  if (after === undefined) return unexplained('the account is gone');
  const verdict = explainAccount(before, after, ctx);
  if (verdict.ok) return explained('accounts moved by payouts resolved');
  return verdict.awaiting ? { awaiting: verdict.why } : unexplained(verdict.why);
}

function judgeStatementLine({ before, after, tx, fromBefore }: Change): Judgement {
  if (after === undefined) return unexplained('the statement line is gone');
  if (before === undefined) {
    if (fromBefore) return explained('statement lines written');
    return unexplained(
      `a statement line of ${String(after.type)} ${String(tx)} (${show(after.amount)}), a transaction that did not exist before the fuzz`,
    );
  }
  const changed = changedFields(before, after);
  const fields = changed.filter(
    (f) => LINE_FIELDS.includes(f) || (LINE_FIGURES.includes(f) && before[f] !== undefined),
  );
  if (fields.length > 0 || !fromBefore)
    return unexplained(`the statement line changed: ${describeChange(before, after, fields)}`);
  const completed = changed.some((f) => LINE_FIGURES.includes(f));
  return explained(
    completed ? 'statement lines given their figures' : 'statement lines written again',
  );
}

function judgePendingEntry({ before, after, tx, fromBefore }: Change): Judgement {
  if (after === undefined) return explained('pending entries retired');
  if (before === undefined) {
    if (fromBefore) return explained('pending entries of earlier movements');
    return unexplained(
      `a new pending movement: ${String(after.type)} ${String(tx)} of ${show(after.amount)}`,
    );
  }
  const fields = changedFields(before, after);
  const resolution =
    fromBefore &&
    fields.length === 1 &&
    fields[0] === 'status' &&
    before.status === 'PENDING' &&
    RESOLVED.has(String(after.status));
  if (resolution) return explained('pending entries of payouts resolved');
  return unexplained(`the pending entry changed: ${describeChange(before, after, fields)}`);
}

function judgePayout({ before, after, fromBefore }: Change): Judgement {
  if (after === undefined) return unexplained('the payout is gone');
  if (before === undefined) {
    if (fromBefore) return explained('payouts from before');
    return unexplained(
      `a new payout (a hold of ${show(after.amount)} on ${show(after.accountId)}), status ${show(after.status)}`,
    );
  }
  const fields = changedFields(before, after);
  const stuck = fields.filter((f) => !PAYOUT_PROGRESS.has(f));
  const legal =
    before.status === 'PENDING' &&
    stuck.length === 0 &&
    (after.status === 'PENDING' || RESOLVED.has(String(after.status))) &&
    !(num(after.attempts) < num(before.attempts));
  if (!legal) return unexplained(`the payout changed: ${describeChange(before, after, fields)}`);
  return explained(after.status === 'PENDING' ? 'payouts asked about again' : 'payouts resolved');
}

function judgeMarker({ before, after, item, tx, fromBefore, nowSeconds }: Change): Judgement {
  if (after === undefined) {
    if (num(item.expiresAt) <= nowSeconds) return explained('markers expired');
    return unexplained(`the marker is gone (${show(item.outcome)} ${show(item.idempotencyKey)})`);
  }
  if (before === undefined) {
    if (after.outcome === 'REFUSED') return explained('refusals recorded');
    if (fromBefore) return explained('markers of earlier movements');
    return unexplained(
      `a movement committed under key ${show(after.idempotencyKey)}: ${show(after.type)} ${String(tx)} of ${show(after.amount)}`,
    );
  }
  const fields = changedFields(before, after);
  const sequenced =
    before.outcome === 'COMMITTED' &&
    fromBefore &&
    fields.every((f) => f === 'balanceAfter' || f === 'sequence');
  if (sequenced) return explained('markers given their statement place');
  return unexplained(`the marker changed: ${describeChange(before, after, fields)}`);
}

/** Items no refused request and no background work may add, change or remove. */
const untouchable =
  (says: { added: (item: Item) => string; gone: string; changed: string }) =>
  ({ before, after, item }: Change): Judgement => {
    if (before === undefined) return unexplained(says.added(item));
    if (after === undefined) return unexplained(says.gone);
    return unexplained(
      `${says.changed}: ${describeChange(before, after, changedFields(before, after))}`,
    );
  };

/** A kind of item this comparison does not know: only a transaction from before explains it. */
function judgeOther({ kind, before, after, fromBefore }: Change): Judgement {
  if (fromBefore && after !== undefined) return explained(`${kind}s of earlier movements`);
  return unexplained(
    before === undefined
      ? `a new item ${show(after)}`
      : after === undefined
        ? 'the item is gone'
        : `the item changed: ${describeChange(before, after, changedFields(before, after))}`,
  );
}

/**
 * Whether an event reports a change from before the fuzz (the publisher catching up): a movement
 * or payout whose transaction was known, an account that existed, a pause switched before.
 */
function eventFromBefore(event: Item, ctx: Context): boolean {
  const tx = str((event.data as Item | undefined)?.transactionId);
  if (tx !== undefined) return ctx.known.has(tx);
  const accountId = str(event.accountId);
  if (accountId !== undefined) return ctx.accountsBefore.has(accountId);
  const at = str(event.createdAt);
  return at !== undefined && ctx.switchChangedBefore !== undefined && at <= ctx.switchChangedBefore;
}

/** Events are written once and never changed; new ones only for changes from before the fuzz. */
function judgeEvent({ before, after, item, ctx, nowSeconds }: Change): Judgement {
  if (after === undefined) {
    if (num(item.expiresAt) <= nowSeconds) return explained('events expired');
    return unexplained(`the event ${show(item.id)} is gone`);
  }
  if (before !== undefined) {
    return unexplained(
      `the event changed: ${describeChange(before, after, changedFields(before, after))}`,
    );
  }
  if (eventFromBefore(after, ctx)) return explained('events of changes from before');
  return unexplained(`an event of a change the fuzz made: ${show(after.id)}`);
}

/** Queue messages and attempts: only deliveries of events of changes from before the fuzz. */
function judgeDelivery({ after, item, ctx }: Change): Judgement {
  const body = str(item.body);
  const eventId =
    str(item.eventId) ?? (body === undefined ? undefined : str((JSON.parse(body) as Item).eventId));
  const event = eventId === undefined ? undefined : ctx.eventsAfter.get(eventId);
  if (event !== undefined && eventFromBefore(event, ctx)) {
    return explained(after === undefined ? 'deliveries done' : 'deliveries of events from before');
  }
  return unexplained(`a delivery of ${show(eventId)}, not an event from before`);
}

/** Payouts of an account held before the fuzz and voided since, that counted on `day`. */
function voidedOn(ctx: Context, accountId: string, day: string): Item[] {
  const out: Item[] = [];
  for (const [key, held] of ctx.payoutsBefore) {
    if (!key.startsWith(`${accountId} `) || held.status !== 'PENDING' || held.limitDay !== day) {
      continue;
    }
    if (ctx.payoutsAfter.get(key)?.status === 'VOIDED') out.push(held);
  }
  return out;
}

/** Whether some of `amounts` add up to exactly `total`. */
function someAddUpTo(amounts: number[], total: number): boolean {
  let sums = new Set([0]);
  for (const amount of amounts) {
    const more = [...sums].map((s) => s + amount).filter((s) => s <= total);
    sums = new Set([...sums, ...more]);
  }
  return sums.has(total);
}

/** Payouts of the account still PENDING after: a void the scan saw on the counter, not yet there. */
const stillHeldOn = (ctx: Context, accountId: string, day: string): boolean =>
  [...ctx.payoutsAfter].some(
    ([key, p]) => key.startsWith(`${accountId} `) && p.status === 'PENDING' && p.limitDay === day,
  );

/**
 * What left an account on one day: a refused request adds nothing to it; it only goes down, by
 * the charges (amount and fee) of payouts held before the fuzz that were voided meanwhile.
 */
function judgeLimitCounter({ before, after, item, ctx, nowSeconds }: Change): Judgement {
  const accountId = String(item.pk).slice('LIMIT#'.length);
  const day = String(item.sk);
  if (after === undefined) {
    if (num(item.expiresAt) <= nowSeconds) return explained('limit counters expired');
    return unexplained(`the counter of ${day} is gone (used ${show(item.used)})`);
  }
  if (before === undefined) {
    return unexplained(`a new counter for ${day}: ${show(after.used)} left the account`);
  }
  const fields = changedFields(before, after);
  const given = num(before.used) - num(after.used);
  if (fields.some((f) => f !== 'used') || !(given > 0)) {
    return unexplained(`the counter of ${day} changed: ${describeChange(before, after, fields)}`);
  }
  const voided = voidedOn(ctx, accountId, day);
  if (someAddUpTo(voided.map(charged), given)) return explained('limit room given back by voids');
  const why = `the counter of ${day} gave back ${given} (used ${show(before.used)} -> ${show(after.used)}); payouts voided meanwhile that counted that day: ${voided.map((p) => `${String(p.transactionId)} ${charged(p)}`).join(', ') || 'none'}`;
  return stillHeldOn(ctx, accountId, day) ? { awaiting: why } : unexplained(why);
}

/** An account's control record: what an operator did, by whom, why (with the limits set). */
const controlRecordAdded = (item: Item): string =>
  `a new ${show(item.action)} of ${show(item.accountId)} by ${show(item.by)}: ${show(item.reason)}${item.action === 'SET_LIMITS' ? ` (limits ${show(item.previous)} -> ${show(item.limits)})` : ''}`;

/**
 * Only the sequencer writes the system accounts' shards and watermarks, as it places lines (which
 * are judged on their own): one may grow or move while the fuzz runs, never go.
 */
function judgeSystemPosting({ before, after }: Change): Judgement {
  if (after === undefined) return unexplained('a system posting is gone');
  return explained(before === undefined ? 'system accounts posted to' : 'system postings moved');
}

/** Each kind of item, and what may change it while the fuzz runs. */
const JUDGES: Record<Kind, (change: Change) => Judgement> = {
  account: judgeAccount,
  'statement line': judgeStatementLine,
  'pending entry': judgePendingEntry,
  payout: judgePayout,
  'idempotency marker': judgeMarker,
  'system posting': judgeSystemPosting,
  'owner link': untouchable({
    added: (item) =>
      `a new owner link (${show(item.ownerId ?? item.pk)} -> ${show(item.accountId ?? item.sk)})`,
    gone: 'the owner link is gone',
    changed: 'the owner link changed',
  }),
  'control record': untouchable({
    added: controlRecordAdded,
    gone: 'the control record is gone',
    changed: 'the control record changed',
  }),
  'fee schedule': untouchable({
    added: (item) => `a fee schedule set: ${show(item.schedule)} by ${show(item.by)}`,
    gone: 'the fee schedule is gone',
    changed: 'the fee schedule changed',
  }),
  'limits override': untouchable({
    added: (item) =>
      `limits set: ${show(item.override)} by ${show(item.by)} (${show(item.reason)})`,
    gone: 'the limits override is gone',
    changed: 'the limits override changed',
  }),
  'limit counter': judgeLimitCounter,
  'reversal count': untouchable({
    added: (item) =>
      `a reversal of ${show(item.transactionId)} counted (${show(item.reversed)}): a reversal committed`,
    gone: 'the reversal count is gone',
    changed: 'the reversal count changed: a reversal committed',
  }),
  'withdrawals switch': untouchable({
    added: (item) =>
      `withdrawals switch set: paused ${show(item.paused)} by ${show(item.by)} (${show(item.reason)})`,
    gone: 'the withdrawals switch is gone',
    changed: 'withdrawals switch changed',
  }),
  event: judgeEvent,
  'webhook delivery': judgeDelivery,
  'webhook endpoint': untouchable({
    added: (item) => `a webhook endpoint registered: ${show(item.url)}`,
    gone: 'the webhook endpoint is gone',
    changed: 'the webhook endpoint changed',
  }),
  'other item': judgeOther,
};

/** What the judges need to know about both scans. */
function contextOf(before: Snapshot, after: Snapshot): Context {
  const known = new Set<string>();
  for (const item of before.values()) for (const tx of transactionsOf(item)) known.add(tx);
  const lines = new Map<string, Map<number, Item>>();
  for (const line of indexOf(after, 'statement line')) {
    const accountId = str(line.accountId) ?? String(line.pk).slice('LEDGER#'.length);
    const byVersion = lines.get(accountId) ?? new Map<number, Item>();
    byVersion.set(num(line.sequence), line);
    lines.set(accountId, byVersion);
  }
  const payoutIndex = (snapshot: Snapshot): Map<string, Item> =>
    new Map(
      indexOf(snapshot, 'payout').map((p) => [
        `${String(p.accountId)} ${String(p.transactionId)}`,
        p,
      ]),
    );
  const switchBefore = [...before.values()].find((i) => kindOf(i) === 'withdrawals switch');
  return {
    known,
    lines,
    payoutsBefore: payoutIndex(before),
    payoutsAfter: payoutIndex(after),
    accountsBefore: new Set(indexOf(before, 'account').map((a) => String(a.accountId))),
    switchChangedBefore: str((switchBefore?.changed as Item | undefined)?.at),
    eventsAfter: new Map(
      indexOf(after, 'event')
        .filter((e) => String(e.pk).startsWith('EVENT#'))
        .map((e) => [String(e.id), e]),
    ),
  };
}

export function compareSnapshots(
  before: Snapshot,
  after: Snapshot,
  options: { nowSeconds?: number } = {},
): StateComparison {
  const nowSeconds = options.nowSeconds ?? Date.now() / 1000;
  const ctx = contextOf(before, after);
  const result: StateComparison = { unexplained: [], awaiting: [], explained: {} };
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const key of keys) {
    const b = before.get(key);
    const a = after.get(key);
    if (b !== undefined && a !== undefined && canonical(b) === canonical(a)) continue;
    const item = (a ?? b) as Item;
    const kind = kindOf(item);
    const tx = str(item.transactionId);
    const fromBefore = tx !== undefined && ctx.known.has(tx);
    const change = { kind, before: b, after: a, item, tx, fromBefore, ctx, nowSeconds };
    const judgement = JUDGES[kind](change);
    if ('explained' in judgement) {
      const what = judgement.explained;
      result.explained[what] = (result.explained[what] ?? 0) + 1;
    } else if ('awaiting' in judgement) {
      result.awaiting.push(`${kind} ${key}: ${judgement.awaiting}`);
    } else result.unexplained.push(`${kind} ${key}: ${judgement.unexplained}`);
  }
  return result;
}
