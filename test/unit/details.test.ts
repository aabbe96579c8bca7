import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DETAILS_BOUNDS } from '../../lib/domain/details';
import { IdempotencyKeyReusedError, ValidationError } from '../../lib/domain/errors';
import { DEFAULT_LIMITS } from '../../lib/domain/limits';
import { TermsCache } from '../../lib/domain/terms';
import { listTransactions } from '../../lib/domain/history';
import * as money from '../../lib/domain/movements';
import type { MovementDeps, MovementRequest } from '../../lib/domain/movements';
import { listTransactionsByReference } from '../../lib/domain/reference-lookup';
import { sequenceChanges } from '../../lib/domain/sequencer';
import type { Account } from '../../lib/domain/types';
import { movementBody, payoutBody, referenceOf, transferBody } from '../../lib/http-schemas';
import { noMetrics } from '../../lib/metrics';
import { DETAILS_AT_BOUNDS, ONE_PAST_BOUNDS } from '../support/details';
import { memoryLedgerStore } from '../support/memory-store';

const B = DETAILS_BOUNDS;
const ALICE_ID = '01JACCOUNTA000000000000000';
const BOB_ID = '01JACCOUNTB000000000000000';
const alice = { userId: 'user-alice', username: 'alice', isOperator: false };
const bob = { userId: 'user-bob', username: 'bob', isOperator: false };
const ops = { userId: 'user-ops', username: 'ops', isOperator: true };
const NOW = '2026-11-24T10:00:00.000Z';

const atBounds = DETAILS_AT_BOUNDS;

