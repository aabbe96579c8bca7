import { auditLedger, formatAudit } from '../../lib/audit/ledger-audit';
import { setFeeSchedule } from '../../lib/domain/fees';
import { listTransactions } from '../../lib/domain/history';
import { requestPayout } from '../../lib/domain/movements';
import { dispatchPayout } from '../../lib/domain/payouts';
import { postingsOf } from '../../lib/domain/postings';
import { consumePayoutReturns, type ReturnDeps } from '../../lib/domain/returns';
import type { Account } from '../../lib/domain/types';
import { createHttpPayoutGateway } from '../../lib/payouts/gateway';
import { startSimulatedGateway, type SimulatedGateway } from '../../local/payout-gateway';
import { waitFor } from '../../local/wait';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';

/**
 * A payout the gateway reports returned after it was posted (issue 19), against DynamoDB Local
 * and the simulated gateway over HTTP: the returns reader reverses it like an operator would.
 */
const alice = customer('alice');
let ledger: TestLedger;
let gateway: SimulatedGateway;
let client: ReturnType<typeof createHttpPayoutGateway>;
let deps: ReturnDeps;

beforeAll(async () => {
  ledger = await createTestLedger('payout-returns');
  gateway = await startSimulatedGateway({
    delayMs: { min: 5, max: 20 },
    returnDelayMs: { min: 10, max: 30 },
  });
  client = createHttpPayoutGateway({ baseUrl: gateway.url, timeoutMs: 2_000 });
  deps = { ...ledger.deps, gateway: client, returnWaitMs: 3_600_000 };
});

afterAll(async () => {
  await gateway.close();
  await ledger.close();
});

/** Holds a payout of `amount` to a `return` destination, and has the gateway pay it. */
async function postedPayout(
  account: Account,
  amount: number,
  on: { ledger: TestLedger; gateway: SimulatedGateway } = { ledger, gateway },
): Promise<string> {
  const destination = `returning-${account.accountId}`;
  on.gateway.setMode(destination, 'return');
  const held = await requestPayout(
    { ...on.ledger.deps, payoutHoldSeconds: 600 },
    {
      caller: alice,
      accountId: account.accountId,
      amount,
      destination,
      idempotencyKey: `payout-${account.accountId}`,
      requestId: 'test',
    },
  );
  if (held.payout === undefined) throw new Error('a payout answered without its record');
  const paying = {
    ...on.ledger.deps,
    gateway: createHttpPayoutGateway({ baseUrl: on.gateway.url, timeoutMs: 2_000 }),
    retryAfterMs: 60_000,
  };
  expect(await dispatchPayout(paying, held.payout)).toBe('POSTED');
  return held.transaction.transactionId;
}

const returnReported = (transactionId: string, feed = client) =>
  waitFor(`the gateway to report ${transactionId} returned`, async () =>
    (await feed.returns()).returns.some((r) => r.idempotencyKey === transactionId),
  );

it('gives a returned payout back to its customer, linked both ways, its fee kept, the ledger balanced', async () => {
  const account = await ledger.openAccount(alice, 5_000);
  await setFeeSchedule(ledger.deps, operator, {
    accountId: account.accountId,
    schedule: { PAYOUT: { flat: 30 } },
    reason: 'standard pricing',
  });
  const payoutId = await postedPayout(account, 1_000);
  await ledger.drain();
  await returnReported(payoutId);

  expect(await consumePayoutReturns(deps)).toMatchObject({ REVERSED: 1, WAITING: 0, FAILED: 0 });
  await ledger.drain();

  // The amount came back; the fee stays revenue, as with an operator's reversal.
  expect(await ledger.store.getAccount(account.accountId)).toMatchObject({
    balance: 5_000 - 30,
    available: 5_000 - 30,
    pending: 0,
  });
  const page = await listTransactions(ledger.deps, alice, account.accountId, { limit: 20 });
  const reversal = page.transactions.find((entry) => entry.reversalOf === payoutId);
  expect(reversal).toMatchObject({
    type: 'REVERSAL_IN',
    amount: 1_000,
    reason: 'returned by the gateway: account_closed',
    idempotencyKey: `return-${payoutId}`,
  });
  expect(page.transactions.find((entry) => entry.transactionId === payoutId)).toMatchObject({
    type: 'PAYOUT',
    status: 'POSTED',
    reversedBy: [{ transactionId: reversal?.transactionId, amount: 1_000 }],
  });
  for (const line of await ledger.statement(account.accountId)) {
    const sum = postingsOf(line).reduce((total, posting) => total + posting.amount, 0);
    expect({ transactionId: line.transactionId, sum }).toEqual({
      transactionId: line.transactionId,
      sum: 0,
    });
  }
  const audit = await auditLedger(ledger.client, ledger.tableName);
  expect(audit.ok ? 'ok' : formatAudit(audit)).toBe('ok');
});

