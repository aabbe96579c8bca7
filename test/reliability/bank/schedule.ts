/**
 * What happens when during a bank run's traffic: the fault phases, switched over the fault
 * proxy's control API as the operations are handed out (as an operator would at run time), and
 * the crash-restarts at the operations chosen for them.
 */
import { performance } from 'node:perf_hooks';
import { setRemotePlan, type FaultProxy, type FaultRule } from '../fault-proxy';
import type { BankReport } from './bank-report';
import type { RunContext } from './clients';
import { planOf, type Phase } from './faults';
import type { PayoutDestination } from './model';
import { setDestinationModes } from './payouts';
import { crashAndRestart, type ProxiedStack } from './stack';

type Log = (line: string) => void;

/** The fault plan in force: the phase's rules and a probe's, none while paused. */
export class FaultSwitch {
  private phaseIndex = -1;
  private paused = false;
  private probeRules: FaultRule[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** When each phase began (performance.now()). */
  readonly phaseLog: Array<{ label: string; at: number }> = [];

  constructor(
    private readonly phases: Phase[],
    private readonly proxyEndpoint: string,
    private readonly log: Log,
  ) {}

  /** Sends the plan to the proxy, after any switch still under way. */
  apply(): Promise<void> {
    const phase = this.phases[Math.max(0, this.phaseIndex)] ?? this.phases[0];
    const plan = this.paused || phase === undefined ? null : planOf(phase, this.probeRules);
    this.chain = this.chain
      .then(() => setRemotePlan(this.proxyEndpoint, plan))
      .catch((error: unknown) => this.log(`could not switch the fault plan: ${String(error)}`));
    return this.chain;
  }

  pause(): Promise<void> {
    this.paused = true;
    return this.apply();
  }

  resume(): Promise<void> {
    this.paused = false;
    return this.apply();
  }

  /** A probe's own rules, on top of the phase's. */
  readonly setRules = (rules: FaultRule[]): Promise<void> => {
    this.probeRules = rules;
    return this.apply();
  };

  /**
   * Operation `n` of `total` is handed out: the operations are split evenly among the phases.
   * Returns the phase's label when `n` begins a new one.
   */
  enter(n: number, total: number): string | undefined {
    const perPhase = Math.ceil(total / this.phases.length);
    const index = Math.min(this.phases.length - 1, Math.floor((n - 1) / perPhase));
    if (index === this.phaseIndex) return undefined;
    this.phaseIndex = index;
    const label = this.phases[index]?.label ?? 'unknown';
    this.phaseLog.push({ label, at: performance.now() });
    void this.apply();
    return label;
  }
}

/** One crash at 60 % of the traffic; several spread over it (the full run has three). */
export function crashPoints(ops: number, count: number): Set<number> {
  return new Set(
    Array.from({ length: count }, (_, i) =>
      Math.max(1, Math.floor(ops * (count === 1 ? 0.6 : 0.25 + (0.55 * i) / (count - 1)))),
    ),
  );
}

/** What a crash-restart changes: the stack, and where the clients reach it. */
export interface CrashTarget {
  ctx: RunContext;
  proxy: FaultProxy;
  running: ProxiedStack;
  dataDirs: Set<string>;
  destinations: PayoutDestination[];
  log: Log;
}

/** kill -9 of DynamoDB Local and of the API mid-traffic, and the stack back on the same data. */
export class Crashes {
  readonly restarts: BankReport['crashRestarts'] = [];
  private done: Promise<void> = Promise.resolve();
  private error: unknown;

  constructor(
    private readonly target: CrashTarget,
    private readonly faults: FaultSwitch,
  ) {}

  /** Starts a crash-restart; new attempts wait at the gate until the stack is back. */
  crash(atOperation: number): void {
    const ctx = this.target.ctx;
    let open: () => void = () => undefined;
    ctx.gate = new Promise<void>((resolveGate) => {
      open = resolveGate;
    });
    this.done = this.restart(atOperation)
      .catch((error: unknown) => {
        this.error = error;
        ctx.issued = ctx.total; // no new operations: the run is over
      })
      .finally(() => {
        ctx.gate = null;
        open();
      });
  }

  /** Resolves once the last crash-restart is over: with its error, if it failed. */
  async over(): Promise<unknown> {
    await this.done;
    return this.error;
  }

  private async restart(atOperation: number): Promise<void> {
    const { ctx, proxy, log } = this.target;
    await this.faults.pause();
    log(
      `crash at operation ${atOperation}: kill -9 of DynamoDB Local and of the API, mid-traffic...`,
    );
    const before = this.target.running.users;
    const result = await crashAndRestart(proxy, this.target.running);
    const running = result.restarted;
    this.target.running = running;
    this.target.dataDirs.add(running.dataDir);
    for (const owner of ['alice', 'bob', 'ops'] as const) {
      if (running.users[owner].sub !== before[owner].sub)
        throw new Error(`${owner} has another sub after the restart`);
    }
    ctx.apiUrl = running.apiUrl;
    ctx.users = running.users;
    // The gateway restarted too, on another port; its modes were kept with its state.
    ctx.gatewayUrl = running.stack.info.gatewayUrl;
    await setDestinationModes(ctx, this.target.destinations);
    this.restarts.push({
      atOperation,
      killedDynamodbPid: result.killed.dynamodbPid,
      killedApiPid: result.killed.apiPid,
      downMs: result.downMs,
    });
    log(
      `restarted on the same data in ${(result.downMs / 1000).toFixed(1)} s: API ${running.apiUrl}`,
    );
    await this.faults.resume();
  }
}
