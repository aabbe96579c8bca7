import {
  AccountNotFoundError,
  ValidationError,
  WebhookEndpointNotFoundError,
} from '../../lib/domain/errors';
import { scopeOf } from '../../lib/domain/event-ports';
import {
  checkEndpointUrl,
  deleteEndpoint,
  endpointFor,
  listEndpoints,
  registerEndpoint,
  type WebhookDeps,
} from '../../lib/domain/webhooks';
import type { Account, Caller } from '../../lib/domain/types';
import { memoryWebhookStore, type MemoryWebhookStore } from '../support/memory-webhook-store';

const alice: Caller = { userId: 'user-alice', username: 'alice', isOperator: false };
const bob: Caller = { userId: 'user-bob', username: 'bob', isOperator: false };
const ops: Caller = { userId: 'ops-user', username: 'ops', isOperator: true };
const ALICE_ACCOUNT = '01JALICE000000000000000000';
const BOB_ACCOUNT = '01JBOB00000000000000000000';

const account = (accountId: string, ownerId: string) => ({ accountId, ownerId }) as Account;
const ACCOUNTS = new Map([
  [ALICE_ACCOUNT, account(ALICE_ACCOUNT, alice.userId)],
  [BOB_ACCOUNT, account(BOB_ACCOUNT, bob.userId)],
]);

let store: MemoryWebhookStore;
let logged: Array<[string, Record<string, unknown>]>;
let ids: number;

function deps(allowHttpLocalhost = false): WebhookDeps {
  return {
    store,
    accounts: { getAccount: async (id) => ACCOUNTS.get(id) ?? null },
    logger: {
      info: (message, ...attributes) => logged.push([message, Object.assign({}, ...attributes)]),
      warn: () => undefined,
      error: () => undefined,
    },
    newId: () => `01JENDPOINT${String(++ids).padStart(15, '0')}`,
    now: () => new Date('2026-05-01T10:00:00.000Z'),
    allowHttpLocalhost,
  };
}

beforeEach(() => {
  store = memoryWebhookStore();
  logged = [];
  ids = 0;
});

const register = (caller: Caller, request: Partial<Parameters<typeof registerEndpoint>[2]> = {}) =>
  registerEndpoint(deps(), caller, {
    url: 'https://hooks.example.com/ledger',
    eventTypes: ['payout.posted'],
    ...request,
  });

