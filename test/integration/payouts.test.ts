import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TransactGetCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { openAccount } from '../../lib/domain/accounts';
import { listTransactions } from '../../lib/domain/history';
import { DomainError } from '../../lib/domain/errors';
import {
  requestPayout,
  transfer,
  withdraw,
  type MovementDeps,
  type MovementResult,
} from '../../lib/domain/movements';
import { dispatchPayout, sweepPayouts, type PayoutDeps } from '../../lib/domain/payouts';
import type { Account, Caller } from '../../lib/domain/types';
import { createHttpPayoutGateway } from '../../lib/payouts/gateway';
import { isNewPayoutRecord, payoutDispatcher } from '../../lib/payout-stream';
import { accountKey } from '../../lib/persistence/keys';
import { auditLedger } from '../../lib/audit/ledger-audit';
import {
  startSimulatedGateway,
  type DestinationMode,
  type SimulatedGateway,
} from '../../local/payout-gateway';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import { findFreePort } from '../../local/ports';
import { sleep, waitFor } from '../../local/wait';
import {
  chainProblems,
  createTestLedger,
  customer,
  operator,
  type TestLedger,
} from '../support/ledger';
import { failureOf } from '../support/failure';

/**
 * Payouts (hold → gateway → post or void) and transfers, against DynamoDB Local and the
 * simulated gateway over real HTTP, with the real dispatcher fed from the table's stream.
 */
const alice = customer('alice');
const bob = customer('bob');
const HOLD_SECONDS = 900;

let ledger: TestLedger;
let gateway: SimulatedGateway;
let deps: MovementDeps & { payoutHoldSeconds: number };
let payoutDeps: PayoutDeps;
let clock: { offsetMs: number };
let dispatcher: StreamPoller | undefined;
let destinationSeq = 0;

const newDestination = (mode: DestinationMode): string => {
  const destination = `${mode}-${process.pid}-${(destinationSeq += 1)}`;
  gateway.setMode(destination, mode);
  return destination;
};

const startDispatcher = (checkpointFile?: string, handler = payoutDispatcher(() => payoutDeps)) =>
  startStreamPoller({
    endpoint: ledger.endpoint,
    tableName: ledger.tableName,
    handler,
    filter: isNewPayoutRecord,
    pollIntervalMs: 50,
    checkpointFile,
  });

beforeAll(async () => {
  ledger = await createTestLedger('payouts');
  gateway = await startSimulatedGateway({ delayMs: { min: 5, max: 30 }, holdMs: 5_000 });
  clock = { offsetMs: 0 };
  deps = { ...ledger.deps, payoutHoldSeconds: HOLD_SECONDS };
  payoutDeps = {
    store: ledger.store,
    gateway: createHttpPayoutGateway({ baseUrl: gateway.url, timeoutMs: 1_000 }),
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    now: () => new Date(Date.now() + clock.offsetMs),
    retryAfterMs: 0,
  };
});

afterEach(async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
  clock.offsetMs = 0;
});

afterAll(async () => {
  await gateway.close();
  await ledger.close();
});

function payout(account: Account, amount: number, destination: string, key: string) {
  return requestPayout(deps, {
    caller: alice,
    accountId: account.accountId,
    amount,
    destination,
    idempotencyKey: key,
    requestId: 'r',
  });
}

const payoutState = (accountId: string, transactionId: string) =>
  ledger.store.getPayout(accountId, transactionId);

const gatewayRecord = (transactionId: string) =>
  gateway.payouts().find((p) => p.idempotencyKey === transactionId);

async function expectConsistent(accountId: string): Promise<Account> {
  await ledger.drain();
  const account = await ledger.store.getAccount(accountId);
  if (!account) throw new Error('no account');
  expect(chainProblems(await ledger.statement(accountId), account.balance)).toEqual([]);
  expect(account.available).toBe(account.balance - account.pending);
  expect(account.available).toBeGreaterThanOrEqual(0);
  return account;
}

