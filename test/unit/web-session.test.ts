/**
 * Whether the page asks the API if the signed-in person is an operator (web/src/session.ts): only
 * when their access token names a group. The API's answer alone decides what the page shows.
 */
import { mayBeOperator } from '../../web/src/session';

const tokenWith = (claims: object): string =>
  ['{"alg":"none"}', JSON.stringify(claims), 'signature']
    .map((part, i) => (i < 2 ? Buffer.from(part).toString('base64url') : part))
    .join('.');

const session = (accessToken: string) => ({ username: 'someone', accessToken });

describe('mayBeOperator', () => {
  it('asks for a token that names a group', () => {
    expect(mayBeOperator(session(tokenWith({ sub: 'u1', 'cognito:groups': ['operators'] })))).toBe(
      true,
    );
  });

  it.each([
    ['no groups claim', tokenWith({ sub: 'u1' })],
    ['an empty groups claim', tokenWith({ sub: 'u1', 'cognito:groups': [] })],
    ['a groups claim that is not a list', tokenWith({ 'cognito:groups': 'operators' })],
    ['a token that is no JWT', 'expired'],
    ['a payload that is not JSON', 'a.bm90IGpzb24.c'],
  ])('does not ask for %s', (_name, token) => {
    expect(mayBeOperator(session(token))).toBe(false);
  });
});
