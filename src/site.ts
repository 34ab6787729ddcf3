import type { Express } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createApp } from './app';
import type { Clock, ConnectOptions } from 'vf-login-bridge';
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
import { createMailOutbox, type MailOutbox } from './mail/outbox';
import { createDevInbox, type DevInbox } from './mail/dev-inbox';
import type { MailTransport } from './mail/transport';
import { createUserStore } from './store/user-store';
import { createAccountTokens } from './accounts/account-tokens';
import { createPendingWork, type PendingWork } from './pending-work';
import type { LoginConfig } from './login-config';
import { createOidcProvider, type OidcProvider } from './oidc/provider';
import { RecentActivity } from './web/recent-activity';

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
    /** TOKEN_ENCRYPTION_KEYS, newest first: the token is then kept sealed in the database */
    tokenEncryptionKeys?: readonly Buffer[] | undefined;
    /** the older name of a one-key `tokenEncryptionKeys` */
    tokenEncryptionKey?: Buffer | undefined;
  };
  /** LOGIN and the OpenID Provider (docs/oidc-login.md); unset: the site's own password login only */
  login?: LoginConfig | undefined;
  /** accounts given the administrator role at start-up, if they registered with the address and verified it */
  adminEmails?: readonly string[] | undefined;
  /** unset: mail goes to a development inbox (`site.devInbox`, shown at /dev/mail), links start http://127.0.0.1 */
  mail?: SiteMailOptions | undefined;
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
  /** Standard Webhooks secrets (`whsec_...`) for the logout hook, all accepted; unset or empty: refused */
  hookSecrets?: readonly string[] | undefined;
  rateLimits: RateLimitConfig;
  passwords?: PasswordHasher;
  /** called with each SQL statement the site runs: the bench and the page-cost tests count them */
  onQuery?: ConnectOptions['onQuery'];
  /** process metrics (event loop, memory); off in tests, where many sites share one process */
  processMetrics?: boolean;
  /** `false`: no http_requests_total or http_request_duration_seconds; the bench measures what they cost with it. Default true. */
  requestMetrics?: boolean;
}

export interface SiteMailOptions {
  /** an SMTP transport (src/mail/transport.ts); unset: the development inbox */
  transport?: MailTransport | undefined;
  /** PUBLIC_URL: the start of every link in a mail, never taken from a request */
  publicUrl: string;
}

export interface Site {
  app: Express;
  database: Database;
  sessions: SessionStoreHandle;
  platform: Platform;
  metrics: Registry;
  /** queued logouts and mail, pruning, reconciliation: not started until `jobs.start()` */
  jobs: BackgroundJobs;
  mail: MailOutbox;
  /** work requests started and did not wait for (a password reset's lookup and mail) */
  pending: PendingWork;
  /** where mail goes without an SMTP transport; unset with one */
  devInbox: DevInbox | undefined;
  /** the publisher's OpenID Provider, when LOGIN includes oidc */
  oidc: OidcProvider | undefined;
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

    const activity = new RecentActivity(clock);
    const platform = createPlatform({
      baseUrl: options.platform.baseUrl,
      siteId: options.platform.siteId,
      apiKey: options.platform.apiKey,
      timeoutMs: options.platform.timeoutMs,
      token: options.platform.token,
      tokenEncryptionKeys: options.platform.tokenEncryptionKeys,
      tokenEncryptionKey: options.platform.tokenEncryptionKey,
      // A bridge row outlives its host session by at most the platform's idle time.
      options: { forgetAfterMs: options.sessionIdleMs + 12 * 60 * 60_000, ...options.platform.options },
      clock,
      logger,
      db: database.db,
      registry: metrics,
      // The status page's last hour hears what the bridge's counters count (src/web/recent-activity.ts).
      onOutcome: activity.hear,
    });
    opened.push(() => platform.close());
    // express-session and the host sessions get the store that drops saves of ended sessions (docs/architecture.md#a-logout).
    const appSessions: SessionStoreHandle = { ...sessions, store: new HostSessionStore(sessions.store, platform.bridge) };

