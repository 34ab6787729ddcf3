import express, { type Request, type Router } from 'express';
import type { GrantState } from './grant-state';
import { sendError } from './wire';

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const STATE_SHAPE = /^[\x21-\x7e]{8,512}$/;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scope: string | undefined;
}

/** RFC 6749 §4.1.1 with RFC 7636: state and an S256 challenge are required here, not optional. */
function readAuthorizeRequest(source: Record<string, unknown>, clientId: string): AuthorizeRequest | string {
  const text = (name: string) => (typeof source[name] === 'string' && source[name] !== '' ? (source[name] as string) : undefined);
  if (text('client_id') !== clientId) return 'Unknown client_id';
  const redirectUri = text('redirect_uri');
  if (!redirectUri || !/^https?:\/\//.test(redirectUri)) return 'redirect_uri must be an http(s) URL';
  if (text('response_type') !== undefined && text('response_type') !== 'code') return 'response_type must be code';
  const state = text('state');
  if (!state || !STATE_SHAPE.test(state)) return 'state is required';
  const codeChallenge = text('code_challenge');
  if (!codeChallenge || !PKCE_CHALLENGE.test(codeChallenge) || text('code_challenge_method') !== 'S256') {
    return 'PKCE is required: code_challenge with code_challenge_method=S256';
  }
  return { clientId, redirectUri, state, codeChallenge, scope: text('scope') };
}

function consentPage(request: AuthorizeRequest, path: string): string {
  const hidden = Object.entries({
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    response_type: 'code',
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
    ...(request.scope ? { scope: request.scope } : {}),
  })
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize the publisher's site</title></head>
<body>
  <h1>Allow the publisher's site to use the commenting platform?</h1>
  <p>It will log its readers in and out of comments on its own behalf.</p>
  <form method="post" action="${escapeHtml(path)}">
      ${hidden}
    <button type="submit" name="decision" value="allow">Allow</button>
    <button type="submit" name="decision" value="deny">Deny</button>
  </form>
</body></html>`;
}

function redirectTo(redirectUri: string, params: Record<string, string>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

/**
 * The three-legged flows' consent page (seeds 001, 002, 004): GET shows an Allow button, POST
 * sends the browser back to redirect_uri with a one-time code and the caller's state.
 */
export function authorizeRouter(deps: { path: string; clientId: string; grants: GrantState }): Router {
  const router = express.Router();
  router.get(deps.path, (req: Request, res) => {
    const request = readAuthorizeRequest(req.query as Record<string, unknown>, deps.clientId);
    if (typeof request === 'string') return sendError(res, 400, 'invalid_request', request);
    res.status(200).set({ 'Cache-Control': 'no-store', 'Content-Type': 'text/html; charset=utf-8' }).send(consentPage(request, deps.path));
  });
  router.post(deps.path, express.urlencoded({ extended: false, limit: '16kb' }), (req: Request, res) => {
    const request = readAuthorizeRequest((req.body ?? {}) as Record<string, unknown>, deps.clientId);
    if (typeof request === 'string') return sendError(res, 400, 'invalid_request', request);
    if (req.body.decision !== 'allow') {
      return res.redirect(303, redirectTo(request.redirectUri, { error: 'access_denied', state: request.state }));
    }
    const code = deps.grants.issueCode(request.redirectUri, request.codeChallenge);
    res.redirect(303, redirectTo(request.redirectUri, { code, state: request.state }));
  });
  return router;
}
