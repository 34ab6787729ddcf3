import type { Request, Response } from 'express';
import { ERROR_STATUS, RequestError } from '../errors';
import type { Render } from './render';
import { wantsJson } from './negotiate';
import { safeReturnTo } from './return-to';

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

/** The fields a login or registration form shows again: as sent, bounded, never the password. */
export function signInFieldsOf(body: unknown): { email: string; name: string; returnTo: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 254) : '');
  return { email: text(b.email), name: text(b.name), returnTo: safeReturnTo(b.returnTo) };
}

/** A login or registration that worked: the reader as JSON, or back where they were. */
export function answerSignIn(req: Request, res: Response, returnTo: string, user: { id: number; name: string; email: string }): void {
  if (wantsJson(req)) res.json({ ok: true, user: { id: user.id, name: user.name, email: user.email } });
  else res.redirect(303, returnTo);
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
