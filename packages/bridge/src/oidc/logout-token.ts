import type { JWTPayload, JWTVerifyGetKey } from 'jose';

/** jose, loaded on the first logout token (./jose.ts). */
type Jose = typeof import('jose');

/** OpenID Connect Back-Channel Logout 1.0 §2.4: the member of `events` that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * Signatures by the provider's keys only: no `none`, and no HMAC, whose key would be the client
 * secret the site also holds (docs/oidc-login.md#back-channel-logout).
 */
export const LOGOUT_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface LogoutTokenRules {
  issuer: string;
  clientId: string;
  /** how old `iat` may be, in seconds */
  maxAgeSeconds: number;
  /** milliseconds since the epoch: the injected clock's now */
  now: number;
}

/** A logout token that passed every check: which provider session or subject to log out, once. */
export interface LogoutClaims {
  jti: string;
  iat: number;
  sid: string | undefined;
  sub: string | undefined;
}

export class LogoutTokenError extends Error {
  /** true: the provider's keys could not be fetched, so the token was not judged; its sender may retry */
  readonly keysUnavailable: boolean;
  constructor(message: string, keysUnavailable = false) {
    super(message);
    this.keysUnavailable = keysUnavailable;
  }
}

function optionalText(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > 255) throw new LogoutTokenError(`the ${name} claim is not a usable string`);
  return value;
}

/**
 * The checks of Back-Channel Logout 1.0 §2.6, in its order: a JWT signed by one of the issuer's keys
 * (jose refuses `alg: none`), `iss`, `aud` naming this client, `iat` recent, the logout event,
 * `sid` and/or `sub`, and no `nonce` (so an ID token cannot pass for a logout token). The `jti`
 * replay check is the caller's, across instances.
 */
export async function verifyLogoutToken(jose: Jose, token: string, keys: JWTVerifyGetKey, rules: LogoutTokenRules): Promise<LogoutClaims> {
  let verified;
  try {
    verified = await jose.jwtVerify(token, keys, {
      issuer: rules.issuer,
      audience: rules.clientId,
      algorithms: LOGOUT_TOKEN_ALGORITHMS,
      currentDate: new Date(rules.now),
      maxTokenAge: rules.maxAgeSeconds,
      clockTolerance: 30,
      requiredClaims: ['iat', 'jti'],
    });
  } catch (error) {
    throw new LogoutTokenError(joseReason(jose.errors, error), keysUnavailable(jose.errors, error));
  }
  const { payload, protectedHeader } = verified;
  // §2.4: typed `logout+jwt` where the provider types it; a token typed as anything else is some other JWT.
  const typ = protectedHeader.typ?.toLowerCase();
  if (typ !== undefined && typ !== 'logout+jwt' && typ !== 'application/logout+jwt' && typ !== 'jwt') throw new LogoutTokenError(`the token is typed ${protectedHeader.typ}, not logout+jwt`);
  const events = payload['events'];
  if (typeof events !== 'object' || events === null || Array.isArray(events)) throw new LogoutTokenError('the events claim is missing');
  const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new LogoutTokenError('the events claim has no back-channel logout event');
  if (payload['nonce'] !== undefined) throw new LogoutTokenError('a logout token must not carry a nonce');
  const sid = optionalText(payload, 'sid');
  const sub = optionalText(payload, 'sub');
  if (sid === undefined && sub === undefined) throw new LogoutTokenError('the token names neither sid nor sub');
  const jti = optionalText(payload, 'jti');
  if (jti === undefined) throw new LogoutTokenError('the token has no jti');
  return { jti, iat: payload.iat!, sid, sub };
}

/** The key set could not be read (a timeout, a network error, an answer that is no key set). */
function keysUnavailable(errors: Jose['errors'], error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  // jose judges the token with JOSEErrors; anything else came from fetching the keys.
  return !(error instanceof errors.JOSEError);
}

/** jose's reason in words a log reader can act on, without the token. */
function joseReason(errors: Jose['errors'], error: unknown): string {
  if (error instanceof errors.JWTClaimValidationFailed) return `the ${error.claim} claim failed: ${error.reason}`;
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify with the provider\'s keys';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the provider matches the token';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError) return `the token cannot be verified: ${error.code}`;
  return 'the token is not a valid JWT';
}