describe('a payout', () => {
  it('holds the amount at once: 202-shaped result PENDING, available down, balance unchanged', async () => {
    const account = await ledger.openAccount(alice, 10_000);
    const result = await payout(account, 2_500, newDestination('unavailable'), 'hold-1');

    expect(result.transaction).toMatchObject({ type: 'PAYOUT', status: 'PENDING', amount: 2_500 });
    expect(result.payout).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect(result).toMatchObject({ balance: 10_000, available: 7_500, pending: 2_500 });
    // The open hold is on the first page of history, not in the statement.
    const page = await listTransactions(ledger.deps, alice, account.accountId, { limit: 10 });
    expect(page.transactions[0]).toMatchObject({
      transactionId: result.transaction.transactionId,
      status: 'PENDING',
      balanceAfter: null,
    });
    await expectConsistent(account.accountId);
  });

  it('whose gateway succeeds is posted once: balance and pending go down, one execution', async () => {
    dispatcher = startDispatcher();
    const account = await ledger.openAccount(alice, 10_000);
    const { transaction } = await payout(account, 3_000, newDestination('succeed'), 'ok-1');

    const posted = await waitFor(
      'POSTED',
      () => payoutState(account.accountId, transaction.transactionId),
      (p) => p?.status === 'POSTED',
    );
    expect(posted?.gatewayReference).toEqual(expect.any(String));
    const after = await expectConsistent(account.accountId);
    expect(after).toMatchObject({ balance: 7_000, pending: 0, available: 7_000 });
    expect(gatewayRecord(transaction.transactionId)).toMatchObject({
      status: 'SUCCEEDED',
      executions: 1,
    });
    const [line] = await ledger.statement(account.accountId);
    expect(line).toMatchObject({
      type: 'PAYOUT',
      status: 'POSTED',
      amount: 3_000,
      balanceAfter: 7_000,
      transactionId: transaction.transactionId,
    });
  });

  it('refused by the gateway is voided: available restored, balance never moved', async () => {
    dispatcher = startDispatcher();
    const account = await ledger.openAccount(alice, 10_000);
    const { transaction } = await payout(account, 4_000, newDestination('refuse'), 'no-1');

    const voided = await waitFor(
      'VOIDED',
      () => payoutState(account.accountId, transaction.transactionId),
      (p) => p?.status === 'VOIDED',
    );
    expect(voided?.voidReason).toEqual(expect.any(String));
    const after = await expectConsistent(account.accountId);
    expect(after).toMatchObject({ balance: 10_000, pending: 0, available: 10_000 });
    expect(gatewayRecord(transaction.transactionId)?.executions).toBe(0);
    const [line] = await ledger.statement(account.accountId);
    expect(line).toMatchObject({ type: 'PAYOUT', status: 'VOIDED', balanceAfter: 10_000 });
  });

  it.each<DestinationMode>(['timeout', 'lose'])(
    'whose first answer is lost (%s) stays held, then is posted once when asked again by key',
    async (mode) => {
      const account = await ledger.openAccount(alice, 10_000);
      const { transaction, payout: held } = await payout(
        account,
        1_000,
        newDestination(mode),
        mode,
      );
      if (!held) throw new Error('no payout record');

      // The outcome is unknown: nothing is guessed, the hold stays.
      await expect(dispatchPayout(payoutDeps, held)).resolves.toBe('UNKNOWN');
      const unknown = await payoutState(account.accountId, transaction.transactionId);
      expect(unknown).toMatchObject({ status: 'PENDING', attempts: 1 });
      expect(await ledger.store.getAccount(account.accountId)).toMatchObject({
        balance: 10_000,
        pending: 1_000,
      });
      // The gateway did send the money.
      expect(gatewayRecord(transaction.transactionId)?.executions).toBe(1);

      // The sweeper asks again under the same key and learns it was paid.
      const counts = await sweepPayouts(payoutDeps);
      expect(counts.POSTED).toBeGreaterThanOrEqual(1);
      expect(await payoutState(account.accountId, transaction.transactionId)).toMatchObject({
        status: 'POSTED',
      });
      expect(gatewayRecord(transaction.transactionId)).toMatchObject({
        executions: 1,
        requests: 2,
      });
      expect(await expectConsistent(account.accountId)).toMatchObject({
        balance: 9_000,
        pending: 0,
      });
    },
  );

  it('delivered twice by the stream (in turn and at once) has one gateway effect and one posting', async () => {
    const account = await ledger.openAccount(alice, 10_000);
    const { transaction, payout: held } = await payout(
      account,
      500,
      newDestination('succeed'),
      'twice',
    );
    if (!held) throw new Error('no payout record');
    const record = insertRecord(held);
    const handler = payoutDispatcher(() => payoutDeps);

    await Promise.all([handler(event(record)), handler(event(record))]);
    await handler(event(record));

    expect(gatewayRecord(transaction.transactionId)).toMatchObject({ executions: 1, requests: 3 });
    const after = await expectConsistent(account.accountId);
    expect(after).toMatchObject({ balance: 9_500, pending: 0 });
    const lines = (await ledger.statement(account.accountId)).filter(
      (l) => l.transactionId === transaction.transactionId,
    );
    expect(lines).toHaveLength(1);
  });

  it('committed while the dispatcher is down (killed before it called the gateway) is sent exactly once after the restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mm-dispatch-'));
    const checkpoint = path.join(dir, 'payouts-checkpoint.json');
    try {
      // A dispatcher that dies on the record before reaching the gateway: the checkpoint never
      // moves past it.
      let delivered = 0;
      const dying = startDispatcher(checkpoint, async () => {
        delivered += 1;
        throw new Error('killed before calling the gateway');
      });
      const account = await ledger.openAccount(alice, 10_000);
      const { transaction } = await payout(account, 700, newDestination('succeed'), 'crash');
      await waitFor(
        'the doomed delivery',
        async () => delivered,
        (n) => n > 0,
      );
      await dying.stop();
      expect(gatewayRecord(transaction.transactionId)).toBeUndefined();

      dispatcher = startDispatcher(checkpoint);
      await waitFor(
        'POSTED after the restart',
        () => payoutState(account.accountId, transaction.transactionId),
        (p) => p?.status === 'POSTED',
      );
      expect(gatewayRecord(transaction.transactionId)).toMatchObject({
        executions: 1,
        requests: 1,
      });
      expect(await expectConsistent(account.accountId)).toMatchObject({ balance: 9_300 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never dispatched (its stream record lost) is sent by the sweeper once it is due, and posted once', async () => {
    const account = await ledger.openAccount(alice, 10_000);
    const { transaction } = await payout(account, 400, newDestination('succeed'), 'lost-record');
    // No dispatcher runs: only the sweeper can find it, through the open-payouts index.
    await sweepPayouts(payoutDeps);
    await sweepPayouts(payoutDeps);

    expect(await payoutState(account.accountId, transaction.transactionId)).toMatchObject({
      status: 'POSTED',
    });
    expect(gatewayRecord(transaction.transactionId)).toMatchObject({ executions: 1, requests: 1 });
    expect(await expectConsistent(account.accountId)).toMatchObject({ balance: 9_600, pending: 0 });
  });

  it('whose hold expires unresolved is cancelled at the gateway and voided; the key can never pay later', async () => {
    const account = await ledger.openAccount(alice, 10_000);
    const destination = newDestination('unavailable');
    const { transaction } = await payout(account, 800, destination, 'expire');

    clock.offsetMs = (HOLD_SECONDS + 1) * 1000;
    gateway.setMode(destination, 'succeed');
    await sweepPayouts(payoutDeps);

    expect(await payoutState(account.accountId, transaction.transactionId)).toMatchObject({
      status: 'VOIDED',
      voidReason: 'hold_expired',
    });
    expect(await expectConsistent(account.accountId)).toMatchObject({
      balance: 10_000,
      available: 10_000,
      pending: 0,
    });
    // A late dispatch of the same payout cannot send money now.
    const late = await payoutDeps.gateway.send({
      idempotencyKey: transaction.transactionId,
      amount: 800,
      currency: 'USD',
      destination,
    });
    expect(late).toMatchObject({ status: 'REFUSED', reason: 'cancelled' });
    expect(gatewayRecord(transaction.transactionId)?.executions).toBe(0);
  });

  it('whose hold expires while the gateway cannot be reached stays held: never voided on a guess', async () => {
    const account = await ledger.openAccount(alice, 10_000);
    const destination = newDestination('succeed');
    const { transaction } = await payout(account, 600, destination, 'expire-unreachable');

    clock.offsetMs = (HOLD_SECONDS + 1) * 1000;
    // Nothing listens on this port: the cancel's outcome is unknown.
    const unreachable = createHttpPayoutGateway({
      baseUrl: `http://127.0.0.1:${await findFreePort()}`,
      timeoutMs: 1_000,
    });
    const counts = await sweepPayouts({ ...payoutDeps, gateway: unreachable });

    expect(counts.UNKNOWN).toBeGreaterThanOrEqual(1);
    expect(await payoutState(account.accountId, transaction.transactionId)).toMatchObject({
      status: 'PENDING',
      attempts: 1,
    });
    expect(await ledger.store.getAccount(account.accountId)).toMatchObject({
      balance: 10_000,
      pending: 600,
      available: 9_400,
    });
    // Reachable again: the next pass cancels it (never sent) and voids it.
    await sweepPayouts(payoutDeps);
    expect(await payoutState(account.accountId, transaction.transactionId)).toMatchObject({
      status: 'VOIDED',
    });
  });

  it('whose hold expires after the gateway paid (answer lost) is posted, not voided', async () => {
    const account = await ledger.openAccount(alice, 10_000);
    const { transaction, payout: held } = await payout(
      account,
      900,
      newDestination('lose'),
      'late-paid',
    );
    if (!held) throw new Error('no payout record');
    await expect(dispatchPayout(payoutDeps, held)).resolves.toBe('UNKNOWN');

    clock.offsetMs = (HOLD_SECONDS + 1) * 1000;
    await sweepPayouts(payoutDeps);

    expect(await payoutState(account.accountId, transaction.transactionId)).toMatchObject({
      status: 'POSTED',
    });
    expect(await expectConsistent(account.accountId)).toMatchObject({ balance: 9_100, pending: 0 });
    expect(gatewayRecord(transaction.transactionId)?.executions).toBe(1);
  });

  it('is refused above the available amount (a hold counts) and changes nothing', async () => {
    const account = await ledger.openAccount(alice, 1_000);
    await payout(account, 600, newDestination('unavailable'), 'first');
    const error = await failureOf(payout(account, 500, newDestination('succeed'), 'second'));
    expect(error.code).toBe('INSUFFICIENT_FUNDS');
    const withdrawal = await failureOf(
      withdraw(deps, {
        caller: alice,
        accountId: account.accountId,
        amount: 401,
        idempotencyKey: 'w',
        requestId: 'r',
      }),
    );
    expect(withdrawal.code).toBe('INSUFFICIENT_FUNDS');
    expect(await ledger.store.getAccount(account.accountId)).toMatchObject({
      balance: 1_000,
      pending: 600,
      available: 400,
    });
  });

  it('replays under its key with the payout as it is now, and refuses the key with another request', async () => {
    const account = await ledger.openAccount(alice, 5_000);
    const destination = newDestination('unavailable');
    const first = await payout(account, 100, destination, 'replay');
    const again = await payout(account, 100, destination, 'replay');
    expect(again.replayed).toBe(true);
    expect(again.transaction.transactionId).toBe(first.transaction.transactionId);
    expect((await failureOf(payout(account, 100, 'elsewhere', 'replay'))).code).toBe(
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect(await ledger.store.getAccount(account.accountId)).toMatchObject({ pending: 100 });
  });

  it("is refused on another customer's account as if it did not exist", async () => {
    const account = await ledger.openAccount(bob, 5_000);
    const error = await failureOf(payout(account, 100, newDestination('succeed'), 'foreign'));
    expect(error.code).toBe('ACCOUNT_NOT_FOUND');
    expect(await ledger.store.getAccount(account.accountId)).toMatchObject({ available: 5_000 });
  });
});

describe('a transfer', () => {
  const move = (from: Account, to: Account, amount: number, key: string, caller: Caller = alice) =>
    transfer(deps, {
      caller,
      accountId: from.accountId,
      toAccountId: to.accountId,
      amount,
      idempotencyKey: key,
      requestId: 'r',
    });

  it('debits the source and credits the destination in one transaction, each with its line', async () => {
    const from = await ledger.openAccount(alice, 5_000);
    const to = await ledger.openAccount(bob, 1_000);
    const result = await move(from, to, 1_500, 't-1');

    expect(result.transaction).toMatchObject({
      type: 'TRANSFER_OUT',
      counterpartyAccountId: to.accountId,
      status: 'POSTED',
    });
    expect(result.balance).toBe(3_500);
    const [source, destination] = await Promise.all([
      expectConsistent(from.accountId),
      expectConsistent(to.accountId),
    ]);
    expect(source.balance).toBe(3_500);
    expect(destination.balance).toBe(2_500);
    const [credit] = await ledger.statement(to.accountId);
    expect(credit).toMatchObject({
      type: 'TRANSFER_IN',
      amount: 1_500,
      counterpartyAccountId: from.accountId,
      transactionId: result.transaction.transactionId,
      // The sender's Idempotency-Key is not shown to the receiving account.
      idempotencyKey: result.transaction.transactionId,
    });
  });

  it('is refused, changing nothing: above available, to itself, to an unknown account, from a foreign account, across currencies', async () => {
    const from = await ledger.openAccount(alice, 1_000);
    const to = await ledger.openAccount(bob, 0);
    expect((await failureOf(move(from, to, 1_001, 'x1'))).code).toBe('INSUFFICIENT_FUNDS');
    expect((await failureOf(move(from, from, 1, 'x2'))).code).toBe('VALIDATION_ERROR');
    const ghost = { ...to, accountId: '01JZZZZZZZZZZZZZZZZZZZZZZZ' };
    expect((await failureOf(move(from, ghost, 1, 'x3'))).code).toBe('ACCOUNT_NOT_FOUND');
    expect((await failureOf(move(to, from, 1, 'x4'))).code).toBe('ACCOUNT_NOT_FOUND');
    const euro = await openAccount(ledger.deps, operator, {
      ownerId: bob.userId,
      currency: 'EUR',
    });
    expect((await failureOf(move(from, euro, 1, 'x5'))).code).toBe('CURRENCY_MISMATCH');
    expect(await ledger.store.getAccount(from.accountId)).toMatchObject({ balance: 1_000 });
    expect(await ledger.store.getAccount(to.accountId)).toMatchObject({ balance: 0 });
  });

  it('under 32 concurrent clients among 8 accounts (Jepsen "bank"): the total never changes and no balance goes negative', async () => {
    const accounts = await Promise.all(
      Array.from({ length: 8 }, () => ledger.openAccount(alice, 1_000)),
    );
    const total = 8 * 1_000;
    const snapshots: number[] = [];
    let running = true;
    // Serializable reads of all eight accounts at once (TransactGetItems), while money moves.
    const reader = (async () => {
      while (running) {
        let items: Account[];
        try {
          const read = await ledger.doc.send(
            new TransactGetCommand({
              TransactItems: accounts.map((a) => ({
                Get: { TableName: ledger.tableName, Key: accountKey(a.accountId) },
              })),
            }),
          );
          items = (read.Responses ?? []).map((r) => r.Item as Account);
        } catch (error) {
          // A snapshot read that collides with a write is cancelled: not a wrong total, retry.
          if ((error as Error).name !== 'TransactionCanceledException') throw error;
          continue;
        }
        for (const item of items) expect(item.available).toBeGreaterThanOrEqual(0);
        snapshots.push(items.reduce((sum, a) => sum + a.balance, 0));
      }
    })();
    const outcomes: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: 32 }, async (_, client) => {
        for (let i = 0; i < 8; i++) {
          const from = accounts[(client + i) % 8] as Account;
          const to = accounts[(client * 3 + i + 1) % 8] as Account;
          if (from.accountId === to.accountId) continue;
          const result: MovementResult | DomainError = await move(
            from,
            to,
            50 + ((client * 7 + i * 13) % 400),
            `bank-${client}-${i}`,
          ).catch((e: unknown) => {
            if (e instanceof DomainError) return e;
            throw e;
          });
          const name = result instanceof DomainError ? result.code : 'COMMITTED';
          outcomes[name] = (outcomes[name] ?? 0) + 1;
        }
      }),
    );
    running = false;
    await reader;

    expect(outcomes.COMMITTED ?? 0).toBeGreaterThan(0);
    expect(
      Object.keys(outcomes).every((code) =>
        ['COMMITTED', 'INSUFFICIENT_FUNDS', 'TRANSACTION_CONFLICT'].includes(code),
      ),
    ).toBe(true);
    expect(snapshots.length).toBeGreaterThan(0);
    expect(new Set(snapshots)).toEqual(new Set([total]));
    const finals = await Promise.all(accounts.map((a) => expectConsistent(a.accountId)));
    expect(finals.reduce((sum, a) => sum + a.balance, 0)).toBe(total);
  });
});