describe('registering an endpoint', () => {
  it("gives a customer's endpoint a new whsec_ secret, on their account or on all of theirs", async () => {
    const onAccount = await register(alice, { accountId: ALICE_ACCOUNT });
    const onAll = await register(alice, { eventTypes: ['account.frozen', 'movement.committed'] });
    expect(onAccount).toMatchObject({
      url: 'https://hooks.example.com/ledger',
      eventTypes: ['payout.posted'],
      accountId: ALICE_ACCOUNT,
      ownerId: alice.userId,
      operator: false,
      status: 'enabled',
      createdAt: '2026-05-01T10:00:00.000Z',
    });
    expect(onAccount.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(onAll.secret).not.toBe(onAccount.secret);
    expect([scopeOf(onAccount), scopeOf(onAll)]).toEqual([
      `ACCOUNT#${ALICE_ACCOUNT}`,
      `OWNER#${alice.userId}`,
    ]);
    expect(store.endpoints()).toHaveLength(2);
  });

  it("refuses a customer another customer's account, or one that does not exist, as not found", async () => {
    await expect(register(alice, { accountId: BOB_ACCOUNT })).rejects.toThrow(AccountNotFoundError);
    await expect(register(alice, { accountId: '01JNONE0000000000000000000' })).rejects.toThrow(
      AccountNotFoundError,
    );
    expect(store.endpoints()).toEqual([]);
  });

  it('lets an operator register for any existing account, or for every event', async () => {
    const onBob = await register(ops, { accountId: BOB_ACCOUNT });
    const everything = await register(ops);
    expect([scopeOf(onBob), scopeOf(everything)]).toEqual([`ACCOUNT#${BOB_ACCOUNT}`, 'ALL']);
    await expect(register(ops, { accountId: '01JNONE0000000000000000000' })).rejects.toThrow(
      AccountNotFoundError,
    );
  });

  it.each([
    [[], 'at least one'],
    [['payout.posted', 'payout.sent'], '"payout.sent" is not an event type'],
    [['payout.posted', 'payout.posted'], 'must not repeat'],
  ])('refuses eventTypes %j', async (eventTypes, message) => {
    await expect(register(alice, { eventTypes })).rejects.toThrow(message);
    expect(store.endpoints()).toEqual([]);
  });

  it('logs the registration once, without the secret or the URL path', async () => {
    const endpoint = await register(alice, { url: 'https://hooks.example.com/path?token=abc' });
    expect(logged).toEqual([
      [
        'webhook endpoint registered',
        expect.objectContaining({ endpointId: endpoint.id, origin: 'https://hooks.example.com' }),
      ],
    ]);
    expect(JSON.stringify(logged)).not.toContain(endpoint.secret);
    expect(JSON.stringify(logged)).not.toContain('token=abc');
  });
});

describe('the endpoint URL', () => {
  const refusedDeployed = [
    'http://hooks.example.com/x',
    'http://127.0.0.1:4020/webhooks',
    'ftp://hooks.example.com/',
    'hooks.example.com/webhooks',
    'https://user:pass@hooks.example.com/',
    'https://localhost/webhooks',
    'https://api.localhost./webhooks',
    'https://127.0.0.1/webhooks',
    'https://0x7f.1/webhooks',
    'https://10.1.2.3/',
    'https://172.20.0.1/',
    'https://192.168.1.10/',
    'https://169.254.169.254/latest/meta-data/',
    'https://100.64.0.1/',
    'https://0.0.0.0/',
    'https://[::1]/',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://[::ffff:127.0.0.1]/',
    `https://hooks.example.com/${'x'.repeat(2048)}`,
  ];
  it.each(refusedDeployed)('deployed, refuses %s', (url) => {
    expect(() => checkEndpointUrl(url, false)).toThrow(ValidationError);
  });

  it.each(['https://hooks.example.com/x', 'https://8.8.8.8/hook', 'https://[2001:db8::1]:8443/'])(
    'deployed, accepts %s',
    (url) => {
      expect(checkEndpointUrl(url, false)).toBe(new URL(url).href);
    },
  );

  it('on the local stack also accepts plain HTTP to this machine, and nowhere else', () => {
    for (const url of ['http://127.0.0.1:4020/webhooks', 'http://localhost:4020/webhooks'])
      expect(checkEndpointUrl(url, true)).toBe(url);
    for (const url of ['http://hooks.example.com/', 'http://10.0.0.1/', 'http://192.168.1.2/'])
      expect(() => checkEndpointUrl(url, true)).toThrow(ValidationError);
  });
});

describe('reading and deleting endpoints', () => {
  it("shows a customer their own endpoints only; another's answers like a missing one", async () => {
    const mine = await register(alice);
    const theirs = await register(bob);
    expect((await listEndpoints(deps(), alice)).map((e) => e.id)).toEqual([mine.id]);
    expect((await endpointFor(deps(), alice, mine.id)).id).toBe(mine.id);
    await expect(endpointFor(deps(), alice, theirs.id)).rejects.toThrow(
      WebhookEndpointNotFoundError,
    );
    await expect(endpointFor(deps(), alice, 'nope')).rejects.toThrow(WebhookEndpointNotFoundError);
  });

  it("lets an operator read and delete anyone's endpoint; a customer never another's", async () => {
    const theirs = await register(bob);
    await expect(deleteEndpoint(deps(), alice, theirs.id)).rejects.toThrow(
      WebhookEndpointNotFoundError,
    );
    expect(store.endpoints()).toHaveLength(1);
    expect((await endpointFor(deps(), ops, theirs.id)).ownerId).toBe(bob.userId);
    logged = [];
    await deleteEndpoint(deps(), ops, theirs.id);
    expect(store.endpoints()).toEqual([]);
    expect(logged).toEqual([
      [
        'webhook endpoint deleted',
        { endpointId: theirs.id, ownerId: bob.userId, deletedBy: ops.userId },
      ],
    ]);
    await expect(deleteEndpoint(deps(), bob, theirs.id)).rejects.toThrow(
      WebhookEndpointNotFoundError,
    );
  });
});
