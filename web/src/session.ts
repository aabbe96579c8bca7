/**
 * Signing in and out against Cognito's JSON API over plain fetch (the same calls work against
 * cognito-local and real Cognito). The tokens live in sessionStorage: a reload keeps the tab
 * signed in; closing the tab forgets them.
 */

export interface WebConfig {
  apiUrl: string;
  cognitoEndpoint: string;
  clientId: string;
}

export interface Session {
  username: string;
  accessToken: string;
  refreshToken?: string;
}

const SESSION_KEY = 'mm.session';

export async function loadConfig(): Promise<WebConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  const config = (await response.json()) as Partial<WebConfig>;
  if (!config.apiUrl || !config.cognitoEndpoint || !config.clientId) {
    throw new Error('config.json is incomplete');
  }
  return {
    apiUrl: config.apiUrl.replace(/\/+$/, ''),
    cognitoEndpoint: config.cognitoEndpoint.replace(/\/+$/, ''),
    clientId: config.clientId,
  };
}

export function storedSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.accessToken !== 'string' || typeof parsed.username !== 'string') return null;
    return parsed as Session;
  } catch {
    return null;
  }
}

/** A refusal from the identity provider, with a message fit for the person signing in. */
export class SignInError extends Error {}

export async function signIn(
  config: WebConfig,
  username: string,
  password: string,
): Promise<Session> {
  let response: Response;
  try {
    response = await cognito(config, 'InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: config.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
  } catch {
    throw new SignInError('Could not reach the sign-in service. Check your connection and retry.');
  }
  const body = (await response.json().catch(() => ({}))) as {
    __type?: string;
    ChallengeName?: string;
    AuthenticationResult?: { AccessToken?: string; RefreshToken?: string };
  };
  if (!response.ok) throw new SignInError(signInMessage(body.__type ?? ''));
  if (body.ChallengeName) {
    throw new SignInError('This account needs a sign-in step this page does not support yet.');
  }
  const result = body.AuthenticationResult;
  if (!result?.AccessToken) throw new SignInError('The sign-in service returned no session.');
  const session: Session = {
    username,
    accessToken: result.AccessToken,
    ...(result.RefreshToken ? { refreshToken: result.RefreshToken } : {}),
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** Forgets the tokens at once, then asks Cognito to revoke the refresh token (best effort). */
export async function signOut(config: WebConfig, session: Session | null): Promise<void> {
  sessionStorage.clear();
  if (!session?.refreshToken) return;
  try {
    await cognito(config, 'RevokeToken', {
      Token: session.refreshToken,
      ClientId: config.clientId,
    });
  } catch {
    // Revocation is a courtesy: the tokens are gone from this tab either way.
  }
}

function cognito(config: WebConfig, action: string, body: unknown): Promise<Response> {
  return fetch(`${config.cognitoEndpoint}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
}

function signInMessage(type: string): string {
  // Cognito's error type may carry a prefix ("...#NotAuthorizedException").
  const name = type.split('#').pop() ?? '';
  switch (name) {
    case 'NotAuthorizedException':
    case 'UserNotFoundException':
    case 'InvalidPasswordException':
      return 'Incorrect username or password.';
    case 'PasswordResetRequiredException':
      return 'Your password must be reset before you can sign in.';
    case 'UserNotConfirmedException':
      return 'This account is not confirmed yet.';
    case 'TooManyRequestsException':
    case 'LimitExceededException':
      return 'Too many sign-in attempts. Wait a moment and try again.';
    default:
      return 'Sign-in failed. Please try again.';
  }
}

/**
 * Whether the access token names any group: only then may the person be an operator, and the
 * page asks the API (which alone decides) before it shows operator controls. The token is read,
 * not verified: it decides nothing but which question the page asks.
 */
export function mayBeOperator(session: Session): boolean {
  try {
    const payload = session.accessToken.split('.')[1] ?? '';
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(base64)) as { 'cognito:groups'?: unknown };
    const groups = claims['cognito:groups'];
    return Array.isArray(groups) && groups.length > 0;
  } catch {
    return false;
  }
}
