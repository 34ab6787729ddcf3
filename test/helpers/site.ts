import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createAdjustableClock, type AdjustableClock } from '../../src/clock';
import { createMemoryLogger } from '../../src/logger';
import { createPasswordHasher } from '../../src/auth/passwords';
import { openSite, type Site, type SiteOptions } from '../../src/site';
import type { PlatformOptions } from '../../src/platform';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID } from './emulator';
import { makeTempDir } from './temp-database';

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
  databaseUrl?: string;
}

/** A whole site on a temp SQLite file, talking to the real emulator on 127.0.0.1 over HTTP. */
export async function startTestSite(options: TestSiteOptions = {}): Promise<TestSite> {
  const temp = options.databaseUrl ? undefined : makeTempDir();
  const databaseUrl = options.databaseUrl ?? `sqlite:${temp!.dir}/site.db`;
  const emulator = options.emulator ?? (await startTestEmulator());
  const ownsEmulator = !options.emulator;
  const clock = emulator.clock;
  const { logger, lines } = createMemoryLogger('debug');

  const site = await openSite({
    clock,
    logger,
    databaseUrl,
    platform: {
      baseUrl: emulator.url,
      siteId: TEST_SITE_ID,
      apiKey: TEST_API_KEY,
      embedSrc: emulator.embedSrc,
      timeoutMs: options.timeoutMs ?? 1000,
      options: options.platformOptions,
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
    logLines: lines,
    agent: () => request.agent(site.app),
    restart: () => startTestSite({ ...options, emulator, databaseUrl }),
    async close() {
      await site.close();
      if (ownsEmulator) await emulator.close();
      temp?.remove();
    },
  };
  return testSite;
}

export { createAdjustableClock };
