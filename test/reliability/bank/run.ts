/**
 * A bank run: the local stack behind the fault proxy, hot accounts hammered by concurrent
 * clients through the HTTP API while faults are switched phase by phase, a crash (kill -9 of
 * DynamoDB Local and of the API) and restart in the middle, a probe of a response lost after
 * DynamoDB committed, then the invariants, the table audit and the fuzzer, and a report.
 * Besides withdrawals and deposits, the hot clients transfer among the hot accounts and request
 * payouts to the simulated gateway's destinations (succeed, refuse, lose, timeout); after the
 * traffic the run waits until every payout is POSTED or VOIDED, then checks them against the
 * gateway's records and money against what the service answered.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { LedgerEntry } from '../../../lib/domain/types';
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { pendingPartitions } from '../../../lib/persistence/keys';
import { localDynamoDbClient } from '../../../local/dynamodb-local';
import {
  FAULT_KINDS,
  seededRandom,
  setRemotePlan,
  startFaultProxy,
  type FaultKind,
  type FaultProxy,
  type FaultProxyStats,
  type FaultRule,
} from '../fault-proxy';
import { auditLedger, formatAudit, type AuditResult } from '../../../lib/audit/ledger-audit';
import {
  dedicatedClient,
  execute,
  hotClient,
  resolve,
  sampler,
  standaloneOperation,
  type Behaviour,
  type Mix,
  type RunContext,
} from './clients';
import { contractErrorCodes, contractRoutes } from './contract';
import { FAULT_PHASES, NO_FAULT_PHASES, planOf } from './faults';
import { runFuzz, type FuzzResult } from './fuzz';
import { call } from './http';
import {
  type BankAccount,
  type MovementType,
  type Operation,
  type Owner,
  type Violation,
} from './model';
import {
  SETTLEMENT_INVARIANTS,
  gatewayRecords,
  runDestinations,
  setDestinationModes,
  verifySettlement,
  waitPayoutsSettled,
  type MoneyTotals,
  type PayoutCounts,
} from './payouts';
import { hangProbe, runProbes, type HangProbe, type ProbeResult } from './probes';
import { historyAround } from './history';
import { payoutLatencies, sequencerLags, spread, unsequencedBefore, type Spread } from './lag';
import { REPORT_DIR, writeReport } from '../../../lib/audit/report';
import { crashAndRestart, startProxiedStack, type ProxiedStack } from './stack';
import { INVARIANTS, verify, type AccountState } from './verify';

export const TABLE_NAME = 'money-movement-local';

/** The bound the sequencer promises: a movement's line within this long after the load stops. */
export const SEQUENCED_WITHIN_MS = 5_000;
const SEQUENCER_INVARIANT = `sequencer: every movement of the load has its statement line ${SEQUENCED_WITHIN_MS / 1000} s after the load stops`;

export interface BankOptions {
  label: string;
  ops: number;
  clients: number;
  /** Accounts all hot clients share. */
  hotAccounts: number;
  /** Clients that each own an account alone (exact checks). Default max(2, clients / 8). */
  dedicatedClients?: number;
  seed: number;
  faults: boolean;
  crash: boolean;
  /** Crash-restarts during the traffic when `crash` (default 1). */
  crashCount?: number;
  hangProbe: boolean;
  fuzz: number;
  behaviour?: Behaviour;
  /** Shares of the hot clients' operations that are transfers and payouts (default 0.15, 0.1). */
  mix?: { transfer: number; payout: number };
  log?: (line: string) => void;
}

export interface BankReport {
  label: string;
  seed: number;
  passed: boolean;
  startedAt: string;
  options: Omit<BankOptions, 'log'>;
  durationsMs: Record<string, number>;
  operations: {
    total: number;
    byOutcome: Record<string, number>;
    byType: Record<string, number>;
    refusals: Record<string, number>;
    keyReuses: number;
    clientAborts: number;
    concurrentDuplicates: number;
    replays: number;
    retriedOperations: number;
    unresolvedButCommitted: number;
  };
  accounts: { hot: number; dedicated: number };
  /** Transfers and payouts: outcomes, how payouts ended by destination mode, money totals. */
  movements: {
    transfers: { total: number; byOutcome: Record<string, number>; amountMoved: number };
    payouts: PayoutCounts & { total: number; byOutcome: Record<string, number> };
    settleSeconds: number;
    money: MoneyTotals;
  };
  http: { requests: number; answers: Record<string, number>; balanceSamples: number };
  faults: {
    injected: Record<FaultKind, number>;
    byOperation: Record<string, number>;
    lostAfterCommit: number;
    sdkRetriesAfterLostResponse: number;
    upstreamFailures: number;
    dynamodbRequests: number;
  };
  phases: Array<{
    label: string;
    seconds: number;
    operations: number;
    attempts: number;
    meanAttemptMs: number;
    answers: Record<string, number>;
  }>;
  /** The sequencer's backlog during the traffic, and how long it took to catch up after. */
  sequencer: {
    maxBacklog: number;
    maxBacklogAtSecond: number;
    catchUpSeconds: number;
    committedPerSecond: number;
    /** Commit to statement line, movements committed during the load (payouts aside). */
    lag: Spread;
    lagByPhase: Array<Spread & { label: string }>;
    /** Movements of the load still without their line SEQUENCED_WITHIN_MS after it stopped. */
    unplacedAfterLoad: number;
  };
  /** The payout dispatcher: from the hold's commit to the gateway, and to POSTED or VOIDED. */
  payoutLatency: { holdToDispatch: Spread; holdToSettled: Spread };
  crashRestarts: Array<{
    atOperation: number;
    killedDynamodbPid: number;
    killedApiPid: number;
    downMs: number;
  }>;
  hangProbe: HangProbe | null;
  probes: ProbeResult[];
  invariants: Record<string, { checks: number; violations: number }>;
  violationCount: number;
  violations: Violation[];
  /** The operations around each of the first violations (historyAround). */
  histories: Array<{ violation: Violation; operations: string[] }>;
  audit: Pick<AuditResult, 'accounts' | 'statementLines' | 'pendingEntries' | 'markers' | 'ok'> & {
    drifting: Array<{ accountId: string; problems: string[] }>;
  };
  fuzz: (Omit<FuzzResult, 'violations'> & { violations: number }) | null;
  findings: string[];
  reportFiles?: { json: string; text: string };
}