it('reverses a return once however often it is read, and keeps the cursor past it', async () => {
  const account = await ledger.openAccount(alice, 2_000);
  const payoutId = await postedPayout(account, 500);
  await ledger.drain();
  await returnReported(payoutId);

  const first = await consumePayoutReturns(deps);
  const again = await consumePayoutReturns(deps);
  // A reader whose cursor was lost reads every return in the feed from the first one.
  const inFeed = (await client.returns()).returns.length;
  let lost = true;
  const fromTheStart = await consumePayoutReturns({
    ...deps,
    gateway: {
      returns: (after) => {
        const cursor = lost ? undefined : after;
        lost = false;
        return client.returns(cursor);
      },
    },
  });

  expect(first).toMatchObject({ REVERSED: 1 });
  expect(again).toMatchObject({ REVERSED: 0, ALREADY_REVERSED: 0 });
  expect(fromTheStart).toMatchObject({ REVERSED: 0, ALREADY_REVERSED: inFeed });
  expect(await ledger.store.getAccount(account.accountId)).toMatchObject({ balance: 2_000 });
  expect((await ledger.store.getTransaction(payoutId))?.reversals).toHaveLength(1);
  const progress = await ledger.store.getReturnsProgress();
  expect(progress).toMatchObject({ cursor: expect.any(String), waiting: [] });
  expect(await client.returns(progress.cursor)).toMatchObject({ returns: [] });
});

it('keeps a return whose payout is not sequenced yet until it is, then reverses it', async () => {
  // A ledger whose sequencer runs only when told, and a gateway of its own.
  const paused = await createTestLedger('payout-returns-wait', { sequencer: false });
  const own = await startSimulatedGateway({
    delayMs: { min: 5, max: 20 },
    returnDelayMs: { min: 10, max: 30 },
  });
  try {
    const feed = createHttpPayoutGateway({ baseUrl: own.url, timeoutMs: 2_000 });
    const reader = { ...paused.deps, gateway: feed, returnWaitMs: 3_600_000 };
    const account = await paused.openAccount(alice, 1_000);
    const payoutId = await postedPayout(account, 400, { ledger: paused, gateway: own });
    await returnReported(payoutId, feed);

    // Posted, but its statement line (how a reversal finds it) is not written yet.
    expect(await consumePayoutReturns(reader)).toMatchObject({ WAITING: 1, REVERSED: 0 });
    expect((await paused.store.getReturnsProgress()).waiting).toEqual([
      expect.objectContaining({ idempotencyKey: payoutId }),
    ]);
    await paused.sequenceOnce();
    expect(await consumePayoutReturns(reader)).toMatchObject({ WAITING: 0, REVERSED: 1 });

    expect(await paused.store.getAccount(account.accountId)).toMatchObject({ balance: 1_000 });
    expect((await paused.store.getReturnsProgress()).waiting).toEqual([]);
  } finally {
    await own.close();
    await paused.close();
  }
});
