import util from 'node:util';
import { Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import { createAdjustableClock } from 'vf-login-bridge';
import { PlatformError } from '../../src/errors';
import { createMemoryLogger } from '../../src/logger';
import type { EmulatorOptions } from 'vf-platform-emulator';
import { createPlatform, type OutcomeListener, type Platform, type PlatformOptions } from 'vf-login-bridge';
import type { DatabaseSchema } from '../../src/store/schema';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID } from '../helpers/emulator';
import { openTempDatabase } from '../helpers/temp-database';

const START_OF_TEST_TIME = Date.UTC(2026, 10, 2, 9, 0, 0);

export type TestEmulator = Awaited<ReturnType<typeof startTestEmulator>>;

export interface PlatformFixture {
  emulator: TestEmulator;
  db: Kysely<DatabaseSchema>;
  platform: Platform;
  registry: Registry;
  logLines: string[];
  /** A second platform on the same database and emulator: what a restarted process sees. */
  restartPlatform(): Platform;
  close(): Promise<void>;
}

/** The whole platform side, wired as the site wires it, over the real emulator and a temp SQLite file. */
export async function startPlatformFixture(
  settings: { timeoutMs?: number; options?: PlatformOptions; emulator?: Partial<EmulatorOptions>; apiKey?: string; connectionWaitMs?: number; onOutcome?: OutcomeListener } = {},
): Promise<PlatformFixture> {
  // Time stands still unless a test moves it, so retry and expiry times can be asserted exactly.
  const emulator = await startTestEmulator({ clock: createAdjustableClock({ now: () => START_OF_TEST_TIME }), ...settings.emulator });
  const database = await openTempDatabase({ connectionWaitMs: settings.connectionWaitMs });
  const { logger, lines } = createMemoryLogger('debug');
  const opened: Platform[] = [];
  const build = (registry: Registry) => {
    const platform = createPlatform({
      baseUrl: emulator.url,
      siteId: TEST_SITE_ID,
      apiKey: settings.apiKey ?? TEST_API_KEY,
      clock: emulator.clock,
      logger,
      db: database.db,
      registry,
      onOutcome: settings.onOutcome,
      timeoutMs: settings.timeoutMs ?? 2000,
      options: settings.options,
    });
    opened.push(platform);
    return platform;
  };
  const registry = new Registry();
  const platform = build(registry);
  return {
    emulator,
    db: database.db,
    platform,
    registry,
    logLines: lines,
    restartPlatform: () => build(new Registry()),
    async close() {
      for (const each of opened) await each.close();
      await emulator.close();
      await database.close();
    },
  };
}

/** The rejection of `promise`, which must be a PlatformError. */
export async function platformErrorOf(promise: Promise<unknown>): Promise<PlatformError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PlatformError);
  return error as PlatformError;
}

/** Every form the API key could leak in: as is, form-encoded, inside the Basic credentials. */
export const SECRET_FORMS = [
  TEST_API_KEY,
  encodeURIComponent(TEST_API_KEY),
  Buffer.from(`${TEST_SITE_ID}:${TEST_API_KEY}`, 'utf8').toString('base64'),
];

/** Everything a log line, an error page or a crash report could print of an error. */
export function everythingPrintedOf(error: unknown): string {
  const parts = [String(error), util.inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)];
  if (error instanceof Error) parts.push(error.message, error.stack ?? '');
  return parts.join('\n');
}

export function expectNoSecretIn(text: string, secrets: readonly string[] = SECRET_FORMS): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}


export const HOUR = 60 * 60 * 1000;
