import { Router, type Request } from 'express';
import type { Bridge } from 'vf-login-bridge';
import { RateLimitedError, RequestError, isAppError } from '../errors';
import { toHostUser } from '../host-user';
import type { Render } from '../web/render';
import { wantsJson } from '../web/negotiate';
import type { AccountTokens } from './account-tokens';
import { linkTokenForm, parseForm } from '../auth/forms';
import type { LoginGuard } from '../auth/login-limits';
import { showLinkProblem, type LinkProblem } from '../web/form-pages';
import type { Verification } from './verification';

export interface EmailRouteDeps {
  verification: Verification;
  /** reads a link without using it up: the page before the button */
  tokens: Pick<AccountTokens, 'peek'>;
  guard: LoginGuard;
  bridge: Bridge;
  render: Render;
}

/** The per-address mail counter's window (src/auth/rate-limits.ts): no refusal of it lasts longer. */
const MAIL_WINDOW_SECONDS = 60 * 60;

/**
 * Verified addresses (docs/accounts.md#verified-addresses): the link a mail carries opens a page
 * whose button confirms. A GET never uses the token up, since mail scanners and link previews
 * fetch every link in a message before the reader sees it; only the form post does.
 */
export function createEmailRoutes(deps: EmailRouteDeps): Router {
  const { verification, tokens, guard, bridge, render } = deps;
  const router = Router();

  const linkInvalid = (req: Request): LinkProblem => ({
    code: 'LINK_INVALID',
    title: 'This link is no longer valid',
    message: 'This link is no longer valid: it was used already, it is more than 24 hours old, or a newer link replaced it.',
    ...(req.user ? { resend: true } : { next: { href: '/login?returnTo=%2Faccount', label: 'Log in to ask for a new link' } }),
  });

  router.get('/email/verify', async (req, res) => {
    const { token } = parseForm(linkTokenForm, { token: req.query.token });
    const grant = await tokens.peek(token, 'verify_email');
    if (!grant) return showLinkProblem(req, res, render, linkInvalid(req));
    render(res, 'email-verify', { title: 'Confirm your email address', token, email: grant.email, confirmed: false });
  });

  router.post('/email/verify', async (req, res) => {
    const { token } = parseForm(linkTokenForm, req.body);
    let confirmed: Awaited<ReturnType<Verification['confirm']>>;
    try {
      confirmed = await verification.confirm(token);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'EMAIL_TAKEN') throw error;
      return showLinkProblem(req, res, render, {
        code: 'EMAIL_TAKEN',
        title: 'That address is taken',
        message: 'Another account uses that email address now, so it cannot become yours. Your account keeps the address it has.',
        next: req.user ? { href: '/account', label: 'Back to your account' } : { href: '/login', label: 'Log in' },
      });
    }
    if (!confirmed) return showLinkProblem(req, res, render, linkInvalid(req));
    const { user } = confirmed;
    if (req.user?.id !== user.id) {
      // Another browser, or nobody logged in: the platform hears the address at the reader's next login.
      if (wantsJson(req)) return res.json({ ok: true });
      return render(res, 'email-verify', { title: 'Email address confirmed', email: user.email, confirmed: true });
    }
    // This browser is the reader's: the platform gets the address now (src/host-user.ts sends it only once verified).
    req.user = user;
    res.locals.user = user;
    await bridge.onProfileChange(req.sessionID, toHostUser(user));
    if (wantsJson(req)) res.json({ ok: true, user: { id: user.id, name: user.name, email: user.email } });
    else res.redirect(303, '/account?verified=1');
  });

  router.post('/email/verify/resend', async (req, res) => {
    const user = req.user;
    if (!user) throw new RequestError('UNAUTHENTICATED', 'Log in to ask for a new link.');
    await guard.mailRequest(req.ip ?? 'unknown');
    const outcome = await verification.resend(user, (address) => guard.allowMailTo(address));
    if ('limited' in outcome) throw new RateLimitedError(MAIL_WINDOW_SECONDS);
    const sent = 'sent' in outcome;
    if (wantsJson(req)) res.json({ ok: true, sent });
    else res.redirect(303, sent ? '/account?email=sent' : '/account');
  });

  return router;
}
