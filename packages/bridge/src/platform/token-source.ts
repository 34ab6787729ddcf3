import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../clock';
import { PlatformError } from '../errors';
import type { PlatformGuard } from './circuit-breaker';
import { outcomeOf, type PlatformMetrics } from './metrics';
import { createPlatformHttp, type PlatformRequest } from './platform-http';
import { processTokenResponse, type TokenAnswer } from './token-reply';
import { authorizationUrl, codeExchangeRequest, newGrantRequest, refreshRequest } from './token-request';
import { canGrantAnew, tokenSettingsProblems, type TokenGrant, type TokenSettings } from './token-settings';
import { createMemoryTokenStore, type TokenRecord, type TokenStore } from './token-store';

export type TokenHealth = 'cached' | 'none' | 'failing' | 'not_connected' | 'reconnect_needed';

/** What an operator (and /readyz) may see of the token: never the token itself. */
export interface TokenStatus {
  grant: TokenGrant;
  connected: boolean;
  connectedAs?: string | undefined;
  expiresAt?: number | undefined;
  refreshedAt?: number | undefined;
  /** Why the platform needs an operator to connect again. */
  reconnectNeeded?: string | undefined;
}

/** Where every platform call gets its bearer token, whatever the dialect (docs/token-dialects.md). */
export interface TokenSource {
  /** A bearer token: the cached one, or one obtained (once, however many callers wait). */
  getToken(): Promise<string>;
  /** Forgets `token` after a 401: the next getToken() refreshes, and a stale 401 cannot throw a fresh token away. */
  invalidate(token: string): void;
  /** What is known without asking the platform, for readiness probes. */
  health(): TokenHealth;
  /** The status line: reads the shared store, never calls the platform. */
  status(): Promise<TokenStatus>;
  /** The platform's consent page for an operator's connect (authorization_code). */
  authorizationUrl(state: string, codeChallenge: string): string;
  /** Exchanges the code of a connect callback and keeps the tokens (RFC 6749 §4.1.3, RFC 7636). */
  connect(code: string, codeVerifier: string, operator?: string): Promise<TokenStatus>;
  close(): void;
}

export interface TokenSourceOptions {
  settings: TokenSettings;
  clock: Clock;
  timeoutMs: number;
  /** Refresh this long before the token expires. Default: 60 s or 10% of its lifetime, whichever is smaller. */
  refreshMarginMs?: number | undefined;
  /** Default: this process only. The database store shares the token between instances. */
  store?: TokenStore | undefined;
  metrics?: PlatformMetrics | undefined;
  breaker?: PlatformGuard | undefined;
}

const DEFAULT_MARGIN_MS = 60_000;
/** RFC 6749 §5.1 makes expires_in recommended, not required: without it, one hour, and a 401 sooner. */
const LIFETIME_WITHOUT_EXPIRES_IN_MS = 60 * 60_000;
/** How often an instance looks whether the lease holder has written the new token. */
const LEASE_POLL_MS = 20;
const REFUSED_TOKENS_KEPT = 16;

function isRefusedGrant(error: unknown): boolean {
  return error instanceof PlatformError && error.code === 'TOKEN_INVALID_GRANT';
}

function tokenError(code: 'TOKEN_NOT_CONNECTED' | 'TOKEN_RECONNECT_NEEDED' | 'TOKEN_BUSY'): PlatformError {
  const messages = {
    TOKEN_NOT_CONNECTED: 'The commenting platform is not connected yet',
    TOKEN_RECONNECT_NEEDED: 'The commenting platform must be connected again',
    TOKEN_BUSY: 'Another instance is refreshing the platform token',
  };
  return new PlatformError(code, messages[code]);
}

/**
 * One token source for every dialect: client credentials, password, authorization code with
 * refresh, or a static personal access token. Refreshes before expiry and after a 401; with a
 * shared store, one instance at a time refreshes (a lease) and the others read its result.
 */
