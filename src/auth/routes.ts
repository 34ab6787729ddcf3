import { Router, type Request, type Response } from 'express';
import { ERROR_STATUS, RequestError } from '../errors';
import type { Render } from '../web/render';
import { wantsJson } from '../web/negotiate';
import { safeReturnTo } from '../web/return-to';
import { loginForm, parseForm, registerForm } from './forms';
import type { HostSessions } from './host-session';
import type { LoginGuard } from './login-limits';
import type { PasswordHasher } from './passwords';
import type { PasswordPolicy } from './password-policy';
import { INVALID_CREDENTIALS_MESSAGE } from './passport';
import type { TrustedDevices } from './trusted-device';
import type { User, UserStore } from './user-store';
import type { Verification } from './verification';
import { normaliseEmail } from './user-store';

export interface AuthRouteDeps {
  users: UserStore;
  passwords: PasswordHasher;
  policy: PasswordPolicy;
  /** passport's authenticate step, promisified: the user, or undefined for wrong credentials */
  authenticate(req: Request, res: Response): Promise<User | undefined>;
  hostSessions: HostSessions;
  guard: LoginGuard;
  devices: TrustedDevices;
  verification: Verification;
  render: Render;
}

/** The title of each form page reshowForm can show again; any other is the account page. */
const FORM_TITLES: Readonly<Record<string, string>> = {
  login: 'Log in',
  register: 'Register',
  'password-forgot': 'Forgot your password?',
  'password-reset': 'Choose a new password',
};

/**
 * A form that fails validation is shown again with the message (never the password); JSON
 * clients get the error object from the error handler.
 */
export function reshowForm(req: Request, res: Response, render: Render, view: string, error: unknown, fields: object): void {
  if (!(error instanceof RequestError) || wantsJson(req) || error.code === 'RATE_LIMITED' || error.code === 'CSRF_INVALID') throw error;
  render(res, view, { title: FORM_TITLES[view] ?? 'Your account', error: error.message, ...fields }, error.status);
}

/** Why a one-time link led nowhere, and the way on from there (views/link-problem.eta). */
export interface LinkProblem {
  code: 'LINK_INVALID' | 'EMAIL_TAKEN';
  title: string;
  message: string;
  /** offer the logged-in reader a new verification link */
  resend?: boolean;
  next?: { href: string; label: string };
}

/** The page for a link that cannot be used; JSON clients get the error object. */
export function showLinkProblem(req: Request, res: Response, render: Render, problem: LinkProblem): void {
  if (wantsJson(req)) throw new RequestError(problem.code, problem.message);
  // The request's log line names the code, as it does for errors the handler answers.
  res.locals.errorCode = problem.code;
  render(res, 'link-problem', { ...problem }, ERROR_STATUS[problem.code]);
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
  const { users, passwords, policy, hostSessions, guard, devices, render } = deps;
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
      const user = await deps.verification.createAccount({ email: form.email, name: form.name, passwordHash: await passwords.hash(form.password) });
      await hostSessions.logIn(req, user);
      devices.issue(res, user);
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
      const account = normaliseEmail(form.email);
      const attempt = { account, ip: req.ip ?? 'unknown', device: devices.deviceOf(req, await users.loginTargetOf(account)) };
      await guard.attemptLogin(attempt);
      const user = await deps.authenticate(req, res);
      if (!user) throw new RequestError('INVALID_CREDENTIALS', INVALID_CREDENTIALS_MESSAGE);
      await guard.loginSucceeded(attempt);
      await hostSessions.logIn(req, user);
      devices.issue(res, user);
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

  return router;
}
