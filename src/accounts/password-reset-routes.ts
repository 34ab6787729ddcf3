import { Router, type Request, type Response } from 'express';
import { RequestError } from '../errors';
import type { Render } from '../web/render';
import { wantsJson } from '../web/negotiate';
import { forgotPasswordForm, linkTokenForm, parseForm, resetPasswordForm } from '../auth/forms';
import type { HostSessions } from '../auth/host-session';
import type { LoginGuard } from '../auth/login-limits';
import type { PasswordHasher } from '../auth/passwords';
import type { PasswordPolicy } from '../auth/password-policy';
import type { PasswordReset } from './password-reset';
import { reshowForm, showLinkProblem } from '../web/form-pages';
import type { TrustedDevices } from '../auth/trusted-device';

export interface PasswordResetRouteDeps {
  passwordReset: PasswordReset;
  passwords: PasswordHasher;
  policy: PasswordPolicy;
  hostSessions: HostSessions;
  guard: LoginGuard;
  devices: TrustedDevices;
  render: Render;
}

const LINK_INVALID = {
  code: 'LINK_INVALID',
  title: 'This link is no longer valid',
  message: 'This link is no longer valid: it was used already, it is more than an hour old, a newer link replaced it, or the address of the account changed since it was sent.',
  next: { href: '/password/forgot', label: 'Ask for a new link' },
} as const;

/**
 * "Forgot your password?" (docs/accounts.md#password-reset). The request is answered with the same
 * page whether or not the address has an account, before the account is looked up; requests are
 * limited per IP here and mails per address in src/accounts/password-reset.ts. The link's form spends
 * the token only with a password the policy accepts, and a reset ends every session of the reader.
 */
export function createPasswordResetRoutes(deps: PasswordResetRouteDeps): Router {
  const { passwordReset, passwords, policy, hostSessions, guard, devices, render } = deps;
  const router = Router();

  /** The link's token: the form's field, or the query of the link itself. */
  const tokenOf = (req: Request): string => {
    const field = (req.body as Record<string, unknown> | undefined)?.token;
    return parseForm(linkTokenForm, { token: typeof field === 'string' ? field : req.query.token }).token;
  };

  const askForm = (res: Response, fields: { sent: boolean; email: string }) => render(res, 'password-forgot', { title: 'Forgot your password?', ...fields });

  router.get('/password/forgot', (_req, res) => askForm(res, { sent: false, email: '' }));

  router.post('/password/forgot', async (req, res) => {
    try {
      await guard.mailRequest(req.ip ?? 'unknown');
      const form = parseForm(forgotPasswordForm, req.body);
      // Returns before the lookup: nothing in this answer, nor its timing, depends on the account.
      passwordReset.request(form.email);
      if (wantsJson(req)) res.json({ ok: true });
      else askForm(res, { sent: true, email: '' });
    } catch (error) {
      const email = (req.body as Record<string, unknown> | undefined)?.email;
      reshowForm(req, res, render, 'password-forgot', error, { sent: false, email: typeof email === 'string' ? email.slice(0, 254) : '' });
    }
  });

  router.get('/password/reset', async (req, res) => {
    const token = tokenOf(req);
    const user = await passwordReset.peek(token);
    if (!user) return showLinkProblem(req, res, render, LINK_INVALID);
    render(res, 'password-reset', { title: 'Choose a new password', token, email: user.email, name: user.name });
  });

  router.post('/password/reset', async (req, res) => {
    const token = tokenOf(req);
    const user = await passwordReset.peek(token);
    if (!user) return showLinkProblem(req, res, render, LINK_INVALID);
    let newPassword: string;
    try {
      // Checked before the token is used: a refused password leaves the link working.
      ({ newPassword } = parseForm(resetPasswordForm, req.body));
      const weak = policy.problemWith(newPassword, [user.email, user.name]);
      if (weak) throw new RequestError('PASSWORD_TOO_WEAK', weak);
    } catch (error) {
      return reshowForm(req, res, render, 'password-reset', error, { token, email: user.email, name: user.name });
    }
    const reset = await passwordReset.reset(token, await passwords.hash(newPassword));
    // Used, or the address changed, between the look above and now.
    if (!reset) return showLinkProblem(req, res, render, LINK_INVALID);
    // Whoever held a session of this reader, here or on the platform, held it under the password
    // that is gone (ASVS 3.3.3); this browser goes on in a new session, a known device under the
    // new credentials version, so device cookies issued before no longer count.
    await hostSessions.logOutUser(String(reset.id));
    await hostSessions.logIn(req, reset);
    devices.issue(res, reset);
    if (wantsJson(req)) res.json({ ok: true, user: { id: reset.id, name: reset.name, email: reset.email } });
    else res.redirect(303, '/account?password=reset');
  });

  return router;
}
