import type { Request } from 'express';

/**
 * The site's cookie names. A Secure cookie carries the `__Host-` prefix (ASVS 3.4.4): the browser
 * then takes it only from this exact host, over HTTPS, for path `/`, so a sibling subdomain cannot
 * plant a session or CSRF cookie. Without TLS the prefix would make browsers drop the cookie.
 */
export interface CookieNames {
  readonly secure: boolean;
  readonly session: string;
  readonly csrf: string;
  readonly device: string;
}

export function cookieNamesFor(secure: boolean): CookieNames {
  const prefix = secure ? '__Host-' : '';
  return { secure, session: `${prefix}vfb.sid`, csrf: `${prefix}vfb.csrf`, device: `${prefix}vfb.device` };
}

/** One cookie from the request's Cookie header: the first of that name, or undefined. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at < 0 || part.slice(0, at).trim() !== name) continue;
    const raw = part.slice(at + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
