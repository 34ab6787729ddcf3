import type { RequestHandler } from 'express';
import { RequestError } from '../errors';

/**
 * Every path the site answers and the methods it answers there. A known path asked with another
 * method is a 405 with `Allow`, decided before sessions and CSRF, so a `PUT /login` is told what
 * is wrong with it rather than that its form expired. Unknown paths are a 404: at once for a
 * POST or a PUT (which would otherwise be judged on its CSRF token first), after the session for
 * a GET, so a reader who follows a broken link still sees who is logged in. Matching is as loose
 * as Express's own routing: any case, an optional trailing slash.
 */
const ROUTES: ReadonlyArray<readonly [RegExp, readonly string[]]> = [
  [/^\/$/, ['GET']],
  [/^\/articles\/[^/]+\/?$/i, ['GET']],
  [/^\/api\/session\/?$/i, ['GET']],
  [/^\/(register|login|account)\/?$/i, ['GET', 'POST']],
  [/^\/account\/password\/?$/i, ['POST']],
  // The reader's sessions, deletion and export (src/accounts/session-routes.ts, src/accounts/account-data-routes.ts).
  [/^\/account\/(sessions|export)\/?$/i, ['GET']],
  [/^\/account\/sessions\/(logout-others|[^/]+\/logout)\/?$/i, ['POST']],
  [/^\/account\/delete\/?$/i, ['POST']],
  [/^\/logout\/?$/i, ['POST']],
  // One-time links and the development inbox (src/accounts/email-routes.ts, src/accounts/password-reset-routes.ts, src/web/dev-mail.ts).
  [/^\/email\/verify\/?$/i, ['GET', 'POST']],
  [/^\/email\/verify\/resend\/?$/i, ['POST']],
  [/^\/password\/(forgot|reset)\/?$/i, ['GET', 'POST']],
  [/^\/dev\/mail\/?$/i, ['GET']],
  [/^\/(healthz|readyz|metrics)\/?$/i, ['GET']],
  [/^\/hooks\/logout\/?$/i, ['POST']],
  // The OpenID Provider's login and its back-channel logout (src/oidc/routes.ts); its callback is a GET at OIDC_REDIRECT_URL's path.
  [/^\/login\/oidc\/?$/i, ['GET']],
  [/^\/oidc\/backchannel-logout\/?$/i, ['POST']],
  [/^\/public\//i, ['GET']],
  // The operator's platform page and connect (src/web/platform-admin.ts); the callback is a GET.
  [/^\/admin\/platform\/?$/i, ['GET']],
  [/^\/admin\/platform\/connect\/?$/i, ['POST']],
  // The operator's status page (src/web/admin-status.ts).
  [/^\/admin\/status\/?$/i, ['GET']],
];

/** Methods that change nothing (RFC 9110 §9.2.1): they need no CSRF token and start no session. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

/** Each path's methods as answered: HEAD wherever GET is (Express does so itself). Built once. */
const ANSWERED: ReadonlyArray<readonly [RegExp, readonly string[]]> = ROUTES.map(([pattern, methods]) => [
  pattern,
  methods.includes('GET') ? [...methods, 'HEAD'] : methods,
]);

function allowedFor(path: string): readonly string[] | undefined {
  return ANSWERED.find(([pattern]) => pattern.test(path))?.[1];
}

export const onlyKnownMethods: RequestHandler = (req, res, next) => {
  const allowed = allowedFor(req.path);
  if (!allowed) return req.method === 'GET' || req.method === 'HEAD' ? next() : next(new RequestError('NOT_FOUND', 'There is nothing at this address.'));
  if (allowed.includes(req.method)) return next();
  res.setHeader('Allow', allowed.join(', '));
  next(new RequestError('METHOD_NOT_ALLOWED', `This address answers ${allowed.join(', ')} only.`));
};