/** The message of the validation error a movement body gets, or null when it is accepted. */
function refusalOf(body: unknown): string | null {
  const parsed = movementBody.safeParse({ amount: 5, ...(body as object) });
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join('.')}: ${issue?.message}`;
}

describe('the details a money request may carry, at their bounds and one past them', () => {
  const description = atBounds.description;

  it('accepts every detail at its bound on every money route', () => {
    expect(movementBody.parse({ amount: 5, ...atBounds })).toEqual({ amount: 5, ...atBounds });
    const transfer = { fromAccountId: ALICE_ID, toAccountId: BOB_ID, amount: 5, ...atBounds };
    expect(transferBody.parse(transfer)).toEqual(transfer);
    const payout = { amount: 5, destination: 'payee', ...atBounds };
    expect(payoutBody.parse(payout)).toEqual(payout);
    // 140 code points, 280 UTF-16 units: the bound counts code points.
    expect(description.length).toBe(2 * B.descriptionLength);
  });

  it.each([
    ['a reference of 36 characters', { reference: 'r'.repeat(36) }],
    ['a reference of 1 character', { reference: 'r' }],
    ['a reference with spaces inside', { reference: 'INV 2026 / 42' }],
    ['a description of 140 ASCII characters', { description: 'd'.repeat(140) }],
    ['a description of 1 character', { description: 'é' }],
    ['a description with a line separator and accents', { description: 'Zürich\u2028café' }],
    ['metadata of 5 keys', { metadata: { a: '', b: '1', c: '2', d: '3', e: '4' } }],
    ['a metadata key of 20 characters', { metadata: { ['k'.repeat(20)]: 'v' } }],
    ['a metadata value of 40 characters', { metadata: { k: 'v'.repeat(40) } }],
    ['an empty metadata value', { metadata: { k: '' } }],
    ['empty metadata', { metadata: {} }],
  ])('accepts %s', (_what, body) => {
    expect(refusalOf(body)).toBeNull();
  });

  it.each<[string, unknown, string]>([
    ['an empty reference', { reference: '' }, 'reference'],
    ['a reference with a leading space', { reference: ' INV-1' }, 'reference'],
    ['a reference with a trailing space', { reference: 'INV-1 ' }, 'reference'],
    ['a reference outside ASCII', { reference: 'INV-é' }, 'reference'],
    ['a reference with a tab', { reference: 'INV\t1' }, 'reference'],
    ['a numeric reference', { reference: 42 }, 'reference'],
    ['a description of 141 ASCII characters', { description: 'd'.repeat(141) }, 'description'],
    ['an empty description', { description: '' }, 'description'],
    ['a description with a newline', { description: 'one\ntwo' }, 'description'],
    ['a description with DEL', { description: 'one\u007f' }, 'description'],
    ['a description with a C1 control', { description: 'one\u0085' }, 'description'],
    ['a description with a lone surrogate', { description: 'half \ud83d' }, 'description'],
    ['a description that is not a string', { description: ['x'] }, 'description'],
    ['a metadata key with a space', { metadata: { 'order id': 'v' } }, 'metadata'],
    ['an empty metadata key', { metadata: { '': 'v' } }, 'metadata'],
    ['a metadata key __proto__', JSON.parse('{"metadata":{"__proto__":"v"}}'), 'metadata'],
    ['a metadata value outside ASCII', { metadata: { k: 'é' } }, 'metadata'],
    ['a numeric metadata value', { metadata: { k: 1 } }, 'metadata'],
    ['a nested metadata value', { metadata: { k: { v: 'x' } } }, 'metadata'],
    ['metadata as an array', { metadata: ['v'] }, 'metadata'],
    ['metadata as a string', { metadata: 'k=v' }, 'metadata'],
    ...ONE_PAST_BOUNDS.map(([what, field, details]): [string, unknown, string] => [
      what,
      details,
      field,
    ]),
  ])('refuses %s, naming the field', (_what, body, field) => {
    // The path names the field (and the key, for a key or a value), the message the field.
    expect(refusalOf(body)).toMatch(new RegExp(`^${field}(\\.[^:]*)?: ${field} `));
  });

  it('checks the reference of a history lookup the same way', () => {
    expect(referenceOf({})).toBeUndefined();
    expect(referenceOf({ reference: atBounds.reference })).toBe(atBounds.reference);
    expect(() => referenceOf({ reference: 'r'.repeat(37) })).toThrow(ValidationError);
    expect(() => referenceOf({ reference: ' r' })).toThrow(/^reference must be 1-36/);
    expect(() => referenceOf({ reference: '' })).toThrow(ValidationError);
  });
});

const base: MovementRequest = {
  caller: alice,
  accountId: ALICE_ID,
  amount: 500,
  idempotencyKey: 'key-1',
  requestId: 'req-1',
};

describe('the fingerprint of a request with details', () => {
  it('is what it always was for a request without them, so earlier markers still match', () => {
    const before = (request: MovementRequest) =>
      createHash('sha256')
        .update(JSON.stringify(['WITHDRAWAL', request.accountId, request.amount, null]))
        .digest('base64url');
    expect(money.requestHash('WITHDRAWAL', base)).toBe(before(base));
    expect(money.requestHash('WITHDRAWAL', { ...base, metadata: {} })).toBe(before(base));
  });

  it('changes with each detail, and not with the order of the metadata keys', () => {
    const hashes = [
      base,
      { ...base, reference: 'r' },
      { ...base, reference: 's' },
      { ...base, description: 'r' },
      { ...base, metadata: { reference: 'r' } },
      { ...base, metadata: { a: '1', b: '2' } },
      { ...base, metadata: { a: '1', b: '3' } },
    ].map((request) => money.requestHash('WITHDRAWAL', request));
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(money.requestHash('WITHDRAWAL', { ...base, metadata: { b: '2', a: '1' } })).toBe(
      hashes[5],
    );
  });
});

const accountOf = (accountId: string, ownerId: string, balance: number): Account => ({
  accountId,
  ownerId,
  currency: 'USD',
  balance,
  available: balance,
  pending: 0,
  version: 0,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
});

/** The domain on an in-memory store with alice's and bob's accounts, ids from a counter. */
function ledger() {
  const store = memoryLedgerStore({
    accounts: [accountOf(ALICE_ID, alice.userId, 10_000), accountOf(BOB_ID, bob.userId, 0)],
  });
  let next = 0;
  const deps: MovementDeps & { payoutHoldSeconds: number } = {
    store,
    logger: new Logger({ logLevel: 'SILENT' }),
    newId: () => `01JTX${String((next += 1)).padStart(21, '0')}`,
    now: () => new Date(NOW),
    idempotencyTtlSeconds: 86_400,
    sleep: async () => undefined,
    withdrawalSwitch: { isPaused: async () => false, cacheMs: 5000 },
    metrics: noMetrics,
    termsCache: new TermsCache(),
    limitDefaults: DEFAULT_LIMITS,
    payoutHoldSeconds: 600,
  };
  /** The sequencer's work for the accounts' last movements: their statement lines. */
  const sequenceLast = async (...accountIds: string[]) => {
    const accounts = await Promise.all(accountIds.map((id) => store.getAccount(id)));
    const changes = accounts.map((after, id) => ({ id, before: null, after }));
    await sequenceChanges(
      store,
      changes,
      () => new Date(NOW),
      async () => undefined,
    );
  };
  const history = async (caller = alice, accountId = ALICE_ID) =>
    (await listTransactions({ store }, caller, accountId, { limit: 20 })).transactions;
  return { store, deps, sequenceLast, history };
}

describe("a movement's details", () => {
  it('come back on the withdrawal, and on its entry in the history before and after its line', async () => {
    const { deps, sequenceLast, history } = ledger();
    const result = await money.withdraw(deps, { ...base, ...atBounds });
    expect(result.transaction).toMatchObject(atBounds);
    expect(await history()).toEqual([result.transaction]);

    await sequenceLast(ALICE_ID);
    const [line] = await history();
    // Its line counts at its commit instant (no movement before it committed later).
    expect(line).toEqual({
      ...result.transaction,
      status: 'POSTED',
      postedAt: result.transaction.createdAt,
    });
    expect(line).not.toHaveProperty('hasDetails');
  });

  it('are shown on both sides of a transfer, with one details item for the two', async () => {
    const { store, deps, sequenceLast, history } = ledger();
    const details = { reference: 'rent-2026-11', metadata: { flat: '4B' } };
    const sent = await money.transfer(deps, { ...base, toAccountId: BOB_ID, ...details });
    expect(sent.transaction).toMatchObject({ type: 'TRANSFER_OUT', ...details });
    expect(await history(bob, BOB_ID)).toEqual([
      expect.objectContaining({ type: 'TRANSFER_IN', ...details }),
    ]);

    await sequenceLast(ALICE_ID, BOB_ID);
    expect(await history()).toEqual([expect.objectContaining({ sequence: 1, ...details })]);
    expect(await history(bob, BOB_ID)).toEqual([
      expect.objectContaining({ type: 'TRANSFER_IN', sequence: 1, ...details }),
    ]);
    expect(store.calls('readDetails').at(-1)).toEqual([[sent.transaction.transactionId]]);
  });

  it('stay with a payout from its hold to its posted line', async () => {
    const { store, deps, sequenceLast, history } = ledger();
    const held = await money.requestPayout(deps, { ...base, destination: 'payee', ...atBounds });
    expect(held.transaction).toMatchObject({ status: 'PENDING', ...atBounds });
    expect(held.payout).toMatchObject({ reference: atBounds.reference, hasDetails: true });
    const payout = await store.getPayout(ALICE_ID, held.transaction.transactionId);
    if (payout === null) throw new Error('no payout record');

    await store.resolvePayout(payout, { status: 'POSTED', gatewayReference: 'g-1', at: NOW });
    expect(await history()).toEqual([expect.objectContaining({ status: 'POSTED', ...atBounds })]);
    await sequenceLast(ALICE_ID);
    expect(await history()).toEqual([
      expect.objectContaining({ status: 'POSTED', sequence: 1, ...atBounds }),
    ]);
  });

  it('are replayed with the first answer to the same request, and refuse the key with other details', async () => {
    const { store, deps } = ledger();
    const first = await money.deposit(deps, { ...base, caller: ops, ...atBounds });
    const again = await money.deposit(deps, { ...base, caller: ops, ...atBounds });
    expect(again).toEqual({ ...first, replayed: true });

    const other = { ...atBounds, metadata: { ...atBounds.metadata, extra: 'x' } };
    await expect(money.deposit(deps, { ...base, caller: ops, ...other })).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
    await expect(
      money.deposit(deps, { ...base, caller: ops, ...atBounds, reference: 'another' }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect((await store.getAccount(ALICE_ID))?.balance).toBe(10_500);
  });

  it('cost nothing when absent: no details item, no mark, no read', async () => {
    const { store, deps, sequenceLast, history } = ledger();
    const result = await money.withdraw(deps, base);
    await sequenceLast(ALICE_ID);
    expect(await history()).toEqual([
      { ...result.transaction, postedAt: result.transaction.createdAt },
    ]);
    expect(Object.keys(result.transaction)).not.toEqual(
      expect.arrayContaining(['reference', 'description', 'metadata', 'hasDetails']),
    );
    expect(store.calls('readDetails')).toEqual([]);
    expect((await store.getAccount(ALICE_ID))?.lastMovement).not.toHaveProperty('hasDetails');
  });
});

describe('the history of one reference', () => {
  const lookup = (
    deps: Pick<ReturnType<typeof ledger>, 'store'>,
    reference: string,
    page: { limit: number; cursor?: string } = { limit: 20 },
    caller = alice,
  ) => listTransactionsByReference({ store: deps.store }, caller, ALICE_ID, reference, page);

  it('lists the movements with that reference newest first, waiting ones first, and no others', async () => {
    const { deps, sequenceLast, ...l } = ledger();
    const ids: string[] = [];
    for (const [i, reference] of ['a', 'b', 'a', 'a', 'b'].entries()) {
      const moved = await money.withdraw(deps, { ...base, idempotencyKey: `k${i}`, reference });
      ids.push(moved.transaction.transactionId);
      if (i < 3) await sequenceLast(ALICE_ID);
    }
    const page = await lookup(l, 'a');
    expect(page.transactions.map((t) => [t.transactionId, t.sequence])).toEqual([
      [ids[3], null],
      [ids[2], 3],
      [ids[0], 1],
    ]);
    expect(page.nextCursor).toBeNull();
    expect((await lookup(l, 'c')).transactions).toEqual([]);
  });

  it('pages the lines by sequence, `limit` per page', async () => {
    const { deps, sequenceLast, ...l } = ledger();
    for (let i = 0; i < 5; i += 1) {
      await money.withdraw(deps, {
        ...base,
        idempotencyKey: `k${i}`,
        amount: 1 + i,
        reference: 'r',
      });
      await sequenceLast(ALICE_ID);
    }
    const first = await lookup(l, 'r', { limit: 2 });
    expect(first.transactions.map((t) => t.sequence)).toEqual([5, 4]);
    const second = await lookup(l, 'r', { limit: 2, cursor: first.nextCursor ?? '' });
    expect(second.transactions.map((t) => t.sequence)).toEqual([3, 2]);
    const third = await lookup(l, 'r', { limit: 2, cursor: second.nextCursor ?? '' });
    expect(third).toEqual({
      transactions: [expect.objectContaining({ sequence: 1 })],
      nextCursor: null,
    });
  });

  it('finds a line the index does not list yet among the newest lines', async () => {
    const { deps, sequenceLast, store } = ledger();
    const moved = await money.withdraw(deps, { ...base, ...atBounds });
    await sequenceLast(ALICE_ID);
    const lagging = { store: { ...store, listStatementByReference: async () => [] } };
    expect((await lookup(lagging, atBounds.reference)).transactions).toEqual([
      { ...moved.transaction, status: 'POSTED', postedAt: moved.transaction.createdAt },
    ]);
  });

  it("answers another customer's account like a missing one", async () => {
    const l = ledger();
    await expect(lookup(l, 'r', { limit: 20 }, bob)).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
    });
  });
});
