import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  GatewayUnavailableError,
  type PayoutGateway,
  type PayoutInstruction,
} from '../../lib/domain/ports';
import { createHttpPayoutGateway, GatewayProtocolError } from '../../lib/payouts/gateway';
import {
  startSimulatedGateway,
  type SimulatedGateway,
  type SimulatedPayout,
} from '../../local/payout-gateway';
import { findFreePort } from '../../local/ports';
import { waitFor } from '../../local/wait';

const FAST = { min: 5, max: 20 };
const TIMEOUT_MS = 300;

let counter = 0;
const instruction = (overrides: Partial<PayoutInstruction> = {}): PayoutInstruction => {
  counter += 1;
  return {
    idempotencyKey: `txn-${process.pid}-${counter}`,
    amount: 5000,
    currency: 'USD',
    destination: `dest-${counter}`,
    ...overrides,
  };
};

const recordOf = (simulator: SimulatedGateway, key: string): SimulatedPayout | undefined =>
  simulator.payouts().find((payout) => payout.idempotencyKey === key);

const responseFetch =
  (status: number, body: string): typeof fetch =>
  async () =>
    new Response(body, { status, headers: { 'content-type': 'application/json' } });

describe('HTTP payout gateway against the simulated gateway', () => {
  let simulator: SimulatedGateway;
  let gateway: PayoutGateway;

  beforeAll(async () => {
    simulator = await startSimulatedGateway({ port: 0, delayMs: FAST });
    gateway = createHttpPayoutGateway({ baseUrl: simulator.url, timeoutMs: TIMEOUT_MS });
  });

  afterEach(() => simulator.reset());

  afterAll(async () => {
    await simulator.close();
  });

  it('pays a succeeding destination once and answers SUCCEEDED with a reference', async () => {
    const payout = instruction();

    const outcome = await gateway.send(payout);

    expect(outcome).toEqual({ status: 'SUCCEEDED', reference: expect.any(String) });
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({
      amount: 5000,
      currency: 'USD',
      destination: payout.destination,
      status: 'SUCCEEDED',
      requests: 1,
      executions: 1,
    });
  });

  it('answers a repeated key with its first reference and never pays twice', async () => {
    const payout = instruction();
    const first = await gateway.send(payout);

    const second = await gateway.send(payout);

    expect(second).toEqual(first);
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({
      requests: 2,
      executions: 1,
    });
  });

  it('pays once when the same key is sent concurrently', async () => {
    const payout = instruction();

    const outcomes = await Promise.all([gateway.send(payout), gateway.send(payout)]);

    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({
      status: 'SUCCEEDED',
      requests: 2,
      executions: 1,
    });
  });

  it('answers REFUSED for a refusing destination and sends nothing', async () => {
    const payout = instruction();
    simulator.setMode(payout.destination, 'refuse');

    const outcome = await gateway.send(payout);

    expect(outcome).toEqual({ status: 'REFUSED', reason: 'destination_refused' });
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({
      status: 'REFUSED',
      executions: 0,
    });
  });

  it('when the answer times out, throws GatewayUnavailableError; asking again answers the payout that was made', async () => {
    const payout = instruction();
    simulator.setMode(payout.destination, 'timeout');

    const error = await gateway.send(payout).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error).toMatchObject({ reason: 'timeout' });
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({ executions: 1 });

    const again = await gateway.send(payout);

    expect(again).toEqual({
      status: 'SUCCEEDED',
      reference: recordOf(simulator, payout.idempotencyKey)?.reference,
    });
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({
      requests: 2,
      executions: 1,
    });
  });

  it('when the response is lost, throws GatewayUnavailableError; asking again answers the payout that was made', async () => {
    const payout = instruction();
    simulator.setMode(payout.destination, 'lose');

    const error = await gateway.send(payout).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error).toMatchObject({ reason: 'network_error' });
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({ executions: 1 });

    const again = await gateway.send(payout);

    expect(again).toMatchObject({ status: 'SUCCEEDED' });
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({
      requests: 2,
      executions: 1,
    });
  });

  it('throws GatewayUnavailableError on a 503 and the gateway records nothing', async () => {
    const payout = instruction();
    simulator.setMode(payout.destination, 'unavailable');

    const error = await gateway.send(payout).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error).not.toBeInstanceOf(GatewayProtocolError);
    expect(error).toMatchObject({ reason: 'status_503', status: 503 });
    expect(simulator.payouts()).toEqual([]);
  });

  it('cancels an unknown key for good: a later send answers REFUSED cancelled and pays nothing', async () => {
    const payout = instruction();

    expect(await gateway.cancel(payout.idempotencyKey)).toEqual({ status: 'CANCELLED' });
    const outcome = await gateway.send(payout);

    expect(outcome).toEqual({ status: 'REFUSED', reason: 'cancelled' });
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({
      status: 'CANCELLED',
      requests: 1,
      executions: 0,
    });
  });

  it('stops a payout that is still pending', async () => {
    const slow = await startSimulatedGateway({ port: 0, delayMs: { min: 1000, max: 1000 } });
    try {
      const client = createHttpPayoutGateway({ baseUrl: slow.url, timeoutMs: 5000 });
      const payout = instruction();

      const sending = client.send(payout);
      await waitFor('the slow payout', () => slow.payouts().length === 1, { intervalMs: 5 });
      const cancelled = await client.cancel(payout.idempotencyKey);

      expect(cancelled).toEqual({ status: 'CANCELLED' });
      expect(await sending).toEqual({ status: 'REFUSED', reason: 'cancelled' });
      expect(slow.payouts()).toEqual([
        expect.objectContaining({ status: 'CANCELLED', executions: 0 }),
      ]);
    } finally {
      await slow.close();
    }
  });

  it('answers the outcome when cancelling a payout that already succeeded', async () => {
    const payout = instruction();
    const sent = await gateway.send(payout);

    const cancelled = await gateway.cancel(payout.idempotencyKey);

    expect(cancelled).toEqual(sent);
    expect(cancelled).toMatchObject({ status: 'SUCCEEDED' });
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({ executions: 1 });
  });

  it('answers the outcome when cancelling a payout that was refused', async () => {
    const payout = instruction();
    simulator.setMode(payout.destination, 'refuse');
    await gateway.send(payout);

    expect(await gateway.cancel(payout.idempotencyKey)).toEqual({
      status: 'REFUSED',
      reason: 'destination_refused',
    });
  });

  it('throws GatewayProtocolError, an unknown outcome, when a key is reused with another amount', async () => {
    const payout = instruction();
    await gateway.send(payout);

    const error = await gateway
      .send({ ...payout, amount: payout.amount + 1 })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(GatewayProtocolError);
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error).toMatchObject({ reason: 'idempotency_key_reused', status: 409 });
    expect(recordOf(simulator, payout.idempotencyKey)).toMatchObject({
      amount: payout.amount,
      executions: 1,
    });
  });

  it('answers REFUSED gateway_rejected_400 when the gateway rejects the body', async () => {
    const payout = instruction({ amount: 0 });

    const outcome = await gateway.send(payout);

    expect(outcome).toEqual({ status: 'REFUSED', reason: 'gateway_rejected_400' });
    expect(simulator.payouts()).toEqual([]);
  });

  it('throws GatewayUnavailableError when nothing listens at the base URL', async () => {
    const port = await findFreePort();
    const unreachable = createHttpPayoutGateway({
      baseUrl: `http://127.0.0.1:${port}`,
      timeoutMs: TIMEOUT_MS,
    });

    await expect(unreachable.send(instruction())).rejects.toMatchObject({
      name: 'GatewayUnavailableError',
      reason: 'network_error',
    });
    await expect(unreachable.cancel('txn-x')).rejects.toBeInstanceOf(GatewayUnavailableError);
  });
});

