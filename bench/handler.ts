/**
 * Section 2: the full withdraw handler (handlers/withdrawals.ts: the real middy stack, token
 * verification against a local JWKS, validation, domain, DynamoDB), invoked in-process with an
 * API Gateway v2 event, as Lambda invokes it.
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { apiEvent, lambdaContext } from '../test/support/in-process';
import type { Operation } from './lib/load';
import { profileCpu } from './lib/profile';

export type LambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export function withdrawalEvent(
  accountId: string,
  token: string,
  idempotencyKey: string,
  amount: number,
): APIGatewayProxyEventV2 {
  return apiEvent({
    method: 'POST',
    path: `/accounts/${accountId}/withdrawals`,
    pathParameters: { accountId },
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey,
    },
    body: JSON.stringify({ amount }),
  });
}

export async function invokeWithdrawal(
  handler: LambdaHandler,
  request: { accountId: string; token: string; idempotencyKey: string; amount: number },
): Promise<APIGatewayProxyStructuredResultV2> {
  return handler(
    withdrawalEvent(request.accountId, request.token, request.idempotencyKey, request.amount),
    lambdaContext(),
  );
}

/** Worker `w` withdraws from accounts[w]; anything but 201 is a failure. */
export function handlerOperation(
  handler: LambdaHandler,
  token: string,
  accounts: string[],
  label: string,
): Operation {
  let run = 0;
  return async (_index, worker) => {
    const accountId = accounts[worker];
    if (accountId === undefined) throw new Error(`no account for worker ${worker}`);
    const response = await invokeWithdrawal(handler, {
      accountId,
      token,
      idempotencyKey: `${label}-${run++}`,
      amount: 100,
    });
    if (response.statusCode !== 201) {
      throw new Error(`${label}: status ${response.statusCode} ${String(response.body)}`);
    }
  };
}

export interface CpuShare {
  owner: string;
  /** CPU milliseconds per withdrawal in this process. */
  floor: number;
  handler: number;
  difference: number;
}

export interface HandlerCpu {
  withdrawals: number;
  /** CPU ms per withdrawal in this process (DynamoDB Local's own CPU is not in it). */
  floorCpuMs: number;
  handlerCpuMs: number;
  /** Code only the handler runs (floor: 0), largest first: the handler's own work. */
  own: CpuShare[];
  ownTotalMs: number;
  /** Code both run (the SDK, Node's internals, GC), largest difference first. */
  shared: CpuShare[];
}

const SDK = /^(@aws-sdk|@smithy|@aws-crypto)\/|^(bowser|fast-xml-parser|tslib|strnum)$/;

function group(owner: string): string {
  if (SDK.test(owner)) return 'AWS SDK (@aws-sdk/*, @smithy/*, …)';
  if (owner.startsWith('bench/') || owner.startsWith('test/')) return 'bench harness';
  return owner;
}

/**
 * Where the handler's time goes: this process's CPU, sampled while the floor and the handler
 * run the same sequential withdrawals (in six alternating slices), charged to the package or
 * project file that asked for it (lib/profile.ts), per withdrawal. What only the handler runs
 * is its own cost; the shared code (the SDK, Node's internals) is listed apart: its
 * difference between the two runs is mostly noise and cache effects, not work.
 */
export async function profileHandler(options: {
  floor: Operation;
  handler: Operation;
  withdrawals: number;
}): Promise<HandlerCpu> {
  const slice = Math.max(1, Math.floor(options.withdrawals / 6));
  const totals = { floor: {} as Record<string, number>, handler: {} as Record<string, number> };
  let index = 0;
  for (const which of ['floor', 'handler', 'handler', 'floor', 'floor', 'handler'] as const) {
    const operation = options[which];
    const profile = await profileCpu(async () => {
      for (let i = 0; i < slice; i++) await operation(index++, 0);
    });
    for (const [owner, ms] of Object.entries(profile.byOwner)) {
      const key = group(owner);
      totals[which][key] = (totals[which][key] ?? 0) + ms;
    }
  }
  const count = 3 * slice;
  const per = (ms: number): number => Math.round((ms / count) * 1000) / 1000;
  const owners = [...new Set([...Object.keys(totals.floor), ...Object.keys(totals.handler)])]
    .map((owner) => {
      const floor = per(totals.floor[owner] ?? 0);
      const handler = per(totals.handler[owner] ?? 0);
      return { owner, floor, handler, difference: Math.round((handler - floor) * 1000) / 1000 };
    })
    .sort((a, b) => b.difference - a.difference);
  const sum = (which: 'floor' | 'handler'): number =>
    per(Object.values(totals[which]).reduce((a, b) => a + b, 0));
  const own = owners.filter((o) => o.floor === 0 && o.handler > 0);
  return {
    withdrawals: count,
    floorCpuMs: sum('floor'),
    handlerCpuMs: sum('handler'),
    own,
    ownTotalMs: Math.round(own.reduce((a, o) => a + o.handler, 0) * 1000) / 1000,
    shared: owners.filter((o) => !own.includes(o)),
  };
}