/** Stops the stack of a run in progress (Ctrl-C): it runs detached and would outlive us. */
let active: (() => Promise<void>) | null = null;
export async function stopActiveRun(): Promise<void> {
  const stop = active;
  active = null;
  await stop?.();
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

async function getJson(ctx: RunContext, path: string, tries = 20): Promise<unknown> {
  for (let i = 0; i < tries; i++) {
    const answer = await call(ctx.apiUrl, 'GET', path, { token: ctx.users.ops.token });
    if (answer.kind === 'response' && answer.status === 200) return answer.json;
    await sleep(200 * (i + 1));
  }
  throw new Error(`GET ${path} kept failing`);
}

async function openAccount(ctx: RunContext, owner: Owner): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const answer = await call(ctx.apiUrl, 'POST', '/accounts', {
      token: ctx.users.ops.token,
      body: { ownerId: ctx.users[owner].sub, currency: 'USD' },
    });
    const id = (answer.json as { accountId?: unknown } | undefined)?.accountId;
    if (answer.status === 201 && typeof id === 'string') return id;
    await sleep(200 * (i + 1));
  }
  throw new Error(`could not open an account for ${owner}`);
}

async function countPending(client: DynamoDBClient, accounts: BankAccount[]): Promise<number> {
  let total = 0;
  for (const account of accounts) {
    for (const pk of pendingPartitions(account.accountId)) {
      const out = await client.send(
        new QueryCommand({
          TableName: TABLE_NAME,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          Select: 'COUNT',
          ConsistentRead: true,
        }),
      );
      total += out.Count ?? 0;
    }
  }
  return total;
}

async function fullHistory(ctx: RunContext, accountId: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = (await getJson(ctx, `/accounts/${accountId}/transactions?limit=100${query}`)) as {
      transactions: LedgerEntry[];
      nextCursor: string | null;
    };
    entries.push(...page.transactions);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return entries;
}

