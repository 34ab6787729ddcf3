import type { RequestHandler } from 'express';
import type { Clock } from 'vf-login-bridge';
import type { HostSessions } from './host-session';

declare module 'express-session' {
  interface SessionData {
    /** when the session's expiry last moved: changing it is what makes express-session save and re-send the cookie */
    rolledAt?: number;
  }
}

/**
 * A logged-in session's two lifetimes, after passport has loaded the user:
 *
 * - idle (rolling): each view moves the expiry to the idle lifetime from now, but the session is
 *   saved and its cookie re-sent only when that moves it by a minute or more (or a hundredth of the
 *   lifetime), so a reader's steady page views write nothing (docs/architecture.md#a-page-view);
 * - absolute (ASVS 3.3.2): however active the reader, a session started this long ago ends, host
 *   and platform, and the reader logs in again. The expiry never goes past it.
 *
 * A session made under an older credentials version than the account's (a password changed or
 * reset since) ends the same way (docs/accounts.md#the-credentials-version).
 */
export function enforceSessionLifetime(options: { clock: Clock; idleMs: number; absoluteMs: number; hostSessions: HostSessions }): RequestHandler {
  const { clock, idleMs, absoluteMs, hostSessions } = options;
  const resolution = Math.min(60_000, idleMs / 100);
  return (req, _res, next) => {
    if (!req.user) return next();
    const now = clock.now();
    // A session from before these rules starts its count now, under the version it finds: one write, once.
    const startedAt = (req.session.startedAt ??= now);
    const version = (req.session.cv ??= req.user.credentialsVersion);
    const left = startedAt + absoluteMs - now;
    // Past its lifetime, or made under a password that has changed since: logged out, host and platform.
    if (left <= 0 || version !== req.user.credentialsVersion) return void hostSessions.logOut(req).then(() => next(), next);
    const maxAge = Math.min(idleMs, left);
    // express-session dates its cookie with Date itself, so the comparison does too.
    const stored = req.session.cookie.expires?.getTime() ?? 0;
    if (Date.now() + maxAge - stored >= resolution) {
      req.session.cookie.maxAge = maxAge;
      req.session.rolledAt = now;
    }
    next();
  };
}