export function createTokenSource(options: TokenSourceOptions): TokenSource {
  const { settings, clock } = options;
  const problems = tokenSettingsProblems(settings);
  if (problems.length > 0) throw new TypeError(`token settings: ${problems[0]}`);
  if (!clock || typeof clock.now !== 'function') throw new TypeError('createTokenSource requires a clock');
  const { refreshMarginMs } = options;
  if (refreshMarginMs !== undefined && (!Number.isFinite(refreshMarginMs) || refreshMarginMs < 0)) {
    throw new TypeError('refreshMarginMs must be a non-negative number');
  }
  const store = options.store ?? createMemoryTokenStore();
  const metrics = options.metrics;
  const pat = settings.grant === 'pat';
  const platform = pat
    ? undefined
    : createPlatformHttp({ baseUrl: new URL(settings.tokenUrl).origin, timeoutMs: options.timeoutMs, metrics, breaker: options.breaker });
  // A waiter gives up on another instance's refresh after about two of its calls.
  const waitMs = options.timeoutMs * 2 + 1_000;

  let cached: TokenRecord | null = null;
  let inFlight: Promise<string> | null = null;
  let lastFetchFailed = false;
  let reconnectNeeded: string | undefined;
  let connected = settings.grant !== 'authorization_code';
  const refused = new Set<string>();

  function refreshAt(record: TokenRecord): number {
    const lifetime = record.expiresAt - record.obtainedAt;
    const margin = Math.min(refreshMarginMs ?? Math.min(DEFAULT_MARGIN_MS, lifetime * 0.1), lifetime / 2);
    return record.expiresAt - margin;
  }
  const fresh = (r: TokenRecord, now: number) => !r.reconnectNeeded && !refused.has(r.accessToken) && now < refreshAt(r);
  const stillValid = (r: TokenRecord, now: number) => !r.reconnectNeeded && !refused.has(r.accessToken) && now < r.expiresAt;

  function adopt(record: TokenRecord): string {
    cached = record;
    connected = true;
    reconnectNeeded = undefined;
    lastFetchFailed = false;
    return record.accessToken;
  }

  async function send(request: PlatformRequest): Promise<TokenAnswer> {
    try {
      const answer = await platform!.post('token', request, (reply) => processTokenResponse(reply, { requestedScope: settings.scope }));
      metrics?.tokenFetches.inc({ outcome: 'ok' });
      return answer;
    } catch (error) {
      metrics?.tokenFetches.inc({ outcome: outcomeOf(error) });
      throw error;
    }
  }

  function recordOf(answer: TokenAnswer, requestedAt: number, previous: TokenRecord | null): TokenRecord {
    const lifetime = answer.expiresInMs ?? LIFETIME_WITHOUT_EXPIRES_IN_MS;
    const who = answer.extra['user_id'] ?? answer.extra['username'] ?? answer.extra['email'];
    return {
      accessToken: answer.accessToken,
      // RFC 6749 §6: a refresh answer may leave the refresh token out; then the old one stays good.
      refreshToken: answer.refreshToken ?? previous?.refreshToken,
      // Counted from when the request left, so the cache never outlives the token.
      obtainedAt: requestedAt,
      expiresAt: requestedAt + lifetime,
      refreshedAt: previous?.refreshedAt,
      connectedAs: who !== undefined ? `user ${who}` : (previous?.connectedAs ?? (settings.username ? settings.username : undefined)),
    };
  }

  /** Refresh, or a new grant where the grant allows one; a dead refresh token marks "reconnect needed". */
  async function renew(current: TokenRecord | null): Promise<TokenRecord> {
    const requestedAt = clock.now();
    if (current?.refreshToken) {
      try {
        const record = { ...recordOf(await send(refreshRequest(settings, current.refreshToken)), requestedAt, current), refreshedAt: requestedAt };
        await store.write(record);
        return record;
      } catch (error) {
        if (!isRefusedGrant(error)) throw error;
        if (!canGrantAnew(settings.grant)) {
          const dead = { ...current, refreshToken: undefined, reconnectNeeded: 'the platform refused the refresh token' };
          await store.write(dead);
          return dead;
        }
        // A revoked or rotated-away refresh token: start over with the credentials (password, client credentials).
      }
    } else if (!canGrantAnew(settings.grant)) {
      const dead = { ...current!, reconnectNeeded: 'the token expired and the platform gave no refresh token' };
      await store.write(dead);
      return dead;
    }
    const record = recordOf(await send(newGrantRequest(settings)), requestedAt, null);
    await store.write(record);
    return record;
  }

  function deadEnd(record: TokenRecord): never {
    cached = null;
    reconnectNeeded = record.reconnectNeeded;
    throw tokenError('TOKEN_RECONNECT_NEEDED');
  }

  async function obtain(): Promise<string> {
    const giveUpAt = performance.now() + waitMs;
    for (;;) {
      const known = await store.read();
      const now = clock.now();
      if (known && fresh(known, now)) return adopt(known);
      if (known?.reconnectNeeded) deadEnd(known);
      if (!known && settings.grant === 'authorization_code') {
        connected = false;
        throw tokenError('TOKEN_NOT_CONNECTED');
      }
      let lease;
      try {
        lease = await store.withLease(async () => {
          // Another instance may have renewed between the read above and the lease.
          const current = await store.read();
          if (current && (fresh(current, clock.now()) || current.reconnectNeeded)) return current;
          return renew(current);
        });
      } catch (error) {
        lastFetchFailed = true;
        // Inside the safety margin the old token still works: a failed early refresh costs nothing.
        if (known && stillValid(known, clock.now())) return known.accessToken;
        throw error;
      }
      if (lease.held) return lease.value.reconnectNeeded ? deadEnd(lease.value) : adopt(lease.value);
      // Another instance holds the lease: its old token serves meanwhile, or wait for the new one.
      if (known && stillValid(known, now)) return known.accessToken;
      if (performance.now() > giveUpAt) throw tokenError('TOKEN_BUSY');
      await delay(LEASE_POLL_MS);
    }
  }

  async function status(): Promise<TokenStatus> {
    if (pat) return { grant: settings.grant, connected: true };
    const record = await store.read();
    // Grants that start from their own credentials are always "connected": they can obtain a token.
    connected = (record !== null || canGrantAnew(settings.grant)) && !record?.reconnectNeeded;
    reconnectNeeded = record?.reconnectNeeded;
    return {
      grant: settings.grant,
      connected,
      connectedAs: record?.connectedAs,
      expiresAt: record?.expiresAt,
      refreshedAt: record?.refreshedAt,
      reconnectNeeded: record?.reconnectNeeded,
    };
  }

  return {
    getToken() {
      if (pat) return Promise.resolve(settings.accessToken!);
      if (cached && fresh(cached, clock.now())) return Promise.resolve(cached.accessToken);
      inFlight ??= obtain().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    invalidate(token) {
      if (pat) return;
      refused.add(token);
      if (refused.size > REFUSED_TOKENS_KEPT) refused.delete(refused.values().next().value!);
      if (cached?.accessToken === token) cached = null;
    },
    health() {
      if (pat) return 'cached';
      if (reconnectNeeded) return 'reconnect_needed';
      if (cached && clock.now() < cached.expiresAt) return 'cached';
      if (!connected) return 'not_connected';
      return lastFetchFailed ? 'failing' : 'none';
    },
    status,
    authorizationUrl(state, codeChallenge) {
      if (settings.grant !== 'authorization_code') throw new TypeError('authorizationUrl() needs the authorization_code grant');
      return authorizationUrl(settings, state, codeChallenge);
    },
    async connect(code, codeVerifier, operator) {
      if (settings.grant !== 'authorization_code') throw new TypeError('connect() needs the authorization_code grant');
      const requestedAt = clock.now();
      const answer = await send(codeExchangeRequest(settings, code, codeVerifier));
      const record = recordOf(answer, requestedAt, null);
      if (record.connectedAs === undefined && operator) record.connectedAs = `connected by ${operator}`;
      await store.write(record);
      refused.clear();
      adopt(record);
      return status();
    },
    close() {
      platform?.close();
    },
  };
}
