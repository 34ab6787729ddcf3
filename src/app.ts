import path from 'node:path';
import express, { type Express, type Request, type Response } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import type { Registry } from 'prom-client';
import type { Clock } from 'vf-login-bridge';
import type { Logger } from './logger';
import type { Bridge } from 'vf-login-bridge';
import type { Database } from './store/database';
import type { SessionStoreHandle } from './store/session-stores';
import type { RateLimits } from './auth/rate-limits';
import type { PasswordHasher } from './auth/passwords';
import { createUserStore, type User } from './store/user-store';
import { createPassport } from './auth/passport';
import { createReaderReads } from './store/reader-snapshot';
import { createHostSessions } from './auth/host-session';
import { createLoginGuard } from './auth/login-limits';
import { createAuthRoutes } from './auth/routes';
import { createPasswordPolicy } from './auth/password-policy';
import { createTrustedDevices } from './auth/trusted-device';
import { enforceSessionLifetime } from './auth/session-lifetime';
import { withSessions } from './auth/with-sessions';
import { liveHostSessionsOf } from 'vf-login-bridge';
import { cookieNamesFor } from './web/cookies';
import { noStore } from './web/no-store';
import { createVendorScripts } from './web/vendor-scripts';
import { createCsrf } from './web/csrf';
import { createRenderer, PROJECT_ROOT } from './web/render';
import { embedTagFor, platformForPages } from './web/embed';
import { createPageRoutes } from './web/routes';
import { createHealthRoutes, type PlatformReadiness } from './web/health';
import { createErrorHandler, notFound } from './web/error-handler';
import { onlyKnownMethods } from './web/methods';
import { requestLog } from './web/request-log';
import { requestBodies } from './web/body-parsers';
import { chain, onlyAt } from './web/chain';
import { fixedHeaders } from './web/fixed-headers';
import { createHookRoutes } from 'vf-login-bridge';
import { createPlatformAdminRoutes, type PlatformAdminDeps } from './web/platform-admin';
import { createRequestMetrics } from './web/request-metrics';
import { createAdminStatusRoutes, type AdminStatusDeps } from './web/admin-status';
import type { MailOutbox } from './mail/outbox';
import type { DevInbox } from './mail/dev-inbox';
import type { PendingWork } from './pending-work';
import { createSessionIndex } from './auth/session-index';
import { createAccountsRouter } from './accounts';
import { createDevMailRoutes } from './web/dev-mail';
import type { LoginMode } from './login-config';
import type { OidcProvider } from './oidc/provider';
import { createIdentities } from './oidc/identities';
import { createBackchannelLogout } from './oidc/backchannel';
import { callbackPathOf, createOidcLoginRoutes, providerLogoutUrl } from './oidc/routes';

export interface AppDeps {
  clock: Clock;
  logger: Logger;
  database: Database;
  sessions: SessionStoreHandle;
  rateLimits: RateLimits;
  passwords: PasswordHasher;
  metrics: Registry;
  /** work requests start and do not wait for */
  pending: PendingWork;
  mail: {
    outbox: MailOutbox;
    /** mounted at /dev/mail when set (never in production: src/config.ts) */
    devInbox: DevInbox | undefined;
    /** PUBLIC_URL without a trailing slash: every link in a mail starts with it */
    publicUrl: string;
  };
  /** how readers log in (docs/oidc-login.md) */
  login: {
    mode: LoginMode;
    /** the publisher's OpenID Provider; set when the mode is oidc or both */
    oidc: OidcProvider | undefined;
  };
  platform: {
    bridge: Bridge;
    /** the platform's embed script, rendered into every page */
    embedSrc: string;
    status(): Promise<PlatformReadiness>;
    /** the operator's platform page and connect (src/web/platform-admin.ts); unset: no such page */
    admin?: Omit<PlatformAdminDeps, 'clock' | 'logger' | 'render'> | undefined;
    /** the operator's status page (src/web/admin-status.ts); unset: no such page */
    statusPage?: Pick<AdminStatusDeps, 'activity' | 'tokens' | 'circuit'> | undefined;
  };
  settings: {
    sessionSecret: string;
    sessionIdleMs: number;
    /** a logged-in session ends this long after the login, however active (ASVS 3.3.2) */
    sessionAbsoluteMs: number;
    /** live sessions per user; the oldest is logged out when a new one starts */
    sessionMaxPerUser: number;
    /** bearer token for /metrics and the detailed /readyz; unset: refused */
    metricsToken: string | undefined;
    /** behind a TLS-terminating proxy: cookies are Secure and `__Host-` prefixed */
    trustProxy: boolean;
    /** refused while unset (README.md#the-logout-hook) */
    hookSecret: string | undefined;
    /** Standard Webhooks secrets (docs/webhooks.md); empty: those hooks are refused */
    hookSecrets: readonly string[];
    /** count and time every request by route pattern and status class (src/web/request-metrics.ts); default true */
    requestMetrics?: boolean | undefined;
  };
}

