/** @type {import('jest').Config} */
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const shared = {
  testEnvironment: 'node',
  // jose 6 ships ES modules only: its files are compiled to CommonJS for the tests, as Node 20's
  // require(esm) loads them at run time.
  transform: { '^.+\\.ts$': swc, '^.+/node_modules/jose/.+\\.js$': swc },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleNameMapper: {
    '^@attest/core$': '<rootDir>/core/src/index.ts',
    '^@attest/core/testing$': '<rootDir>/core/src/testing/index.ts',
    '^@azure/functions-core$': '<rootDir>/local/src/host/functions-core.ts',
  },
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/', '<rootDir>/\\.data/'],
};
module.exports = {
  testTimeout: 60_000,
  // A keep-alive socket left by an SDK client in some suite holds the run open after the summary
  // (seen after a full run on a 2-core machine); the summary is final by then.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.js'],
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{core,functions,media-host,local}/src/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
};
