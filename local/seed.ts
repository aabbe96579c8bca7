import { DEFAULT_LIMITS } from '../lib/domain/limits';
import { TermsCache } from '../lib/domain/terms';
import { Logger } from '@aws-lambda-powertools/logger';
import { decodeJwt } from 'jose';
import { ulid } from 'ulid';
import { noMetrics } from '../lib/metrics';
import { openAccount, listAccounts } from '../lib/domain/accounts';
import { deposit } from '../lib/domain/movements';
import type { Caller } from '../lib/domain/types';
import type { LedgerStore } from '../lib/domain/ports';
import { DEMO_USERS, signIn, type LocalIdentity } from './cognito';

/** Opening balance of each demo customer's USD account, in cents. */
export const DEMO_OPENING_BALANCE = 100_000;

export interface SeededUser {
  username: string;
  userId: string;
  accountIds: string[];
}

/**
 * Gives alice and bob a funded USD account each. Idempotent: an existing account is kept, and
 * the opening deposit carries a fixed Idempotency-Key, so a second run moves no money.
 */
export async function seedDemoData(
  store: LedgerStore,
  identity: LocalIdentity,
): Promise<SeededUser[]> {
  const logger = new Logger({ serviceName: 'seed', logLevel: 'WARN' });
  const deps = {
    store,
    logger,
    newId: ulid,
    now: () => new Date(),
    idempotencyTtlSeconds: 3650 * 86_400,
    // Seeding only deposits: the pause switch concerns withdrawals.
    termsCache: new TermsCache(),
    limitDefaults: DEFAULT_LIMITS,
    withdrawalSwitch: { isPaused: async () => false, cacheMs: 0 },
    metrics: noMetrics,
  };
  const seeded: SeededUser[] = [];
  const ops = DEMO_USERS.find((user) => user.username === 'ops');
  if (!ops) throw new Error('the demo operator is missing');
  const operator: Caller = {
    ...(await userOf(identity, ops.username, ops.password)),
    isOperator: true,
  };
  for (const user of DEMO_USERS) {
    const caller = await userOf(identity, user.username, user.password);
    if (user.groups.includes('operators')) {
      seeded.push({ username: user.username, userId: caller.userId, accountIds: [] });
      continue;
    }
    let accounts = await listAccounts(deps, { ...caller, isOperator: false });
    if (accounts.length === 0) {
      await openAccount(deps, operator, { ownerId: caller.userId, currency: 'USD' });
      accounts = await listAccounts(deps, { ...caller, isOperator: false });
    }
    const first = accounts[0];
    if (!first) throw new Error(`could not open an account for ${user.username}`);
    await deposit(deps, {
      caller: operator,
      accountId: first.accountId,
      amount: DEMO_OPENING_BALANCE,
      idempotencyKey: `seed-opening-deposit-${user.username}`,
      requestId: 'seed',
    });
    seeded.push({
      username: user.username,
      userId: caller.userId,
      accountIds: accounts.map((a) => a.accountId),
    });
  }
  return seeded;
}

export async function userOf(identity: LocalIdentity, username: string, password: string) {
  const { accessToken } = await signIn(identity, username, password);
  const sub = decodeJwt(accessToken).sub;
  if (!sub) throw new Error(`the token of ${username} has no sub`);
  return { userId: sub, username, isOperator: false };
}