describe('HTTP payout gateway reading answers', () => {
  const clientAnswering = (status: number, body: string) =>
    createHttpPayoutGateway({
      baseUrl: 'http://gateway.invalid',
      timeoutMs: TIMEOUT_MS,
      fetch: responseFetch(status, body),
    });

  it('sends the key as a header, the instruction as JSON, and the cancel key URL-encoded', async () => {
    const calls: { url: string; init: RequestInit | undefined }[] = [];
    const recording: typeof fetch = async (url, init) => {
      calls.push({ url: String(url), init });
      return new Response('{"status":"CANCELLED"}', { status: 200 });
    };
    const client = createHttpPayoutGateway({
      baseUrl: 'http://gateway.invalid/',
      timeoutMs: TIMEOUT_MS,
      fetch: recording,
    });

    await client.send(instruction({ idempotencyKey: 'k/1', destination: 'acct-9' })).catch(() => {
      // CANCELLED is not a send outcome: the answer is read as malformed. Only the request matters.
    });
    await client.cancel('k/1');

    expect(calls[0]?.url).toBe('http://gateway.invalid/v1/payouts');
    expect(calls[0]?.init).toMatchObject({
      method: 'POST',
      headers: expect.objectContaining({ 'idempotency-key': 'k/1' }),
    });
    expect(JSON.parse(String(calls[0]?.init?.body))).toEqual({
      amount: 5000,
      currency: 'USD',
      destination: 'acct-9',
    });
    expect(calls[1]?.url).toBe('http://gateway.invalid/v1/payouts/k%2F1/cancel');
  });

  it.each([400, 422])('reads a %i to a send as a definite refusal', async (status) => {
    const client = clientAnswering(status, '{"error":"invalid_request"}');

    expect(await client.send(instruction())).toEqual({
      status: 'REFUSED',
      reason: `gateway_rejected_${status}`,
    });
  });

  it.each([401, 403, 404])(
    'reads a %i to a send as a protocol error, not a refusal',
    async (status) => {
      const client = clientAnswering(status, '{}');

      await expect(client.send(instruction())).rejects.toBeInstanceOf(GatewayProtocolError);
    },
  );

  it('never reads a rejected cancel as a refusal of the payout', async () => {
    const client = clientAnswering(400, '{"error":"invalid_request"}');

    await expect(client.cancel('txn-1')).rejects.toBeInstanceOf(GatewayProtocolError);
  });

  it.each([
    [429, ''],
    [500, 'oops'],
    [502, ''],
    [302, ''],
  ])('reads a %i as an unknown outcome', async (status, body) => {
    const client = clientAnswering(status, body);

    const error = await client.send(instruction()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error).not.toBeInstanceOf(GatewayProtocolError);
    expect(error).toMatchObject({ reason: `status_${status}` });
  });

  it.each([
    ['not JSON', 'SUCCEEDED'],
    ['no reference', '{"status":"SUCCEEDED"}'],
    ['an empty reason', '{"status":"REFUSED","reason":""}'],
    ['an unknown status', '{"status":"PENDING"}'],
    ['an array', '[]'],
  ])('reads a 200 with %s as an unknown outcome', async (_label, body) => {
    const client = clientAnswering(200, body);

    await expect(client.send(instruction())).rejects.toMatchObject({
      name: 'GatewayUnavailableError',
      reason: 'malformed_response',
    });
  });

  it('passes on only the protocol fields of an outcome', async () => {
    const client = clientAnswering(200, '{"status":"SUCCEEDED","reference":"r-1","extra":true}');

    expect(await client.send(instruction())).toEqual({ status: 'SUCCEEDED', reference: 'r-1' });
  });
});

