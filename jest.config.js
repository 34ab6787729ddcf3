/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/global-setup.ts',
  // One suite at a time: the load and fault suites measure timeouts, and on a two-core machine a
  // browser or a second suite beside them would starve the event loop they are judging.
  maxWorkers: 1,
};
