import express, { Router, type Request, type Response } from 'express';
import type { JWTVerifyGetKey } from 'jose';
import { loadJose } from './jose';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { BridgeSchema } from '../store/schema';
import { isDatabaseUnavailable } from '../store/unavailable';
import { createReplayGuard } from '../hooks/replay-guard';
import { LogoutTokenError, verifyLogoutToken, type LogoutClaims } from './logout-token';

export interface BackchannelLogoutOptions {
  /** this site's client id at the provider: a logout token's `aud` must name it */
  clientId: string;
  /**
   * The provider as its discovery document names it, asked when a token arrives: its issuer
   * identifier (a token's `iss` must be exactly it) and its `jwks_uri`.
   */
  provider(): Promise<{ issuer: string; jwksUri: URL }>;
  /** how old a token's `iat` may be; default 5 minutes */
  maxAgeSeconds?: number;
}

export interface BackchannelLogoutDeps {
  clock: Clock;
  logger: Logger;
  /** where each token's `jti` is remembered, so a replay is refused on every instance */
  db: Kysely<BridgeSchema>;
  /** ends every host session logged in under this provider session (and queues their platform logouts) */
  logOutProviderSession(sid: string): Promise<number>;
  /** ends every host session of the reader with this subject at this issuer */
  logOutSubject(issuer: string, sub: string): Promise<number>;
}

const DEFAULT_MAX_AGE_SECONDS = 5 * 60;
/** A logout token is a few hundred bytes; a form far larger is no logout token. */
const BODY_LIMIT = '16kb';

class Refusal extends Error {
  constructor(readonly status: 400 | 503, readonly reason: string) {
    super(reason);
  }
}

/** §2.8: the answer carries no cached copy anywhere. */
function answer(res: Response, status: number, body?: object): void {
  res.set('Cache-Control', 'no-store');
  if (body) res.status(status).json(body);
  else res.status(status).end();
}

/**
 * `POST` with the form field `logout_token` (OpenID Connect Back-Channel Logout 1.0,
 * docs/oidc-login.md#back-channel-logout): a provider tells the site that a reader's session there
 * ended. Verified against the provider's keys; each `jti` has one effect across every instance; then
 * the matching host sessions end and their platform logouts are queued durably. `200` once done,
 * `400` with one log line for a token that fails a check (nothing ends), `503` while a store or the
 * provider's keys cannot be reached (the provider may send it again).
 */
export function createBackchannelLogoutRoutes(options: BackchannelLogoutOptions, deps: BackchannelLogoutDeps): Router {
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  const keySets = new Map<string, JWTVerifyGetKey>();

  function keys(jose: Awaited<ReturnType<typeof loadJose>>, uri: URL): JWTVerifyGetKey {
    let keySet = keySets.get(uri.href);
    if (!keySet) {
      keySet = jose.createRemoteJWKSet(uri, { timeoutDuration: 5000 });
      keySets.set(uri.href, keySet);
    }
    return keySet;
  }

  const replays = createReplayGuard(deps.db);

  /** The first use of a `jti` on any instance; it is held until the token is too old to pass anyway. */
  async function firstUse(issuer: string, claims: LogoutClaims): Promise<string | undefined> {
    const key = `bcl:${issuer} ${claims.jti}`;
    return (await replays.firstUse(key, (claims.iat + maxAgeSeconds + 60) * 1000, deps.clock.now())) ? key : undefined;
  }

  async function logOut(issuer: string, claims: LogoutClaims): Promise<number> {
    // §2.7: a token with a sid ends that provider session's logins; one with only a sub, all of the reader's.
    return claims.sid !== undefined ? deps.logOutProviderSession(claims.sid) : deps.logOutSubject(issuer, claims.sub!);
  }

  async function handle(req: Request, res: Response): Promise<void> {
    const token = (req.body as Record<string, unknown> | undefined)?.['logout_token'];
    if (typeof token !== 'string' || token === '') throw new Refusal(400, 'the form has no logout_token');
    let provider: { issuer: string; jwksUri: URL };
    try {
      provider = await options.provider();
    } catch {
      throw new Refusal(503, 'the provider\'s discovery document cannot be read');
    }
    const { issuer } = provider;
    let claims: LogoutClaims;
    try {
      const jose = await loadJose();
      claims = await verifyLogoutToken(jose, token, keys(jose, provider.jwksUri), { issuer, clientId: options.clientId, maxAgeSeconds, now: deps.clock.now() });
    } catch (error) {
      if (error instanceof LogoutTokenError) throw new Refusal(error.keysUnavailable ? 503 : 400, error.message);
      throw error;
    }
    const claimed = await firstUse(issuer, claims);
    if (!claimed) throw new Refusal(400, 'this logout token (its jti) was used already');
    let ended: number;
    try {
      ended = await logOut(issuer, claims);
    } catch (error) {
      // Nothing was lost: the provider's retry with the same token is let through again.
      await replays.release(claimed).catch(() => undefined);
      throw error;
    }
    deps.logger.info({ code: 'BACKCHANNEL_LOGOUT', by: claims.sid !== undefined ? 'sid' : 'sub', ended }, 'The OpenID Provider ended a reader\'s session');
    answer(res, 200);
  }

  /** One log line of reason, never the token; the answer says the same. */
  function refuse(res: Response, refusal: Refusal): void {
    deps.logger.warn({ code: 'LOGOUT_TOKEN_INVALID', status: refusal.status, reason: refusal.reason }, 'A back-channel logout was refused; no session ended');
    answer(res, refusal.status, { error: refusal.status === 400 ? 'invalid_request' : 'temporarily_unavailable', error_description: refusal.reason });
  }

  const router = Router();
  router.post('/', express.urlencoded({ extended: false, limit: BODY_LIMIT, type: 'application/x-www-form-urlencoded' }), (req, res, next) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof Refusal) return refuse(res, error);
      if (isDatabaseUnavailable(error)) return answer(res, 503, { error: 'temporarily_unavailable', error_description: 'the site cannot reach its database' });
      next(error);
    });
  });
  // A body the parser refused (too large, not UTF-8): a plain 400 with its reason, never a stack trace.
  router.use((error: { status?: number; type?: unknown }, _req: Request, res: Response, next: (error: unknown) => void) => {
    if (typeof error?.status === 'number' && error.status < 500) return refuse(res, new Refusal(400, `the body is not a logout form${typeof error.type === 'string' ? ` (${error.type})` : ''}`));
    next(error);
  });
  return router;
}
