/**
 * `BACKEND` (sqlite, the default; postgres; postgres-redis) chooses the stores every behaviour
 * suite runs on (test/helpers/backend.ts). The other backends run the behaviour suites only: the
 * emulator's, the browser's and the scale-out suites do not depend on it and run once, on the default.
 */
const backend = process.env.BACKEND ?? 'sqlite';
const postgresReady = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '');
const redisReady = /^rediss?:\/\//.test(process.env.REDIS_URL ?? '');
const missing =
  backend === 'sqlite' ? undefined
  : !postgresReady ? 'DATABASE_URL is not set to a postgres:// URL'
  : backend === 'postgres-redis' && !redisReady ? 'REDIS_URL is not set to a redis:// URL'
  : undefined;
if (missing) process.stdout.write(`BACKEND=${backend}: every suite skipped, ${missing}\n`);

const BEHAVIOUR_SUITES = ['site', 'security', 'platform', 'hooks', 'reliability', 'store', 'web', 'admin'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/packages/bridge/test'],
  testMatch:
    missing ? ['<rootDir>/test/no-suite-runs-without-its-services']
    : backend === 'sqlite' ? ['**/*.test.ts']
    : BEHAVIOUR_SUITES.map((folder) => `<rootDir>/test/${folder}/**/*.test.ts`),
  passWithNoTests: Boolean(missing),
  // The site and the tests import the packages by name, as a publisher would; here they run from source.
  moduleNameMapper: {
    '^vf-login-bridge$': '<rootDir>/packages/bridge/src/index.ts',
    '^vf-login-bridge/passport$': '<rootDir>/packages/bridge/src/passport/index.ts',
    '^vf-platform-emulator$': '<rootDir>/packages/emulator/src/index.ts',
  },
  transform: { '^.+\\.[cm]?[jt]s$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // openid-client, oauth4webapi and jose ship ES modules only: swc turns them into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose)/)'],
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/global-setup.ts',
  // One suite at a time: the load and fault suites measure timeouts, and on a two-core machine a
  // browser or a second suite beside them would starve the event loop they are judging.
  maxWorkers: 1,
};
