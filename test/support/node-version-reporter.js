'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a jest reporter, loaded as CommonJS */
// Says which Node ran the suites (every project runs in this process and its workers, and the
// local stacks they start run on process.execPath), next to the Lambda runtime it must match.
const { runtime } = require('../../scripts/node-runtime.js');

class NodeVersionReporter {
  onRunStart() {
    process.stderr.write(`jest on Node ${process.version} (Lambda runtime ${runtime})\n`);
  }
  onRunComplete(_contexts, results) {
    const projects = [
      ...new Set(results.testResults.map((r) => r.displayName?.name).filter(Boolean)),
    ];
    process.stderr.write(
      `Ran ${projects.join(', ') || 'no'} suites on Node ${process.version} (Lambda runtime ${runtime})\n`,
    );
  }
}

module.exports = NodeVersionReporter;
