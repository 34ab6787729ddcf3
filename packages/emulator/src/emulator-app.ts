import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { createAdjustableClock, systemClock, type AdjustableClock, type Clock } from 'vf-login-bridge';
import { silentLogger, type Logger } from 'vf-login-bridge';
import { loginHandler, logoutHandler, requireBearerToken } from './accounts-routes';
import { adminRouter } from './admin-routes';
import { createClientCredentialsCheck } from './client-credentials';
import { createCommentBoard } from './comments';
import { embedRouter } from './embed-routes';
import { createFaultPlan, type FaultPlan } from './faults';
import { createEmulatorState, type EmulatorState } from './state';
import { tokenHandler } from './token-route';
import { authorizeRouter } from './authorize-routes';
import { dialectTokenHandler } from './dialect-token-route';
import { createGrantState } from './grant-state';
import { DEFAULT_INTEGRATION_USER, TOKEN_DIALECTS, isEmulatorProfile } from './profiles';
import type { EmulatorInspection, EmulatorOptions, EmulatorStats, PlatformEndpoint, RecordedRequest } from './types';
import { rawBodyOf, sendError } from './wire';

const BODY_LIMIT = '16kb';
const DEFAULT_TOKEN_TTL_SECONDS = 3600;
const DEFAULT_SESSION_IDLE_MS = 12 * 60 * 60 * 1000;

export interface EmulatorApp extends EmulatorInspection {
  app: Express;
  state: EmulatorState;
  faults: FaultPlan;
  /** Cancels answers still waiting out an injected latency. */
  dispose(): void;
}

function isAdjustable(clock: Clock): clock is AdjustableClock {
  return typeof (clock as Partial<AdjustableClock>).advance === 'function';
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`emulator option ${name} must be a positive number`);
  return value;
}

function checkOptions(options: EmulatorOptions): void {
  if (typeof options?.siteId !== 'string' || options.siteId === '') throw new TypeError('emulator requires a siteId');
  // Raw Basic credentials split at the first ':', so a site id holding one could never log in (form encoding escapes it).
  const encoding = options.basicEncoding ?? (options.profile ? TOKEN_DIALECTS[options.profile]?.basicEncoding : 'raw');
  if (options.siteId.includes(':') && encoding !== 'form') throw new TypeError('emulator siteId must not contain ":"');
  if (options.basicEncoding !== undefined && options.basicEncoding !== 'raw' && options.basicEncoding !== 'form') throw new TypeError('emulator basicEncoding must be raw or form');
  if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('emulator requires an apiKey');
  if (options.profile !== undefined && !isEmulatorProfile(options.profile)) throw new TypeError(`unknown emulator profile: ${String(options.profile)}`);
}


/** setTimeout with a way to drop every pending callback when the server closes. */
function createTimers() {
  const pending = new Set<NodeJS.Timeout>();
  return {
    after(ms: number, fn: () => void): void {
      const timer = setTimeout(() => {
        pending.delete(timer);
        fn();
      }, ms);
      pending.add(timer);
    },
    clearAll(): void {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
    },
  };
}

const notFound: RequestHandler = (_req, res) => {
  sendError(res, 404, 'not_found', 'No such route');
};

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const { status, type } = (error ?? {}) as { status?: unknown; type?: unknown };
    if (type === 'entity.too.large') return sendError(res, 413, 'invalid_request', 'The body is too large');
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(res, status, 'invalid_request', 'The request could not be read');
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'emulator request failed');
    sendError(res, 500, 'server_error', 'The emulator failed to answer');
  };
}

/**
 * The emulated platform as an Express app, without listening: the three calls of docs/platform-protocol.md,
 * the embed (section 7) and the `/_emulator` knobs. `startEmulator()` puts it on a port.
 */
