import type { Request } from 'express';

/** JSON for API routes and clients that ask for it; pages for browsers. */
export function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/') || req.path.startsWith('/hooks/') || req.path === '/readyz') return true;
  return req.accepts(['html', 'json']) === 'json';
}
