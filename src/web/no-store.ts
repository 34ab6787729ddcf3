import type { RequestHandler } from 'express';

/**
 * `Cache-Control: no-store` on every answer past the static files (ASVS 8.2.1): pages carry the
 * platform session (`data-sid`), CSRF tokens and the reader's email, and an answer that looks
 * anonymous may still be one rendered for a session. Rendering is cheap; a cached secret is not.
 */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};
