import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import type { Store } from 'express-session';
import { systemClock, type Clock } from '../clock';
import { isAppError } from '../errors';
import { createHookRoutes } from '../hooks';
import { createConsoleLogger, type Logger } from '../logger';
import { createPlatform, type Bridge, type HostUser, type Platform, type PlatformOptions, type PlatformSession } from '../platform';
import { openBridgeDatabase } from '../store/bridge-database';
import type { DatabaseSource } from '../store/database';
import type { MetricsRegistry } from '../platform/metrics';

const DEFAULT_API_URL = 'https://api.viafoura.co';
const DEFAULT_EMBED_SRC = 'https://cdn.viafoura.net/entry/index.js';
/** How often queued platform logouts are retried (docs/architecture.md#the-outbox). */
const DELIVERY_INTERVAL_MS = 5_000;
const PRUNE_INTERVAL_MS = 15 * 60_000;
/** Where onLogin keeps the reader in the app's own session, for the page middleware. */
const SESSION_KEY = 'viafoura';

export interface ViafouraBridgeOptions {
  /** The platform's Site ID and API key (docs/platform-protocol.md#token). */
  siteId: string;
  apiKey: string;
  /** Default `https://api.viafoura.co`. */
  apiUrl?: string | undefined;
  /** The platform's embed script rendered into pages. Default: the platform's CDN script. */
  embedSrc?: string | undefined;
  /**
   * `sqlite:<path>` or `postgres://...`, or the app's own handle: a pg Pool, a better-sqlite3
   * Database or a Kysely instance. Only the bridge's own tables are created in it (`tablePrefix`).
   */
  database: DatabaseSource;
  /** The prefix of the bridge's tables. Default `vf_`; lower-case letters, digits and `_`. */
  tablePrefix?: string | undefined;
  /** A prom-client Registry of the app's: the bridge's metrics go there. None: no metrics. */
  metricsRegistry?: MetricsRegistry | undefined;
  /** Every platform call gives up after this long. Default 3000 ms. */
  timeoutMs?: number | undefined;
  /** A pino-style logger. Default: warnings and errors to stderr as JSON lines. */
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  /** How the page middleware finds the reader. Default: the one `onLogin` stored in `req.session`. */
  userOf?: ((req: Request) => HostUser | null | undefined) | undefined;
  /** Retry queued logouts and prune old rows on timers. Default true; close() stops them. */
  background?: boolean | undefined;
  platformOptions?: PlatformOptions | undefined;
}

/** What the middleware puts in `res.locals.viafoura` for a page. */
export interface ViafouraLocals {
  /** The whole `<script id="viafoura-platform">` tag, escaped, ready to output unescaped in a template. */
  embedTag: string;
  src: string;
  uid: string | null;
  sid: string | null;
}

export interface HookRouterOptions {
  /** 32+ characters; signs `POST /logout` hooks (README.md#the-logout-hook). */
  secret: string;
  /** The app's express-session store, where the user's host sessions are destroyed. */
  sessionStore: Store;
}

export interface ViafouraBridge {
  /** Sets `res.locals.viafoura` on every request: the embed tag, logged in when the reader is. */
  middleware: RequestHandler;
  /** After the app's own login has succeeded and regenerated the session id. */
  onLogin(req: Request, user: HostUser): Promise<PlatformSession | null>;
  /** The reader's name or email changed: the platform user follows at once. */
  onProfileChange(req: Request, user: HostUser): Promise<PlatformSession | null>;
  /** Before the app ends its own session; the platform logout is queued durably if it fails. */
  onLogout(req: Request): Promise<void>;
  /** A router answering `POST /logout` signed hooks; mount it where you like (`app.use('/hooks', ...)`). */
  hookRouter(options: HookRouterOptions): Router;
  /** The bridge core, for anything the adapter does not cover. */
  bridge: Bridge;
  close(): Promise<void>;
}

type SessionHolder = { session?: (Record<string, unknown> & { id?: string }) | undefined; sessionID?: string };

function sessionIdOf(req: Request): string {
  const id = (req as unknown as SessionHolder).sessionID;
  if (typeof id !== 'string' || id === '') throw new TypeError('the Viafoura bridge needs express-session before it (req.sessionID is unset)');
  return id;
}

function storedUser(req: Request): HostUser | null {
  const value = (req as unknown as SessionHolder).session?.[SESSION_KEY];
  return value && typeof value === 'object' ? (value as HostUser) : null;
}

