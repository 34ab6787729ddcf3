import type { RequestHandler } from 'express';
import { chain } from '../web/chain';
import { readCookie } from '../web/cookies';
import { isSafeMethod } from '../web/methods';

/**
 * Runs the session middleware (express-session, then passport's) only where a session can matter:
 * a request that carries a session cookie, or one that may start a session (a login, a form post).
 * A visitor's plain page view with no session cookie has no session to read or to make, so it
 * skips them and is simply anonymous (docs/architecture.md#a-page-view).
 */
/** A path as Express routes it: any case, an optional trailing slash. */
function routingForm(path: string): string {
  return path.toLowerCase().replace(/(.)\/+$/, '$1');
}

export function withSessions(cookieName: string, middleware: readonly RequestHandler[], startingPaths: readonly string[] = []): RequestHandler {
  // One after another, without a router of their own (src/web/chain.ts).
  const sessions = chain(...middleware);
  // Paths whose GET starts a session: the OpenID Provider's login keeps its state, PKCE verifier and nonce there.
  const starting = new Set(startingPaths.map(routingForm));
  return (req, res, next) => {
    if (isSafeMethod(req.method) && readCookie(req, cookieName) === undefined && (starting.size === 0 || !starting.has(routingForm(req.path)))) return next();
    sessions(req, res, next);
  };
}
