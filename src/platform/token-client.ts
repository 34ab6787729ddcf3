import type { Clock } from '../clock';
import { PlatformError, type ErrorCode } from '../errors';
import type { PlatformGuard } from './circuit-breaker';
import { outcomeOf, type PlatformMetrics } from './metrics';
import { createPlatformHttp, parseJsonObject, type PlatformReply } from './platform-http';

export interface TokenClientOptions {
  baseUrl: string;
  siteId: string;
  apiKey: string;
  clock: Clock;
  timeoutMs: number;
  /** Refresh this long before the token expires. Default: 60 s or 10% of its lifetime, whichever is smaller. */
  refreshMarginMs?: number | undefined;
  metrics?: PlatformMetrics | undefined;
  breaker?: PlatformGuard | undefined;
}

export interface TokenClient {
  /** A bearer token for the accounts API: the cached one, or one fetched (once, however many callers wait). */
  getToken(): Promise<string>;
  /** Forgets `token` if it is still the cached one: a stale 401 cannot throw a fresh token away. */
  invalidate(token: string): void;
  /**
   * What is known without asking the platform, for readiness probes: a probe that fetched a
   * token would let anyone who can reach `/readyz` drive the token endpoint.
   */
  health(): 'cached' | 'none' | 'failing';
  /** Closes idle keep-alive sockets. */
  close(): void;
}

/** A token and its lifetime, as read from a successful token answer. */
export interface ClientCredentialsToken {
  accessToken: string;
  expiresInMs: number;
}

export const TOKEN_PATH = '/oauth2/token';
const DEFAULT_MARGIN_MS = 60_000;
// RFC 6750 §2.1 b64token: what may follow "Bearer " in a header.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

// RFC 6749 §5.2 error codes; any other value is still a refusal, just not a named one.
const OAUTH_ERROR_CODES = new Map<string, ErrorCode>([
  ['invalid_client', 'TOKEN_INVALID_CLIENT'],
  ['invalid_grant', 'TOKEN_INVALID_GRANT'],
  ['invalid_scope', 'TOKEN_INVALID_SCOPE'],
  ['unsupported_grant_type', 'TOKEN_UNSUPPORTED_GRANT'],
]);

/**
 * RFC 6749 §2.3.1 would form-encode the client id and secret before Basic authentication; the
 * platform compares what `curl --user SITE_ID:API_KEY` sends (docs/platform-protocol.md#token), the raw UTF-8 bytes.
 */
export function basicCredentials(siteId: string, apiKey: string): string {
  return `Basic ${Buffer.from(`${siteId}:${apiKey}`, 'utf8').toString('base64')}`;
}

/** The token answer (RFC 6749 §5.1) checked field by field, or the §5.2 error as a typed code. */
export function processClientCredentialsResponse(reply: PlatformReply): ClientCredentialsToken {
  const body = parseJsonObject(reply.body);
  if (reply.status === 200) {
    if (!body) return bad('the token answer is not a JSON object', reply.status);
    const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn, scope } = body;
    if (typeof accessToken !== 'string' || accessToken === '') return bad('access_token must be a non-empty string', reply.status);
    if (!B64TOKEN.test(accessToken)) return bad('access_token is not a bearer token (RFC 6750 section 2.1)', reply.status);
    if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') return bad('token_type must be "bearer"', reply.status);
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      return bad('expires_in must be a positive number', reply.status);
    }
    // RFC 6749 §5.1: scope may be left out when it is the one requested; when present it must grant it.
    if (scope !== undefined && (typeof scope !== 'string' || !scope.split(' ').includes('accounts'))) {
      return bad('scope does not include "accounts"', reply.status);
    }
    return { accessToken, expiresInMs: expiresIn * 1000 };
  }
  if (reply.status >= 200 && reply.status < 300) return bad('the token endpoint answered without a token', reply.status);
  const oauthError = typeof body?.error === 'string' ? body.error : undefined;
  const code = (oauthError !== undefined ? OAUTH_ERROR_CODES.get(oauthError) : undefined) ?? 'TOKEN_REJECTED';
  throw new PlatformError(code, 'The platform refused the token request', {
    upstreamStatus: reply.status,
    ...(oauthError !== undefined ? { oauthError } : {}),
  });
}

function bad(message: string, upstreamStatus: number): never {
  throw new PlatformError('PLATFORM_BAD_RESPONSE', `Invalid token answer: ${message}`, { upstreamStatus });
}

/**
 * The OAuth 2.0 client_credentials grant (RFC 6749 §4.4) with the Site ID and API key
 * (docs/platform-protocol.md#token). The token is cached on the injected clock until shortly before it expires, and
 * concurrent callers share one request.
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  const { siteId, apiKey, clock } = options;
  if (typeof siteId !== 'string' || siteId === '') throw new TypeError('createTokenClient requires a siteId');
  // RFC 7617 §2: the user-id of Basic authentication cannot contain a colon.
  if (siteId.includes(':')) throw new TypeError('siteId must not contain ":"');
  if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('createTokenClient requires an apiKey');
  if (!clock || typeof clock.now !== 'function') throw new TypeError('createTokenClient requires a clock');
  const { refreshMarginMs } = options;
  if (refreshMarginMs !== undefined && (!Number.isFinite(refreshMarginMs) || refreshMarginMs < 0)) {
    throw new TypeError('refreshMarginMs must be a non-negative number');
  }
  const metrics = options.metrics;
  const platform = createPlatformHttp({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs, metrics, breaker: options.breaker });
  // Built once; the key itself is not kept anywhere an error or a log could reach.
  const authorization = basicCredentials(siteId, apiKey);
  const grant = new URLSearchParams({ grant_type: 'client_credentials', scope: 'accounts' }).toString();

  let cached: { token: string; refreshAt: number; expiresAt: number } | null = null;
  let inFlight: Promise<string> | null = null;
  let lastFetchFailed = false;

  async function fetchToken(): Promise<string> {
    const requestedAt = clock.now();
    try {
      const { accessToken, expiresInMs } = await platform.postForm('token', TOKEN_PATH, grant, authorization, processClientCredentialsResponse);
      // Counted from when the request left, so the cache never outlives the token. The margin
      // is at most half the lifetime, so a short-lived token is not refetched on every call.
      const margin = Math.min(refreshMarginMs ?? Math.min(DEFAULT_MARGIN_MS, expiresInMs * 0.1), expiresInMs / 2);
      cached = { token: accessToken, refreshAt: requestedAt + expiresInMs - margin, expiresAt: requestedAt + expiresInMs };
      metrics?.tokenFetches.inc({ outcome: 'ok' });
      lastFetchFailed = false;
      return accessToken;
    } catch (error) {
      metrics?.tokenFetches.inc({ outcome: outcomeOf(error) });
      lastFetchFailed = true;
      // Inside the safety margin the old token still works: a failed early refresh costs nothing.
      if (cached && clock.now() < cached.expiresAt) return cached.token;
      throw error;
    }
  }

  return {
    health() {
      if (cached && clock.now() < cached.expiresAt) return 'cached';
      return lastFetchFailed ? 'failing' : 'none';
    },

    getToken() {
      if (cached && clock.now() < cached.refreshAt) return Promise.resolve(cached.token);
      inFlight ??= fetchToken().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = null;
    },
    close() {
      platform.close();
    },
  };
}