describe('HTTP payout gateway reading the returns feed', () => {
  const clientAnswering = (status: number, body: unknown) =>
    createHttpPayoutGateway({
      baseUrl: 'http://gateway.invalid',
      timeoutMs: TIMEOUT_MS,
      fetch: responseFetch(status, typeof body === 'string' ? body : JSON.stringify(body)),
    });
  const returned = {
    idempotencyKey: '01JPAYOUT00000000000000000',
    reference: 'sim_1',
    returnedAt: '2026-12-01T10:00:00.000Z',
    reason: 'account_closed',
  };

  it('asks for a page of at most 100 with a GET, after the cursor given, URL-encoded', async () => {
    const calls: { url: string; method: string | undefined }[] = [];
    const recording: typeof fetch = async (url, init) => {
      calls.push({ url: String(url), method: init?.method });
      return new Response('{"returns":[],"next":"e.0"}', { status: 200 });
    };
    const client = createHttpPayoutGateway({
      baseUrl: 'http://gateway.invalid/',
      timeoutMs: TIMEOUT_MS,
      fetch: recording,
    });

    await client.returns();
    await client.returns('e/1 2');

    expect(calls).toEqual([
      { url: 'http://gateway.invalid/v1/returns?limit=100', method: 'GET' },
      { url: 'http://gateway.invalid/v1/returns?limit=100&after=e%2F1+2', method: 'GET' },
    ]);
  });

  it('reads a page, passing on only the protocol fields of each return', async () => {
    const { reference: _none, ...withoutReference } = returned;
    const client = clientAnswering(200, {
      returns: [{ ...returned, amount: 5 }, withoutReference],
      next: 'e.2',
      extra: true,
    });

    expect(await client.returns()).toEqual({ returns: [returned, withoutReference], next: 'e.2' });
  });

  it.each([
    ['not JSON', 'returns'],
    ['no next', { returns: [] }],
    ['an empty next', { returns: [], next: '' }],
    ['returns not a list', { returns: {}, next: 'e.1' }],
    [
      'a return without its key',
      { returns: [{ ...returned, idempotencyKey: undefined }], next: 'e.1' },
    ],
    ['a key with a space', { returns: [{ ...returned, idempotencyKey: 'a b' }], next: 'e.1' }],
    [
      'a key of 256 characters',
      { returns: [{ ...returned, idempotencyKey: 'k'.repeat(256) }], next: 'e.1' },
    ],
    [
      'a returnedAt that is no date',
      { returns: [{ ...returned, returnedAt: 'soon' }], next: 'e.1' },
    ],
    ['an empty reason', { returns: [{ ...returned, reason: '' }], next: 'e.1' }],
    ['a reference that is no string', { returns: [{ ...returned, reference: 7 }], next: 'e.1' }],
    ['more returns than asked for', { returns: Array(101).fill(returned), next: 'e.101' }],
  ])('reads a 200 with %s as malformed, the whole page unread', async (_label, body) => {
    await expect(clientAnswering(200, body).returns()).rejects.toMatchObject({
      name: 'GatewayUnavailableError',
      reason: 'malformed_response',
    });
  });

  it.each([
    [503, GatewayUnavailableError, 'status_503'],
    [429, GatewayUnavailableError, 'status_429'],
    [404, GatewayProtocolError, 'unexpected_status_404'],
  ])('reads a %i as the feed unavailable', async (status, kind, reason) => {
    const error = await clientAnswering(status, '{}')
      .returns()
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(kind);
    expect(error).toMatchObject({ reason });
  });
});

