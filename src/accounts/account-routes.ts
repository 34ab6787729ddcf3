import type { Clock } from 'vf-login-bridge';
import { Router, type Request, type Response } from 'express';
import { RequestError } from '../errors';
import { toHostUser } from '../host-user';
import type { Bridge } from 'vf-login-bridge';
import type { Render } from '../web/render';
import { wantsJson } from '../web/negotiate';
import { accountForm, parseForm, passwordForm } from '../auth/forms';
import { createCurrentPasswordCheck, exposeHasPassword } from './current-password';
import type { HostSessions } from '../auth/host-session';
import type { LoginGuard } from '../auth/login-limits';
import type { PasswordHasher } from '../auth/passwords';
import type { PasswordPolicy } from '../auth/password-policy';
import { reshowForm } from '../web/form-pages';
import type { TrustedDevices } from '../auth/trusted-device';
import { normaliseEmail, type User, type UserStore } from '../store/user-store';
import type { Verification } from './verification';
import type { ChangePassword } from './password-change';

export interface AccountRouteDeps {
  users: UserStore;
  passwords: PasswordHasher;
  policy: PasswordPolicy;
  hostSessions: HostSessions;
  guard: LoginGuard;
  devices: TrustedDevices;
  bridge: Bridge;
  verification: Verification;
  changePassword: ChangePassword;
  render: Render;
  clock: Clock;
}

/**
 * The reader's own account: name, email and password (ASVS 2.1.5, 2.1.6, 3.7.1). Changing the
 * email or the password takes the current password, checked like a login (it counts as a failed
 * one when wrong); every change counts against per-user and per-IP limits, so the EMAIL_TAKEN
 * answer is no oracle and platform calls are bounded.
 */
export function createAccountRoutes(deps: AccountRouteDeps): Router {
  const { users, passwords, policy, hostSessions, guard, devices, bridge, verification, changePassword, render } = deps;
  const router = Router();
  router.use('/account', exposeHasPassword(users));

  const checkCurrentPassword = createCurrentPasswordCheck({ users, passwords, guard, devices, clock: deps.clock });

  /** The answer to a change: JSON with the reader, or back to the account page with what happened in its query. */
  const done = (req: Request, res: Response, user: User, flags: Record<string, string>) => {
    if (wantsJson(req)) res.json({ ok: true, user: { id: user.id, name: user.name, email: user.email }, ...flags });
    else res.redirect(303, `/account?${new URLSearchParams(flags).toString()}`);
  };

  router.get('/account', async (req, res) => {
    if (!req.user) return res.redirect(303, '/login?returnTo=%2Faccount');
    const saved = req.query.saved === '1' ? 'now' : req.query.saved === 'later' ? 'later' : null;
    const pendingEmail = await verification.pendingChange(req.user);
    render(res, 'account', {
      title: 'Your account',
      email: req.user.email,
      name: req.user.name,
      saved,
      passwordChanged: req.query.password === '1',
      passwordReset: req.query.password === 'reset',
      verified: req.query.verified === '1',
      pendingEmail,
      emailSent: req.query.email === 'sent',
    });
  });

  router.post('/account', async (req, res) => {
    const current = req.user;
    if (!current) throw new RequestError('UNAUTHENTICATED', 'Log in to change your account.');
    try {
      await guard.changeAccount(current.id, req.ip ?? 'unknown');
      const form = parseForm(accountForm, req.body);
      const emailChanges = normaliseEmail(form.email) !== current.email;
      if (emailChanges) {
        await checkCurrentPassword(req, current, form.currentPassword, 'change your email address');
        if (await users.findByEmail(form.email)) throw new RequestError('EMAIL_TAKEN', 'An account with that email already exists.');
        // The new address is used only once its link is opened; the old one is told (docs/accounts.md#verified-addresses).
        await verification.requestEmailChange(current, form.email);
      }
      // Only what the platform sees costs a platform login: an unchanged name changes nothing there.
      const emailFlag: Record<string, string> = emailChanges ? { email: 'sent' } : {};
      if (form.name === current.name) return done(req, res, current, emailChanges ? emailFlag : { saved: '1' });
      const before = await bridge.platformSessionFor(req.sessionID, toHostUser(current));
      const user = await users.updateName(current.id, form.name);
      req.user = user;
      // The platform's login call is also how its profile is updated (docs/platform-protocol.md#accounts-login);
      // it always opens a new session, so the old one coming back means the platform did not answer.
      const after = await bridge.onProfileChange(req.sessionID, toHostUser(user));
      const reached = after !== null && after.session !== before?.session;
      done(req, res, user, { saved: reached ? '1' : 'later', ...emailFlag });
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
      await checkCurrentPassword(req, current, form.currentPassword, 'change your password');
      const weak = policy.problemWith(form.newPassword, [current.email, current.name]);
      if (weak) throw new RequestError('PASSWORD_TOO_WEAK', weak);
      const credentialsVersion = await changePassword(current, await passwords.hash(form.newPassword));
      // Whoever else holds a session of this reader (ASVS 3.3.3), host and platform, is logged out,
      // and a login that checked the old password meanwhile finds its version gone (docs/accounts.md#the-credentials-version);
      // this browser goes on in a new session, a known device under the new version.
      const user = { ...current, credentialsVersion };
      await hostSessions.logOutUser(String(current.id));
      await hostSessions.logIn(req, user);
      devices.issue(res, user);
      done(req, res, user, { password: '1' });
    } catch (error) {
      reshowForm(req, res, render, 'account', error, { email: current.email, name: current.name });
    }
  });

  return router;
}
