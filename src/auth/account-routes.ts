import { Router, type Request, type Response } from 'express';
import { RequestError } from '../errors';
import { toHostUser } from '../host-user';
import type { Bridge } from 'vf-login-bridge';
import type { Render } from '../web/render';
import { wantsJson } from '../web/negotiate';
import { accountForm, parseForm, passwordForm } from './forms';
import type { HostSessions } from './host-session';
import type { LoginGuard } from './login-limits';
import type { PasswordHasher } from './passwords';
import type { PasswordPolicy } from './password-policy';
import { reshowForm } from './routes';
import type { TrustedDevices } from './trusted-device';
import { normaliseEmail, type User, type UserStore } from './user-store';

export interface AccountRouteDeps {
  users: UserStore;
  passwords: PasswordHasher;
  policy: PasswordPolicy;
  hostSessions: HostSessions;
  guard: LoginGuard;
  devices: TrustedDevices;
  bridge: Bridge;
  render: Render;
}

/**
 * The reader's own account: name, email and password (ASVS 2.1.5, 2.1.6, 3.7.1). Changing the
 * email or the password takes the current password, checked like a login (it counts as a failed
 * one when wrong); every change counts against per-user and per-IP limits, so the EMAIL_TAKEN
 * answer is no oracle and platform calls are bounded.
 */
export function createAccountRoutes(deps: AccountRouteDeps): Router {
  const { users, passwords, policy, hostSessions, guard, devices, bridge, render } = deps;
  const router = Router();

  /** The current password, checked under the login limits of this account and client. */
  async function checkCurrentPassword(req: Request, user: User, given: string | undefined, purpose: string): Promise<void> {
    if (!given) throw new RequestError('VALIDATION_FAILED', `Enter your current password to change your ${purpose}.`);
    const attempt = { account: normaliseEmail(user.email), ip: req.ip ?? 'unknown', device: devices.deviceOf(req, user.id) };
    await guard.attemptLogin(attempt);
    const found = await users.findCredentials(user.email);
    if (!found || !(await passwords.verify(found.passwordHash, given))) {
      throw new RequestError('INVALID_CREDENTIALS', 'Your current password is not right.');
    }
    await guard.loginSucceeded(attempt);
  }

  const done = (req: Request, res: Response, flag: string, user: User, value = '1') => {
    if (wantsJson(req)) res.json({ ok: true, user: { id: user.id, name: user.name, email: user.email } });
    else res.redirect(303, `/account?${flag}=${value}`);
  };

  router.get('/account', (req, res) => {
    if (!req.user) return res.redirect(303, '/login?returnTo=%2Faccount');
    const saved = req.query.saved === '1' ? 'now' : req.query.saved === 'later' ? 'later' : null;
    render(res, 'account', { title: 'Your account', email: req.user.email, name: req.user.name, saved, passwordChanged: req.query.password === '1' });
  });

  router.post('/account', async (req, res) => {
    const current = req.user;
    if (!current) throw new RequestError('UNAUTHENTICATED', 'Log in to change your account.');
    try {
      await guard.changeAccount(current.id, req.ip ?? 'unknown');
      const form = parseForm(accountForm, req.body);
      const emailChanges = normaliseEmail(form.email) !== current.email;
      if (emailChanges) await checkCurrentPassword(req, current, form.currentPassword, 'email address');
      // Only what the platform sees costs a platform login: an unchanged form changes nothing.
      if (!emailChanges && form.name === current.name) return done(req, res, 'saved', current);
      const before = await bridge.platformSessionFor(req.sessionID, toHostUser(current));
      const user = await users.updateProfile(current.id, form);
      req.user = user;
      // The platform's login call is also how its profile is updated (docs/platform-protocol.md#accounts-login);
      // it always opens a new session, so the old one coming back means the platform did not answer.
      const after = await bridge.onProfileChange(req.sessionID, toHostUser(user));
      const reached = after !== null && after.session !== before?.session;
      done(req, res, 'saved', user, reached ? '1' : 'later');
    } catch (error) {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const text = (v: unknown, fallback: string) => (typeof v === 'string' ? v.slice(0, 254) : fallback);
      reshowForm(req, res, render, 'account', error, { email: text(b.email, current.email), name: text(b.name, current.name) });
    }
  });

  router.post('/account/password', async (req, res) => {
    const current = req.user;
    if (!current) throw new RequestError('UNAUTHENTICATED', 'Log in to change your password.');
    try {
      await guard.changeAccount(current.id, req.ip ?? 'unknown');
      const form = parseForm(passwordForm, req.body);
      await checkCurrentPassword(req, current, form.currentPassword, 'password');
      const weak = policy.problemWith(form.newPassword, [current.email, current.name]);
      if (weak) throw new RequestError('PASSWORD_TOO_WEAK', weak);
      await users.setPasswordHash(current.id, await passwords.hash(form.newPassword));
      // Whoever else holds a session of this reader (ASVS 3.3.3), host and platform, is logged out;
      // this browser goes on in a new session.
      await hostSessions.logOutUser(String(current.id));
      await hostSessions.logIn(req, current);
      devices.issue(res, current.id);
      done(req, res, 'password', current);
    } catch (error) {
      reshowForm(req, res, render, 'account', error, { email: current.email, name: current.name });
    }
  });

  return router;
}
