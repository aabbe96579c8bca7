/**
 * Webhook endpoints through the API as deployed (in-process: serverless.yml's routes, the real
 * handlers, token verification and DynamoDB): who may register for which account, who may see
 * and delete an endpoint, and that the signing secret is shown once, in the 201, and never again.
 * The refusal matrix (refusals.test.ts) checks every refusal's exact body against openapi.yaml.
 */
import { ulid } from 'ulid';
import type { WebhookEndpoint, WebhookEndpointCreated } from '../../lib/wire/types';
import { e2eStack } from '../support/api-client';
import {
  configureHandlers,
  inProcessApi,
  startTestIssuer,
  type InProcessApi,
  type TestIssuer,
} from '../support/in-process';
import { createTestLedger, customer, operator, type TestLedger } from '../support/ledger';

const ALICE = customer('alice');
const BOB = customer('bob');

let issuer: TestIssuer;
let ledger: TestLedger;
let api: InProcessApi;
let tokens: Record<'alice' | 'bob' | 'ops', string>;
let aliceAccount: string;
let bobAccount: string;

beforeAll(async () => {
  issuer = await startTestIssuer();
  ledger = await createTestLedger('webhook-endpoints-http', {
    sequencer: false,
    endpoint: e2eStack().dynamodb,
  });
  configureHandlers({ tableName: ledger.tableName, endpoint: ledger.endpoint, issuer });
  api = await inProcessApi();
  tokens = {
    alice: await issuer.token({ sub: ALICE.userId, username: 'alice' }),
    bob: await issuer.token({ sub: BOB.userId, username: 'bob' }),
    ops: await issuer.token({ sub: operator.userId, username: 'ops', groups: ['operators'] }),
  };
  aliceAccount = (await ledger.openAccount(ALICE, 0)).accountId;
  bobAccount = (await ledger.openAccount(BOB, 0)).accountId;
});

afterAll(async () => {
  await ledger?.close();
  await issuer?.stop();
});

type As = keyof typeof tokens;
const send = (user: As, method: string, url: string, body?: unknown) =>
  api(method, url, {
    headers: {
      authorization: `Bearer ${tokens[user]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const register = (user: As, body: Record<string, unknown>) =>
  send(user, 'POST', '/webhook-endpoints', {
    url: 'https://hooks.invalid/ledger',
    eventTypes: ['payout.posted'],
    ...body,
  });

const codeOf = (res: { body: Record<string, unknown> }) =>
  (res.body.error as { code?: string } | undefined)?.code;

it('shows the secret once: in the 201, never in a GET or the list', async () => {
  const created = await register('alice', { accountId: aliceAccount });
  expect(created.status).toBe(201);
  const endpoint = created.body as unknown as WebhookEndpointCreated;
  expect(endpoint).toEqual({
    id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
    url: 'https://hooks.invalid/ledger',
    eventTypes: ['payout.posted'],
    accountId: aliceAccount,
    status: 'enabled',
    createdAt: expect.any(String),
    secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
  });
  const { secret, ...shown } = endpoint;
  const one = await send('alice', 'GET', `/webhook-endpoints/${endpoint.id}`);
  const list = await send('alice', 'GET', '/webhook-endpoints');
  expect(one.body).toEqual(shown);
  expect((list.body.endpoints as WebhookEndpoint[]).find((e) => e.id === endpoint.id)).toEqual(
    shown,
  );
  expect(JSON.stringify([one.body, list.body])).not.toContain(secret);
});

it("refuses a customer another customer's account, exactly as a missing one (404)", async () => {
  const foreign = await register('alice', { accountId: bobAccount });
  const missing = await register('alice', { accountId: ulid() });
  expect([foreign.status, codeOf(foreign)]).toEqual([404, 'ACCOUNT_NOT_FOUND']);
  expect((foreign.body.error as { message: string }).message).toBe(
    (missing.body.error as { message: string }).message,
  );
  expect((await register('ops', { accountId: bobAccount })).status).toBe(201);
});

it("hides one customer's endpoints from another (404), not from operators", async () => {
  const mine = (await register('alice', {})).body.id as string;
  for (const method of ['GET', 'DELETE']) {
    const res = await send('bob', method, `/webhook-endpoints/${mine}`);
    expect([res.status, codeOf(res)]).toEqual([404, 'WEBHOOK_ENDPOINT_NOT_FOUND']);
  }
  const bobs = await send('bob', 'GET', '/webhook-endpoints');
  expect((bobs.body.endpoints as WebhookEndpoint[]).map((e) => e.id)).not.toContain(mine);
  expect((await send('ops', 'GET', `/webhook-endpoints/${mine}`)).status).toBe(200);
  expect((await send('alice', 'GET', `/webhook-endpoints/${mine}`)).status).toBe(200);
});

it('deletes an endpoint for its owner or an operator (204); it is gone after', async () => {
  const first = (await register('alice', {})).body.id as string;
  const second = (await register('alice', {})).body.id as string;
  expect((await send('alice', 'DELETE', `/webhook-endpoints/${first}`)).status).toBe(204);
  expect((await send('ops', 'DELETE', `/webhook-endpoints/${second}`)).status).toBe(204);
  for (const id of [first, second]) {
    const again = await send('alice', 'GET', `/webhook-endpoints/${id}`);
    expect([again.status, codeOf(again)]).toEqual([404, 'WEBHOOK_ENDPOINT_NOT_FOUND']);
  }
  const left = (await send('alice', 'GET', '/webhook-endpoints')).body
    .endpoints as WebhookEndpoint[];
  expect(left.map((e) => e.id)).not.toContain(first);
  expect(left.map((e) => e.id)).not.toContain(second);
});

it.each([
  ['an http:// URL', { url: 'http://hooks.example.com/ledger' }, 'url must be https://'],
  ['a private address', { url: 'https://192.168.0.10/' }, 'loopback, private or link-local'],
  ['an unknown event type', { eventTypes: ['payout.sent'] }, 'eventTypes'],
  ['no event type', { eventTypes: [] }, 'at least one event type'],
])('refuses %s with 400 VALIDATION_ERROR saying why', async (_what, body, message) => {
  const res = await register('alice', body);
  expect([res.status, codeOf(res)]).toEqual([400, 'VALIDATION_ERROR']);
  expect((res.body.error as { message: string }).message).toContain(message);
});