/** Polls every account's history until no entry has balanceAfter null (the sequencer caught up). */
async function waitSequenced(
  ctx: RunContext,
  accounts: BankAccount[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waiting = [...accounts];
  while (waiting.length > 0) {
    const still: BankAccount[] = [];
    for (const account of waiting) {
      const page = (await getJson(
        ctx,
        `/accounts/${account.accountId}/transactions?limit=100`,
      )) as {
        transactions: LedgerEntry[];
      };
      if (page.transactions.some((t) => t.balanceAfter === null)) still.push(account);
    }
    waiting = still;
    if (waiting.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the sequencer has not placed every entry after ${timeoutMs} ms (${waiting.length} accounts)`,
      );
    }
    await sleep(500);
  }
}

export async function runBank(options: BankOptions): Promise<BankReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const durations: Record<string, number> = {};
  const lap = (name: string, since: number): void => {
    durations[name] = Math.round(performance.now() - since);
  };
  const behaviour: Behaviour = options.behaviour ?? {
    abort: 0.06,
    concurrent: 0.03,
    replay: 0.08,
    reuse: 0.03,
  };
  const dedicatedCount = options.dedicatedClients ?? Math.max(2, Math.round(options.clients / 8));
  const hotCount = Math.max(1, options.clients - dedicatedCount);
  const runId = `bank-${options.seed}-${randomBytes(3).toString('hex')}`;

  const proxy: FaultProxy = await startFaultProxy({ seed: options.seed });
  log(`fault proxy on ${proxy.endpoint}; starting the local stack behind it...`);
  let t = performance.now();
  let running: ProxiedStack;
  try {
    running = await startProxiedStack(proxy);
  } catch (error) {
    await proxy.stop();
    throw error;
  }
  lap('stackStart', t);
  log(
    `stack up in ${(durations.stackStart ?? 0) / 1000} s: API ${running.apiUrl}, DynamoDB Local ${running.dynamodb}, data ${running.dataDir}`,
  );
  const dataDirs = new Set([running.dataDir]);
  const cleanUp = async (): Promise<void> => {
    await running.stack.stop().catch(() => undefined);
    await proxy.stop();
    // The stack's own log (every structured line of the service) outlives the data: beside the report.
    for (const dir of dataDirs) {
      const stackLog = path.join(dir, 'stack.log');
      if (existsSync(stackLog)) {
        mkdirSync(REPORT_DIR, { recursive: true });
        copyFileSync(
          stackLog,
          path.join(REPORT_DIR, `bank-${options.label}-stack-${path.basename(dir)}.log`),
        );
      }
      rmSync(dir, { recursive: true, force: true });
    }
  };
  active = cleanUp;

  const ctx: RunContext = {
    apiUrl: running.apiUrl,
    users: running.users,
    gate: null,
    ops: [],
    violations: [],
    samples: [],
    issued: 0,
    total: options.ops,
    phase: 'setup',
    hints: new Map(),
    httpRequests: 0,
    milestone: () => undefined,
    limits: { attemptsPerOp: 40, opDeadlineMs: 300_000, requestTimeoutMs: 30_000 },
    runId,
    gatewayUrl: running.stack.info.gatewayUrl,
  };
  const destinations = runDestinations(runId);
  const mix: Mix = {
    transfer: options.mix?.transfer ?? 0.15,
    payout: options.mix?.payout ?? 0.1,
    destinations,
  };

  try {
    // ---- accounts ---------------------------------------------------------------------------
    t = performance.now();
    const owners: Owner[] = ['alice', 'bob'];
    const hot: BankAccount[] = [];
    for (let i = 0; i < options.hotAccounts; i++) {
      const owner = owners[i % 2] ?? 'alice';
      hot.push({
        accountId: await openAccount(ctx, owner),
        owner,
        role: 'hot',
        label: `hot-${i + 1}`,
      });
    }
    const dedicated: BankAccount[] = [];
    for (let i = 0; i < dedicatedCount; i++) {
      const owner = owners[i % 2] ?? 'alice';
      dedicated.push({
        accountId: await openAccount(ctx, owner),
        owner,
        role: 'dedicated',
        label: `solo-${i + 1}`,
      });
    }
    const probeAccount: BankAccount | null =
      options.hangProbe && options.faults
        ? {
            accountId: await openAccount(ctx, 'alice'),
            owner: 'alice',
            role: 'dedicated',
            label: 'hang-probe',
          }
        : null;
    const opening = async (account: BankAccount, amount: number): Promise<void> => {
      const op = standaloneOperation(
        ctx,
        account,
        'DEPOSIT',
        amount,
        `${runId}-open-${account.label}`,
      );
      await execute(ctx, op, {});
      if (op.outcome !== 'committed')
        throw new Error(`opening deposit on ${account.label}: ${op.outcome}`);
    };
    await setDestinationModes(ctx, destinations);
    for (const account of hot) await opening(account, 50_000);
    for (const account of dedicated) await opening(account, 20_000);
    if (probeAccount !== null) await opening(probeAccount, 10_000);
    lap('setup', t);
    const allAccounts = [...hot, ...dedicated, ...(probeAccount === null ? [] : [probeAccount])];

    // ---- phases, crash, probe -------------------------------------------------------------
    const phases = options.faults ? FAULT_PHASES : NO_FAULT_PHASES;
    const perPhase = Math.ceil(options.ops / phases.length);
    let phaseIndex = -1;
    let trafficStarted = performance.now();
    const phaseLog: Array<{ label: string; at: number }> = [];
    let paused = false;
    let probeRules: FaultRule[] = [];
    let planChain: Promise<void> = Promise.resolve();
    const applyPlan = (): Promise<void> => {
      const phase = phases[Math.max(0, phaseIndex)] ?? phases[0];
      const plan = paused || phase === undefined ? null : planOf(phase, probeRules);
      // Switched over the proxy's HTTP control API, as an operator would at run time.
      planChain = planChain
        .then(() => setRemotePlan(proxy.endpoint, plan))
        .catch((error: unknown) => {
          log(`could not switch the fault plan: ${String(error)}`);
        });
      return planChain;
    };
    // One crash at 60 % of the traffic; several spread over it (the full run has three).
    const crashCount = options.crash ? Math.max(1, options.crashCount ?? 1) : 0;
    const crashPoints = new Set(
      Array.from({ length: crashCount }, (_, i) =>
        Math.max(
          1,
          Math.floor(options.ops * (crashCount === 1 ? 0.6 : 0.25 + (0.55 * i) / (crashCount - 1))),
        ),
      ),
    );
    const crashes: BankReport['crashRestarts'] = [];
    let crashDone: Promise<void> = Promise.resolve();
    let crashError: unknown;
    const crash = (atOperation: number): void => {
      let open: () => void = () => undefined;
      ctx.gate = new Promise<void>((resolveGate) => {
        open = resolveGate;
      });
      crashDone = (async () => {
        paused = true;
        await applyPlan();
        log(
          `crash at operation ${atOperation}: kill -9 of DynamoDB Local and of the API, mid-traffic...`,
        );
        const before = running.users;
        const result = await crashAndRestart(proxy, running);
        running = result.restarted;
        dataDirs.add(running.dataDir);
        for (const owner of ['alice', 'bob', 'ops'] as const) {
          if (running.users[owner].sub !== before[owner].sub)
            throw new Error(`${owner} has another sub after the restart`);
        }
        ctx.apiUrl = running.apiUrl;
        ctx.users = running.users;
        // The gateway restarted too, on another port; its modes were kept with its state.
        ctx.gatewayUrl = running.stack.info.gatewayUrl;
        await setDestinationModes(ctx, destinations);
        crashes.push({
          atOperation,
          killedDynamodbPid: result.killed.dynamodbPid,
          killedApiPid: result.killed.apiPid,
          downMs: result.downMs,
        });
        log(
          `restarted on the same data in ${(result.downMs / 1000).toFixed(1)} s: API ${running.apiUrl}`,
        );
        paused = false;
        await applyPlan();
      })()
        .catch((error: unknown) => {
          crashError = error;
          ctx.issued = ctx.total; // no new operations: the run is over
        })
        .finally(() => {
          ctx.gate = null;
          open();
        });
    };
    ctx.milestone = (n) => {
      const index = Math.min(phases.length - 1, Math.floor((n - 1) / perPhase));
      if (index !== phaseIndex) {
        phaseIndex = index;
        ctx.phase = phases[index]?.label ?? 'unknown';
        phaseLog.push({ label: ctx.phase, at: performance.now() });
        log(
          `  operation ${n}/${options.ops} (${((performance.now() - trafficStarted) / 1000).toFixed(1)} s): phase ${ctx.phase}`,
        );
        void applyPlan();
      }
      if (crashPoints.has(n)) crash(n);
    };

    const setRules = (rules: FaultRule[]): Promise<void> => {
      probeRules = rules;
      return applyPlan();
    };
    let probes: ProbeResult[] = [];
    if (probeAccount !== null) {
      t = performance.now();
      probes = await runProbes(ctx, proxy, probeAccount, setRules);
      for (const p of probes)
        log(`  probe "${p.name}": ${p.ok ? 'ok' : 'UNEXPECTED'} — ${p.observed}`);
      lap('probes', t);
    }

    // ---- traffic ---------------------------------------------------------------------------
    t = performance.now();
    trafficStarted = t;
    const trafficStartedAt = Date.now();
    log(
      `traffic: ${options.ops} operations from ${hotCount} clients on ${hot.length} hot accounts (${Math.round(mix.transfer * 100)}% transfers, ${Math.round(mix.payout * 100)}% payouts) and ${dedicatedCount} clients on accounts of their own`,
    );
    let stopSampling = false;
    const clients: Array<Promise<void>> = [];
    for (let i = 0; i < hotCount; i++) {
      clients.push(
        hotClient(ctx, i + 1, hot, seededRandom(options.seed + 1000 + i), behaviour, mix),
      );
    }
    dedicated.forEach((account, i) => {
      clients.push(
        dedicatedClient(
          ctx,
          hotCount + i + 1,
          account,
          20_000,
          seededRandom(options.seed + 2000 + i),
          behaviour,
        ),
      );
    });
    const sampling = sampler(ctx, hot, seededRandom(options.seed + 3000), () => stopSampling);
    // The sequencer's backlog (committed, not yet sequenced), straight from the table.
    const backlog = { max: 0, maxAtSecond: 0, samples: [] as Array<[number, number]> };
    const monitoring = (async () => {
      while (!stopSampling) {
        if (ctx.gate === null) {
          const client = localDynamoDbClient(running.dynamodb);
          try {
            const pending = await countPending(client, allAccounts);
            const second = Math.round((performance.now() - trafficStarted) / 1000);
            backlog.samples.push([second, pending]);
            if (pending > backlog.max) {
              backlog.max = pending;
              backlog.maxAtSecond = second;
            }
          } catch {
            // The stack is restarting: next time.
          } finally {
            client.destroy();
          }
        }
        await sleep(2_000);
      }
    })();
    const probing =
      probeAccount === null ? Promise.resolve(null) : hangProbe(ctx, proxy, probeAccount, setRules);
    await Promise.all(clients);
    await crashDone;
    const hang = await probing;
    stopSampling = true;
    await sampling;
    await monitoring;
    if (crashError !== undefined) throw crashError;
    lap('traffic', t);
    const trafficEnded = performance.now();
    const trafficEndedAt = Date.now();
    const accountIds = allAccounts.map((account) => account.accountId);
    // The sequencer's promise: 5 s after the load stops, every movement of it has its line.
    const unplaced = (async () => {
      await sleep(SEQUENCED_WITHIN_MS - (Date.now() - trafficEndedAt));
      const client = localDynamoDbClient(running.dynamodb);
      try {
        return await unsequencedBefore(client, TABLE_NAME, accountIds, trafficEndedAt);
      } finally {
        client.destroy();
      }
    })();

    // ---- settle ----------------------------------------------------------------------------
    t = performance.now();
    paused = true;
    await applyPlan();
    const faultStats: FaultProxyStats = proxy.stats();
    const unresolved = ctx.ops.filter((op) => op.outcome === 'unresolved');
    if (unresolved.length > 0)
      log(
        `  ${unresolved.length} operations without a definitive answer: asking again with their keys, faults off`,
      );
    await Promise.all(unresolved.map((op) => resolve(ctx, op)));
    lap('settle', t);

    // ---- payouts: every one POSTED or VOIDED (before the fuzz: settling changes accounts) ----
    t = performance.now();
    const settlement = await waitPayoutsSettled(
      ctx,
      ctx.ops,
      (accountId) => fullHistory(ctx, accountId),
      180_000,
      log,
    );
    lap('payoutSettle', t);
    log(
      `payouts settled in ${(settlement.waitedMs / 1000).toFixed(1)} s: ${settlement.payouts.length - settlement.left.length}/${settlement.payouts.length} POSTED or VOIDED${settlement.left.length > 0 ? `, ${settlement.left.length} left: ${settlement.left.map((p) => `${p.transactionId} ${p.status}`).join(', ')}` : ''}`,
    );
    const gateway = await gatewayRecords(ctx);

    // ---- fuzz (background work meanwhile is told apart from what a refused request changed) ---
    let fuzz: FuzzResult | null = null;
    if (options.fuzz > 0) {
      t = performance.now();
      const alice =
        hot.find((a) => a.owner === 'alice') ?? dedicated.find((a) => a.owner === 'alice');
      const bob = hot.find((a) => a.owner === 'bob') ?? dedicated.find((a) => a.owner === 'bob');
      if (alice === undefined || bob === undefined)
        throw new Error('fuzz: need an account of alice and of bob');
      const reusable = ctx.ops.find(
        (op): op is Operation & { type: MovementType } =>
          op.outcome === 'committed' && op.account.role === 'hot' && op.type === 'WITHDRAWAL',
      );
      const page = (await getJson(ctx, `/accounts/${alice.accountId}/transactions?limit=3`)) as {
        nextCursor: string | null;
      };
      const client = localDynamoDbClient(running.dynamodb);
      try {
        log(`fuzz: ${options.fuzz} malformed requests over every route`);
        fuzz = await runFuzz(
          {
            apiUrl: ctx.apiUrl,
            users: ctx.users,
            accounts: { alice: alice.accountId, bob: bob.accountId },
            reusable:
              reusable === undefined
                ? null
                : {
                    accountId: reusable.account.accountId,
                    owner: reusable.account.owner,
                    type: reusable.type,
                    key: reusable.key,
                    amount: reusable.amount,
                  },
            cursor:
              page.nextCursor ?? Buffer.from(JSON.stringify({ before: 2 })).toString('base64url'),
            codes: contractErrorCodes(),
            routes: contractRoutes(),
            dynamodb: client,
            tableName: TABLE_NAME,
          },
          { requests: options.fuzz, seed: options.seed, log },
        );
      } finally {
        client.destroy();
      }
      lap('fuzz', t);
    }

    // ---- verify ----------------------------------------------------------------------------
    t = performance.now();
    await waitSequenced(ctx, allAccounts, Math.max(300_000, options.ops * 150));
    // From the end of the traffic (the fuzz ran meanwhile) to every entry placed.
    lap('sequencerCatchUp', trafficEnded);
    const states: AccountState[] = [];
    for (const account of allAccounts) {
      const entries = await fullHistory(ctx, account.accountId);
      const { balance, available, pending } = (await getJson(
        ctx,
        `/accounts/${account.accountId}/balance`,
      )) as { balance: number; available?: number; pending?: number };
      states.push({ account, balance, available, pending, entries });
    }
    const verdict = verify(ctx.ops, ctx.samples, states);
    const settled = verifySettlement(ctx.ops, states, settlement, gateway);
    const lagClient = localDynamoDbClient(running.dynamodb);
    let lags: Array<{ committedAt: number; lagMs: number }>;
    try {
      lags = await sequencerLags(lagClient, TABLE_NAME, accountIds, {
        from: trafficStartedAt,
        to: trafficEndedAt,
      });
    } finally {
      lagClient.destroy();
    }
    const lag = spread(lags.map((l) => l.lagMs));
    // Wall-clock bounds of each phase, to see which faults slow the sequencer.
    const wallOf = (at: number) => trafficStartedAt + (at - trafficStarted);
    const lagByPhase = phaseLog.map((p, i) => {
      const from = wallOf(p.at);
      const to = wallOf(phaseLog[i + 1]?.at ?? trafficEnded);
      const inPhase = lags.filter((l) => l.committedAt >= from && l.committedAt < to);
      return { label: p.label, ...spread(inPhase.map((l) => l.lagMs)) };
    });
    const late = await unplaced;
    const lateViolations: Violation[] = late.slice(0, 50).map((entry) => ({
      invariant: SEQUENCER_INVARIANT,
      detail: `${entry.type} ${entry.transactionId} committed during the load still has no statement line ${SEQUENCED_WITHIN_MS / 1000} s after it stopped (${late.length} such)`,
      accountId: entry.accountId,
    }));
    const payoutLatency = payoutLatencies(settlement.payouts, gateway);
    lap('verify', t);

    t = performance.now();
    const dynamodb = localDynamoDbClient(running.dynamodb);
    let audit: AuditResult;
    try {
      audit = await auditLedger(dynamodb, TABLE_NAME);
    } finally {
      dynamodb.destroy();
    }
    lap('audit', t);
    log(formatAudit(audit));

    // ---- report ----------------------------------------------------------------------------
    const violations = [
      ...ctx.violations,
      ...verdict.violations,
      ...settled.violations,
      ...lateViolations,
      ...(fuzz?.violations ?? []),
    ];
    const invariants: BankReport['invariants'] = {};
    for (const name of Object.values(INVARIANTS))
      invariants[name] = { checks: verdict.checks[name] ?? 0, violations: 0 };
    for (const name of Object.values(SETTLEMENT_INVARIANTS))
      invariants[name] = { checks: settled.checks[name] ?? 0, violations: 0 };
    invariants[SEQUENCER_INVARIANT] = { checks: lag.count, violations: 0 };
    for (const v of violations) {
      const entry = invariants[v.invariant] ?? { checks: 0, violations: 0 };
      entry.violations += 1;
      invariants[v.invariant] = entry;
    }
    if (fuzz !== null) {
      const name = 'fuzz: no 5xx, every refusal a contract 4xx naming the fault, state unchanged';
      invariants[name] = { checks: fuzz.requests, violations: fuzz.violations.length };
    }
    const auditName =
      'audit: every account adds up in the table (statement + pending, chain, markers)';
    invariants[auditName] = {
      checks: audit.accounts,
      violations: audit.drifting.length + audit.busy.length,
    };

    const counted = ctx.ops.filter((op) => op.phase !== 'setup');
    const countBy = (values: string[]): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const v of values) out[v] = (out[v] ?? 0) + 1;
      return out;
    };
    const answers = countBy(
      ctx.ops.flatMap((op) =>
        op.attempts.map((a) =>
          a.kind === 'response' ? `${String(a.status)}${a.code ? ` ${a.code}` : ''}` : a.kind,
        ),
      ),
    );
    const answerOf = (a: Operation['attempts'][number]): string =>
      a.kind === 'response' ? `${String(a.status)}${a.code ? ` ${a.code}` : ''}` : a.kind;
    const phaseStats: BankReport['phases'] = phaseLog.map((p, i) => {
      const phaseOps = ctx.ops.filter((op) => op.phase === p.label);
      const attempts = phaseOps.flatMap((op) => op.attempts);
      const total = attempts.reduce((sum, a) => sum + (a.endedAt - a.sentAt), 0);
      return {
        label: p.label,
        seconds: Math.round(((phaseLog[i + 1]?.at ?? trafficEnded) - p.at) / 100) / 10,
        operations: phaseOps.length,
        attempts: attempts.length,
        meanAttemptMs: attempts.length === 0 ? 0 : Math.round(total / attempts.length),
        answers: countBy(attempts.map(answerOf)),
      };
    });
    const findings: string[] = [];
    for (const p of probes) if (p.finding !== undefined) findings.push(p.finding);
    if (hang !== null && hang.sdkRetriesDuringHang === 0 && hang.upstreamStatus === 200) {
      findings.push(
        `No request timeout on the service's DynamoDB client (lib/persistence/dynamodb-client.ts): when a response is lost after DynamoDB committed, the SDK never retries within the invocation — ${hang.conclusion}. The money is safe (the client's retry with the same key was answered ${hang.finalOutcome}${hang.finalReplayed ? ', replayed' : ''}), but the caller waits out the Lambda timeout and gets a gateway error. Suggested: requestHandler: new NodeHttpHandler({ connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true }) (or socketTimeout: 2000), so 3 attempts fit in the 10 s Lambda timeout.`,
      );
    }
    const passed = violations.length === 0 && audit.ok && audit.busy.length === 0;
    const report: BankReport = {
      label: options.label,
      seed: options.seed,
      passed,
      startedAt,
      options: {
        label: options.label,
        ops: options.ops,
        clients: options.clients,
        hotAccounts: options.hotAccounts,
        dedicatedClients: dedicatedCount,
        seed: options.seed,
        faults: options.faults,
        crash: options.crash,
        crashCount: options.crash ? (options.crashCount ?? 1) : 0,
        hangProbe: options.hangProbe,
        fuzz: options.fuzz,
        behaviour,
        mix: { transfer: mix.transfer, payout: mix.payout },
      },
      durationsMs: durations,
      operations: {
        total: counted.length,
        byOutcome: countBy(counted.map((op) => op.outcome)),
        byType: countBy(counted.map((op) => op.type)),
        refusals: countBy(
          counted.filter((op) => op.refusal !== undefined).map((op) => op.refusal?.code ?? ''),
        ),
        keyReuses: counted.filter((op) => op.reuseOf !== undefined).length,
        clientAborts: ctx.ops.reduce(
          (n, op) => n + op.attempts.filter((a) => a.kind === 'aborted').length,
          0,
        ),
        concurrentDuplicates: counted.filter((op) =>
          op.attempts.some((a) => a.role === 'concurrent'),
        ).length,
        replays: ctx.ops.reduce(
          (n, op) => n + op.attempts.filter((a) => a.role === 'replay').length,
          0,
        ),
        retriedOperations: counted.filter((op) =>
          op.attempts.some((a) => a.role === 'retry' || a.role === 'final'),
        ).length,
        unresolvedButCommitted: verdict.unresolvedButCommitted,
      },
      accounts: { hot: hot.length, dedicated: dedicated.length + (probeAccount === null ? 0 : 1) },
      movements: {
        transfers: {
          total: counted.filter((op) => op.type === 'TRANSFER').length,
          byOutcome: countBy(
            counted.filter((op) => op.type === 'TRANSFER').map((op) => outcomeOf(op)),
          ),
          amountMoved: settled.totals.transfers,
        },
        payouts: {
          total: counted.filter((op) => op.type === 'PAYOUT').length,
          byOutcome: countBy(
            counted.filter((op) => op.type === 'PAYOUT').map((op) => outcomeOf(op)),
          ),
          ...settled.counts,
        },
        settleSeconds: Math.round(settlement.waitedMs / 100) / 10,
        money: settled.totals,
      },
      http: { requests: ctx.httpRequests, answers, balanceSamples: ctx.samples.length },
      faults: {
        injected: faultStats.injected,
        byOperation: faultStats.injectedByOperation,
        lostAfterCommit: faultStats.lostAfterCommit,
        sdkRetriesAfterLostResponse: faultStats.retriesAfterLostResponse,
        upstreamFailures: faultStats.upstreamFailures,
        dynamodbRequests: Object.values(faultStats.requests).reduce((a, b) => a + b, 0),
      },
      phases: phaseStats,
      sequencer: {
        maxBacklog: backlog.max,
        maxBacklogAtSecond: backlog.maxAtSecond,
        catchUpSeconds: Math.round((durations.sequencerCatchUp ?? 0) / 100) / 10,
        lag,
        lagByPhase,
        unplacedAfterLoad: late.length,
        committedPerSecond:
          Math.round(
            (counted.filter((op) => op.outcome === 'committed').length /
              Math.max(1, (durations.traffic ?? 1) / 1000)) *
              10,
          ) / 10,
      },
      payoutLatency,
      crashRestarts: crashes,
      hangProbe: hang,
      probes,
      invariants,
      violationCount: violations.length,
      violations: violations.slice(0, 200),
      histories: violations.slice(0, 5).map((violation) => ({
        violation,
        operations: historyAround(ctx.ops, violation),
      })),
      audit: {
        accounts: audit.accounts,
        statementLines: audit.statementLines,
        pendingEntries: audit.pendingEntries,
        markers: audit.markers,
        ok: audit.ok,
        drifting: audit.drifting.map((a) => ({
          accountId: a.accountId,
          problems: a.problems.slice(0, 20),
        })),
      },
      fuzz: fuzz === null ? null : { ...fuzz, violations: fuzz.violations.length },
      findings,
    };
    durations.total = Math.round(performance.now() - t0);
    report.reportFiles = writeReport(`bank-${options.label}`, report, formatReport(report));
    return report;
  } finally {
    if (active === cleanUp) active = null;
    await cleanUp();
  }
}

export function formatReport(r: BankReport): string {
  const kinds = FAULT_KINDS.map((k) => `${k} ${r.faults.injected[k]}`).join(', ');
  const lines = [
    `Bank run "${r.label}" (seed ${r.seed}): ${r.passed ? 'PASSED' : `FAILED — ${r.violationCount} violation(s)`}`,
    `  operations   ${r.operations.total} from ${r.options.clients} clients (${r.options.dedicatedClients ?? 0} alone on their account) on ${r.accounts.hot} hot + ${r.accounts.dedicated} dedicated accounts`,
    `               outcomes ${fmt(r.operations.byOutcome)}; ${fmt(r.operations.byType)}; refusals ${fmt(r.operations.refusals)}`,
    `               key reused with another amount ${r.operations.keyReuses}, client-side aborts ${r.operations.clientAborts}, concurrent duplicates ${r.operations.concurrentDuplicates}, replays ${r.operations.replays}, operations retried ${r.operations.retriedOperations} (${r.operations.unresolvedButCommitted} committed though never answered)`,
    `  transfers    ${r.movements.transfers.total} among the hot accounts: ${fmt(r.movements.transfers.byOutcome)}; ${r.movements.transfers.amountMoved} moved`,
    `  payouts      ${r.movements.payouts.total} requested: ${fmt(r.movements.payouts.byOutcome)}; ${r.movements.payouts.committed} held → POSTED ${r.movements.payouts.posted}, VOIDED ${r.movements.payouts.voided}, left PENDING ${r.movements.payouts.left} (settled ${r.movements.settleSeconds.toFixed(1)} s after the traffic)`,
    `               by destination mode: ${Object.entries(r.movements.payouts.byMode)
      .map(([mode, c]) => `${mode} (${fmt(c)})`)
      .join('; ')}`,
    `               gateway: ${r.movements.payouts.gateway.records} records, ${r.movements.payouts.gateway.executed} executed, ${r.movements.payouts.gateway.requests} requests, max executions per key ${r.movements.payouts.gateway.maxExecutions}`,
    `  money        Σ balances ${r.movements.money.balances} = opening ${r.movements.money.opening} + deposits ${r.movements.money.deposits} − withdrawals ${r.movements.money.withdrawals} − POSTED payouts ${r.movements.money.postedPayouts} = ${r.movements.money.expected}${r.movements.money.balances === r.movements.money.expected ? '' : ' — MISMATCH'}; Σ pending ${r.movements.money.pending}, Σ available ${r.movements.money.available}`,
    `  http         ${r.http.requests} requests, ${r.http.balanceSamples} balance samples; answers ${fmt(r.http.answers)}`,
    `  faults       ${kinds}`,
    `               lost after DynamoDB committed ${r.faults.lostAfterCommit} (SDK retries seen ${r.faults.sdkRetriesAfterLostResponse}); ${r.faults.dynamodbRequests} DynamoDB requests through the proxy`,
    `  crashes      ${r.crashRestarts.length === 0 ? 'none' : r.crashRestarts.map((c) => `kill -9 DynamoDB Local (${c.killedDynamodbPid}) + API (${c.killedApiPid}) at operation ${c.atOperation}, back in ${(c.downMs / 1000).toFixed(1)} s`).join('; ')}`,
  ];
  for (const p of r.phases) {
    lines.push(
      `  phase        ${p.label.padEnd(22)} ${String(p.operations).padStart(5)} ops in ${p.seconds.toFixed(1).padStart(6)} s, ${p.attempts} attempts (mean ${p.meanAttemptMs} ms): ${fmt(p.answers)}`,
    );
  }
  lines.push(
    `  sequencer    backlog up to ${r.sequencer.maxBacklog} committed-but-unsequenced entries (at ${r.sequencer.maxBacklogAtSecond} s), caught up ${r.sequencer.catchUpSeconds} s after the traffic; ${r.sequencer.committedPerSecond} movements/s committed`,
    `               commit → statement line during the load: ${fmtSpread(r.sequencer.lag)}; without a line ${SEQUENCED_WITHIN_MS / 1000} s after the load: ${r.sequencer.unplacedAfterLoad}`,
    ...r.sequencer.lagByPhase.map(
      (p) => `               lag in phase ${p.label.padEnd(22)} ${fmtSpread(p)}`,
    ),
    `  dispatcher   hold → gateway ${fmtSpread(r.payoutLatency.holdToDispatch)}; hold → POSTED/VOIDED ${fmtSpread(r.payoutLatency.holdToSettled)}`,
  );
  if (r.hangProbe !== null) {
    lines.push(
      `  lost-response hang probe: first answer ${String(r.hangProbe.firstStatus)} after ${(r.hangProbe.firstAnsweredAfterMs / 1000).toFixed(1)} s; SDK retries ${r.hangProbe.sdkRetriesDuringHang}; retry with the key: ${r.hangProbe.finalOutcome}${r.hangProbe.finalReplayed ? ' (replayed)' : ''}`,
    );
  }
  for (const p of r.probes) {
    lines.push(
      `  probe        ${p.ok ? 'ok  ' : 'FAIL'} ${p.name} [${p.fault}, injected ${p.injected}]: ${p.observed}`,
    );
  }
  if (r.fuzz !== null) {
    lines.push(
      `  fuzz         ${r.fuzz.requests} requests (seed ${r.fuzz.seed}), statuses ${fmt(r.fuzz.byStatus)}, violations ${r.fuzz.violations}, state unchanged: ${r.fuzz.stateUnchanged ? 'yes' : 'NO'}, slow (sent twice) ${r.fuzz.slowOrFailed}`,
    );
    lines.push(
      `               by route: ${fmt(r.fuzz.byRoute)}`,
      `               refused by serverless-offline's HTTP layer before the service (not held against it): ${fmt(r.fuzz.emulatorRefusals) || 'none'}`,
    );
  }
  lines.push(
    `  audit        ${r.audit.accounts} accounts, ${r.audit.statementLines} lines, ${r.audit.pendingEntries} pending, ${r.audit.markers} markers: ${r.audit.ok ? 'no drift' : `${r.audit.drifting.length} drifting`}`,
  );
  lines.push('  invariants');
  for (const [name, v] of Object.entries(r.invariants)) {
    lines.push(
      `    ${v.violations === 0 ? 'ok  ' : 'FAIL'} ${name}: ${v.checks} checks, ${v.violations} violations`,
    );
  }
  if (r.violations.length > 0) {
    lines.push(`  violations (${r.violationCount}, first ${Math.min(30, r.violations.length)}):`);
    for (const v of r.violations.slice(0, 30)) {
      lines.push(
        `    - [${v.invariant}] ${v.detail}${v.accountId ? ` (account ${v.accountId}${v.key ? `, key ${v.key}` : ''})` : ''}`,
      );
    }
  }
  for (const { violation, operations } of r.histories) {
    if (operations.length === 0) continue;
    lines.push(`  history around [${violation.invariant}] ${violation.detail}:`);
    for (const line of operations) lines.push(`    ${line}`);
  }
  for (const finding of r.findings) lines.push(`  FINDING: ${finding}`);
  lines.push(
    `  durations    ${Object.entries(r.durationsMs)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
      .join(', ')}`,
  );
  if (r.reportFiles) lines.push(`  report       ${r.reportFiles.json}`);
  return `${lines.join('\n')}\n`;
}

/** An operation's outcome, a refusal by its code. */
function outcomeOf(op: Operation): string {
  return op.outcome === 'refused' ? (op.refusal?.code ?? 'refused') : op.outcome;
}

function fmtSpread(s: Spread): string {
  return `p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms (n=${s.count})`;
}

function fmt(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

export type { Operation };