function rememberUser(req: Request, user: HostUser | null): void {
  const session = (req as unknown as SessionHolder).session;
  if (!session) return;
  if (user) session[SESSION_KEY] = { id: user.id, name: user.name, email: user.email ?? null };
  else delete session[SESSION_KEY];
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** The embed tag (docs/platform-protocol.md#embed-tag): data-uid/data-sid only for a logged-in reader. */
export function embedTagHtml(src: string, platform: PlatformSession | null): string {
  const ids = platform ? ` data-uid="${escapeHtml(platform.userId)}" data-sid="${escapeHtml(platform.session)}"` : '';
  return `<script id="viafoura-platform" src="${escapeHtml(src)}"${ids} async></script>`;
}

function checkOptions(options: ViafouraBridgeOptions): void {
  if (!options || typeof options !== 'object') throw new TypeError('createViafouraBridge requires options');
  if (typeof options.siteId !== 'string' || options.siteId === '') throw new TypeError('createViafouraBridge requires siteId');
  if (options.siteId.includes(':')) throw new TypeError('siteId must not contain ":" (docs/platform-protocol.md#token)');
  if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('createViafouraBridge requires apiKey');
  if (!options.database) throw new TypeError('createViafouraBridge requires database ("sqlite:<path>" or "postgres://...")');
}

/** Answers the hook's refusals as `{"error":{"code","message"}}`, never a stack trace. */
const hookErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error);
  if (isAppError(error)) return res.status(error.status).json({ error: { code: error.code, message: error.message } });
  const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : 500;
  res.status(status).json({ error: { code: status === 500 ? 'INTERNAL' : 'BAD_REQUEST', message: status === 500 ? 'Something went wrong.' : 'The request was refused.' } });
};

/**
 * The bridge for any Express app with a login of its own: opens the database, wires the platform
 * clients, and adapts the app's requests to the bridge core (docs/architecture.md). Needs
 * express-session (or anything that sets `req.sessionID` and `req.session`) before it.
 */
export async function createViafouraBridge(options: ViafouraBridgeOptions): Promise<ViafouraBridge> {
  checkOptions(options);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createConsoleLogger('warn');
  const embedSrc = options.embedSrc ?? DEFAULT_EMBED_SRC;
  const database = await openBridgeDatabase(options.database, { tablePrefix: options.tablePrefix, logger });
  let platform: Platform;
  try {
    platform = createPlatform({
      baseUrl: (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, ''),
      siteId: options.siteId,
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 3000,
      clock,
      logger,
      db: database.db,
      registry: options.metricsRegistry,
      options: options.platformOptions,
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  const { bridge } = platform;
  const userOf = options.userOf ?? storedUser;

  const timers: NodeJS.Timeout[] = [];
  if (options.background !== false) {
    timers.push(setInterval(() => void bridge.deliverPendingLogouts().catch(() => undefined), DELIVERY_INTERVAL_MS));
    timers.push(setInterval(() => void bridge.pruneSessions().catch(() => undefined), PRUNE_INTERVAL_MS));
    for (const timer of timers) timer.unref();
  }

  const middleware: RequestHandler = async (req, res, next) => {
    try {
      const user = userOf(req) ?? null;
      const session = user ? await bridge.platformSessionFor(sessionIdOf(req), user) : null;
      const locals: ViafouraLocals = { embedTag: embedTagHtml(embedSrc, session), src: embedSrc, uid: session?.userId ?? null, sid: session?.session ?? null };
      res.locals.viafoura = locals;
      next();
    } catch (error) {
      next(error);
    }
  };

  return {
    middleware,
    bridge,
    async onLogin(req, user) {
      const session = await bridge.onLogin(sessionIdOf(req), user);
      rememberUser(req, user);
      return session;
    },
    async onProfileChange(req, user) {
      const session = await bridge.onProfileChange(sessionIdOf(req), user);
      rememberUser(req, user);
      return session;
    },
    async onLogout(req) {
      await bridge.onLogout(sessionIdOf(req));
      rememberUser(req, null);
    },
    hookRouter({ secret, sessionStore }) {
      if (typeof secret !== 'string' || secret.length < 32) throw new TypeError('the hook secret must be at least 32 characters');
      const destroy = (sid: string) => new Promise<boolean>((resolve) => sessionStore.destroy(sid, (error) => resolve(!error)));
      const router = createHookRoutes({
        secret,
        clock,
        db: database.db,
        logOutUser: async (hostUserId) => {
          const { hostSessionIds } = await bridge.logoutUser(hostUserId);
          return (await Promise.all(hostSessionIds.map(destroy))).filter(Boolean).length;
        },
      });
      return express.Router().use(router, hookErrors);
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      await platform.close();
      await database.close();
    },
  };
}