describe('simulated gateway returns', () => {
  let simulator: SimulatedGateway;
  let client: ReturnType<typeof createHttpPayoutGateway>;
  /** Pays `payouts` to `return` destinations, in turn, and waits until the feed has them all. */
  const paidAndReturned = async (...payouts: PayoutInstruction[]) => {
    const paid: string[] = [];
    for (const payout of payouts) {
      simulator.setMode(payout.destination, 'return');
      const outcome = await client.send(payout);
      if (outcome.status !== 'SUCCEEDED') throw new Error('a return destination refused');
      paid.push(outcome.reference);
    }
    await waitFor('the returns in the feed', async () => {
      const { returns } = await client.returns();
      return returns.length === payouts.length;
    });
    return paid;
  };

  beforeAll(async () => {
    // A fixed return delay: payouts come back in the order they were paid.
    simulator = await startSimulatedGateway({
      port: 0,
      delayMs: FAST,
      returnDelayMs: { min: 10, max: 10 },
    });
    client = createHttpPayoutGateway({ baseUrl: simulator.url, timeoutMs: 5000 });
  });

  afterEach(() => simulator.reset());

  afterAll(async () => {
    await simulator.close();
  });

  it('pays a `return` destination once, then reports it returned in the feed, in order', async () => {
    const [first, second, kept] = [instruction(), instruction(), instruction()];
    await client.send(kept); // `succeed`: never returned
    const [firstRef, secondRef] = await paidAndReturned(first, second);

    const page = await client.returns();

    expect(page.returns).toEqual([
      {
        idempotencyKey: first.idempotencyKey,
        reference: firstRef,
        returnedAt: expect.any(String),
        reason: 'account_closed',
      },
      {
        idempotencyKey: second.idempotencyKey,
        reference: secondRef,
        returnedAt: expect.any(String),
        reason: 'account_closed',
      },
    ]);
    // The payout was made: a repeated send answers it, and nothing is paid again.
    expect(await client.send(first)).toEqual({ status: 'SUCCEEDED', reference: firstRef });
    expect(recordOf(simulator, first.idempotencyKey)).toMatchObject({
      status: 'SUCCEEDED',
      executions: 1,
      returned: { sequence: 1, reason: 'account_closed' },
    });
  });

  it('reads on from a cursor, replays from an earlier one, and from the first for a cursor it does not know', async () => {
    const [first, second] = [instruction(), instruction()];
    await paidAndReturned(first, second);
    const { next } = await client.returns();
    const keysAfter = async (cursor?: string) =>
      (await client.returns(cursor)).returns.map((r) => r.idempotencyKey);

    expect(await client.returns(next)).toEqual({ returns: [], next });
    expect(await keysAfter(next.replace(/\.\d+$/, '.1'))).toEqual([second.idempotencyKey]);
    expect(await keysAfter('another-epoch.2')).toEqual([
      first.idempotencyKey,
      second.idempotencyKey,
    ]);

    // A reset forgets the returns: the old cursor is of another epoch now.
    simulator.reset();
    expect(await keysAfter(next)).toEqual([]);
  });

  it('answers pages of the limit asked for, and refuses a limit out of 1-100', async () => {
    const [first, second] = [instruction(), instruction()];
    await paidAndReturned(first, second);

    const one = await fetch(`${simulator.url}/v1/returns?limit=1`);
    const zero = await fetch(`${simulator.url}/v1/returns?limit=0`);
    const tooMany = await fetch(`${simulator.url}/v1/returns?limit=101`);

    expect(((await one.json()) as { returns: unknown[] }).returns).toHaveLength(1);
    expect([zero.status, tooMany.status]).toEqual([400, 400]);
  });

  it('never returns a `return` payout cancelled before it was paid', async () => {
    const slow = await startSimulatedGateway({
      port: 0,
      delayMs: { min: 60_000, max: 60_000 },
      returnDelayMs: { min: 0, max: 0 },
    });
    try {
      const slowClient = createHttpPayoutGateway({ baseUrl: slow.url, timeoutMs: 5000 });
      const payout = instruction();
      slow.setMode(payout.destination, 'return');
      const sending = slowClient.send(payout);
      await waitFor(
        'the payout pending',
        () => recordOf(slow, payout.idempotencyKey) !== undefined,
      );

      expect(await slowClient.cancel(payout.idempotencyKey)).toEqual({ status: 'CANCELLED' });
      await slow.close();
      await sending.catch(() => undefined);
      expect(recordOf(slow, payout.idempotencyKey)?.returned).toBeUndefined();
    } finally {
      await slow.close();
    }
  });
});

