import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Router, type Response } from 'express';
import type { Clock } from 'vf-login-bridge';
import { PlatformError, RequestError } from '../errors';
import type { Logger } from '../logger';
import type { TokenSource, TokenStatus } from 'vf-login-bridge';
import type { Render } from './render';
import { adminOnly } from './admin-only';

declare module 'express-session' {
  interface SessionData {
    /** One connect under way: its state and PKCE verifier, used once by the callback. */
    platformConnect?: { state: string; verifier: string; startedAt: number };
  }
}

export interface PlatformAdminDeps {
  tokens: Pick<TokenSource, 'status' | 'authorizationUrl' | 'connect'>;
  /** authorization_code: the operator connects here; other grants only show the status. */
  canConnect: boolean;
  /** The path of VF_REDIRECT_URL on this site. */
  callbackPath: string;
  /** The origin of VF_AUTHORIZE_URL: the connect form's redirect goes there, so the CSP's form-action must allow it. */
  authorizeOrigin?: string | undefined;
  clock: Clock;
  logger: Logger;
  render: Render;
}

/** A connect must come back within this long; the platform's own code lives 10 minutes at most. */
const CONNECT_TTL_MS = 10 * 60_000;

function sameText(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function statusLine(status: TokenStatus): { state: string; line: string } {
  const when = (ms: number | undefined) => (ms === undefined ? 'unknown' : new Date(ms).toISOString().replace('.000Z', 'Z'));
  if (status.reconnectNeeded) return { state: 'reconnect_needed', line: `Reconnect needed: ${status.reconnectNeeded}.` };
  if (!status.connected) return { state: 'not_connected', line: 'Not connected. Readers see comments but cannot post until the platform is connected.' };
  const parts = [`Connected${status.connectedAs ? ` as ${status.connectedAs}` : ''}`];
  if (status.expiresAt !== undefined) parts.push(`token expires ${when(status.expiresAt)}`);
  parts.push(`last refresh ${status.refreshedAt === undefined ? 'none yet' : when(status.refreshedAt)}`);
  // The platform kept offline_access (or its like) back: docs/token-dialects.md, "Scope".
  if (status.grant === 'authorization_code' && status.renewable === false) parts.push('no refresh token, so connect again before the token expires');
  return { state: 'connected', line: `${parts.join('; ')}.` };
}

/**
 * The operator's one-time connect (RFC 6749 §4.1 with PKCE, RFC 7636): an admin page with the
 * status line and a button, the redirect to the platform's consent page, and the callback
 * that checks `state` and exchanges the code. For administrators only (src/web/admin-only.ts).
 */
export function createPlatformAdminRoutes(deps: PlatformAdminDeps): Router {
  const { tokens, render, clock } = deps;
  const router = Router();


  async function showPage(res: Response, extra: { message?: string; error?: string }, status = 200) {
    const current = await tokens.status();
    const { state, line } = statusLine(current);
    render(res, 'platform-admin', { title: 'Commenting platform', state, statusLine: line, grant: current.grant, canConnect: deps.canConnect, ...extra }, status);
  }

  router.get('/admin/platform', adminOnly, async (req, res) => {
    await showPage(res, req.query.connected === '1' ? { message: 'The commenting platform is connected.' } : {});
  });

  router.post('/admin/platform/connect', adminOnly, (req, res) => {
    if (!deps.canConnect) throw new RequestError('BAD_REQUEST', 'This platform is not connected by an operator.');
    const state = randomBytes(32).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    req.session.platformConnect = { state, verifier, startedAt: clock.now() };
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    res.redirect(303, tokens.authorizationUrl(state, challenge));
  });

  router.get(deps.callbackPath, adminOnly, async (req, res) => {
    const pending = req.session.platformConnect;
    const expired = pending !== undefined && clock.now() - pending.startedAt > CONNECT_TTL_MS;
    if (expired) delete req.session.platformConnect;
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    // RFC 6749 §10.12: a callback whose state this browser did not start is a forgery (login CSRF).
    // It leaves the pending connect alone: whoever can make the operator's browser open a bad
    // callback link must not be able to cancel the connect under way.
    if (!pending || expired || state === '' || !sameText(state, pending.state)) {
      throw new RequestError('CONNECT_STATE_INVALID', 'This connect link is not one this site started. Start again from the platform page.');
    }
    // One use only: a replayed or second callback finds nothing.
    delete req.session.platformConnect;
    if (typeof req.query.error === 'string') {
      return showPage(res, { error: 'The platform did not grant access. Nothing changed.' }, 400);
    }
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    if (code === '' || code.length > 1024) throw new RequestError('CONNECT_REFUSED', 'The platform sent no code back.');
    try {
      await tokens.connect(code, pending.verifier, req.user!.email);
    } catch (error) {
      if (!(error instanceof PlatformError)) throw error;
      deps.logger.warn({ code: error.code, upstreamStatus: error.upstreamStatus, oauthError: error.oauthError, reason: error.message }, 'platform connect failed');
      return showPage(res, { error: 'The platform refused the connection. Try again.' }, 400);
    }
    deps.logger.info({ operator: req.user!.id }, 'platform connected');
    res.redirect(303, '/admin/platform?connected=1');
  });

  return router;
}
