import type { Express } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createApp } from './app';
import type { Clock } from './clock';
import type { Logger } from './logger';
import type { RateLimitConfig } from './config';
import { createPasswordHasher, type PasswordHasher } from './auth/passwords';
import { createRateLimits } from './auth/rate-limits';
import { createPlatform, type Platform, type PlatformOptions } from './platform';
import { openDatabase, type Database } from './store/database';
import { underSetting } from './startup-errors';
import { openDatabaseSessionStore, openRedisSessionStore, type SessionStoreHandle } from './store/session-stores';

export interface SiteOptions {
  clock: Clock;
  logger: Logger;
  databaseUrl: string;
  /** unset: sessions live in the database */
  redisUrl?: string | undefined;
  platform: { baseUrl: string; siteId: string; apiKey: string; embedSrc: string; timeoutMs: number; options?: PlatformOptions };
  sessionSecret: string;
  sessionIdleMs: number;
  trustProxy: boolean;
  hookSecret: string | undefined;
  rateLimits: RateLimitConfig;
  passwords?: PasswordHasher;
  /** process metrics (event loop, memory); off in tests, where many sites share one process */
  processMetrics?: boolean;
}

export interface Site {
  app: Express;
  database: Database;
  sessions: SessionStoreHandle;
  platform: Platform;
  metrics: Registry;
  close(): Promise<void>;
}

/** Opens the stores and the platform bridge, and builds the app over them: no listening. */
export async function openSite(options: SiteOptions): Promise<Site> {
  const { clock, logger } = options;
  const opened: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of opened.reverse()) await close().catch(() => undefined);
  };
  try {
    const database = await underSetting({ setting: 'DATABASE_URL', url: options.databaseUrl }, () => openDatabase(options.databaseUrl));
    opened.push(() => database.close());

    const sessions = options.redisUrl
      ? await underSetting({ setting: 'REDIS_URL', url: options.redisUrl }, () => openRedisSessionStore(options.redisUrl!, options.sessionIdleMs))
      : openDatabaseSessionStore(database, clock, options.sessionIdleMs);
    opened.push(() => sessions.close());

    const rateLimits = await createRateLimits(options.rateLimits, { raw: database.raw, redis: sessions.redis });

    const metrics = new Registry();
    if (options.processMetrics) collectDefaultMetrics({ register: metrics });

    const platform = createPlatform({
      baseUrl: options.platform.baseUrl,
      siteId: options.platform.siteId,
      apiKey: options.platform.apiKey,
      timeoutMs: options.platform.timeoutMs,
      // A bridge row outlives its host session by at most the platform's idle time.
      options: { forgetAfterMs: options.sessionIdleMs + 12 * 60 * 60_000, ...options.platform.options },
      clock,
      logger,
      db: database.db,
      registry: metrics,
    });
    opened.push(() => platform.close());

    const app = createApp({
      clock,
      logger,
      database,
      sessions,
      rateLimits,
      passwords: options.passwords ?? createPasswordHasher(),
      metrics,
      platform: {
        bridge: platform.bridge,
        embedSrc: options.platform.embedSrc,
        status: async () => {
          const status = await platform.bridge.status();
          const token = platform.tokens.health();
          return { ok: status.circuit !== 'open' && token !== 'failing', token, ...status };
        },
      },
      settings: {
        sessionSecret: options.sessionSecret,
        sessionIdleMs: options.sessionIdleMs,
        trustProxy: options.trustProxy,
        hookSecret: options.hookSecret,
      },
    });

    return { app, database, sessions, platform, metrics, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
