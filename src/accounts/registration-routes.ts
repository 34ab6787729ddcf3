import { Router } from 'express';
import { RequestError } from '../errors';
import type { Render } from '../web/render';
import { answerSignIn, reshowForm, signInFieldsOf } from '../web/form-pages';
import { safeReturnTo } from '../web/return-to';
import { parseForm, registerForm } from '../auth/forms';
import type { HostSessions } from '../auth/host-session';
import type { LoginGuard } from '../auth/login-limits';
import type { PasswordHasher } from '../auth/passwords';
import type { PasswordPolicy } from '../auth/password-policy';
import type { TrustedDevices } from '../auth/trusted-device';
import type { Verification } from './verification';

export interface RegistrationRouteDeps {
  passwords: PasswordHasher;
  policy: PasswordPolicy;
  hostSessions: HostSessions;
  guard: LoginGuard;
  devices: TrustedDevices;
  verification: Verification;
  render: Render;
}

/**
 * Registration: the account and the link to its address are written together
 * (docs/accounts.md#verified-addresses), and the reader is logged in at once.
 */
export function createRegistrationRoutes(deps: RegistrationRouteDeps): Router {
  const { passwords, policy, hostSessions, guard, devices, verification, render } = deps;
  const router = Router();

  router.get('/register', (req, res) => {
    if (req.user) return res.redirect(303, '/account');
    render(res, 'register', { title: 'Register', email: '', name: '', returnTo: safeReturnTo(req.query.returnTo) });
  });

  router.post('/register', async (req, res) => {
    try {
      await guard.register(req.ip ?? 'unknown');
      const form = parseForm(registerForm, req.body);
      const weak = policy.problemWith(form.password, [form.email, form.name]);
      if (weak) throw new RequestError('PASSWORD_TOO_WEAK', weak);
      const user = await verification.createAccount({ email: form.email, name: form.name, passwordHash: await passwords.hash(form.password) });
      await hostSessions.logIn(req, user);
      devices.issue(res, user);
      answerSignIn(req, res, safeReturnTo(form.returnTo), user);
    } catch (error) {
      reshowForm(req, res, render, 'register', error, signInFieldsOf(req.body));
    }
  });

  return router;
}
