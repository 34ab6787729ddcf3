import type { Express } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createApp } from './app';
import type { Clock } from 'vf-login-bridge';
import type { Logger } from './logger';
import type { RateLimitConfig } from './config';
import { createPasswordHasher, type PasswordHasher } from './auth/passwords';
import { createRateLimits } from './auth/rate-limits';
import { createPlatform, type Platform, type PlatformOptions, type TokenSettings } from 'vf-login-bridge';
import { openDatabase, type Database } from './store/database';
import { underSetting } from './startup-errors';
import { openDatabaseSessionStore, openRedisSessionStore, type SessionStoreHandle } from './store/session-stores';
import { HostSessionStore } from './auth/host-session';
import { createBackgroundJobs, type BackgroundJobs, type JobSchedule } from 'vf-login-bridge';

const DEFAULT_SESSION_ABSOLUTE_MS = 30 * 24 * 60 * 60_000;
const DEFAULT_SESSION_MAX_PER_USER = 20;

export interface SiteOptions {
  clock: Clock;
  logger: Logger;
  databaseUrl: string;
  /** unset: sessions live in the database */
  redisUrl?: string | undefined;
  /** every Redis key of this site starts with it (sessions, rate limits). Default none. */
  redisKeyPrefix?: string | undefined;
  /** background jobs' periods; the caller starts them (`site.jobs.start()`) */
  schedule?: Partial<JobSchedule> | undefined;
  platform: {
    baseUrl: string;
    siteId: string;
    apiKey: string;
    embedSrc: string;
    timeoutMs: number;
    options?: PlatformOptions;
    /** the token dialect; unset: seed 003's from siteId/apiKey (src/platform/token-settings.ts) */
    token?: TokenSettings | undefined;
    tokenEncryptionKey?: Buffer | undefined;
  };
  /** who may connect the platform (authorization_code) */
  adminEmails?: readonly string[] | undefined;
  sessionSecret: string;
  sessionIdleMs: number;
  /** default 30 days */
  sessionAbsoluteMs?: number | undefined;
  /** default 20 */
  sessionMaxPerUser?: number | undefined;
  /** unset: /metrics and the detailed /readyz are refused */
  metricsToken?: string | undefined;
  trustProxy: boolean;
  hookSecret: string | undefined;
  rateLimits: RateLimitConfig;
  passwords?: PasswordHasher;
  /** called with each SQL statement the site runs: the bench and the page-cost tests count them */
  onQuery?: ((sql: string) => void) | undefined;
  /** process metrics (event loop, memory); off in tests, where many sites share one process */
  processMetrics?: boolean;
}

export interface Site {
  app: Express;
  database: Database;
  sessions: SessionStoreHandle;
  platform: Platform;
  metrics: Registry;
  /** queued logouts, pruning, reconciliation: not started until `jobs.start()` */
  jobs: BackgroundJobs;
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
    const database = await underSetting({ setting: 'DATABASE_URL', url: options.databaseUrl }, () => openDatabase(options.databaseUrl, { logger, onQuery: options.onQuery }));
    opened.push(() => database.close());

    const sessions = options.redisUrl
      ? await underSetting({ setting: 'REDIS_URL', url: options.redisUrl }, () =>
          openRedisSessionStore(options.redisUrl!, options.sessionIdleMs, options.redisKeyPrefix),
        )
      : openDatabaseSessionStore(database, clock, options.sessionIdleMs);
    opened.push(() => sessions.close());

    const rateLimits = await createRateLimits(options.rateLimits, { raw: database.raw, redis: sessions.redis, redisKeyPrefix: sessions.redisKeyPrefix });

    const metrics = new Registry();
    if (options.processMetrics) collectDefaultMetrics({ register: metrics });

    const platform = createPlatform({
      baseUrl: options.platform.baseUrl,
      siteId: options.platform.siteId,
      apiKey: options.platform.apiKey,
      timeoutMs: options.platform.timeoutMs,
      token: options.platform.token,
      tokenEncryptionKey: options.platform.tokenEncryptionKey,
      // A bridge row outlives its host session by at most the platform's idle time.
      options: { forgetAfterMs: options.sessionIdleMs + 12 * 60 * 60_000, ...options.platform.options },
      clock,
      logger,
      db: database.db,
      registry: metrics,
    });
    opened.push(() => platform.close());
    // express-session and the host sessions get the store that drops saves of ended sessions (docs/architecture.md#a-logout).
    const appSessions: SessionStoreHandle = { ...sessions, store: new HostSessionStore(sessions.store, platform.bridge) };

    const jobs = createBackgroundJobs({
      clock,
      logger,
      db: database.db,
      bridge: platform.bridge,
      hostSessionExists: (sid) => sessions.exists(sid),
      onPrune: () => rateLimits.prune(),
      schedule: options.schedule,
    });
    opened.push(() => jobs.stop());

    const app = createApp({
      clock,
      logger,
      database,
      sessions: appSessions,
      rateLimits,
      passwords: options.passwords ?? createPasswordHasher(),
      metrics,
      platform: {
        bridge: platform.bridge,
        embedSrc: options.platform.embedSrc,
        status: async () => {
          const status = await platform.bridge.status();
          // Reads the shared token row (never the platform), so a connect made on another instance shows here.
          const tokenStatus = await platform.tokens.status();
          const token = platform.tokens.health();
          const reason =
            tokenStatus.reconnectNeeded !== undefined
              ? `reconnect needed: ${tokenStatus.reconnectNeeded}`
              : tokenStatus.connected ? undefined : 'not connected: an administrator must connect the platform at /admin/platform';
          return { ok: status.circuit !== 'open' && token !== 'failing' && reason === undefined, token, ...(reason ? { reason } : {}), ...status };
        },
        admin:
          (options.adminEmails?.length ?? 0) > 0
            ? {
                tokens: platform.tokens,
                canConnect: options.platform.token?.grant === 'authorization_code',
                adminEmails: options.adminEmails ?? [],
                callbackPath: options.platform.token?.redirectUrl ? new URL(options.platform.token.redirectUrl).pathname : '/admin/platform/callback',
                authorizeOrigin: options.platform.token?.authorizeUrl ? new URL(options.platform.token.authorizeUrl).origin : undefined,
              }
            : undefined,
      },
      settings: {
        sessionSecret: options.sessionSecret,
        sessionIdleMs: options.sessionIdleMs,
        sessionAbsoluteMs: options.sessionAbsoluteMs ?? DEFAULT_SESSION_ABSOLUTE_MS,
        sessionMaxPerUser: options.sessionMaxPerUser ?? DEFAULT_SESSION_MAX_PER_USER,
        metricsToken: options.metricsToken,
        trustProxy: options.trustProxy,
        hookSecret: options.hookSecret,
      },
    });

    return { app, database, sessions: appSessions, platform, metrics, jobs, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
