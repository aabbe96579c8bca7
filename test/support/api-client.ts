import { readFileSync } from 'node:fs';
import { DEMO_USERS, signIn } from '../../local/cognito';
import type { StackInfo } from './local-stack';

/** The stack the e2e global setup started. */
export function e2eStack(): StackInfo & { dataDir: string } {
  const file = process.env.E2E_STACK;
  if (!file)
    throw new Error('E2E_STACK is not set: run this suite through jest --selectProjects e2e');
  return JSON.parse(readFileSync(file, 'utf8')) as StackInfo & { dataDir: string };
}

export type DemoUser = 'alice' | 'bob' | 'ops';

/** A seeded demo user's sign-in at the stack's own issuer: its access and ID tokens. */
export async function signInDemoUser(
  username: DemoUser,
): Promise<{ accessToken: string; idToken?: string }> {
  const user = DEMO_USERS.find((u) => u.username === username);
  if (!user) throw new Error(`no demo user ${username}`);
  return signIn(e2eStack().identity, user.username, user.password);
}

/** An access token for a seeded demo user, from the stack's own issuer. */
export async function tokenFor(username: DemoUser): Promise<string> {
  return (await signInDemoUser(username)).accessToken;
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A thin HTTP client for the API: JSON in, JSON out, nothing hidden. */
export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${e2eStack().apiUrl}${path}`, { method, headers, body });
  const text = await response.text();
  // A CSV export is text; every other answer is JSON.
  const isJson = !/^text\/csv/.test(response.headers.get('content-type') ?? '');
  return {
    status: response.status,
    headers: response.headers,
    body: (isJson ? (text ? JSON.parse(text) : {}) : text) as T,
  };
}

/** Every answer of the service is JSON that no browser or proxy may cache. */
export function expectJsonNoStore(res: ApiResponse<unknown>): void {
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}
