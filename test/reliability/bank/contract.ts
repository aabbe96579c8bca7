/**
 * The HTTP contract as the code states it: the error codes and their statuses from the service's
 * one table (lib/domain/errors.ts), the routes from serverless.yml's httpApi events. Read at run
 * time, so a code or a route added to the service is fuzzed and checked without edits here.
 */
import { ERROR_CODES } from '../../../lib/domain/errors';
import { httpApiRoutes } from '../../../local/serverless-config';

/** code => HTTP status. */
export function contractErrorCodes(): Map<string, number> {
  return new Map(Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]));
}

export interface Route {
  method: string;
  path: string;
}

/** Every route of an httpApi event in serverless.yml (the catch-all excluded). */
export function contractRoutes(): Route[] {
  return httpApiRoutes().routes.map(({ method, path }) => ({ method, path }));
}
