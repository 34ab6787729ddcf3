import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createAdjustableClock, type AdjustableClock } from 'vf-login-bridge';
import { createMemoryLogger } from '../../src/logger';
import { createPasswordHasher } from '../../src/auth/passwords';
import { openSite, type Site, type SiteOptions } from '../../src/site';
import type { PlatformOptions } from 'vf-login-bridge';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID } from './emulator';
import { tokenSettingsForEmulator, type EmulatorProfile } from 'vf-platform-emulator';
import { createTestStores, type TestStores } from './backend';

export const TEST_HOOK_SECRET = 'hook-secret-for-tests-0123456789abcdef';
export const TEST_SESSION_SECRET = 'session-secret-for-tests-0123456789abcdef';
export const TEST_PASSWORD = 'correct horse battery';
/** `/metrics` and the detailed `/readyz` answer this bearer token */
export const TEST_METRICS_TOKEN = 'metrics-token-for-tests-0123456789abcdef';
export const OPS_AUTHORIZATION = `Bearer ${TEST_METRICS_TOKEN}`;

/** argon2id still, with test-sized cost: the suites measure the site, not the hash. */
export const testPasswords = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

export type TestEmulator = Awaited<ReturnType<typeof startTestEmulator>>;

export interface TestSite {
  site: Site;
  emulator: TestEmulator;
  clock: AdjustableClock;
  databaseUrl: string;
  /** what the site runs on: the run's BACKEND, in stores of this site's own */
  stores: TestStores;
  logLines: string[];
  agent(): TestAgent;
  /** builds a second site on the same database, emulator and clock: a restart */
  restart(): Promise<TestSite>;
  close(): Promise<void>;
}

export interface TestSiteOptions {
  overrides?: Partial<SiteOptions>;
  /** bridge, breaker and token tuning (short cool-downs for fault tests) */
  platformOptions?: PlatformOptions;
  timeoutMs?: number;
  emulator?: TestEmulator;
  /** stores to run on instead of fresh ones: a restart's, or several sites sharing one database (the caller drops them) */
  stores?: TestStores;
  /** the token dialect: the emulator speaks it and the site is configured for it (default viafoura) */
  profile?: EmulatorProfile;
  /** veem: the operator's three-legged connect instead of client_credentials (viewneo always connects) */
  threeLegged?: boolean;
  /** the connect callback (default TEST_REDIRECT_URL): a browser test points it at its real port */
  redirectUrl?: string;
  /** with a key the token is kept sealed in the database, shared by sites on the same database */
  tokenEncryptionKey?: Buffer;
  /** the same, newest first (TOKEN_ENCRYPTION_KEYS): the first seals, any opens */
  tokenEncryptionKeys?: readonly Buffer[];
}

/** Where an authorization_code site says the platform sends the operator back. */
export const TEST_REDIRECT_URL = 'http://127.0.0.1/admin/platform/callback';

/**
 * A whole site on the run's backend (a temp SQLite file by default; see ./backend.ts), talking to
 * the real emulator on 127.0.0.1 over HTTP.
 */
export async function startTestSite(options: TestSiteOptions = {}): Promise<TestSite> {
  const ownsStores = !options.stores;
  const stores = options.stores ?? (await createTestStores());
  const databaseUrl = stores.databaseUrl;
  const emulator = options.emulator ?? (await startTestEmulator(options.profile ? { profile: options.profile } : {}));
  const ownsEmulator = !options.emulator;
  const clock = emulator.clock;
  const { logger, lines } = createMemoryLogger('debug');

  const site = await openSite({
    clock,
    logger,
    databaseUrl,
    redisUrl: stores.redis?.url,
    redisKeyPrefix: stores.redis?.keyPrefix,
    platform: {
      baseUrl: emulator.url,
      siteId: TEST_SITE_ID,
      apiKey: TEST_API_KEY,
      embedSrc: emulator.embedSrc,
      timeoutMs: options.timeoutMs ?? 1000,
      options: options.platformOptions,
      token: options.profile
        ? tokenSettingsForEmulator(
            options.profile,
            { url: emulator.url, siteId: TEST_SITE_ID, apiKey: TEST_API_KEY },
            options.threeLegged || options.profile === 'viewneo' ? (options.redirectUrl ?? TEST_REDIRECT_URL) : undefined,
          )
        : undefined,
      tokenEncryptionKey: options.tokenEncryptionKey,
      tokenEncryptionKeys: options.tokenEncryptionKeys,
    },
    sessionSecret: TEST_SESSION_SECRET,
    sessionIdleMs: 7 * 24 * 60 * 60 * 1000,
    trustProxy: false,
    hookSecret: TEST_HOOK_SECRET,
    metricsToken: TEST_METRICS_TOKEN,
    rateLimits: { loginPerAccount: 10, loginPerIp: 50, registerPerIp: 30 },
    passwords: testPasswords,
    ...options.overrides,
  });

  const testSite: TestSite = {
    site,
    emulator,
    clock,
    databaseUrl,
    stores,
    logLines: lines,
    agent: () => request.agent(site.app),
    restart: () => startTestSite({ ...options, emulator, stores }),
    async close() {
      await site.close();
      if (ownsEmulator) await emulator.close();
      if (ownsStores) await stores.drop();
    },
  };
  return testSite;
}

export { createAdjustableClock };
