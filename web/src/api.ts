/** The money-movement API, as the page uses it: every call carries the session's access token. */
import type { FeeableMovement } from '../../lib/domain/movement-types';
import type {
  Account,
  Balance,
  BalanceAt,
  ControlChange,
  EntryStatus,
  FeeRule,
  FeeSchedule,
  FeesRequest,
  HistoryPage,
  LedgerEntry,
  LedgerSummary,
  LimitRefusal,
  Limits,
  LimitsRequest,
  LimitsStatus,
  Movement,
  Payout,
  PayoutResult,
  ReversalRequest,
  ReversalResult,
  Statement,
  Transfer,
} from '../../lib/wire/types';

/**
 * A ledger entry as the page takes it: the contract's, read by a page that may be older or newer
 * than the API it talks to. A movement type it does not know is still shown (by its name), and
 * an entry without a status (older answers) is POSTED.
 */
export type ReceivedEntry = Omit<LedgerEntry, 'type' | 'status'> & {
  type: string;
  status?: EntryStatus;
} & Partial<EntryDetails>;

/**
 * The entry's metadata (issue 19), as docs/double-entry.md describes it: optional, shown in the
 * history when present. Read here until openapi.yaml's LedgerEntry has it.
 */
interface EntryDetails {
  reference: string;
  description: string;
  metadata: Record<string, string>;
}

/**
 * The movement types a fee schedule prices (the rows marked `feeable`), in the order the page
 * shows them: the compiler asks for a new one here.
 */
const FEEABLE: Record<FeeableMovement, true> = { WITHDRAWAL: true, PAYOUT: true };
export const FEE_TYPES = Object.keys(FEEABLE) as FeeableMovement[];
export type FeeType = FeeableMovement;
export type { FeeRule, FeeSchedule, FeesRequest, ReversalRequest };
export type { LimitRefusal, Limits, LimitsRequest, LimitsStatus };
/** The last change of an account's limits: who, when, why, and the limits before and after. */
export type LimitsChange = NonNullable<Limits['changed']>;

/**
 * A balance as the page takes it: an API older than limits (issue 20) sends none, and limits
 * nothing; the page then shows no limits and checks none.
 */
export type ReceivedBalance = Omit<Balance, 'limits'> & { limits?: LimitsStatus };

/** 201 of POST /transactions/{transactionId}/reversals, and whether it was a replay. */
export type ReversalAnswer = Omit<ReversalResult, 'transaction'> & {
  transaction: ReceivedEntry;
  replayed: boolean;
};

export type TransactionPage = Omit<HistoryPage, 'transactions'> & {
  transactions: ReceivedEntry[];
};

/**
 * A monthly statement as the page takes it: its lines read like the history's, and its totals
 * may name a movement type this page does not know yet (shown by its name).
 */
export type ReceivedStatement = Omit<Statement, 'transactions' | 'totals'> & {
  transactions: ReceivedEntry[];
  totals: Record<string, number>;
};

/** GET …/balance?at=: the posted balance at that instant (the page reads no other field). */
export type BalanceAtInstant = Pick<BalanceAt, 'balance' | 'currency'>;

/**
 * The history's filters as the API takes them (openapi.yaml, listTransactions): instants in
 * ISO 8601, types and statuses comma-separated. history-filters.ts makes them from the form.
 */
export interface HistoryQuery {
  from?: string;
  to?: string;
  type?: string;
  status?: string;
}

/** What POST /payouts answers: the payout and the account's numbers right after the hold. */
export type PayoutAnswer = Omit<PayoutResult, 'transaction' | 'fee'> & {
  replayed: boolean;
  fee: number;
};

/** The one code the page makes up itself: a success status whose body is not the contract's. */
export const BAD_RESPONSE = 'BAD_RESPONSE';
export type PageErrorCode = typeof BAD_RESPONSE;

