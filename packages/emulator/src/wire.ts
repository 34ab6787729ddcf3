import type { Request, Response } from 'express';

/** The body exactly as it came over the wire ('' when there was none). */
export function rawBodyOf(req: Request): string {
  return Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
}

export type FormReading =
  | { ok: true; fields: Record<string, string | undefined> }
  | { ok: false; description: string };

/**
 * Reads `names` from an `application/x-www-form-urlencoded` body, as `curl -d` sends it.
 * RFC 6749 §3.1: a parameter sent without a value counts as omitted, and none may repeat.
 */
export function readForm(req: Request, names: readonly string[]): FormReading {
  if (!req.is('application/x-www-form-urlencoded')) {
    return { ok: false, description: 'The body must be application/x-www-form-urlencoded' };
  }
  const params = new URLSearchParams(rawBodyOf(req));
  const fields: Record<string, string | undefined> = {};
  for (const name of names) {
    const values = params.getAll(name);
    if (values.length > 1) return { ok: false, description: `The parameter "${name}" is repeated` };
    fields[name] = values[0] === '' ? undefined : values[0];
  }
  return { ok: true, fields };
}

/** The error shape of RFC 6749 §5.2, used by every platform endpoint. */
export function sendError(res: Response, status: number, error: string, description: string): void {
  res.status(status).set('Cache-Control', 'no-store').json({ error, error_description: description });
}

/** The credentials after the scheme name, or null when the header uses another scheme. */
export function authorizationParam(req: Request, scheme: 'Basic' | 'Bearer'): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  // RFC 7235 §2.1: the scheme name is case-insensitive.
  if (!match || match[1]!.toLowerCase() !== scheme.toLowerCase()) return null;
  return match[2]!;
}
