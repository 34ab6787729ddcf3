import type { RequestHandler } from 'express';
import type { Clock } from '../clock';
import type { HostSessions } from './host-session';

/**
 * The absolute lifetime of a logged-in session (ASVS 3.3.2): however active the reader, a session
 * started this long ago ends, host and platform, and the reader logs in again. Until then the
 * cookie and the stored session expire at the earlier of the idle limit and the absolute one.
 * Runs after passport has loaded the user.
 */
export function enforceSessionLifetime(options: { clock: Clock; idleMs: number; absoluteMs: number; hostSessions: HostSessions }): RequestHandler {
  const { clock, idleMs, absoluteMs, hostSessions } = options;
  return (req, _res, next) => {
    if (!req.user) return next();
    const now = clock.now();
    // A session from before this rule starts its count now: one write, once.
    const startedAt = (req.session.startedAt ??= now);
    const left = startedAt + absoluteMs - now;
    if (left > 0) {
      req.session.cookie.maxAge = Math.min(idleMs, left);
      return next();
    }
    hostSessions.logOut(req).then(() => next(), next);
  };
}
