import type { Request, RequestHandler, Router } from 'express';
import { systemClock, type Clock } from '../clock';
import { createBackgroundJobs, type BackgroundJobs } from '../jobs';
import { createConsoleLogger, type Logger } from '../logger';
import type { Bridge, HostUser } from '../core';
import { createPlatform, type Platform } from '../create-platform';
import type { PlatformSession } from '../platform';
import { openBridgeDatabase, type BridgeDatabase } from '../store/bridge-database';
import { createHookRouter, type HookRouterOptions } from './hook-router';
import { createLogoutUser } from './logout-user';
import { checkOptions, type ViafouraBridgeOptions } from './options';
import { createPageMiddleware } from './page-middleware';
import { checkedSessionId } from './session-setup';
import { LogoutAwareStore, storeDestroy, storeHas, touchCanCreate } from './session-store';
import { rememberUser, storedUser } from './session-user';

export { embedTagHtml, type ViafouraLocals } from './embed-tag';
export type { HookRouterOptions } from './hook-router';
export type { ViafouraBridgeOptions } from './options';
export { SessionSetupError, type SessionSetupCode } from './session-setup';

const DEFAULT_API_URL = 'https://api.viafoura.co';
const DEFAULT_EMBED_SRC = 'https://cdn.viafoura.net/entry/index.js';
/** A page view asks the bridge at most this often per reader: the bridge's own activity-write interval (session-user.ts). */
const DEFAULT_CHECK_EVERY_MS = 60_000;

export interface ViafouraBridge {
  /**
   * Sets `res.locals.viafoura` (ViafouraLocals) on every request: the embed tag, logged in when
   * the reader is, with `Cache-Control: private, no-store` on such a page (option `cacheControl`).
   * Mount it after express-session. A request whose session middleware is missing, or does not
   * use `sessionStore`, is answered 500 and one error line names the fix.
   */
  middleware: RequestHandler;
  /**
   * The app's store, wrapped: pass it to express-session (`session({ store: viafoura.sessionStore })`).
   * It refuses to save or touch a session that has logged out, so a request still under way when
   * the reader logged out elsewhere cannot bring the session back (docs/architecture.md#a-logout).
   */
  sessionStore: LogoutAwareStore;
  /**
   * After the app's own login has succeeded and regenerated the session id: logs the reader in to
   * the platform and keeps them in `req.session` for the middleware. Never fails for a platform
   * outage (null, retried on a later page view). Throws SessionSetupError if the session setup is wrong.
   */
  onLogin(req: Request, user: HostUser): Promise<PlatformSession | null>;
  /** The reader's name or email changed: the platform user follows at once. */
  onProfileChange(req: Request, user: HostUser): Promise<PlatformSession | null>;
  /**
   * The app's logout (form or AJAX), before it ends its own session: the platform logout is
   * queued durably and sent at once, and the host session is destroyed in the store. `req.session`
   * stays usable for the rest of the request but is never saved again; regenerate it for a fresh one.
   */
  onLogout(req: Request): Promise<void>;
  /**
   * A router answering signed `POST /logout` hooks (README.md#the-logout-hook): every host
   * session of the user is destroyed through `sessionStore`, every platform session logged out.
   * Mount it before `express.json()` and the other body parsers (`app.use('/hooks', viafoura.hookRouter({ secret }))`),
   * so the signature is checked over the body as sent. After a parser it uses a Buffer kept as
   * `req.rawBody`, or a JSON body's canonical form; where it cannot check, it answers 500
   * `HOOK_BODY_CONSUMED` and logs the fix, never a 401 for a good signature.
   */
  hookRouter(options: HookRouterOptions): Router;
  /**
   * Ends every host and platform session of one user (an account closed, a password reset):
   * the platform sessions are logged out (queued durably if it is down) and the host sessions
   * destroyed in the store, none of them saved back by a request under way. Resolves how many
   * host sessions were destroyed. Prefer it to `bridge.logoutUser`, which leaves the host sessions to the app.
   */
  logoutUser(hostUserId: string): Promise<number>;
  /**
   * Delivery of queued platform logouts, pruning, reconciliation with the session store:
   * on timers unless `background: false`; `jobs.run(name)` runs one now.
   */
  jobs: BackgroundJobs;
  /** The bridge core, for anything the adapter does not cover. */
  bridge: Bridge;
  /** Stops the jobs (waiting for runs under way), the platform clients and the database the bridge opened. */
  close(): Promise<void>;
}

