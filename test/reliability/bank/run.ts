/**
 * A bank run: the local stack behind the fault proxy, hot accounts hammered by concurrent
 * clients through the HTTP API while faults are switched phase by phase, a crash (kill -9 of
 * DynamoDB Local and of the API) and restart in the middle, a probe of a response lost after
 * DynamoDB committed, then the invariants, the table audit and the fuzzer, and a report.
 * Besides withdrawals and deposits, the hot clients transfer among the hot accounts and request
 * payouts to the simulated gateway's destinations (succeed, refuse, lose, timeout); after the
 * traffic the run waits until every payout is POSTED or VOIDED, then checks them against the
 * gateway's records and money against what the service answered. Some accounts have withdrawal
 * limits their traffic reaches (limits.ts): no day's outgoing total may pass them, checked before
 * and after the operator's reversals.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { auditLedger, formatAudit, type AuditResult } from '../../../lib/audit/ledger-audit';
import { REPORT_DIR, writeReport } from '../../../lib/audit/report';
import type { HistoryPage, LedgerEntry } from '../../../lib/wire/types';
import { pendingPartitions } from '../../../lib/persistence/keys';
import { localDynamoDbClient } from '../../../local/dynamodb-local';
import { sleep } from '../../../local/wait';
import {
  seededRandom,
  startFaultProxy,
  type FaultProxy,
  type FaultProxyStats,
} from '../fault-proxy';
import {
  answerOf,
  buildReport,
  countBy,
  formatReport,
  SEQUENCED_WITHIN_MS,
  SEQUENCER_INVARIANT,
  type BankReport,
  type ReportedOptions,
  type RunRecord,
} from './bank-report';
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
import { FAULT_PHASES, NO_FAULT_PHASES } from './faults';
import { runFuzz, type FuzzResult } from './fuzz';
import { call, callUntil } from './http';
import { fullHistory, getJson } from './reads';
import {
  HOT_ACCOUNT_FEES,
  reversalLinks,
  reversible,
  reverseSample,
  setFees,
  type ReversalRun,
} from './ledger-ops';
import { payoutLatencies, sequencerLags, spread, unsequencedBefore } from './lag';
import {
  limitCounters,
  limitsToSet,
  readLimits,
  setLimits,
  verifyLimits,
  type LimitsEvidence,
  type LimitsVerdict,
} from './limits';
import type { BankAccount, SingleAccountMovement, Operation, Owner, Violation } from './model';
import {
  gatewayRecords,
  runDestinations,
  setDestinationModes,
  verifySettlement,
  waitPayoutsSettled,
  type GatewayRecord,
  type Settlement,
} from './payouts';
import { hangProbe, runProbes, type HangProbe, type ProbeResult } from './probes';
import { Crashes, crashPoints, FaultSwitch } from './schedule';
import { startProxiedStack, type ProxiedStack } from './stack';
import { verify, type AccountState } from './verify';

export const TABLE_NAME = 'money-movement-local';
/** Movements an operator reverses after the traffic (half in part, half in full). */
const REVERSED_MOVEMENTS = 16;

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

/** Stops the stack of a run in progress (Ctrl-C): it runs detached and would outlive us. */
let active: (() => Promise<void>) | null = null;
export async function stopActiveRun(): Promise<void> {
  const stop = active;
  active = null;
  await stop?.();
}

/** A run in progress: its stack (replaced at each crash-restart) and its clients' context. */
interface Run {
  options: BankOptions;
  reported: ReportedOptions;
  log: (line: string) => void;
  durations: Record<string, number>;
  proxy: FaultProxy;
  running: ProxiedStack;
  /** Every data dir the run's stacks used, removed at the end. */
  dataDirs: Set<string>;
  ctx: RunContext;
  behaviour: Behaviour;
  mix: Mix;
  destinations: Mix['destinations'];
  dedicatedCount: number;
  hotCount: number;
}