describe('simulated gateway with a state file', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'payout-gateway-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a repeated key with its first outcome after a restart, without paying again', async () => {
    const stateFile = path.join(dir, 'gateway.json');
    const payout = instruction();

    const first = await startSimulatedGateway({ port: 0, delayMs: FAST, stateFile });
    const before = await createHttpPayoutGateway({ baseUrl: first.url, timeoutMs: 5000 }).send(
      payout,
    );
    await first.close();

    const second = await startSimulatedGateway({ port: 0, delayMs: FAST, stateFile });
    try {
      const after = await createHttpPayoutGateway({ baseUrl: second.url, timeoutMs: 5000 }).send(
        payout,
      );

      expect(after).toEqual(before);
      expect(recordOf(second, payout.idempotencyKey)).toMatchObject({
        status: 'SUCCEEDED',
        requests: 2,
        executions: 1,
      });
    } finally {
      await second.close();
    }
  });

  it('keeps destination modes and cancellations across a restart', async () => {
    const stateFile = path.join(dir, 'nested', 'gateway.json');
    const refused = instruction();
    const cancelled = instruction();

    const first = await startSimulatedGateway({ port: 0, delayMs: FAST, stateFile });
    first.setMode(refused.destination, 'refuse');
    await createHttpPayoutGateway({ baseUrl: first.url, timeoutMs: 5000 }).cancel(
      cancelled.idempotencyKey,
    );
    await first.close();

    const second = await startSimulatedGateway({ port: 0, delayMs: FAST, stateFile });
    try {
      const client = createHttpPayoutGateway({ baseUrl: second.url, timeoutMs: 5000 });

      expect(await client.send(refused)).toMatchObject({ status: 'REFUSED' });
      expect(await client.send(cancelled)).toEqual({ status: 'REFUSED', reason: 'cancelled' });
    } finally {
      await second.close();
    }
  });

  it('keeps the returns feed and its cursors across a restart', async () => {
    const stateFile = path.join(dir, 'gateway.json');
    const [before, after] = [instruction(), instruction()];
    const options = { port: 0, delayMs: FAST, returnDelayMs: { min: 0, max: 0 }, stateFile };

    const first = await startSimulatedGateway(options);
    first.setMode(before.destination, 'return');
    first.setMode(after.destination, 'return');
    await createHttpPayoutGateway({ baseUrl: first.url, timeoutMs: 5000 }).send(before);
    const { next } = await createHttpPayoutGateway({
      baseUrl: first.url,
      timeoutMs: 5000,
    }).returns();
    await first.close();

    const second = await startSimulatedGateway(options);
    try {
      const client = createHttpPayoutGateway({ baseUrl: second.url, timeoutMs: 5000 });
      await client.send(after);

      expect((await client.returns()).returns.map((r) => r.idempotencyKey)).toEqual([
        before.idempotencyKey,
        after.idempotencyKey,
      ]);
      expect((await client.returns(next)).returns.map((r) => r.idempotencyKey)).toEqual([
        after.idempotencyKey,
      ]);
    } finally {
      await second.close();
    }
  });
});