/** The platform clients over the bridge's database; the database is closed again if they cannot be built. */
async function openPlatform(options: ViafouraBridgeOptions, database: BridgeDatabase, clock: Clock, logger: Logger): Promise<Platform> {
  try {
    return createPlatform({
      baseUrl: (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, ''),
      siteId: options.siteId,
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 3000,
      clock,
      logger,
      db: database.db,
      registry: options.metricsRegistry,
      onOutcome: options.onOutcome,
      options: options.platformOptions,
    });
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * The bridge for any Express app with a login of its own: checks every option, opens the
 * database, wires the platform clients, and adapts the app's requests to the bridge core
 * (docs/architecture.md). A wrong option is a TypeError naming it, before anything is opened.
 */
export async function createViafouraBridge(options: ViafouraBridgeOptions): Promise<ViafouraBridge> {
  checkOptions(options);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createConsoleLogger('warn');
  const database = await openBridgeDatabase(options.database, { tablePrefix: options.tablePrefix, logger });
  const platform = await openPlatform(options, database, clock, logger);
  const { bridge } = platform;
  const guardTouches = await touchCanCreate(options.sessionStore, clock.now());
  const sessionStore = new LogoutAwareStore(options.sessionStore, (sid) => bridge.hasEnded(sid), guardTouches);
  const jobs = createBackgroundJobs({ clock, logger, db: database.db, bridge, hostSessionExists: (sid) => storeHas(sessionStore, sid), schedule: options.schedule });
  if (options.background !== false) jobs.start();
  const sessionId = (req: Request) => checkedSessionId(req, sessionStore);
  const logoutUser = createLogoutUser({ bridge, sessionStore, logger });
  let closed: Promise<void> | undefined;

  /** A platform login for this request's session; the reader and their platform session kept in it for the page views. */
  async function loginWith(req: Request, user: HostUser, login: (sid: string) => Promise<PlatformSession | null>): Promise<PlatformSession | null> {
    const sid = sessionId(req);
    const platform = await login(sid);
    rememberUser(req, user, platform, clock.now());
    return platform;
  }

  return {
    middleware: createPageMiddleware({
      bridge,
      sessionStore,
      logger,
      embedSrc: options.embedSrc ?? DEFAULT_EMBED_SRC,
      userOf: options.userOf ?? storedUser,
      cacheControl: options.cacheControl !== false,
      clock,
      checkEveryMs: options.platformOptions?.activityWriteIntervalMs ?? DEFAULT_CHECK_EVERY_MS,
    }),
    sessionStore,
    jobs,
    bridge,
    onLogin: (req, user) => loginWith(req, user, (sid) => bridge.onLogin(sid, user)),
    onProfileChange: (req, user) => loginWith(req, user, (sid) => bridge.onProfileChange(sid, user)),
    async onLogout(req) {
      const sid = sessionId(req);
      await bridge.onLogout(sid);
      rememberUser(req, null, null, clock.now());
      // Its tombstone now refuses every save, so the copy in the store must go: an app that only
      // clears a field of req.session would otherwise leave the reader logged in there.
      await storeDestroy(sessionStore, sid);
    },
    logoutUser,
    hookRouter: (hookOptions) => createHookRouter(hookOptions, { logOutUser: logoutUser, clock, logger, db: database.db }),
    close() {
      closed ??= (async () => {
        await jobs.stop();
        await platform.close();
        await database.close();
      })();
      return closed;
    },
  };
}