interface Accounts {
  hot: BankAccount[];
  dedicated: BankAccount[];
  /** The hang probe's own account, when the probes run. */
  probe: BankAccount | null;
  all: BankAccount[];
}

/** The traffic's bounds, on both clocks (performance.now() and the wall clock). */
interface Traffic {
  started: number;
  startedAt: number;
  ended: number;
  endedAt: number;
  hang: HangProbe | null;
  backlog: { max: number; maxAtSecond: number };
}

/** Times `step` under `name` in the run's durations. */
async function timed<T>(run: Run, name: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await step();
  } finally {
    run.durations[name] = Math.round(performance.now() - started);
  }
}

export async function runBank(options: BankOptions): Promise<BankReport> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const run = await startRun(options);
  const cleanUp = () => cleanUpRun(run);
  active = cleanUp;
  try {
    const accounts = await timed(run, 'setup', () => openAccounts(run));
    const faults = new FaultSwitch(
      options.faults ? FAULT_PHASES : NO_FAULT_PHASES,
      run.proxy.endpoint,
      run.log,
    );
    const crashes = new Crashes(run, faults);
    const probes = await probeLostResponses(run, accounts, faults);
    const traffic = await timed(run, 'traffic', () => driveTraffic(run, accounts, faults, crashes));
    const unplaced = unplacedAfterLoad(run, accounts, traffic);
    const faultStats = await timed(run, 'settle', () => settleUnresolved(run, faults));
    const { settlement, gateway } = await timed(run, 'payoutSettle', () => settlePayouts(run));
    const fuzz = await fuzzEveryRoute(run, accounts);
    const { limitsBeforeReversals, ...checked } = await timed(run, 'verify', () =>
      verifyRun(run, accounts, traffic, { settlement, gateway, unplaced }, faults),
    );
    const reversals = await timed(run, 'reversals', () =>
      reverseAfterTraffic(run, accounts, settlement),
    );
    // At the end, the operator's reversals included: what they gave back, the same day.
    const limitsAtEnd = await timed(run, 'limits', () => checkLimits(run, accounts.all));
    logLimits(run, limitsAtEnd);
    const audit = await timed(run, 'audit', () => auditTable(run));
    const record: RunRecord = {
      options: run.reported,
      startedAt,
      durations: run.durations,
      ctx: run.ctx,
      accounts: {
        hot: accounts.hot.length,
        dedicated: accounts.dedicated.length + (accounts.probe === null ? 0 : 1),
      },
      ...checked,
      settlement,
      faultStats,
      crashRestarts: crashes.restarts,
      hangProbe: traffic.hang,
      probes,
      audit,
      fuzz,
      reversals,
      limits: { beforeReversals: limitsBeforeReversals, atEnd: limitsAtEnd },
    };
    const report = buildReport(record);
    run.durations.total = Math.round(performance.now() - started);
    report.reportFiles = writeReport(`bank-${options.label}`, report, formatReport(report));
    return report;
  } finally {
    if (active === cleanUp) active = null;
    await cleanUp();
  }
}

// ---- the stack, the run's context ----------------------------------------------------------------

async function startRun(options: BankOptions): Promise<Run> {
  const log = options.log ?? ((line: string) => console.log(line));
  const durations: Record<string, number> = {};
  const proxy = await startFaultProxy({ seed: options.seed });
  log(`fault proxy on ${proxy.endpoint}; starting the local stack behind it...`);
  const stackStarted = performance.now();
  let running: ProxiedStack;
  try {
    running = await startProxiedStack(proxy);
  } catch (error) {
    await proxy.stop();
    throw error;
  }
  durations.stackStart = Math.round(performance.now() - stackStarted);
  log(
    `stack up in ${durations.stackStart / 1000} s: API ${running.apiUrl}, DynamoDB Local ${running.dynamodb}, data ${running.dataDir}`,
  );
  const dedicatedCount = options.dedicatedClients ?? Math.max(2, Math.round(options.clients / 8));
  const runId = `bank-${options.seed}-${randomBytes(3).toString('hex')}`;
  const destinations = runDestinations(runId);
  const behaviour = options.behaviour ?? {
    abort: 0.06,
    concurrent: 0.03,
    replay: 0.08,
    reuse: 0.03,
  };
  const mix: Mix = {
    transfer: options.mix?.transfer ?? 0.15,
    payout: options.mix?.payout ?? 0.1,
    destinations,
  };
  return {
    options,
    reported: reportedOptions(options, dedicatedCount, behaviour, mix),
    log,
    durations,
    proxy,
    running,
    dataDirs: new Set([running.dataDir]),
    ctx: runContext(options, running, runId),
    behaviour,
    mix,
    destinations,
    dedicatedCount,
    hotCount: Math.max(1, options.clients - dedicatedCount),
  };
}

