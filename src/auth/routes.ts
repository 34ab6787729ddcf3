import { Router, type Request, type Response } from 'express';
import { RequestError } from '../errors';
import type { Render } from '../web/render';
import { wantsJson } from '../web/negotiate';
import { safeReturnTo } from '../web/return-to';
import { accountForm, loginForm, parseForm, registerForm } from './forms';
import type { HostSessions } from './host-session';
import type { LoginGuard } from './login-limits';
import type { PasswordHasher } from './passwords';
import { INVALID_CREDENTIALS_MESSAGE } from './passport';
import type { User, UserStore } from './user-store';
import { normaliseEmail } from './user-store';
import type { Bridge } from '../platform';
import { toHostUser } from './host-session';

export interface AuthRouteDeps {
  users: UserStore;
  passwords: PasswordHasher;
  /** passport's authenticate step, promisified: the user, or undefined for wrong credentials */
  authenticate(req: Request, res: Response): Promise<User | undefined>;
  hostSessions: HostSessions;
  guard: LoginGuard;
  bridge: Bridge;
  render: Render;
}

/**
 * A form that fails validation is shown again with the message (never the password); JSON
 * clients get the error object from the error handler.
 */
function reshowForm(req: Request, res: Response, render: Render, view: string, error: unknown, fields: object): void {
  if (!(error instanceof RequestError) || wantsJson(req) || error.code === 'RATE_LIMITED' || error.code === 'CSRF_INVALID') throw error;
  render(res, view, { title: view === 'login' ? 'Log in' : view === 'register' ? 'Register' : 'Your account', error: error.message, ...fields }, error.status);
}

function fieldsOf(body: unknown): { email: string; name: string; returnTo: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 254) : '');
  return { email: text(b.email), name: text(b.name), returnTo: safeReturnTo(b.returnTo) };
}

function finish(req: Request, res: Response, returnTo: string, user: User): void {
  if (wantsJson(req)) res.json({ ok: true, user: { id: user.id, name: user.name, email: user.email } });
  else res.redirect(303, returnTo);
}

export function createAuthRoutes(deps: AuthRouteDeps): Router {
  const { users, passwords, hostSessions, guard, bridge, render } = deps;
  const router = Router();

  router.get('/register', (req, res) => {
    if (req.user) return res.redirect(303, '/account');
    render(res, 'register', { title: 'Register', email: '', name: '', returnTo: safeReturnTo(req.query.returnTo) });
  });

  router.post('/register', async (req, res) => {
    try {
      await guard.register(req.ip ?? 'unknown');
      const form = parseForm(registerForm, req.body);
      const user = await users.create({ email: form.email, name: form.name, passwordHash: await passwords.hash(form.password) });
      await hostSessions.logIn(req, user);
      finish(req, res, safeReturnTo(form.returnTo), user);
    } catch (error) {
      reshowForm(req, res, render, 'register', error, fieldsOf(req.body));
    }
  });

  router.get('/login', (req, res) => {
    render(res, 'login', { title: 'Log in', email: '', returnTo: safeReturnTo(req.query.returnTo) });
  });

  router.post('/login', async (req, res) => {
    try {
      const form = parseForm(loginForm, req.body);
      const ip = req.ip ?? 'unknown';
      const account = normaliseEmail(form.email);
      await guard.attemptLogin(ip, account);
      const user = await deps.authenticate(req, res);
      if (!user) throw new RequestError('INVALID_CREDENTIALS', INVALID_CREDENTIALS_MESSAGE);
      await guard.loginSucceeded(ip, account);
      await hostSessions.logIn(req, user);
      finish(req, res, safeReturnTo(form.returnTo), user);
    } catch (error) {
      reshowForm(req, res, render, 'login', error, fieldsOf(req.body));
    }
  });

  // One logout for the form post and the AJAX call: only the answer differs.
  router.post('/logout', async (req, res) => {
    await hostSessions.logOut(req);
    if (wantsJson(req)) res.json({ ok: true });
    else res.redirect(303, '/');
  });

  router.get('/account', (req, res) => {
    if (!req.user) return res.redirect(303, '/login?returnTo=%2Faccount');
    render(res, 'account', { title: 'Your account', email: req.user.email, name: req.user.name, saved: req.query.saved === '1' ? 'now' : req.query.saved === 'later' ? 'later' : null });
  });

  router.post('/account', async (req, res) => {
    if (!req.user) throw new RequestError('UNAUTHENTICATED', 'Log in to change your account.');
    try {
      const form = parseForm(accountForm, req.body);
      const before = await bridge.platformSessionFor(req.sessionID, toHostUser(req.user));
      const user = await users.updateProfile(req.user.id, form);
      req.user = user;
      // The platform's login call is also how its profile is updated (docs/platform-protocol.md#accounts-login);
      // it always opens a new session, so the old one coming back means the platform did not answer.
      const after = await bridge.onProfileChange(req.sessionID, toHostUser(user));
      const reached = after !== null && after.session !== before?.session;
      if (wantsJson(req)) res.json({ ok: true, user });
      else res.redirect(303, reached ? '/account?saved=1' : '/account?saved=later');
    } catch (error) {
      reshowForm(req, res, render, 'account', error, fieldsOf(req.body));
    }
  });

  return router;
}
