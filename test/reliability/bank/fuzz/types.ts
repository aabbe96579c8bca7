import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Route } from '../contract';
import type { SingleAccountMovement, Owner, Violation } from '../model';
import type { RawRequest } from '../raw-http';
import type { DemoUser, Identity } from '../stack';

export interface FuzzSetup {
  apiUrl: string;
  users: Record<DemoUser, Identity>;
  /** An account of each customer, in USD, with far less than 10^10 on it. */
  accounts: Record<Owner, string>;
  /** A key that moved money, to resend with another amount (must be 422). */
  reusable: {
    accountId: string;
    owner: Owner;
    type: SingleAccountMovement;
    key: string;
    amount: number;
  } | null;
  /** A cursor the API returned. */
  cursor: string;
  /** Error code => status, from the service's error table (openapi.yaml's are added). */
  codes: Map<string, number>;
  /** The routes serverless.yml deploys (each must have a model too). */
  routes: Route[];
  dynamodb: DynamoDBClient;
  tableName: string;
  /**
   * A payout of each customer's account, and a transaction of it that is not a payout, to read
   * through `GET .../payouts/{transactionId}`. `runFuzz` finds them in the table when absent;
   * null: the account has none (a made-up id is used, which names no payout).
   */
  payouts?: Record<Owner, string | null>;
  nonPayouts?: Record<Owner, string | null>;
  /** The day instants and statement months are drawn around; default: today (UTC). */
  now?: Date;
}

export interface FuzzCase {
  /** What was generated (the route, or a variant of it). */
  label: string;
  /** The openapi.yaml route the request is aimed at (`POST /transfers`); null: no such route. */
  route: string | null;
  request: RawRequest;
  /** The route changes state: the request must be refused. */
  mutating: boolean;
  invalid: string[];
  uncertain: string[];
  /** Codes the request's faults explain (empty: not judged). */
  allowed: string[];
  /** Every part is valid and the route only reads: 200 expected. */
  expectOk: boolean;
  /**
   * Codes of a 503 (with `Retry-After`) the request may be answered with instead while the
   * statement catches up (a balance at an instant, a statement): never a fault, never elsewhere.
   */
  transient: string[];
}

export interface FuzzResult {
  requests: number;
  seed: number;
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  /** Requests by openapi.yaml route (`(no such route)` for the rest). */
  byRoute: Record<string, number>;
  violations: Violation[];
  /** Refusals by serverless-offline's HTTP layer, not by the service (see emulatorRefusal). */
  emulatorRefusals: Record<string, number>;
  /** Requests not answered within 30 s, sent once more (violations only if that failed too). */
  slowOrFailed: number;
  examples: Array<{ label: string; status: number; code?: string }>;
  stateUnchanged: boolean;
  /** What the service finished meanwhile, and how long the comparison waited for it. */
  background: {
    changes: number;
    byKind: Record<string, number>;
    waitedMs: number;
    snapshots: number;
  };
  durationMs: number;
}

/** One part of a request (a header, a path parameter, a body, a field): valid or not. */
export interface Part<T> {
  value: T;
  /** Why the part is invalid (the request must then be refused). */
  invalid?: string;
  /** The part may or may not be refused (the emulator or the contract leaves it open). */
  uncertain?: string;
  /** The codes a refusal for this part may carry. */
  codes?: string[];
  /**
   * Codes of a 503 the service may answer while the statement catches up. On a valid part: the
   * read it asks for may be put off. On an invalid one: the service judges it only after that
   * read (an invalid part without it is refused first, so no 503 may come).
   */
  transient?: string[];
}