function runContext(options: BankOptions, running: ProxiedStack, runId: string): RunContext {
  return {
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
    feeSchedules: new Map(),
    accountLimits: new Map(),
  };
}

function reportedOptions(
  options: BankOptions,
  dedicatedCount: number,
  behaviour: Behaviour,
  mix: Mix,
): ReportedOptions {
  return {
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
  };
}

/** Stops the stack and the proxy; the stack's own log is kept beside the report. */
async function cleanUpRun(run: Run): Promise<void> {
  await run.running.stack.stop().catch(() => undefined);
  await run.proxy.stop();
  for (const dir of run.dataDirs) {
    const stackLog = path.join(dir, 'stack.log');
    if (existsSync(stackLog)) {
      mkdirSync(REPORT_DIR, { recursive: true });
      const kept = `bank-${run.options.label}-stack-${path.basename(dir)}.log`;
      copyFileSync(stackLog, path.join(REPORT_DIR, kept));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- accounts -------------------------------------------------------------------------------

function openAccount(ctx: RunContext, owner: Owner): Promise<string> {
  return callUntil(
    `opening an account for ${owner}`,
    () =>
      call(ctx.apiUrl, 'POST', '/accounts', {
        token: ctx.users.ops.token,
        body: { ownerId: ctx.users[owner].sub, currency: 'USD' },
      }),
    (answer) => {
      const id = (answer.json as { accountId?: unknown } | undefined)?.accountId;
      return answer.status === 201 && typeof id === 'string' ? id : undefined;
    },
    20,
  );
}

async function openAccountsOf(
  ctx: RunContext,
  count: number,
  role: BankAccount['role'],
  prefix: string,
): Promise<BankAccount[]> {
  const owners: Owner[] = ['alice', 'bob'];
  const accounts: BankAccount[] = [];
  for (let i = 0; i < count; i++) {
    const owner = owners[i % 2] ?? 'alice';
    accounts.push({
      accountId: await openAccount(ctx, owner),
      owner,
      role,
      label: `${prefix}-${i + 1}`,
    });
  }
  return accounts;
}

async function openingDeposit(run: Run, account: BankAccount, amount: number): Promise<void> {
  const key = `${run.ctx.runId}-open-${account.label}`;
  const op = standaloneOperation(run.ctx, account, 'DEPOSIT', amount, key);
  await execute(run.ctx, op, {});
  if (op.outcome !== 'committed')
    throw new Error(`opening deposit on ${account.label}: ${op.outcome}`);
}

/** The hot accounts, one per dedicated client, the hang probe's; each funded. */
async function openAccounts(run: Run): Promise<Accounts> {
  const { ctx, options } = run;
  const hot = await openAccountsOf(ctx, options.hotAccounts, 'hot', 'hot');
  const dedicated = await openAccountsOf(ctx, run.dedicatedCount, 'dedicated', 'solo');
  const probe: BankAccount | null =
    options.hangProbe && options.faults
      ? {
          accountId: await openAccount(ctx, 'alice'),
          owner: 'alice',
          role: 'dedicated',
          label: 'hang-probe',
        }
      : null;
  await setDestinationModes(ctx, run.destinations);
  for (const account of hot) await openingDeposit(run, account, 50_000);
  // The hot accounts pay fees on withdrawals and payouts; the dedicated ones keep exact models.
  for (const account of hot) await setFees(ctx, account, HOT_ACCOUNT_FEES);
  // Some accounts get limits their traffic reaches: the others keep the defaults.
  for (const [account, limits] of limitsToSet(hot, dedicated, options.ops)) {
    await setLimits(ctx, account, limits);
  }
  for (const account of dedicated) await openingDeposit(run, account, 20_000);
  if (probe !== null) await openingDeposit(run, probe, 10_000);
  return { hot, dedicated, probe, all: [...hot, ...dedicated, ...(probe === null ? [] : [probe])] };
}

// ---- probes, traffic ---------------------------------------------------------------------------

async function probeLostResponses(
  run: Run,
  accounts: Accounts,
  faults: FaultSwitch,
): Promise<ProbeResult[]> {
  const account = accounts.probe;
  if (account === null) return [];
  return timed(run, 'probes', async () => {
    const probes = await runProbes(run.ctx, run.proxy, account, faults.setRules);
    for (const p of probes)
      run.log(`  probe "${p.name}": ${p.ok ? 'ok' : 'UNEXPECTED'} — ${p.observed}`);
    return probes;
  });
}

/** The hot clients, the dedicated ones, the balance sampler and the backlog monitor, together. */
async function driveTraffic(
  run: Run,
  accounts: Accounts,
  faults: FaultSwitch,
  crashes: Crashes,
): Promise<Traffic> {
  const { ctx, options, log } = run;
  const started = performance.now();
  const startedAt = Date.now();
  const crashAt = crashPoints(
    options.ops,
    options.crash ? Math.max(1, options.crashCount ?? 1) : 0,
  );
  ctx.milestone = (n) => {
    const phase = faults.enter(n, options.ops);
    if (phase !== undefined) {
      ctx.phase = phase;
      log(
        `  operation ${n}/${options.ops} (${((performance.now() - started) / 1000).toFixed(1)} s): phase ${phase}`,
      );
    }
    if (crashAt.has(n)) crashes.crash(n);
  };
  log(
    `traffic: ${options.ops} operations from ${run.hotCount} clients on ${accounts.hot.length} hot accounts (${Math.round(run.mix.transfer * 100)}% transfers, ${Math.round(run.mix.payout * 100)}% payouts) and ${run.dedicatedCount} clients on accounts of their own`,
  );
  let stop = false;
  const clients = startClients(run, accounts);
  const sampling = sampler(ctx, accounts.hot, seededRandom(options.seed + 3000), () => stop);
  const backlog = { max: 0, maxAtSecond: 0 };
  const monitoring = monitorBacklog(run, accounts.all, started, backlog, () => stop);
  const probing =
    accounts.probe === null
      ? Promise.resolve(null)
      : hangProbe(ctx, run.proxy, accounts.probe, faults.setRules);
  await Promise.all(clients);
  const crashError = await crashes.over();
  const hang = await probing;
  stop = true;
  await sampling;
  await monitoring;
  if (crashError !== undefined) throw crashError;
  return { started, startedAt, ended: performance.now(), endedAt: Date.now(), hang, backlog };
}

function startClients(run: Run, accounts: Accounts): Array<Promise<void>> {
  const { ctx, options, behaviour } = run;
  const clients: Array<Promise<void>> = [];
  for (let i = 0; i < run.hotCount; i++) {
    const random = seededRandom(options.seed + 1000 + i);
    clients.push(hotClient(ctx, i + 1, accounts.hot, random, behaviour, run.mix));
  }
  accounts.dedicated.forEach((account, i) => {
    const random = seededRandom(options.seed + 2000 + i);
    clients.push(dedicatedClient(ctx, run.hotCount + i + 1, account, 20_000, random, behaviour));
  });
  return clients;
}

/** The sequencer's backlog (committed, not yet sequenced), straight from the table, every 2 s. */
async function monitorBacklog(
  run: Run,
  accounts: BankAccount[],
  trafficStarted: number,
  backlog: Traffic['backlog'],
  stop: () => boolean,
): Promise<void> {
  while (!stop()) {
    if (run.ctx.gate === null) {
      const client = localDynamoDbClient(run.running.dynamodb);
      try {
        const pending = await countPending(client, accounts);
        const second = Math.round((performance.now() - trafficStarted) / 1000);
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

/** Runs `read` with a client of the current stack's DynamoDB Local. */
async function withTable<T>(run: Run, read: (client: DynamoDBClient) => Promise<T>): Promise<T> {
  const client = localDynamoDbClient(run.running.dynamodb);
  try {
    return await read(client);
  } finally {
    client.destroy();
  }
}

// ---- after the traffic ----------------------------------------------------------------------

/** The sequencer's promise: SEQUENCED_WITHIN_MS after the load stops, every movement has its line. */
async function unplacedAfterLoad(run: Run, accounts: Accounts, traffic: Traffic) {
  await sleep(SEQUENCED_WITHIN_MS - (Date.now() - traffic.endedAt));
  const accountIds = accounts.all.map((account) => account.accountId);
  return withTable(run, (client) =>
    unsequencedBefore(client, TABLE_NAME, accountIds, traffic.endedAt),
  );
}

/** Faults off; every operation left without a definitive answer asked again with its key. */
async function settleUnresolved(run: Run, faults: FaultSwitch): Promise<FaultProxyStats> {
  await faults.pause();
  const stats = run.proxy.stats();
  const unresolved = run.ctx.ops.filter((op) => op.outcome === 'unresolved');
  if (unresolved.length > 0)
    run.log(
      `  ${unresolved.length} operations without a definitive answer: asking again with their keys, faults off`,
    );
  await Promise.all(unresolved.map((op) => resolve(run.ctx, op)));
  return stats;
}

/** Every payout POSTED or VOIDED (before the fuzz: settling changes accounts). */
async function settlePayouts(
  run: Run,
): Promise<{ settlement: Settlement; gateway: GatewayRecord[] }> {
  const { ctx } = run;
  const history = (accountId: string) => fullHistory(ctx, accountId);
  const settlement = await waitPayoutsSettled(ctx, ctx.ops, history, 180_000, run.log);
  const { payouts, left } = settlement;
  const leftOver =
    left.length === 0
      ? ''
      : `, ${left.length} left: ${left.map((p) => `${p.transactionId} ${p.status}`).join(', ')}`;
  run.log(
    `payouts settled in ${(settlement.waitedMs / 1000).toFixed(1)} s: ${payouts.length - left.length}/${payouts.length} POSTED or VOIDED${leftOver}`,
  );
  return { settlement, gateway: await gatewayRecords(ctx) };
}

/** Malformed requests over every route (background work meanwhile is told apart). */
async function fuzzEveryRoute(run: Run, accounts: Accounts): Promise<FuzzResult | null> {
  const { ctx, options } = run;
  if (options.fuzz <= 0) return null;
  return timed(run, 'fuzz', async () => {
    const ofOwner = (owner: Owner) =>
      accounts.hot.find((a) => a.owner === owner) ??
      accounts.dedicated.find((a) => a.owner === owner);
    const alice = ofOwner('alice');
    const bob = ofOwner('bob');
    if (alice === undefined || bob === undefined)
      throw new Error('fuzz: need an account of alice and of bob');
    const page = (await getJson(ctx, `/accounts/${alice.accountId}/transactions?limit=3`)) as {
      nextCursor: string | null;
    };
    run.log(`fuzz: ${options.fuzz} malformed requests over every route`);
    return withTable(run, (dynamodb) =>
      runFuzz(
        {
          apiUrl: ctx.apiUrl,
          users: ctx.users,
          accounts: { alice: alice.accountId, bob: bob.accountId },
          reusable: reusableKey(ctx.ops),
          cursor:
            page.nextCursor ?? Buffer.from(JSON.stringify({ before: 2 })).toString('base64url'),
          codes: contractErrorCodes(),
          routes: contractRoutes(),
          dynamodb,
          tableName: TABLE_NAME,
        },
        { requests: options.fuzz, seed: options.seed, log: run.log },
      ),
    );
  });
}

/** A withdrawal key that moved money on a hot account, for the fuzzer to send again. */
function reusableKey(ops: Operation[]) {
  const op = ops.find(
    (o): o is Operation & { type: SingleAccountMovement } =>
      o.outcome === 'committed' && o.account.role === 'hot' && o.type === 'WITHDRAWAL',
  );
  if (op === undefined) return null;
  const { accountId, owner } = op.account;
  return { accountId, owner, type: op.type, key: op.key, amount: op.amount };
}

/** Polls every account's history until no entry has balanceAfter null (the sequencer caught up). */
async function waitSequenced(
  ctx: RunContext,
  accounts: BankAccount[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waiting = [...accounts];
  for (;;) {
    const still: BankAccount[] = [];
    for (const account of waiting) {
      const page = (await getJson(
        ctx,
        `/accounts/${account.accountId}/transactions?limit=100`,
      )) as HistoryPage;
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

/** Each account's ledger and balances as the API gives them once every entry is placed. */
async function accountStates(ctx: RunContext, accounts: BankAccount[]): Promise<AccountState[]> {
  const states: AccountState[] = [];
  for (const account of accounts) {
    const entries = await fullHistory(ctx, account.accountId);
    const { balance, available, pending } = (await getJson(
      ctx,
      `/accounts/${account.accountId}/balance`,
    )) as { balance: number; available?: number; pending?: number };
    states.push({ account, balance, available, pending, entries });
  }
  return states;
}

/** The invariants, the payouts against the gateway, the sequencer's lag. */
async function verifyRun(
  run: Run,
  accounts: Accounts,
  traffic: Traffic,
  after: {
    settlement: Settlement;
    gateway: GatewayRecord[];
    unplaced: Promise<Awaited<ReturnType<typeof unsequencedBefore>>>;
  },
  faults: FaultSwitch,
): Promise<
  Pick<
    RunRecord,
    'verdict' | 'settled' | 'lateViolations' | 'late' | 'phases' | 'sequencer' | 'payoutLatency'
  > & { limitsBeforeReversals: LimitsVerdict }
> {
  const { ctx, options } = run;
  await waitSequenced(ctx, accounts.all, Math.max(300_000, options.ops * 150));
  // From the end of the traffic (the fuzz ran meanwhile) to every entry placed.
  run.durations.sequencerCatchUp = Math.round(performance.now() - traffic.ended);
  const states = await accountStates(ctx, accounts.all);
  const late = await after.unplaced;
  const entriesOf = new Map(states.map((s) => [s.account.accountId, s.entries]));
  return {
    limitsBeforeReversals: await checkLimits(run, accounts.all, entriesOf),
    verdict: verify(ctx.ops, ctx.samples, states),
    settled: verifySettlement(ctx.ops, states, after.settlement, after.gateway),
    lateViolations: lateViolations(late),
    late: late.length,
    phases: phaseStats(ctx, faults.phaseLog, traffic.ended),
    sequencer: await sequencerLag(run, accounts, traffic, faults.phaseLog),
    payoutLatency: payoutLatencies(after.settlement.payouts, after.gateway),
  };
}

function lateViolations(late: Awaited<ReturnType<typeof unsequencedBefore>>): Violation[] {
  return late.slice(0, 50).map((entry) => ({
    invariant: SEQUENCER_INVARIANT,
    detail: `${entry.type} ${entry.transactionId} committed during the load still has no statement line ${SEQUENCED_WITHIN_MS / 1000} s after it stopped (${late.length} such)`,
    accountId: entry.accountId,
  }));
}

/** Commit to statement line during the load, overall and by phase (which faults slow it). */
async function sequencerLag(
  run: Run,
  accounts: Accounts,
  traffic: Traffic,
  phaseLog: FaultSwitch['phaseLog'],
): Promise<RunRecord['sequencer']> {
  const accountIds = accounts.all.map((account) => account.accountId);
  const lags = await withTable(run, (client) =>
    sequencerLags(client, TABLE_NAME, accountIds, { from: traffic.startedAt, to: traffic.endedAt }),
  );
  const wallOf = (at: number) => traffic.startedAt + (at - traffic.started);
  const lagByPhase = phaseLog.map((p, i) => {
    const from = wallOf(p.at);
    const to = wallOf(phaseLog[i + 1]?.at ?? traffic.ended);
    const inPhase = lags.filter((l) => l.committedAt >= from && l.committedAt < to);
    return { label: p.label, ...spread(inPhase.map((l) => l.lagMs)) };
  });
  return {
    maxBacklog: traffic.backlog.max,
    maxBacklogAtSecond: traffic.backlog.maxAtSecond,
    catchUpSeconds: Math.round((run.durations.sequencerCatchUp ?? 0) / 100) / 10,
    lag: spread(lags.map((l) => l.lagMs)),
    lagByPhase,
  };
}

/** Each phase's operations, attempts and answers. */
function phaseStats(
  ctx: RunContext,
  phaseLog: FaultSwitch['phaseLog'],
  trafficEnded: number,
): BankReport['phases'] {
  return phaseLog.map((p, i) => {
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
}

/** Reversals of committed movements by an operator once verified; then their links, placed. */
async function reverseAfterTraffic(
  run: Run,
  accounts: Accounts,
  settlement: Settlement,
): Promise<ReversalRun> {
  const posted = new Set(
    settlement.payouts.filter((p) => p.status === 'POSTED').map((p) => p.op.id),
  );
  const candidates = reversible(run.ctx.ops, posted);
  const done = await reverseSample(run.ctx, candidates, REVERSED_MOVEMENTS);
  await waitSequenced(run.ctx, accounts.all, 120_000);
  const links = await reversalLinks(run.ctx, accounts.all, done.reversedOf);
  run.log(
    `reversals: ${done.committed} committed over ${done.originals} movements, answers ${JSON.stringify(done.answers)}`,
  );
  return {
    ...done,
    violations: [...done.violations, ...links.violations],
    checks: done.checks + links.checks,
  };
}

/**
 * The limits invariants on every account (limits.ts): its statement (read again unless given),
 * its limits and today's use as GET .../limits answers, and its day counters in the table.
 */
async function checkLimits(
  run: Run,
  accounts: BankAccount[],
  entriesOf?: Map<string, LedgerEntry[]>,
): Promise<LimitsVerdict> {
  const evidence: LimitsEvidence[] = [];
  for (const account of accounts) {
    const { accountId } = account;
    evidence.push({
      account,
      entries: entriesOf?.get(accountId) ?? (await fullHistory(run.ctx, accountId)),
      read: await readLimits(run.ctx, accountId),
      counters: await withTable(run, (client) => limitCounters(client, TABLE_NAME, accountId)),
    });
  }
  return verifyLimits(run.ctx.ops, evidence, run.ctx.accountLimits);
}

function logLimits(run: Run, verdict: LimitsVerdict): void {
  for (const a of verdict.accounts) {
    run.log(
      `limits of ${a.label}: daily ${a.limits.daily}, per movement ${a.limits.perMovement}, ${a.limits.timezone}; LIMIT_EXCEEDED daily ${a.refused.daily}, per movement ${a.refused.perMovement}; used ${a.usedToday} on ${a.day}`,
    );
  }
}

async function auditTable(run: Run): Promise<AuditResult> {
  const audit = await withTable(run, (client) => auditLedger(client, TABLE_NAME));
  run.log(formatAudit(audit));
  return audit;
}
