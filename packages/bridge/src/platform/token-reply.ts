import { PlatformError, type BridgeErrorCode } from '../errors';
import { parseJsonObject, type PlatformReply } from './platform-http';

/** A token answer (RFC 6749 §5.1) after every field was checked. */
export interface TokenAnswer {
  accessToken: string;
  /** null: the answer left expires_in out. */
  expiresInMs: number | null;
  refreshToken: string | undefined;
  scope: string | undefined;
  /**
   * Scopes asked for (`requestedScope`) that the answer does not grant: RFC 6749 §3.3 lets a
   * server grant less, so this is reported, not refused. Empty when nothing was asked.
   */
  scopeNotGranted: string[];
  /** Fields beyond RFC 6749 §5.1 that some dialects add (seed 001: `account_id`, `user_id`), kept as text. */
  extra: Record<string, string>;
}

export interface TokenAnswerRules {
  /** The scope the request asked for: what the answer does not grant goes to `scopeNotGranted`. */
  requestedScope?: string | undefined;
  /** Seed 003's answers always carry expires_in; a dialect may leave it out. */
  requireExpiresIn?: boolean | undefined;
}

// RFC 6750 §2.1 b64token: what may follow "Bearer " in a header.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const STANDARD_FIELDS = new Set(['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope']);
const EXTRA_SHAPE = /^[\x20-\x7e]{1,256}$/;
const MAX_EXTRA_FIELDS = 16;

// RFC 6749 §5.2 error codes; any other value is still a refusal, just not a named one.
const OAUTH_ERROR_CODES = new Map<string, BridgeErrorCode>([
  ['invalid_client', 'TOKEN_INVALID_CLIENT'],
  ['invalid_grant', 'TOKEN_INVALID_GRANT'],
  ['invalid_scope', 'TOKEN_INVALID_SCOPE'],
  ['unsupported_grant_type', 'TOKEN_UNSUPPORTED_GRANT'],
]);

function bad(message: string, upstreamStatus: number): never {
  throw new PlatformError('PLATFORM_BAD_RESPONSE', `Invalid token answer: ${message}`, { upstreamStatus });
}

/**
 * What was asked and not granted. An answer without `scope` grants what was asked (RFC 6749
 * §5.1). `offline_access` asks for a refresh token and never shows in an access token's scope
 * (OpenID Connect Core §11): it counts as granted exactly when a refresh token came back.
 */
function notGranted(requested: string | undefined, scope: string | undefined, refreshTokenGiven: boolean): string[] {
  if (requested === undefined) return [];
  const granted = new Set(scope === undefined ? requested.split(' ') : scope.split(' '));
  if (refreshTokenGiven) granted.add('offline_access');
  else granted.delete('offline_access');
  return [...new Set(requested.split(' '))].filter((part) => part !== '' && !granted.has(part));
}

/**
 * Any dialect's token answer checked field by field, or its §5.2 error as a typed code.
 * `token_type` is compared case-insensitively (RFC 6749 §5.1; seed 002 sends "Bearer").
 */
export function processTokenResponse(reply: PlatformReply, rules: TokenAnswerRules = {}): TokenAnswer {
  const body = parseJsonObject(reply.body);
  if (reply.status === 200) {
    if (!body) return bad('the token answer is not a JSON object', reply.status);
    const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn, scope, refresh_token: refreshToken } = body;
    if (typeof accessToken !== 'string' || accessToken === '') return bad('access_token must be a non-empty string', reply.status);
    if (!B64TOKEN.test(accessToken)) return bad('access_token is not a bearer token (RFC 6750 section 2.1)', reply.status);
    if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') return bad('token_type must be "bearer"', reply.status);
    let expiresInMs: number | null = null;
    if (expiresIn !== undefined || rules.requireExpiresIn) {
      if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
        return bad('expires_in must be a positive number', reply.status);
      }
      expiresInMs = expiresIn * 1000;
    }
    if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken === '')) {
      return bad('refresh_token must be a non-empty string', reply.status);
    }
    if (scope !== undefined && typeof scope !== 'string') return bad('scope must be a string', reply.status);
    const scopeNotGranted = notGranted(rules.requestedScope, scope, refreshToken !== undefined);
    const extra: Record<string, string> = {};
    for (const [name, value] of Object.entries(body)) {
      if (STANDARD_FIELDS.has(name) || Object.keys(extra).length >= MAX_EXTRA_FIELDS) continue;
      const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
      if (typeof text === 'string' && EXTRA_SHAPE.test(text) && /^[a-z_]{1,40}$/.test(name)) extra[name] = text;
    }
    return { accessToken, expiresInMs, refreshToken, scope, scopeNotGranted, extra };
  }
  if (reply.status >= 200 && reply.status < 300) return bad('the token endpoint answered without a token', reply.status);
  // RFC 6749 §5.2's character set, bounded: anything else from upstream never reaches a log line.
  const oauthError = typeof body?.error === 'string' && /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(body.error) ? body.error : undefined;
  const code = (oauthError !== undefined ? OAUTH_ERROR_CODES.get(oauthError) : undefined) ?? 'TOKEN_REJECTED';
  throw new PlatformError(code, 'The platform refused the token request', {
    upstreamStatus: reply.status,
    ...(oauthError !== undefined ? { oauthError } : {}),
  });
}