/**
 * An HTTP answer other than success, with the API's error code as it sent it (a newer API may send
 * one this page does not know), or a stand-in for odd bodies: BAD_RESPONSE, or `HTTP_<status>`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly retryAfterSeconds?: number,
    /** LIMIT_EXCEEDED's `error.limit`: which limit refused, and how the account's day stood. */
    readonly limit?: LimitRefusal,
  ) {
    super(message);
  }
}

/**
 * A 401 anywhere ends the session for the whole page: the part of the page that met it closes
 * (its timers stop) and the page signs out. True when that happened.
 */
export function endsSession(
  error: unknown,
  part: { close(): void },
  onSessionEnded: () => void,
): boolean {
  if (!(error instanceof ApiError) || error.status !== 401) return false;
  part.close();
  onSessionEnded();
  return true;
}

/** No HTTP answer at all: the request may or may not have reached the API. */
export class NetworkError extends Error {}

/**
 * The shape checks below: a success answer that is not what the contract says is no answer. They
 * check the fields the page reads; the others it takes on the contract's word.
 */
type Check<T> = (body: unknown) => body is T;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const isMinor = (value: unknown): value is number => Number.isSafeInteger(value);

const isAccount = (value: unknown): value is Account =>
  isObject(value) &&
  typeof value.accountId === 'string' &&
  typeof value.currency === 'string' &&
  isMinor(value.balance) &&
  isMinor(value.available) &&
  isMinor(value.pending);

const ENTRY_STATUSES: readonly EntryStatus[] = ['POSTED', 'PENDING', 'VOIDED'];
const PAYOUT_STATUSES: readonly Payout['status'][] = ['PENDING', 'POSTED', 'VOIDED'];
const isOneOf = <T>(values: readonly T[], value: unknown): value is T =>
  (values as readonly unknown[]).includes(value);

