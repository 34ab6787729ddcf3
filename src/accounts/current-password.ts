import type { Request, RequestHandler } from 'express';
import type { Clock } from 'vf-login-bridge';
import { RequestError } from '../errors';
import type { LoginGuard } from '../auth/login-limits';
import type { PasswordHasher } from '../auth/passwords';
import type { TrustedDevices } from '../auth/trusted-device';
import { normaliseEmail, type User, type UserStore } from '../store/user-store';

export interface CurrentPasswordDeps {
  users: UserStore;
  passwords: PasswordHasher;
  guard: LoginGuard;
  devices: TrustedDevices;
  clock: Clock;
}

/** How recent a login at the OpenID Provider must be to stand in for a password (docs/oidc-login.md#account-changes-without-a-password). */
export const FRESH_LOGIN_MS = 10 * 60_000;

/**
 * The current password, asked again before an account changes hands or goes (an email change, a
 * password change, the account's deletion), checked like a login: under the login limits of this
 * account and client, a wrong one counting as a failed login, so a session left open is no way
 * to guess the password faster than the login form allows (ASVS 2.2.1, 3.7.1).
 */
export function createCurrentPasswordCheck(deps: CurrentPasswordDeps) {
  const { users, passwords, guard, devices, clock } = deps;
  /** `toDo` finishes "Enter your current password to ...". */
  return async function checkCurrentPassword(req: Request, user: User, given: string | undefined, toDo: string): Promise<void> {
    // A reader of the OpenID Provider has no password to ask for: a login there a moment ago proves the same (ASVS 3.7.1).
    if ((await users.credentialsOf(user.id))?.passwordHash === '') return requireFreshLogin(req, clock, toDo);
    if (!given) throw new RequestError('VALIDATION_FAILED', `Enter your current password to ${toDo}.`);
    const attempt = { account: normaliseEmail(user.email), ip: req.ip ?? 'unknown', device: devices.deviceOf(req, user) };
    await guard.attemptLogin(attempt);
    const found = await users.credentialsOf(user.id);
    if (!found || !(await passwords.verify(found.passwordHash, given))) {
      throw new RequestError('INVALID_CREDENTIALS', 'Your current password is not right.');
    }
    await guard.loginSucceeded(attempt);
  };
}

export type CurrentPasswordCheck = ReturnType<typeof createCurrentPasswordCheck>;

/** The provider's `auth_time`, not this session's start: its single sign-on would log anyone at the browser in without a password. */
function requireFreshLogin(req: Request, clock: Clock, toDo: string): void {
  const authTime = req.session.provider?.authTime ?? 0;
  if (clock.now() - authTime <= FRESH_LOGIN_MS) return;
  throw new RequestError('REAUTHENTICATION_REQUIRED', `This account signs in with your identity provider and has no password here. Log in with it again, then ${toDo} within 10 minutes.`);
}

/** Tells the account pages whether the reader has a password here (views/account.eta). */
export function exposeHasPassword(users: UserStore): RequestHandler {
  return (req, res, next) => {
    if (!req.user) return next();
    users.credentialsOf(req.user.id).then((found) => {
      res.locals.hasPassword = found !== undefined && found.passwordHash !== '';
      next();
    }, next);
  };
}