describe('payouts, withdrawals and transfers at once', () => {
  it('keep available ≥ 0 at all times, balance = posted entries and pending = open holds', async () => {
    dispatcher = startDispatcher();
    const accounts = await Promise.all(
      Array.from({ length: 4 }, () => ledger.openAccount(alice, 5_000)),
    );
    const modes: DestinationMode[] = ['succeed', 'refuse', 'succeed', 'lose'];
    const destinations = modes.map((mode) => newDestination(mode));
    let running = true;
    let minAvailable = Number.POSITIVE_INFINITY;
    const watcher = (async () => {
      while (running) {
        for (const a of accounts) {
          const now = await ledger.store.getAccount(a.accountId);
          if (now) minAvailable = Math.min(minAvailable, now.available);
        }
      }
    })();
    await Promise.all(
      Array.from({ length: 16 }, async (_, client) => {
        for (let i = 0; i < 6; i++) {
          const account = accounts[(client + i) % 4] as Account;
          const amount = 100 + ((client * 31 + i * 17) % 700);
          const key = `mix-${client}-${i}`;
          const kind = (client + i) % 3;
          await (
            kind === 0
              ? payout(account, amount, destinations[(client + i) % 4] as string, key)
              : kind === 1
                ? withdraw(deps, {
                    caller: alice,
                    accountId: account.accountId,
                    amount,
                    idempotencyKey: key,
                    requestId: 'r',
                  })
                : transfer(deps, {
                    caller: alice,
                    accountId: account.accountId,
                    toAccountId: (accounts[(client + i + 1) % 4] as Account).accountId,
                    amount,
                    idempotencyKey: key,
                    requestId: 'r',
                  })
          ).catch((e: unknown) => {
            if (!(e instanceof DomainError)) throw e;
          });
        }
      }),
    );
    // Settle every payout: the dispatcher answers most, the sweeper the lost answers.
    for (let round = 0; round < 50; round++) {
      await sweepPayouts(payoutDeps);
      const open = await ledger.store.listOpenPayouts(100);
      if (open.filter((p) => accounts.some((a) => a.accountId === p.accountId)).length === 0) break;
      await sleep(200);
    }
    running = false;
    await watcher;

    expect(minAvailable).toBeGreaterThanOrEqual(0);
    for (const a of accounts) {
      const account = await expectConsistent(a.accountId);
      expect(account.pending).toBe(0);
    }
    const audit = await auditLedger(ledger.client, ledger.tableName);
    const problems = [...audit.drifting, ...audit.withPending]
      .filter((x) => accounts.some((a) => a.accountId === x.accountId))
      .flatMap((x) => x.problems);
    expect(problems).toEqual([]);
  });
});

function insertRecord(payout: NonNullable<MovementResult['payout']>): DynamoDBRecord {
  const { marshall } =
    jest.requireActual<typeof import('@aws-sdk/util-dynamodb')>('@aws-sdk/util-dynamodb');
  return {
    eventName: 'INSERT',
    dynamodb: {
      Keys: {
        pk: { S: `PAYOUT#${payout.accountId}` },
        sk: { S: payout.transactionId },
      },
      NewImage: marshall(payout) as never,
      SequenceNumber: '1',
    },
  };
}

const event = (record: DynamoDBRecord): DynamoDBStreamEvent => ({ Records: [record] });
