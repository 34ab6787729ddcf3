/**
 * `vf-login-bridge/passport`: a passport site's `req.login` and `req.logout` drive the platform's
 * login and logout, with one line after `passport.session()`:
 *
 * ```js
 * app.use(viafouraPassport(viafoura, (user) => ({ id: String(user.id), name: user.name, email: user.email })));
 * ```
 *
 * passport is not a dependency of the library: it is described by the little the bridge calls.
 */
import type { Request, RequestHandler } from 'express';
import { AppError } from '../errors';
import type { HostUser } from '../core';
import { BridgedSessionManager, type PassportBridgeTarget, type PassportSessionManager } from './session-manager';

export { BridgedSessionManager, type PassportBridgeTarget, type PassportSessionManager } from './session-manager';

/** The app mounted the bridge's passport middleware where passport has not run yet. */
export class PassportSetupError extends AppError<'PASSPORT_NOT_INITIALIZED'> {
  constructor() {
    super(
      'PASSPORT_NOT_INITIALIZED',
      'viafouraPassport needs passport before it: app.use(passport.initialize()) and app.use(passport.session()) before app.use(viafouraPassport(viafoura))',
      { status: 500 },
    );
  }
}

type Named = { id?: unknown; name?: unknown; displayName?: unknown; username?: unknown; email?: unknown };

/** The default mapping: a user with an `id` and a `name` (or `displayName`, `username`), and maybe an `email`. */
export function defaultHostUser(user: unknown): HostUser {
  const u = (typeof user === 'object' && user !== null ? user : {}) as Named;
  const id = typeof u.id === 'string' || typeof u.id === 'number' ? String(u.id) : '';
  const name = [u.name, u.displayName, u.username].find((value): value is string => typeof value === 'string' && value.trim() !== '');
  if (id === '' || name === undefined) {
    throw new TypeError('viafouraPassport: the user has no id or name; pass toHostUser: (user) => ({ id, name, email })');
  }
  return { id, name, email: typeof u.email === 'string' ? u.email : null };
}

/** Where passport keeps the session manager of the request (set by passport.initialize() and each passport.authenticate()). */
type PassportRequest = Request & { _sessionManager?: PassportSessionManager | undefined };

/**
 * Middleware, after `passport.initialize()` and `passport.session()`: `req.login(user)` then also
 * logs the reader in to the platform (after passport has regenerated the session), and
 * `req.logout()` logs them out of it first, queued durably if the platform is down.
 *
 * @param viafoura the adapter (`createViafouraBridge`), whose `sessionStore` express-session uses
 * @param toHostUser the platform's view of a passport user: `{ id, name, email }`. Default: the
 *   user's own `id`, `name` (or `displayName`, `username`) and `email`.
 */
export function viafouraPassport<User = never>(viafoura: PassportBridgeTarget, toHostUser?: (user: User) => HostUser): RequestHandler {
  if (typeof viafoura?.onLogin !== 'function' || typeof viafoura.onLogout !== 'function') {
    throw new TypeError('viafouraPassport: viafoura must be the bridge createViafouraBridge returned');
  }
  if (toHostUser !== undefined && typeof toHostUser !== 'function') throw new TypeError('viafouraPassport: toHostUser must be a function');
  const mapping = (toHostUser ?? defaultHostUser) as (user: never) => HostUser;
  const wrapped = new WeakMap<PassportSessionManager, BridgedSessionManager>();
  const bridged = (manager: PassportSessionManager): PassportSessionManager => {
    if (manager instanceof BridgedSessionManager) return manager;
    let bridgedManager = wrapped.get(manager);
    if (!bridgedManager) wrapped.set(manager, (bridgedManager = new BridgedSessionManager(manager, viafoura, mapping)));
    return bridgedManager;
  };

  return (req, _res, next) => {
    const passportReq = req as PassportRequest;
    const current = passportReq._sessionManager;
    if (!current) return next(new PassportSetupError());
    // passport.authenticate() sets req._sessionManager again in the route: an accessor wraps
    // whatever it sets, so a login through authenticate() reaches the platform too.
    let manager: PassportSessionManager | undefined = bridged(current);
    Object.defineProperty(req, '_sessionManager', {
      configurable: true,
      enumerable: true,
      get: () => manager,
      set: (value: PassportSessionManager | undefined) => {
        manager = value ? bridged(value) : value;
      },
    });
    next();
  };
}
