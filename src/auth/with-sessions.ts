import type { RequestHandler } from 'express';
import { readCookie } from '../web/cookies';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Runs the session middleware (express-session, then passport's) only where a session can matter:
 * a request that carries a session cookie, or one that may start a session (a login, a form post).
 * A visitor's plain page view with no session cookie has no session to read or to make, so it
 * skips them and is simply anonymous (docs/architecture.md#a-page-view).
 */
export function withSessions(cookieName: string, middleware: readonly RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) && readCookie(req, cookieName) === undefined) return next();
    let at = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null) return next(error);
      const handler = middleware[at++];
      if (!handler) return next();
      handler(req, res, step);
    };
    step();
  };
}
