import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Passport } from 'passport';
import type { Strategy } from 'openid-client/passport';
import { AppError, isAppError, RequestError } from '../errors';
import type { HostSessions } from '../auth/host-session';
import type { Logger } from '../logger';
import type { Render } from '../web/render';
import { safeReturnTo } from '../web/return-to';
import { createLoginStrategy, type ProviderLogin } from './login-strategy';
import type { Identities } from './identities';
import type { OidcProvider } from './provider';

declare module 'express-session' {
  interface SessionData {
    /** where the reader goes once the provider's login completes */
    oidcReturnTo?: string;
  }
}

export interface OidcRouteDeps {
  provider: OidcProvider;
  identities: Identities;
  passport: InstanceType<typeof Passport>;
  hostSessions: HostSessions;
  render: Render;
  logger: Logger;
}

/** How long a started login keeps its state, PKCE verifier and nonce: time enough to log in at the provider. */
const PENDING_LOGIN_MS = 30 * 60_000;

/** The path of OIDC_REDIRECT_URL: the provider sends readers back there. */
export function callbackPathOf(redirectUrl: string): string {
  return new URL(redirectUrl).pathname;
}

/**
 * `GET /login/oidc` and the callback (docs/oidc-login.md#the-login): the authorization code flow
 * with PKCE S256, `state` and `nonce`, through openid-client's passport Strategy; then the host
 * login as for any reader, which also logs the reader in to the platform.
 */
export function createOidcLoginRoutes(deps: OidcRouteDeps): Router {
  const { provider, identities, passport, hostSessions, render, logger } = deps;
  const { settings } = provider;
  const router = Router();
  const strategies = new WeakMap<object, Strategy>();

  async function strategy(): Promise<Strategy> {
    const discovered = await provider.discovered();
    let found = strategies.get(discovered);
    if (!found) {
      found = createLoginStrategy(discovered, { redirectUrl: settings.redirectUrl, scopes: settings.scopes, identities });
      strategies.set(discovered, found);
    }
    return found;
  }

  /**
   * passport augments the strategy it runs with this request's success and failure actions; it
   * copies a registered one per request, and this does the same, so two logins at once never share them.
   */
  function authenticate(req: Request, res: Response, next: NextFunction, done?: (error: unknown, login: unknown, info: unknown) => void): void {
    strategy().then((shared) => passport.authenticate(Object.create(shared) as Strategy, { session: false }, done)(req, res, next), next);
  }

  router.get('/login/oidc', (req, res, next) => {
    req.session.oidcReturnTo = safeReturnTo(req.query['returnTo']);
    // Anyone may start a login, and each start stores a session: one that never comes back goes
    // soon, not after the idle lifetime. The login's own session is a new one (src/auth/host-session.ts).
    if (!req.user) req.session.cookie.maxAge = PENDING_LOGIN_MS;
    authenticate(req, res, next);
  });

  router.get(callbackPathOf(settings.redirectUrl), (req, res, next) => {
    authenticate(req, res, next, (error, login, info) => {
      finishLogin(req, res, error, login as ProviderLogin | false, info).catch(next);
    });
  });

  async function finishLogin(req: Request, res: Response, error: unknown, login: ProviderLogin | false, info: unknown): Promise<void> {
    if (error || !login) {
      failedLogin(req, res, error, info);
      return;
    }
    const returnTo = req.session.oidcReturnTo ?? '/';
    await hostSessions.logIn(req, login.user, { provider: { sid: login.idpSid, idToken: login.idToken, authTime: login.authTime } });
    res.redirect(303, returnTo);
  }

  /** One log line with the reason; the reader sees the login page with a plain message and can start again. */
  function failedLogin(req: Request, res: Response, error: unknown, info: unknown): void {
    if (isAppError(error) && error.code === 'OIDC_UNAVAILABLE') throw error;
    const reason = error instanceof Error ? withOAuthError(error) : typeof (info as { message?: unknown })?.message === 'string' ? (info as { message: string }).message : 'no login';
    logger.warn({ code: 'OIDC_LOGIN_FAILED', reason: reason.slice(0, 300) }, 'A login at the OpenID Provider did not complete');
    const refused = new RequestError('OIDC_LOGIN_FAILED', `The sign-in at ${settings.providerName} did not complete. Please try again.`);
    res.locals.errorCode = refused.code;
    render(res, 'login', { title: 'Log in', error: refused.message, email: '', returnTo: safeReturnTo(req.session.oidcReturnTo) }, refused.status);
  }

  return router;
}

/** openid-client's message, led by the provider's RFC 6749 §5.2 `error` when it sent one (`invalid_grant: ...`). */
function withOAuthError(error: Error): string {
  const oauthError = (error as { error?: unknown }).error;
  return typeof oauthError === 'string' && /^[\x20-\x7e]{1,64}$/.test(oauthError) ? `${oauthError}: ${error.message}` : error.message;
}

/** Where the provider ends its own session once the site's has ended (OpenID Connect RP-Initiated Logout 1.0). */
export async function providerLogoutUrl(provider: OidcProvider, idToken: string | undefined, postLogoutRedirectUri: string): Promise<string | undefined> {
  if (idToken === undefined) return undefined;
  let discovered;
  try {
    discovered = await provider.discovered();
  } catch (error) {
    // The site's own logout has happened; the provider's cannot be asked for now.
    if (error instanceof AppError) return undefined;
    throw error;
  }
  // The logout form may only be sent on to the issuer's origin (the CSP's form-action, src/app.ts).
  if (!discovered.endSessionEndpoint || discovered.endSessionEndpoint.origin !== new URL(provider.settings.issuer).origin) return undefined;
  const url = new URL(discovered.endSessionEndpoint);
  url.searchParams.set('id_token_hint', idToken);
  url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
  url.searchParams.set('client_id', provider.settings.clientId);
  return url.href;
}