/** The site, assembled; reads nothing from the environment and listens on nothing. */
export function createApp(deps: AppDeps): Express {
  const { clock, logger, database, sessions, platform, settings } = deps;
  const app = express();
  const render = createRenderer();
  const users = createUserStore(database.db, clock);
  const sessionIndex = createSessionIndex(database.db);
  const readerReads = createReaderReads(database.db);
  const passport = createPassport(users, deps.passwords, (sid, userId) => readerReads.reader(sid, userId));
  const cookies = cookieNamesFor(settings.trustProxy);
  const hostSessions = createHostSessions({
    bridge: platform.bridge,
    store: sessions.store,
    clock,
    sessionsOf: (hostUserId) => liveHostSessionsOf(database.db, hostUserId),
    maxPerUser: settings.sessionMaxPerUser,
    index: sessionIndex,
    credentialsVersionOf: (userId) => users.credentialsVersionOf(userId),
  });
  const csrf = createCsrf({ secret: settings.sessionSecret, cookies });
  const devices = createTrustedDevices({ secret: settings.sessionSecret, cookies, clock });
  const guard = createLoginGuard(deps.rateLimits);
  const policy = createPasswordPolicy();
  const embedOrigin = new URL(platform.embedSrc).origin;
  const oidc = deps.login.mode === 'local' ? undefined : deps.login.oidc;
  const identities = createIdentities(database.db, users, clock);
  const loginOptions = { local: deps.login.mode !== 'oidc', providerName: oidc?.settings.providerName };

  app.set('trust proxy', settings.trustProxy ? 1 : false);
  app.set('query parser', 'simple');

  // Steps 0 to 2 run as one layer (src/web/chain.ts): every request goes through them.
  // The same for every anonymous page: made once, read by the templates only.
  const anonymousEmbed = Object.freeze(embedTagFor(platform.embedSrc, null));
  const counted = settings.requestMetrics === false ? [] : [createRequestMetrics(deps.metrics).handler];
  app.use(
    chain(
      // 0. Every request is counted and timed by route pattern and status class (src/web/request-metrics.ts).
      ...counted,
      // 1. Every request gets an id and, when its level is on, one log line with secrets redacted.
      requestLog(logger),
      // 2. Headers: a strict CSP with no inline script; the platform's origin may load its embed.
      //    The same on every answer, so computed once (src/web/fixed-headers.ts).
      fixedHeaders(
        helmet({
          contentSecurityPolicy: {
            useDefaults: true,
            directives: {
              'script-src': ["'self'", embedOrigin],
              'style-src': ["'self'", embedOrigin],
              'connect-src': ["'self'", embedOrigin],
              'img-src': ["'self'", 'data:', embedOrigin],
              'frame-src': [embedOrigin],
              // The operator's connect form redirects to the platform's consent page, and browsers hold redirects to form-action.
              // So does the logout form, to the OpenID Provider's end-session page (src/oidc/routes.ts).
              'form-action': ["'self'", ...(platform.admin?.authorizeOrigin ? [platform.admin.authorizeOrigin] : []), ...(oidc ? [new URL(oidc.settings.issuer).origin] : [])],
              // Only behind TLS: on plain http://127.0.0.1 it would rewrite the emulator's URLs.
              'upgrade-insecure-requests': settings.trustProxy ? [] : null,
            },
          },
        }),
      ),
      // Every page, error pages included, can render from here on: an anonymous reader by default.
      (req, res, next) => {
        res.locals.user = null;
        res.locals.embed = anonymousEmbed;
        res.locals.login = loginOptions;
        // The path only: a query can carry what must not be repeated into a page's links (the
        // connect callback's authorization code and state, src/web/platform-admin.ts).
        res.locals.path = req.originalUrl.split('?')[0]!;
        next();
      },
      onlyKnownMethods,
    ),
  );

  // 3. What needs no session: static files, probes, metrics, the server-to-server hook. Routers
  //    with a few known paths are entered only for those paths.
  app.use(onlyAt(/^\/public\/vendor\//i, createVendorScripts()));
  app.use('/public', express.static(path.join(PROJECT_ROOT, 'public'), { index: false, maxAge: '1h' }));
  app.use(
    chain(
      // Nothing past the static files is for a cache: pages carry sessions, tokens and emails (ASVS 8.2.1).
      noStore,
      onlyAt(
        /^\/(healthz|readyz|metrics)\/?$/i,
        createHealthRoutes({ database: () => database.ping(), sessionStore: () => sessions.ping(), platform: platform.status }, deps.metrics, settings.metricsToken),
      ),
    ),
  );
  if (oidc) app.use('/oidc/backchannel-logout', createBackchannelLogout({ provider: oidc, identities, hostSessions, db: database.db, clock, logger }));
  app.use('/hooks', createHookRoutes({ secret: settings.hookSecret, webhookSecrets: settings.hookSecrets, clock, db: database.db, logger, logOutUser: hostSessions.logOutUser }));

  // 4. Bodies: small, flat, UTF-8.
  app.use(requestBodies);

  // 5. Sessions: persistent store, HttpOnly, SameSite=Lax, Secure and `__Host-` behind TLS, rolling
  //    idle lifetime under an absolute one; a row only once someone logs in (no token makes one).
  app.use(
    withSessions(cookies.session, [
      session({
        name: cookies.session,
        store: sessions.store,
        secret: settings.sessionSecret,
        resave: false,
        saveUninitialized: false,
        // Rolling, but only when the expiry moves by a minute or more (src/auth/session-lifetime.ts).
        rolling: false,
        cookie: { httpOnly: true, sameSite: 'lax', secure: cookies.secure, path: '/', maxAge: settings.sessionIdleMs },
      }),
      // passport.initialize() is left out: since passport 0.6 authenticate() (and so session())
      // sets up req.login and req.logout itself, and initialize() only adds properties for
      // strategies written for passport 0.4, which this site does not use.
      passport.session(),
    ], oidc ? ['/login/oidc', callbackPathOf(oidc.settings.redirectUrl)] : []),
  );
  app.use(
    chain(
      enforceSessionLifetime({ clock, idleMs: settings.sessionIdleMs, absoluteMs: settings.sessionAbsoluteMs, hostSessions }),
      csrf.expose,
      csrf.protect,
      (req, res, next) => {
        res.locals.user = req.user ?? null;
        next();
      },
    ),
  );

  // 6. The site.
  const withPlatform = platformForPages(platform.bridge, platform.embedSrc);
  app.use(createPageRoutes(render, withPlatform, csrf.tokenFor));
  app.use(
    createAccountsRouter({
      db: database.db,
      clock,
      users,
      passwords: deps.passwords,
      policy,
      hostSessions,
      sessionIndex,
      sessionStore: sessions.store,
      guard,
      devices,
      bridge: platform.bridge,
      outbox: deps.mail.outbox,
      pending: deps.pending,
      publicUrl: deps.mail.publicUrl,
      render,
      localAccounts: loginOptions.local,
    }),
  );
  if (oidc) app.use(createOidcLoginRoutes({ provider: oidc, identities, passport, hostSessions, render, logger }));
  if (platform.admin) app.use(createPlatformAdminRoutes({ ...platform.admin, clock, logger, render }));
  if (platform.statusPage) app.use(createAdminStatusRoutes({ ...platform.statusPage, registry: deps.metrics, db: database.db, clock, render }));
  app.use(
    createAuthRoutes({
      users,
      hostSessions,
      guard,
      devices,
      render,
      localLogin: loginOptions.local,
      // RP-initiated logout: the reader leaves the provider too, and comes back to the front page.
      providerLogoutUrl: oidc ? (idToken) => providerLogoutUrl(oidc, idToken, `${deps.mail.publicUrl}/`) : undefined,
      authenticate: (req: Request, res: Response) =>
        new Promise<User | undefined>((resolve, reject) => {
          passport.authenticate('local', { session: false }, (err: unknown, user: User | false) =>
            err ? reject(err) : resolve(user || undefined),
          )(req, res, reject);
        }),
    }),
  );
  if (deps.mail.devInbox) app.use(createDevMailRoutes(deps.mail.devInbox, render));

  // 7. Nothing matched; then the one error handler.
  app.use(notFound);
  app.use(createErrorHandler(render));
  return app;
}
