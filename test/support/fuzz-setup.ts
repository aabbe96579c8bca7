/**
 * A fuzz setup without a stack, for the fuzzer's unit tests: tokens that look like cognito-local's
 * (never verified: nothing is sent), two customers' accounts, their payouts, a history cursor.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { contractErrorCodes, contractRoutes } from '../reliability/bank/contract';
import type { FuzzSetup } from '../reliability/bank/fuzz/types';

export const b64 = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

const fakeToken = (sub: string, groups: string[] = []): string =>
  `${b64({ alg: 'RS256', kid: 'CognitoLocal', typ: 'JWT' })}.${b64({
    sub,
    iss: 'http://127.0.0.1:9229/local_pool',
    client_id: 'local-client',
    token_use: 'access',
    'cognito:groups': groups,
    exp: Math.floor(Date.now() / 1000) + 3600,
  })}.c2lnbmF0dXJl`;

export const ALICE_ACCOUNT = '01JALICE000000000000000000';
export const BOB_ACCOUNT = '01JB0B00000000000000000000';
export const ALICE_PAYOUT = '01JPAYA0000000000000000000';
export const BOB_PAYOUT = '01JPAYB0000000000000000000';
/** The day the fuzz draws its instants and months around. */
export const FUZZ_DAY = new Date('2026-12-06T00:00:00.000Z');

export const fuzzSetup: FuzzSetup = {
  apiUrl: 'http://127.0.0.1:1',
  users: {
    alice: { token: fakeToken('alice-sub'), sub: 'alice-sub' },
    bob: { token: fakeToken('bob-sub'), sub: 'bob-sub' },
    ops: { token: fakeToken('ops-sub', ['operators']), sub: 'ops-sub' },
  },
  accounts: { alice: ALICE_ACCOUNT, bob: BOB_ACCOUNT },
  reusable: {
    accountId: ALICE_ACCOUNT,
    owner: 'alice',
    type: 'WITHDRAWAL',
    key: 'bank-key-1',
    amount: 7,
  },
  cursor: b64({ before: 5 }),
  codes: contractErrorCodes(),
  routes: contractRoutes(),
  dynamodb: {} as DynamoDBClient,
  tableName: 'unused',
  payouts: { alice: ALICE_PAYOUT, bob: BOB_PAYOUT },
  nonPayouts: { alice: '01JWITHDRAWA0000000000000A', bob: null },
  now: FUZZ_DAY,
};
