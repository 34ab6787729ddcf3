import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { csrfSync } from 'csrf-sync';
import { RequestError } from '../errors';
import { readCookie, type CookieNames } from './cookies';
import { isSafeMethod } from './methods';

/**
 * CSRF protection for every state-changing request (README.md#routes): forms send the token as
 * `_csrf`, AJAX as the `X-CSRF-Token` header.
 *
 * - A logged-in reader: a synchronizer token kept in the session (csrf-sync).
 * - Anyone else: a signed double-submit token (OWASP CSRF Cheat Sheet), so a visitor who only
 *   looks at the login or register form costs no session row. The browser holds a random value in
 *   an HttpOnly cookie; the form holds HMAC(secret, value). A forged form has neither the value
 *   (another site cannot read the cookie) nor the HMAC (it needs the secret).
 */
export function createCsrf(options: { secret: string; cookies: CookieNames }) {
  const { cookies } = options;
  const { generateToken, getTokenFromState, getTokenFromRequest } = csrfSync({
    getTokenFromRequest: (req: Request) => {
      const header = req.headers['x-csrf-token'];
      if (typeof header === 'string') return header;
      const field = (req.body as Record<string, unknown> | undefined)?._csrf;
      return typeof field === 'string' ? field : undefined;
    },
  });
  // A key of its own: an anonymous token is no use as any other signature of the site.
  const key = createHmac('sha256', options.secret).update('vfb anonymous csrf').digest();
  const anonymousToken = (value: string) => createHmac('sha256', key).update(value).digest('base64url');
  const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

  // In constant time: how many leading characters matched must not show in the answer's timing.
  const sameText = (expected: unknown, given: unknown): boolean => {
    if (typeof expected !== 'string' || typeof given !== 'string' || expected.length === 0) return false;
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const isRequestValid = (req: Request): boolean => {
    if (req.user) return sameText(getTokenFromState(req), getTokenFromRequest(req));
    const value = readCookie(req, cookies.csrf);
    return value !== undefined && COOKIE_VALUE.test(value) && sameText(anonymousToken(value), getTokenFromRequest(req));
  };

  /** The anonymous token for this browser: its cookie's value, or a new one set on this answer. */
  const anonymousTokenFor = (req: Request, res: Response): string => {
    let value = res.locals.csrfCookieValue as string | undefined;
    if (!value) {
      const sent = readCookie(req, cookies.csrf);
      value = sent && COOKIE_VALUE.test(sent) ? sent : randomBytes(32).toString('base64url');
      if (value !== sent) res.cookie(cookies.csrf, value, { httpOnly: true, sameSite: 'lax', secure: cookies.secure, path: '/' });
      res.locals.csrfCookieValue = value;
    }
    return anonymousToken(value);
  };

  const tokenFor = (req: Request, res: Response): string => (req.user ? generateToken(req) : anonymousTokenFor(req, res));

  const protect: RequestHandler = (req, _res, next) => {
    if (isSafeMethod(req.method) || isRequestValid(req)) return next();
    next(new RequestError('CSRF_INVALID', 'This form has expired or did not come from this site. Reload the page and try again.'));
  };

  /** Templates call `it.csrf()`: a token only where a page has a form. */
  const expose: RequestHandler = (req, res, next) => {
    res.locals.csrf = () => tokenFor(req, res);
    next();
  };

  return { protect, expose, tokenFor };
}