const optional = (value: unknown, check: (value: unknown) => boolean): boolean =>
  value === undefined || check(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isStringMap = (value: unknown): boolean =>
  isObject(value) && Object.values(value).every(isString);
const isReversalLink = (value: unknown): boolean =>
  isObject(value) && isString(value.transactionId) && isMinor(value.amount);

const isEntry = (value: unknown): value is ReceivedEntry =>
  isObject(value) &&
  typeof value.transactionId === 'string' &&
  typeof value.type === 'string' &&
  isMinor(value.amount) &&
  (value.balanceAfter === null || isMinor(value.balanceAfter)) &&
  typeof value.createdAt === 'string' &&
  (value.status === undefined || isOneOf(ENTRY_STATUSES, value.status)) &&
  optional(value.counterpartyAccountId, isString) &&
  optional(value.destination, isString) &&
  optional(value.fee, isMinor) &&
  optional(value.reversalOf, isString) &&
  optional(value.reason, isString) &&
  optional(value.reference, isString) &&
  optional(value.description, isString) &&
  optional(value.metadata, isStringMap) &&
  optional(value.reversedBy, (links) => Array.isArray(links) && links.every(isReversalLink));

const isPayout = (value: unknown): value is Payout =>
  isObject(value) &&
  typeof value.transactionId === 'string' &&
  typeof value.accountId === 'string' &&
  isMinor(value.amount) &&
  typeof value.currency === 'string' &&
  typeof value.destination === 'string' &&
  isOneOf(PAYOUT_STATUSES, value.status) &&
  typeof value.createdAt === 'string' &&
  typeof value.updatedAt === 'string' &&
  (value.voidReason === null ||
    value.voidReason === undefined ||
    typeof value.voidReason === 'string');

const accountList: Check<{ accounts: Account[] }> = (body): body is { accounts: Account[] } =>
  isObject(body) && Array.isArray(body.accounts) && body.accounts.every(isAccount);

const isLimitsStatus = (value: unknown): value is LimitsStatus =>
  isObject(value) &&
  [value.daily, value.perMovement, value.usedToday, value.remainingToday].every(isMinor) &&
  isString(value.timezone) &&
  isString(value.day);

const balanceBody: Check<ReceivedBalance> = (body): body is ReceivedBalance =>
  isObject(body) &&
  typeof body.currency === 'string' &&
  isMinor(body.balance) &&
  isMinor(body.available) &&
  isMinor(body.pending) &&
  typeof body.updatedAt === 'string' &&
  optional(body.limits, isLimitsStatus);

const transactionPage: Check<TransactionPage> = (body): body is TransactionPage =>
  isObject(body) &&
  Array.isArray(body.transactions) &&
  body.transactions.every(isEntry) &&
  (body.nextCursor === null ||
    body.nextCursor === undefined ||
    typeof body.nextCursor === 'string');

const statementBody: Check<ReceivedStatement> = (body): body is ReceivedStatement =>
  isObject(body) &&
  [body.accountId, body.currency, body.period, body.timezone, body.from, body.to].every(isString) &&
  [body.openingBalance, body.closingBalance, body.fees, body.count].every(isMinor) &&
  isObject(body.totals) &&
  Object.values(body.totals).every(isMinor) &&
  Array.isArray(body.transactions) &&
  body.transactions.every(isEntry) &&
  (body.nextCursor === null || isString(body.nextCursor));

// Without `at` in the past the API answers the current balance (Balance): `balance` either way.
const balanceAtBody: Check<BalanceAtInstant> = (body): body is BalanceAtInstant =>
  isObject(body) && isMinor(body.balance) && isString(body.currency);

// A CSV export starts with its header row; a JSON object (an emulator's timeout report) is not one.
const csvBody: Check<string> = (body): body is string =>
  isString(body) && !body.trimStart().startsWith('{');

type WithdrawalAnswer = Omit<Movement, 'transaction'> & { transaction: ReceivedEntry };

const withdrawalBody: Check<WithdrawalAnswer> = (body): body is WithdrawalAnswer =>
  isObject(body) && isEntry(body.transaction) && isMinor(body.balance);

/** The fee a money answer reports: top level, else on its entry; none from an API without fees. */
const feeOf = (body: object): number => {
  const { fee, transaction } = body as { fee?: unknown; transaction?: { fee?: unknown } };
  if (isMinor(fee)) return fee;
  return isMinor(transaction?.fee) ? transaction.fee : 0;
};

const isFeeRule = (value: unknown): value is FeeRule =>
  isObject(value) &&
  [value.flat, value.bps, value.min, value.max].every((n) => optional(n, isMinor));

const isChange = (value: unknown): value is ControlChange =>
  isObject(value) && isString(value.by) && isString(value.at) && isString(value.reason);

const feeScheduleBody: Check<FeeSchedule> = (body): body is FeeSchedule =>
  isObject(body) &&
  isString(body.accountId) &&
  isMinor(body.version) &&
  (body.changed === null || isChange(body.changed)) &&
  FEE_TYPES.every((type) => optional(body[type], isFeeRule));

const isDailyLimits = (value: unknown): boolean =>
  isObject(value) && isMinor(value.daily) && isMinor(value.perMovement) && isString(value.timezone);

const isLimitsChange = (value: unknown): value is LimitsChange =>
  isObject(value) &&
  isDailyLimits(value.previous) &&
  isDailyLimits(value.limits) &&
  isChange(value);

const limitsBody: Check<Limits> = (body): body is Limits =>
  isObject(body) &&
  isString(body.accountId) &&
  isMinor(body.version) &&
  (body.changed === null || isLimitsChange(body.changed)) &&
  isLimitsStatus(body);

const isLimitRefusal = (value: unknown): value is LimitRefusal =>
  isObject(value) &&
  isOneOf(['daily', 'perMovement'], value.kind) &&
  [value.limit, value.used, value.remaining].every(isMinor);

const summaryBody: Check<LedgerSummary> = (body): body is LedgerSummary =>
  isObject(body) &&
  isObject(body.currencies) &&
  Object.values(body.currencies).every(
    (of) =>
      isObject(of) &&
      isObject(of.systemAccounts) &&
      Object.values(of.systemAccounts).every(isMinor),
  );

const reversalBody: Check<Omit<ReversalAnswer, 'replayed'>> = (
  body,
): body is Omit<ReversalAnswer, 'replayed'> =>
  isObject(body) &&
  isEntry(body.transaction) &&
  [body.balance, body.available, body.pending].every(isMinor) &&
  isObject(body.reversed) &&
  [body.reversed.original, body.reversed.total, body.reversed.remaining].every(isMinor);

const payoutBody: Check<Omit<PayoutAnswer, 'replayed' | 'fee'>> = (
  body,
): body is Omit<PayoutAnswer, 'replayed' | 'fee'> =>
  isObject(body) &&
  isPayout(body.payout) &&
  isMinor(body.balance) &&
  isMinor(body.available) &&
  isMinor(body.pending);

const transferBody: Check<{ transfer: Transfer }> = (body): body is { transfer: Transfer } =>
  isObject(body) &&
  isObject(body.transfer) &&
  typeof body.transfer.transactionId === 'string' &&
  isMinor(body.transfer.amount);

const replayedOf = (headers: Headers): boolean => headers.get('Idempotent-Replayed') === 'true';

const READ_RETRIES = 2;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Parts of one CSV export at most (100 × 5 MiB): past that, a loop, not an export. */
const CSV_PARTS_MAX = 100;

/** Where a CSV's first line (its header row: field names, never quoted line breaks) ends. */
const headerEnd = (csv: string): number => {
  const end = csv.indexOf('\n');
  return end === -1 ? csv.length : end + 1;
};

const unreadable = () => new ApiError(200, BAD_RESPONSE, 'The service sent an unreadable answer.');

/** The body as JSON, or undefined when it is empty or not JSON (handled by the caller). */
function jsonOf(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

const isTransient = (error: unknown): boolean =>
  error instanceof NetworkError ||
  (error instanceof ApiError &&
    (error.status >= 500 || error.status === 429 || error.code === BAD_RESPONSE));

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: () => string,
  ) {}

  async accounts(): Promise<Account[]> {
    return (await this.request('GET', '/accounts', accountList)).body.accounts;
  }

  async balance(accountId: string): Promise<ReceivedBalance> {
    return (await this.request('GET', `${this.accountPath(accountId)}/balance`, balanceBody)).body;
  }

  /** A page of history, newest first; with `filter`, only the statement lines that match. */
  async transactions(
    accountId: string,
    cursor?: string | null,
    filter: HistoryQuery = {},
  ): Promise<TransactionPage> {
    const query = new URLSearchParams({ limit: '10', ...filter });
    if (cursor) query.set('cursor', cursor);
    const path = `${this.accountPath(accountId)}/transactions?${query.toString()}`;
    const page = (await this.request('GET', path, transactionPage)).body;
    return { transactions: page.transactions, nextCursor: page.nextCursor ?? null };
  }

  /** Every line of the (filtered) history as CSV: sent as a file, not shown. */
  async historyCsv(accountId: string, filter: HistoryQuery = {}): Promise<string> {
    const query = new URLSearchParams({ ...filter }).toString();
    return this.csv(`${this.accountPath(accountId)}/transactions${query ? `?${query}` : ''}`);
  }

  /** GET …/balance?at=: the posted balance at an instant (ISO 8601). */
  async balanceAt(accountId: string, at: string): Promise<BalanceAtInstant> {
    const path = `${this.accountPath(accountId)}/balance?${new URLSearchParams({ at }).toString()}`;
    return (await this.request('GET', path, balanceAtBody)).body;
  }

  /** GET …/statements/{YYYY-MM}: the month's numbers and one page of its lines, oldest first. */
  async statement(
    accountId: string,
    period: string,
    page: { cursor?: string | null; limit: number },
  ): Promise<ReceivedStatement> {
    const query = new URLSearchParams({ limit: String(page.limit) });
    if (page.cursor) query.set('cursor', page.cursor);
    const path = `${this.statementPath(accountId, period)}?${query.toString()}`;
    return (await this.request('GET', path, statementBody)).body;
  }

  /** Every line of the month as CSV. */
  async statementCsv(accountId: string, period: string): Promise<string> {
    return this.csv(this.statementPath(accountId, period));
  }

  /**
   * Resolves with whether the API answered from an earlier request with the same key, and the
   * fee it charged (0 for none).
   */
  async withdraw(
    accountId: string,
    amountMinor: bigint,
    idempotencyKey: string,
  ): Promise<{ replayed: boolean; fee: number }> {
    const response = await this.request(
      'POST',
      `${this.accountPath(accountId)}/withdrawals`,
      withdrawalBody,
      // The amount is at most 10^12, so it is exact as a JSON number.
      { amount: Number(amountMinor) },
      { 'Idempotency-Key': idempotencyKey },
    );
    return { replayed: replayedOf(response.headers), fee: feeOf(response.body) };
  }

  /** POST /accounts/{id}/payouts: holds the amount; the gateway answers later (poll `payout`). */
  async requestPayout(
    accountId: string,
    amountMinor: bigint,
    destination: string,
    idempotencyKey: string,
  ): Promise<PayoutAnswer> {
    const response = await this.request(
      'POST',
      `${this.accountPath(accountId)}/payouts`,
      payoutBody,
      { amount: Number(amountMinor), destination },
      { 'Idempotency-Key': idempotencyKey },
    );
    return {
      ...response.body,
      fee: feeOf(response.body),
      replayed: replayedOf(response.headers),
    };
  }

  async payout(accountId: string, transactionId: string): Promise<Payout> {
    const path = `${this.accountPath(accountId)}/payouts/${encodeURIComponent(transactionId)}`;
    return (await this.request('GET', path, isPayout)).body;
  }

  async transfer(
    fromAccountId: string,
    toAccountId: string,
    amountMinor: bigint,
    idempotencyKey: string,
  ): Promise<{ transfer: Transfer; replayed: boolean }> {
    const response = await this.request(
      'POST',
      '/transfers',
      transferBody,
      { fromAccountId, toAccountId, amount: Number(amountMinor) },
      { 'Idempotency-Key': idempotencyKey },
    );
    return { transfer: response.body.transfer, replayed: replayedOf(response.headers) };
  }

  /** GET /accounts/{id}/fees: what a withdrawal or a payout from the account costs now. */
  async fees(accountId: string): Promise<FeeSchedule> {
    return (await this.request('GET', `${this.accountPath(accountId)}/fees`, feeScheduleBody)).body;
  }

  /** PUT /accounts/{id}/fees (operators): replaces the whole schedule. */
  async setFees(accountId: string, request: FeesRequest): Promise<FeeSchedule> {
    const path = `${this.accountPath(accountId)}/fees`;
    return (await this.request('PUT', path, feeScheduleBody, request)).body;
  }

  /** GET /accounts/{id}/limits: the account's limits, today's use and their last change. */
  async limits(accountId: string): Promise<Limits> {
    return (await this.request('GET', `${this.accountPath(accountId)}/limits`, limitsBody)).body;
  }

  /** PUT /accounts/{id}/limits (operators): sets the limits sent, with the reason. */
  async setLimits(accountId: string, request: LimitsRequest): Promise<Limits> {
    const path = `${this.accountPath(accountId)}/limits`;
    return (await this.request('PUT', path, limitsBody, request)).body;
  }

  /** GET /ledger/summary (operators): the system accounts per currency. */
  async ledgerSummary(): Promise<LedgerSummary> {
    return (await this.request('GET', '/ledger/summary', summaryBody)).body;
  }

  /** POST /transactions/{id}/reversals (operators), with the attempt's Idempotency-Key. */
  async reverse(
    transactionId: string,
    request: ReversalRequest,
    idempotencyKey: string,
  ): Promise<ReversalAnswer> {
    const response = await this.request(
      'POST',
      `/transactions/${encodeURIComponent(transactionId)}/reversals`,
      reversalBody,
      request,
      { 'Idempotency-Key': idempotencyKey },
    );
    return { ...response.body, replayed: replayedOf(response.headers) };
  }

  private accountPath(accountId: string): string {
    return `/accounts/${encodeURIComponent(accountId)}`;
  }

  private statementPath(accountId: string, period: string): string {
    return `${this.accountPath(accountId)}/statements/${encodeURIComponent(period)}`;
  }

  /**
   * A CSV export, whole: one answer carries what a Lambda answer may (about 5 MiB), and links to
   * the rest (`Link: <…>; rel="next"`, relative to its own URL). Every part starts with the
   * header row, kept from the first only. A link off this API is refused: the token goes nowhere else.
   */
  private async csv(firstPath: string): Promise<string> {
    const parts: string[] = [];
    for (let path: string | null = firstPath; path !== null; ) {
      if (parts.length === CSV_PARTS_MAX) throw unreadable();
      const { body, headers } = await this.request('GET', path, csvBody, undefined, {
        Accept: 'text/csv',
      });
      const part = parts.length === 0 ? body : body.slice(headerEnd(body));
      parts.push(part === '' || part.endsWith('\n') ? part : `${part}\r\n`);
      path = this.nextPath(headers.get('Link'), path);
    }
    return parts.join('');
  }

  /** The path (after the base URL) of a `rel="next"` link, or null when there is none. */
  private nextPath(link: string | null, path: string): string | null {
    const target = link && /<([^>]*)>\s*;\s*rel="?next"?/.exec(link)?.[1];
    if (!target) return null;
    const next = new URL(target, `${this.baseUrl}${path}`).href;
    if (!next.startsWith(`${this.baseUrl}/`)) throw unreadable();
    return next.slice(this.baseUrl.length);
  }

  /**
   * Reads change nothing, so a read that failed on the way (no answer, an unreadable answer,
   * a 5xx) is tried again a couple of times before the page reports it. Withdrawals are never
   * resent on their own: the person retries, with the same Idempotency-Key.
   */
  private async request<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    check: Check<T>,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ body: T; headers: Headers }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(method, path, check, body, extraHeaders);
      } catch (error) {
        if (method !== 'GET' || attempt > READ_RETRIES || !isTransient(error)) throw error;
        const wait =
          error instanceof ApiError && error.retryAfterSeconds ? error.retryAfterSeconds * 1000 : 0;
        await delay(Math.min(Math.max(wait, 250 * attempt), 3000));
      }
    }
  }

  private async send<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    check: Check<T>,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ body: T; headers: Headers }> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token()}`,
      Accept: 'application/json',
      ...extraHeaders,
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      throw new NetworkError('No answer from the service.');
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const parsed = jsonOf(text);
      const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : {};
      const retryAfter = Number(response.headers.get('Retry-After'));
      throw new ApiError(
        response.status,
        typeof error.code === 'string'
          ? error.code
          : response.status === 401
            ? 'UNAUTHORIZED'
            : // API Gateway's own throttling answer has no code: {"message":"Too Many Requests"}.
              response.status === 429
              ? 'RATE_LIMITED'
              : `HTTP_${response.status}`,
        typeof error.message === 'string'
          ? error.message
          : `The service answered ${response.status}.`,
        typeof error.requestId === 'string' ? error.requestId : undefined,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
        isLimitRefusal(error.limit) ? error.limit : undefined,
      );
    }
    // A success status with a body that is not the contract's (a proxy's page, an emulator's
    // timeout report) says nothing about what happened: treat it like no answer at all. A CSV
    // export is text, checked as such; errors are JSON whatever was asked.
    const parsed = headers.Accept === 'application/json' ? jsonOf(text) : text;
    if (!check(parsed)) {
      throw new ApiError(response.status, BAD_RESPONSE, 'The service sent an unreadable answer.');
    }
    return { body: parsed, headers: response.headers };
  }
}
