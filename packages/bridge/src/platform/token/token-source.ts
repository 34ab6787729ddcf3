import type { Clock } from '../../clock';
import type { Logger } from '../../logger';
import type { PlatformGuard } from '../circuit-breaker';
import type { PlatformMetrics } from '../metrics';
import { checkTimeout } from '../platform-http';
import { SealedTokenError } from '../token-crypto';
import { tokenSettingsProblems, type TokenSettings } from '../token-settings';
import { createMemoryTokenStore, type TokenStore } from '../token-store';
import { grantStrategyFor } from './grant-strategies';
import type { TokenGrantStrategy } from './grant-strategy';
import { acquireToken, type AcquireParts } from './token-acquire';
import { scopeWarnings } from './scope-warnings';
import { createTokenExchange, type TokenExchange } from './token-exchange';
import { TokenState } from './token-state';
import type { TokenHealth, TokenStatus } from './token-status';

/** Where every platform call gets its bearer token, whatever the dialect (docs/token-dialects.md). */
export interface TokenSource {
  /** A bearer token: the cached one, or one obtained (once, however many callers wait). */
  getToken(): Promise<string>;
  /** Forgets `token` after a 401: the next getToken() refreshes, and a stale 401 cannot throw a fresh token away. */
  invalidate(token: string): void;
  /** What this process knows without asking the platform or the store, for readiness probes. */
  health(): TokenHealth;
  /** The status line: reads the store, never calls the platform, changes nothing. */
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
  /** Where a narrower grant than asked is told, once per missing set. None: not told. */
  logger?: Logger | undefined;
}

function checkOptions(options: TokenSourceOptions): void {
  const problems = tokenSettingsProblems(options.settings);
  if (problems.length > 0) throw new TypeError(`token settings: ${problems[0]}`);
  if (!options.clock || typeof options.clock.now !== 'function') throw new TypeError('createTokenSource requires a clock');
  checkTimeout(options.timeoutMs);
  const { refreshMarginMs } = options;
  if (refreshMarginMs !== undefined && (!Number.isFinite(refreshMarginMs) || refreshMarginMs < 0)) {
    throw new TypeError('refreshMarginMs must be a non-negative number');
  }
}

/**
 * One token source for every grant (one strategy per grant, in this folder): caches the token on
 * the injected clock, shares one fetch among concurrent callers, refreshes before expiry and after
 * a 401, and with a shared store lets one instance at a time renew (token-acquire.ts).
 */
export function createTokenSource(options: TokenSourceOptions): TokenSource {
  checkOptions(options);
  const { settings, clock } = options;
  const exchange = createTokenExchange({
    tokenUrl: settings.tokenUrl,
    onScopeNotGranted: scopeWarnings(settings, options.logger),
    timeoutMs: options.timeoutMs,
    metrics: options.metrics,
    breaker: options.breaker,
  });
  const strategy = grantStrategyFor({ settings, exchange, clock });
  const store = (strategy.traits.shared ? options.store : undefined) ?? createMemoryTokenStore();
  return new CachingTokenSource(
    {
      store,
      strategy,
      state: new TokenState(clock, options.refreshMarginMs, strategy.traits.startsAnew),
      clock,
      // A waiter gives up on another instance's refresh after about two of its calls.
      waitMs: options.timeoutMs * 2 + 1_000,
    },
    exchange,
  );
}

class CachingTokenSource implements TokenSource {
  private inFlight: Promise<string> | null = null;

  constructor(
    private readonly parts: AcquireParts,
    private readonly exchange: TokenExchange,
  ) {}

  private get strategy(): TokenGrantStrategy {
    return this.parts.strategy;
  }

  getToken(): Promise<string> {
    const cached = this.parts.state.cachedToken();
    if (cached !== undefined) return Promise.resolve(cached);
    this.inFlight ??= acquireToken(this.parts).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  invalidate(token: string): void {
    this.parts.state.refuse(token);
  }

  health(): TokenHealth {
    return this.parts.state.health();
  }

  async status(): Promise<TokenStatus> {
    try {
      return this.strategy.describes(await this.parts.store.read());
    } catch (error) {
      if (!(error instanceof SealedTokenError)) throw error;
      return { ...this.strategy.describes(null), keptTokenUnreadable: error.code };
    }
  }

  authorizationUrl(state: string, codeChallenge: string): string {
    if (!this.strategy.authorizationUrl) throw new TypeError('authorizationUrl() needs the authorization_code grant');
    return this.strategy.authorizationUrl(state, codeChallenge);
  }

  async connect(code: string, codeVerifier: string, operator?: string): Promise<TokenStatus> {
    if (!this.strategy.connect) throw new TypeError('connect() needs the authorization_code grant');
    const record = await this.strategy.connect(code, codeVerifier, operator);
    await this.parts.store.write(record);
    this.parts.state.reconnected(record);
    return this.strategy.describes(record);
  }

  close(): void {
    this.exchange.close();
  }
}
