import type { RequestHandler } from 'express';
import { RequestError } from '../errors';

/**
 * Pages for the site's administrators: the role stored with the account (docs/accounts.md#roles),
 * granted by `npm run admin -- grant EMAIL` or by ADMIN_EMAILS at start-up, never by an address a
 * reader can type. A visitor is sent to log in (the path only: a query may hold a code); a reader gets 403.
 */
export const adminOnly: RequestHandler = (req, res, next) => {
  if (!req.user) return res.redirect(303, `/login?returnTo=${encodeURIComponent(req.path)}`);
  if (req.user.role !== 'admin') throw new RequestError('FORBIDDEN', "This page is for the site's administrators.");
  res.setHeader('Cache-Control', 'no-store');
  next();
};