export function createEmulatorApp(options: EmulatorOptions): EmulatorApp {
  checkOptions(options);
  const baseClock = options.clock ?? systemClock;
  // Time travel must always work, so a plain clock is wrapped in an adjustable one.
  const clock = isAdjustable(baseClock) ? baseClock : createAdjustableClock(baseClock);
  const profile = options.profile ?? 'viafoura';
  const dialect = TOKEN_DIALECTS[profile];
  const tokenTtlSeconds = positive('tokenTtlSeconds', options.tokenTtlSeconds, profile === 'viafoura' ? DEFAULT_TOKEN_TTL_SECONDS : dialect.ttlSeconds);
  const sessionIdleMs = positive('sessionIdleMs', options.sessionIdleMs, DEFAULT_SESSION_IDLE_MS);
  const logger = options.logger ?? silentLogger;

  const state = createEmulatorState({ clock, tokenTtlSeconds, sessionIdleMs });
  const grants = createGrantState(clock);
  const personalAccessToken = options.personalAccessToken ?? options.apiKey;
  if (profile === 'pat') state.registerLongLivedToken(personalAccessToken);
  const comments = createCommentBoard(clock, (userId) => state.currentName(userId));
  const faults = createFaultPlan(() => state.forgetAllTokens());
  const timers = createTimers();
  const calls = { token: 0, login: 0, logout: 0 };
  const recorded: Partial<Record<PlatformEndpoint, RecordedRequest>> = {};

  const stats = (): EmulatorStats => ({ calls: { ...calls }, ...state.counts() });

  // Counting comes first so that refused, oversized and faulted requests are all counted; the
  // fault is chosen on arrival so "the next N requests" means arrival order.
  function platformPipeline(endpoint: PlatformEndpoint): RequestHandler[] {
    return [
      (_req, _res, next) => {
        calls[endpoint] += 1;
        next();
      },
      express.raw({ type: () => true, limit: BODY_LIMIT }),
      (req, res, next) => {
        recorded[endpoint] = { headers: { ...req.headers }, rawBody: rawBodyOf(req), method: req.method, url: req.originalUrl };
        const fault = faults.takeFault(endpoint);
        const answer = () => {
          if (fault === 'drop') req.socket.destroy();
          else if (fault) sendError(res, fault.status, 'temporarily_unavailable', 'Emulated platform fault');
          else next();
        };
        const latency = faults.latencyFor(endpoint);
        if (latency > 0) timers.after(latency, answer);
        else answer();
      },
    ];
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => {
    const started = clock.now();
    res.set('X-Content-Type-Options', 'nosniff');
    res.on('finish', () => {
      logger.debug({ method: req.method, path: req.path, status: res.statusCode, ms: clock.now() - started }, 'emulator request');
    });
    next();
  });

  const clientCredentialsMatch = createClientCredentialsCheck(options.siteId, options.apiKey, options.basicEncoding ?? dialect.basicEncoding);
  const tokenPath = profile === 'viafoura' ? '/oauth2/token' : dialect.tokenPath;
  const tokenPaths = tokenPath === null ? [] : [tokenPath];
  if (tokenPath !== null && profile !== 'viafoura') {
    // Express ignores case and a trailing slash; a strict platform does not. Seed 000's path ends
    // in '/', and without it the server redirects, which a client must not follow with its secret.
    app.post(/.*/, (req, res, next) => {
      const near = req.path.toLowerCase().replace(/\/+$/, '') === tokenPath.toLowerCase().replace(/\/+$/, '');
      if (!near || req.path === tokenPath) return next();
      if (`${req.path}/` === tokenPath) return res.redirect(301, tokenPath);
      sendError(res, 404, 'not_found', 'No such route');
    });
    app.post(
      tokenPath,
      ...platformPipeline('token'),
      dialectTokenHandler({
        dialect,
        state,
        grants,
        basicMatches: clientCredentialsMatch,
        clientId: options.siteId,
        clientSecret: options.apiKey,
        user: options.integrationUser ?? DEFAULT_INTEGRATION_USER,
      }),
    );
  } else if (tokenPath !== null) {
    app.post(tokenPath, ...platformPipeline('token'), tokenHandler({ state, clientCredentialsMatch, tokenTtlSeconds }));
  }
  if (dialect.authorizePath !== null) app.use(authorizeRouter({ path: dialect.authorizePath, clientId: options.siteId, grants }));
  app.post('/rest/v1/accounts/login', ...platformPipeline('login'), requireBearerToken(state), loginHandler(state));
  app.post('/rest/v1/accounts/logout', ...platformPipeline('logout'), requireBearerToken(state), logoutHandler(state));
  app.all([...tokenPaths, '/rest/v1/accounts/login', '/rest/v1/accounts/logout'], (_req, res) => {
    res.set('Allow', 'POST');
    sendError(res, 405, 'invalid_request', 'Only POST is allowed here');
  });

  app.use(embedRouter({ state, comments }));
  app.use('/_emulator', adminRouter({ faults, clock, stats, revokeRefreshTokens: grants.revokeRefreshTokens }));
  app.use(notFound);
  app.use(errorHandler(logger));

  return {
    app,
    state,
    faults,
    clock,
    stats,
    sessionInfo: (session) => state.sessionInfo(session),
    userByHostId: (hostId) => state.userByHostId(hostId),
    lastRequest: (endpoint) => {
      const request = recorded[endpoint];
      return request ? { ...request, headers: { ...request.headers } } : null;
    },
    dispose: () => timers.clearAll(),
    profile,
    grantCounts: grants.grantCounts,
    revokeRefreshTokens: grants.revokeRefreshTokens,
  };
}