    const devInbox = options.mail?.transport ? undefined : createDevInbox(() => clock.now());
    const transport = options.mail?.transport ?? devInbox!;
    opened.push(async () => transport.close());
    const mail = createMailOutbox({ db: database.db, transport, clock, logger });
    opened.push(() => mail.idle());
    const pending = createPendingWork(logger);
    opened.push(() => pending.idle());
    const accountTokens = createAccountTokens(database.db, clock);
    const users = createUserStore(database.db, clock);
    const granted = await users.grantAdminToVerified(options.adminEmails ?? []);
    for (const email of granted) logger.info({ email }, 'administrator role granted from ADMIN_EMAILS');
    // An operator must connect this grant: without an administrator nobody can (docs/accounts.md#roles).
    if (options.platform.token?.grant === 'authorization_code' && (await users.listByRole('admin')).length === 0) {
      logger.warn({ code: 'NO_ADMINISTRATOR' }, 'no administrator can connect the platform yet; grant the role with: npm run admin -- grant you@example.com');
    }

    const jobs = createBackgroundJobs({
      clock,
      logger,
      db: database.db,
      bridge: platform.bridge,
      hostSessionExists: (sid) => sessions.exists(sid),
      hostSessionsExisting: (sids) => sessions.existing(sids),
      onPrune: async () => {
        // Each table on its own: one that fails leaves the others pruned, and the job reports it.
        const results = await Promise.allSettled([sessions.prune(), rateLimits.prune(), accountTokens.prune()]);
        const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failed) throw failed.reason;
      },
      onDeliver: () => mail.deliver(),
      schedule: options.schedule,
      credentialsCheck: platform.credentials,
    });
    opened.push(() => jobs.stop());

    const login = options.login ?? { mode: 'local', oidc: undefined };
    const oidc = login.oidc ? createOidcProvider(login.oidc, { clock, logger }) : undefined;
    // Checked now, in the background: a provider that cannot be found is logged at once, with what to
    // fix, rather than at the first reader's login; that login tries again (src/oidc/provider.ts).
    oidc?.discovered().catch(() => undefined);

    const app = createApp({
      clock,
      logger,
      database,
      sessions: appSessions,
      rateLimits,
      passwords: options.passwords ?? createPasswordHasher(),
      metrics,
      pending,
      mail: { outbox: mail, devInbox, publicUrl: (options.mail?.publicUrl ?? 'http://127.0.0.1').replace(/\/+$/, '') },
      login: { mode: login.mode, oidc },
      platform: {
        bridge: platform.bridge,
        embedSrc: options.platform.embedSrc,
        status: async () => {
          const status = await platform.bridge.status();
          // Reads the shared token row (never the platform), so a connect made on another instance shows here.
          const tokenStatus = await platform.tokens.status();
          const token = platform.tokens.health();
          const credentials = platform.credentials.result();
          const reason =
            tokenStatus.reconnectNeeded !== undefined
              ? `reconnect needed: ${tokenStatus.reconnectNeeded}`
              : tokenStatus.keptTokenUnreadable === 'TOKEN_KEY_UNKNOWN'
                ? 'stored token sealed under a key not in TOKEN_ENCRYPTION_KEYS (or altered): it counts as none kept'
                : tokenStatus.keptTokenUnreadable === 'TOKEN_SEAL_DAMAGED'
                  ? 'stored token damaged, or in a format this version cannot read: it counts as none kept'
                  : !tokenStatus.connected ? 'not connected: an administrator must connect the platform at /admin/platform'
                  // The start-up check's refusal, until a token is had after all.
                  : credentials.state === 'refused' && token !== 'cached' ? credentials.reason : undefined;
          return { ok: status.circuit !== 'open' && token !== 'failing' && reason === undefined, token, ...(reason ? { reason } : {}), ...status };
        },
        admin: {
          tokens: platform.tokens,
          canConnect: options.platform.token?.grant === 'authorization_code',
          callbackPath: options.platform.token?.redirectUrl ? new URL(options.platform.token.redirectUrl).pathname : '/admin/platform/callback',
          authorizeOrigin: options.platform.token?.authorizeUrl ? new URL(options.platform.token.authorizeUrl).origin : undefined,
        },
        statusPage: { activity, tokens: platform.tokens, circuit: platform.breakerState },
      },
      settings: {
        sessionSecret: options.sessionSecret,
        sessionIdleMs: options.sessionIdleMs,
        sessionAbsoluteMs: options.sessionAbsoluteMs ?? DEFAULT_SESSION_ABSOLUTE_MS,
        sessionMaxPerUser: options.sessionMaxPerUser ?? DEFAULT_SESSION_MAX_PER_USER,
        metricsToken: options.metricsToken,
        trustProxy: options.trustProxy,
        hookSecret: options.hookSecret,
        hookSecrets: options.hookSecrets ?? [],
        requestMetrics: options.requestMetrics ?? true,
      },
    });

    return { app, database, sessions: appSessions, platform, metrics, jobs, mail, pending, devInbox, oidc, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
