import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';
import { RequestError } from '../errors';

/**
 * Synchronizer-token CSRF protection (the token lives in the session). Forms send it as `_csrf`,
 * AJAX as the `X-CSRF-Token` header (README.md#routes).
 */
export function createCsrf() {
  const { generateToken, getTokenFromState, getTokenFromRequest } = csrfSync({
    getTokenFromRequest: (req: Request) => {
      const header = req.headers['x-csrf-token'];
      if (typeof header === 'string') return header;
      const field = (req.body as Record<string, unknown> | undefined)?._csrf;
      return typeof field === 'string' ? field : undefined;
    },
  });

  // In constant time: how many leading characters matched must not show in the answer's timing.
  const isRequestValid = (req: Request): boolean => {
    const expected = getTokenFromState(req);
    const given = getTokenFromRequest(req);
    if (typeof expected !== 'string' || typeof given !== 'string' || expected.length === 0) return false;
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

  const protect: RequestHandler = (req, _res, next) => {
    if (SAFE.has(req.method) || isRequestValid(req)) return next();
    next(new RequestError('CSRF_INVALID', 'This form has expired or did not come from this site. Reload the page and try again.'));
  };

  /** Templates call `it.csrf()`: a token (and so a session) only where a page has a form. */
  const expose: RequestHandler = (req, res, next) => {
    res.locals.csrf = () => generateToken(req);
    next();
  };

  return { protect, expose, tokenFor: (req: Request) => generateToken(req) };
}
