import type { Request } from 'express';
import type session from 'express-session';
import type { Clock } from '../clock';
import type { JobSchedule } from '../jobs';
import type { Logger } from '../logger';
import type { HostUser } from '../core';
import type { PlatformOptions } from '../create-platform';
import type { MetricsRegistry, OutcomeListener } from '../platform/metrics';
import type { DatabaseSource } from '../store/database';
import { isPgPoolHandle, isSqliteHandle } from '../store/handles';
import { DEFAULT_TABLE_PREFIX, TablePrefixPlugin } from '../store/table-prefix';
import { isSessionStore } from './session-store';

export interface ViafouraBridgeOptions {
  /** The platform's Site ID (docs/platform-protocol.md#token). Required; must not contain `:`. */
  siteId: string;
  /** The platform's API key for that site (docs/platform-protocol.md#token). Required. */
  apiKey: string;
  /** The platform's API, `http(s)://...`. Default `https://api.viafoura.co`. */
  apiUrl?: string | undefined;
  /** The platform's embed script rendered into pages. Default: the platform's CDN script. */
  embedSrc?: string | undefined;
  /**
   * Required. `sqlite:<path>` or `postgres://...`, or the app's own handle: a pg Pool, a
   * better-sqlite3 Database or a Kysely instance (over SQLite or PostgreSQL). Only the bridge's
   * own tables are created in it (`tablePrefix`); a handle passed in is never closed by the bridge.
   */
  database: DatabaseSource;
  /** The prefix of the bridge's tables. Default `vf_`; a lower-case letter, then lower-case letters, digits and `_`. */
  tablePrefix?: string | undefined;
  /**
   * Required. The app's express-session store (a MemoryStore, connect-redis, connect-pg-simple...).
   * The bridge wraps it as `viafoura.sessionStore`, which the app passes to express-session
   * (`session({ store: viafoura.sessionStore, ... })`): a session that has logged out is then
   * never saved back by a request already under way (docs/architecture.md#a-logout), and the
   * logout hook and the background jobs reach the sessions through it.
   */
  sessionStore: session.Store;
  /**
   * Every response whose page carries the reader's platform session (data-uid/data-sid) gets
   * `Cache-Control: private, no-store`, so no shared cache hands one reader's session to another.
   * Default true; `false` leaves the header to the app.
   */
  cacheControl?: boolean | undefined;
  /** A prom-client Registry of the app's: the bridge's metrics go there. None: no metrics. */
  metricsRegistry?: MetricsRegistry | undefined;
  /** Told of every outcome the bridge's counters count (platform calls, token requests, logins, logout deliveries), with or without a registry. */
  onOutcome?: OutcomeListener | undefined;
  /** Every platform call gives up after this long, in ms. Default 3000. */
  timeoutMs?: number | undefined;
  /** A pino-style logger (`{ debug, info, warn, error }`). Default: warnings and errors to stderr as JSON lines. */
  logger?: Logger | undefined;
  /** Where the bridge reads the time (`{ now(): number }`, ms). Default: the system clock. */
  clock?: Clock | undefined;
  /** How the page middleware finds the reader. Default: the one `onLogin` stored in `req.session`. */
  userOf?: ((req: Request) => HostUser | null | undefined) | undefined;
  /**
   * Run `viafoura.jobs` on timers: queued platform logouts retried, old rows pruned, rows whose
   * host session the store lost reconciled (one instance per period, by a lease in the database).
   * Default true; `close()` stops them. With `false` nothing runs unless the app calls `jobs.run(name)`.
   */
  background?: boolean | undefined;
  /** The jobs' periods, in ms. Default: DEFAULT_SCHEDULE (5 s, 15 min, 10 min). */
  schedule?: Partial<JobSchedule> | undefined;
  /** Tuning of logins, retries and the circuit breaker; every field has a default. */
  platformOptions?: PlatformOptions | undefined;
}

function fail(option: string, rule: string): never {
  throw new TypeError(`createViafouraBridge: ${option} ${rule}`);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** A Kysely instance, also from another copy of kysely than the bridge's own. */
function isKyselyLike(value: unknown): boolean {
  return isObject(value) && ['selectFrom', 'getExecutor', 'withPlugin'].every((name) => typeof value[name] === 'function');
}

function isDatabaseSource(value: unknown): boolean {
  if (typeof value === 'string') return value.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(value);
  return isKyselyLike(value) || isSqliteHandle(value) || isPgPoolHandle(value);
}

function checkCredentials(options: ViafouraBridgeOptions): void {
  if (typeof options.siteId !== 'string' || options.siteId === '') fail('siteId', 'is required');
  if (options.siteId.includes(':')) throw new TypeError('siteId must not contain ":" (docs/platform-protocol.md#token)');
  if (typeof options.apiKey !== 'string' || options.apiKey === '') fail('apiKey', 'is required');
}

function checkOptional(options: ViafouraBridgeOptions): void {
  const { apiUrl, embedSrc, timeoutMs, logger, clock, userOf, onOutcome } = options;
  if (apiUrl !== undefined && (typeof apiUrl !== 'string' || !/^https?:\/\/[^/]/.test(apiUrl))) fail('apiUrl', 'must be an http(s) URL');
  if (embedSrc !== undefined && (typeof embedSrc !== 'string' || embedSrc === '')) fail('embedSrc', 'must be a URL');
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs > 0)) fail('timeoutMs', 'must be a positive number');
  if (logger !== undefined && !(isObject(logger) && ['debug', 'info', 'warn', 'error'].every((level) => typeof (logger as unknown as Record<string, unknown>)[level] === 'function'))) {
    fail('logger', 'must have debug, info, warn and error methods');
  }
  if (clock !== undefined && typeof clock?.now !== 'function') fail('clock', 'must have a now() method');
  if (userOf !== undefined && typeof userOf !== 'function') fail('userOf', 'must be a function');
  if (onOutcome !== undefined && typeof onOutcome !== 'function') fail('onOutcome', 'must be a function');
  for (const name of ['cacheControl', 'background'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') fail(name, 'must be true or false');
  }
}

/**
 * Every option checked before anything is opened: a wrong one is one TypeError naming it, at
 * construction, never a failure on the first request.
 */
export function checkOptions(options: ViafouraBridgeOptions): void {
  if (!isObject(options)) throw new TypeError('createViafouraBridge requires options');
  checkCredentials(options);
  if (!options.database) fail('database', 'is required ("sqlite:<path>", "postgres://...", a pg Pool, a better-sqlite3 Database or a Kysely instance)');
  if (!isDatabaseSource(options.database)) fail('database', 'must be "sqlite:<path>", "postgres://...", a pg Pool, a better-sqlite3 Database or a Kysely instance');
  // The plugin's own check, so the message is the one the rest of the library gives.
  new TablePrefixPlugin(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
  if (!isSessionStore(options.sessionStore)) fail('sessionStore', "is required: the app's express-session store (e.g. new session.MemoryStore())");
  checkOptional(options);
}
