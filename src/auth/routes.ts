import { Router, type Request, type Response } from 'express';
import { RequestError } from '../errors';
import type { Render } from '../web/render';
import { answerSignIn, reshowForm, signInFieldsOf } from '../web/form-pages';
import { wantsJson } from '../web/negotiate';
import { safeReturnTo } from '../web/return-to';
import { loginForm, parseForm } from './forms';
import type { HostSessions } from './host-session';
import type { LoginGuard } from './login-limits';
import { INVALID_CREDENTIALS_MESSAGE } from './passport';
import type { TrustedDevices } from './trusted-device';
import type { User, UserStore } from '../store/user-store';
import { normaliseEmail } from '../store/user-store';

export interface AuthRouteDeps {
  users: UserStore;
  /** passport's authenticate step, promisified: the user, or undefined for wrong credentials */
  authenticate(req: Request, res: Response): Promise<User | undefined>;
  hostSessions: HostSessions;
  guard: LoginGuard;
  devices: TrustedDevices;
  render: Render;
  /** false with LOGIN=oidc: the login page offers the provider only, and no password is taken */
  localLogin: boolean;
  /** the provider's end-session URL for this login's ID token (RP-initiated logout); unset without a provider */
  providerLogoutUrl?: ((idToken: string | undefined) => Promise<string | undefined>) | undefined;
}

/** Log in and log out: the form post and the AJAX call. */
export function createAuthRoutes(deps: AuthRouteDeps): Router {
  const { users, hostSessions, guard, devices, render } = deps;
  const router = Router();

  router.get('/login', (req, res) => {
    render(res, 'login', { title: 'Log in', email: '', returnTo: safeReturnTo(req.query.returnTo) });
  });

  if (deps.localLogin) router.post('/login', async (req, res) => {
    try {
      const form = parseForm(loginForm, req.body);
      const account = normaliseEmail(form.email);
      const attempt = { account, ip: req.ip ?? 'unknown', device: devices.deviceOf(req, await users.loginTargetOf(account)) };
      await guard.attemptLogin(attempt);
      const user = await deps.authenticate(req, res);
      if (!user) throw new RequestError('INVALID_CREDENTIALS', INVALID_CREDENTIALS_MESSAGE);
      await guard.loginSucceeded(attempt);
      await hostSessions.logIn(req, user);
      devices.issue(res, user);
      answerSignIn(req, res, safeReturnTo(form.returnTo), user);
    } catch (error) {
      reshowForm(req, res, render, 'login', error, signInFieldsOf(req.body));
    }
  });

  // One logout for the form post and the AJAX call: only the answer differs. A reader who logged
  // in at the OpenID Provider is sent on to log out there too (docs/oidc-login.md#logging-out).
  router.post('/logout', async (req, res) => {
    const idToken = req.user ? req.session.provider?.idToken : undefined;
    await hostSessions.logOut(req);
    const providerLogout = idToken !== undefined ? await deps.providerLogoutUrl?.(idToken) : undefined;
    if (wantsJson(req)) res.json(providerLogout ? { ok: true, providerLogout } : { ok: true });
    else res.redirect(303, providerLogout ?? '/');
  });

  return router;
}
