import type { Request } from 'express';
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
}

/**
 * The current password, asked again before an account changes hands or goes (an email change, a
 * password change, the account's deletion), checked like a login: under the login limits of this
 * account and client, a wrong one counting as a failed login, so a session left open is no way
 * to guess the password faster than the login form allows (ASVS 2.2.1, 3.7.1).
 */
export function createCurrentPasswordCheck(deps: CurrentPasswordDeps) {
  const { users, passwords, guard, devices } = deps;
  /** `toDo` finishes "Enter your current password to ...". */
  return async function checkCurrentPassword(req: Request, user: User, given: string | undefined, toDo: string): Promise<void> {
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
