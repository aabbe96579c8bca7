/**
 * `npm run check:bank` / `npm run check:full`: the bank run. Starts its own local stack (free
 * ports, a temporary data dir) behind a fault-injecting proxy, drives concurrent clients
 * through the HTTP API under every fault kind — withdrawals, deposits, transfers among the hot
 * accounts, and payouts to the simulated gateway's destinations (succeed, refuse, lose,
 * timeout) — crashes and restarts the stack mid-run, waits until every payout is POSTED or
 * VOIDED, checks the invariants (money conserved, payouts against the gateway's records),
 * audits the table, fuzzes every route, and writes a report to test-artifacts/reliability/.
 * Exits 1 if any invariant was violated.
 *
 *   npm run check:bank -- [--ops N] [--clients N] [--accounts N] [--seed N] [--fuzz N]
 *                         [--crashes N] [--no-faults] [--no-crash] [--no-hang-probe]
 *   npm run check:full        # ≥ 10,000 operations, 32 clients, 5,000 fuzzed requests, 3 crashes
 */
import { formatReport } from '../test/reliability/bank/bank-report';
import { runBank, stopActiveRun, type BankOptions } from '../test/reliability/bank/run';

function usage(message: string): never {
  console.error(`${message}
usage: npm run check:bank -- [--full] [--ops N] [--clients N] [--accounts N] [--seed N] [--fuzz N]
                             [--crashes N] [--no-faults] [--no-crash] [--no-hang-probe]`);
  process.exit(2);
}

function parse(argv: string[]): BankOptions {
  const full = argv.includes('--full');
  const options: BankOptions = {
    label: full ? 'full' : 'check',
    ops: full ? 10_000 : 2_000,
    clients: full ? 32 : 16,
    hotAccounts: full ? 6 : 4,
    seed: Math.floor(Math.random() * 1_000_000),
    faults: true,
    crash: true,
    crashCount: full ? 3 : 1,
    hangProbe: true,
    fuzz: full ? 5_000 : 1_000,
  };
  const numbers: Record<string, (n: number) => void> = {
    '--ops': (n) => (options.ops = n),
    '--clients': (n) => (options.clients = n),
    '--accounts': (n) => (options.hotAccounts = n),
    '--seed': (n) => (options.seed = n),
    '--fuzz': (n) => (options.fuzz = n),
    '--crashes': (n) => (options.crashCount = n),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const set = numbers[arg];
    if (set !== undefined) {
      const value = Number(argv[i + 1]);
      if (!Number.isInteger(value) || value < 0) usage(`${arg} needs a whole number`);
      set(value);
      i += 1;
    } else if (arg === '--no-faults') options.faults = false;
    else if (arg === '--no-crash') options.crash = false;
    else if (arg === '--no-hang-probe') options.hangProbe = false;
    else if (arg !== '--full') usage(`unknown argument ${arg}`);
  }
  if (options.clients < 2) usage('--clients must be at least 2');
  if (options.hotAccounts < 1) usage('--accounts must be at least 1');
  return options;
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  console.log(
    `bank run: ${options.ops} operations, ${options.clients} clients, ${options.hotAccounts} hot accounts, seed ${options.seed}, faults ${options.faults ? 'on' : 'off'}, crash ${options.crash ? 'on' : 'off'}, ${options.fuzz} fuzzed requests`,
  );
  const report = await runBank(options);
  console.log(`\n${formatReport(report)}`);
  process.exit(report.passed ? 0 : 1);
}

let interrupted = false;
const interrupt = (): void => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error('interrupted: stopping the stack...');
  void stopActiveRun().finally(() => process.exit(130));
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

main().catch((error: unknown) => {
  console.error(
    `check-bank failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(2);
});
