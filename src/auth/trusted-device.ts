import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Clock } from 'vf-login-bridge';
import { readCookie, type CookieNames } from '../web/cookies';
import type { LoginTarget } from '../store/user-store';

/** How long a browser stays a known device of its reader after a successful login. */
export const TRUSTED_DEVICE_MS = 180 * 24 * 60 * 60_000;

/**
 * The OWASP "device cookie": a successful login leaves a signed cookie naming the user, and a
 * later login for that user from that browser is a known device. Known devices skip the
 * per-account and per-IP limits that strangers can fill (src/auth/login-limits.ts), so guessing at
 * someone's password never locks them out of the browsers they use. The value is
 * `<userId>.<credentials version>.<issued ms>.<random id>.<HMAC-SHA256>`; the random id keys the
 * device's own limit. A cookie made under an older credentials version is a stranger's: whoever
 * had the old password keeps no standing once it changes (docs/accounts.md#the-credentials-version).
 */
export function createTrustedDevices(options: { secret: string; cookies: CookieNames; clock: Clock; lifetimeMs?: number }) {
  const { cookies, clock } = options;
  const lifetimeMs = options.lifetimeMs ?? TRUSTED_DEVICE_MS;
  // A key of its own, so this cookie's signature can never stand in for the session cookie's.
  const key = createHmac('sha256', options.secret).update('vfb trusted-device cookie').digest();
  const sign = (body: string) => createHmac('sha256', key).update(body).digest('base64url');

  return {
    /** After a successful login: this browser is now a known device of this user. */
    issue(res: Response, user: LoginTarget): void {
      const body = `${user.id}.${user.credentialsVersion}.${clock.now()}.${randomBytes(16).toString('base64url')}`;
      res.cookie(cookies.device, `${body}.${sign(body)}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure: cookies.secure,
        path: '/',
        maxAge: lifetimeMs,
      });
    },

    /** The device id when the request comes from a known device of this user under its current credentials, else undefined. */
    deviceOf(req: Request, target: LoginTarget | undefined): string | undefined {
      if (target === undefined) return undefined;
      const value = readCookie(req, cookies.device);
      const parts = value?.split('.');
      if (!parts || parts.length !== 5) return undefined;
      const [user, version, issued, device, signature] = parts as [string, string, string, string, string];
      const expected = Buffer.from(sign(`${user}.${version}.${issued}.${device}`));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
      const age = clock.now() - Number(issued);
      if (user !== String(target.id) || version !== String(target.credentialsVersion) || !(age >= 0 && age < lifetimeMs)) return undefined;
      return device;
    },
  };
}

export type TrustedDevices = ReturnType<typeof createTrustedDevices>;
