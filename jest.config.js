// .mjs too: docs/examples/webhook-receiver.mjs, imported by its unit test.
/** @type {import('jest').Config['transform']} */
const transform = {
  '^.+\\.(tsx?|jsx?|mjs)$': [
    '@swc/jest',
    { jsc: { target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
// middy 6 ships ESM only; let swc turn it into CommonJS for jest.
const transformIgnorePatterns = ['/node_modules/(?!(@middy)/)'];
const common = {
  transform,
  transformIgnorePatterns,
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/env.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  // Integration and e2e tests talk to real processes on a 2-core machine: generous, never a timing assertion.
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/test/support/node-version-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    { ...common, displayName: 'template', testMatch: ['<rootDir>/test/template/**/*.test.ts'] },
    // `npm run bench:smoke` as a child process: it proves the bench runs; no timing is asserted.
    { ...common, displayName: 'bench', testMatch: ['<rootDir>/test/bench/**/*.test.ts'] },
    // `npm run check:bank` as a child process: the reduced reliability run on a stack of its own.
    {
      ...common,
      displayName: 'reliability',
      testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/http/**/*.test.ts', '<rootDir>/test/browser/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/e2e-setup.ts',
      globalTeardown: '<rootDir>/test/support/e2e-teardown.ts',
    },
  ],
};