describe('simulated gateway control API', () => {
  let simulator: SimulatedGateway;

  beforeAll(async () => {
    simulator = await startSimulatedGateway({ port: 0, delayMs: FAST });
  });

  afterAll(async () => {
    await simulator.close();
  });

  it('sets modes, lists and reads records, and resets over HTTP', async () => {
    const payout = instruction();
    const client = createHttpPayoutGateway({ baseUrl: simulator.url, timeoutMs: 5000 });

    const health = await fetch(`${simulator.url}/health`);
    const setMode = await fetch(
      `${simulator.url}/_control/destinations/${encodeURIComponent(payout.destination)}`,
      { method: 'PUT', body: JSON.stringify({ mode: 'refuse' }) },
    );
    const badMode = await fetch(`${simulator.url}/_control/destinations/x`, {
      method: 'PUT',
      body: JSON.stringify({ mode: 'explode' }),
    });
    await client.send(payout);
    const list = await fetch(`${simulator.url}/_control/payouts`);
    const one = await fetch(
      `${simulator.url}/_control/payouts/${encodeURIComponent(payout.idempotencyKey)}`,
    );
    const reset = await fetch(`${simulator.url}/_control/reset`, { method: 'POST' });
    const gone = await fetch(
      `${simulator.url}/_control/payouts/${encodeURIComponent(payout.idempotencyKey)}`,
    );

    expect(health.status).toBe(200);
    expect(setMode.status).toBe(204);
    expect(badMode.status).toBe(400);
    expect(await list.json()).toEqual([
      expect.objectContaining({ idempotencyKey: payout.idempotencyKey, status: 'REFUSED' }),
    ]);
    expect(await one.json()).toMatchObject({ status: 'REFUSED', reason: 'destination_refused' });
    expect(reset.status).toBe(204);
    expect(gone.status).toBe(404);
    expect(simulator.payouts()).toEqual([]);
  });

  it('rejects a send without an Idempotency-Key', async () => {
    const response = await fetch(`${simulator.url}/v1/payouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 1, currency: 'USD', destination: 'd' }),
    });

    expect(response.status).toBe(400);
    expect(simulator.payouts()).toEqual([]);
  });
});
