'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS launcher */
// Runs a TypeScript file with the project's own tsx: `node scripts/run.js <file.ts> [args...]`,
// on the Lambda runtime's Node major (scripts/node-runtime.js), whichever Node started it.
// Prints nothing itself: stdio is inherited, the exit code is passed back, and SIGINT/SIGTERM
// sent to this process are passed on to the child.
const { spawn } = require('node:child_process');
const { constants } = require('node:os');
const { nodeForRuntime } = require('./node-runtime.js');

const [script, ...args] = process.argv.slice(2);
if (!script) {
  process.stderr.write('usage: node scripts/run.js <file.ts> [args...]\n');
  process.exit(2);
}

let node;
try {
  node = nodeForRuntime();
} catch (error) {
  process.stderr.write(`scripts/run.js: ${error.message}\n`);
  process.exit(1);
}

const child = spawn(node, [require.resolve('tsx/cli'), script, ...args], {
  stdio: 'inherit',
});

const running = () => child.exitCode === null && child.signalCode === null;

// Pass each signal on once per burst: npm forwards the signals it gets, so copies come in pairs.
// In a terminal, Ctrl-C already reaches the child (same process group); forwarding the first one
// too would make the script see two (tsx relays ours ~30 ms later), which scripts read as "pressed
// twice: force quit". So there the first SIGINT is left to the terminal; later ones are passed on.
const fromTerminal = process.stdin.isTTY === true;
let interrupted = false;
const lastSeen = new Map();
const forward = (signal) => {
  const now = Date.now();
  const repeat = now - (lastSeen.get(signal) ?? -Infinity) < 500;
  lastSeen.set(signal, now);
  if (repeat || !running()) return;
  if (signal === 'SIGINT' && fromTerminal && !interrupted) {
    interrupted = true;
    return;
  }
  child.kill(signal);
};
const signals = ['SIGINT', 'SIGTERM'];
for (const signal of signals) process.on(signal, forward);

child.on('error', (err) => {
  process.stderr.write(`scripts/run.js: cannot start tsx: ${err.message}\n`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  if (signal) {
    // Die the same way the child did, so callers see the signal.
    for (const s of signals) process.removeListener(s, forward);
    process.kill(process.pid, signal);
    process.exit(128 + (constants.signals[signal] ?? 0));
  }
  process.exit(code ?? 1);
});
