import type { Kysely } from 'kysely';
import type { Clock } from './clock';
import { createBridge, type Bridge, type BridgeOptions } from './core';
import type { Logger } from './logger';
import {
  createAccountsClient,
  createCircuitBreaker,
  createDatabaseTokenStore,
  createPlatformMetrics,
  createTokenClient,
  createTokenSource,
  type AccountsClient,
  type CircuitBreakerOptions,
  type CircuitState,
  type MetricsRegistry,
  type OutcomeListener,
  type TokenClient,
  type TokenSettings,
} from './platform';
import { createCredentialsCheck, type CredentialsCheck } from './platform/credentials-check';
import { checkSealingKeys } from './platform/token-crypto';
import { viafouraTokenSettings, type BasicEncoding } from './platform/token-settings';
import type { BridgeSchema } from './store/schema';

/** Tuning of the whole platform side; every field has a default. */
export interface PlatformOptions extends BridgeOptions {
  /** Refresh the token this long before it expires (default: 60 s or 10% of its lifetime, whichever is smaller). */
  refreshMarginMs?: number | undefined;
  breaker?: CircuitBreakerOptions | undefined;
}

export interface CreatePlatformOptions {
  baseUrl: string;
  siteId: string;
  apiKey: string;
  clock: Clock;
  logger: Logger;
  db: Kysely<BridgeSchema>;
  /** The app's own prom-client registry, never the global one; none: no metrics. */
  registry?: MetricsRegistry | undefined;
  /** Told of every outcome the platform and bridge counters count (src/platform/metrics.ts), registry or not. */
  onOutcome?: OutcomeListener | undefined;
  /** Every platform call gives up after this long. */
  timeoutMs: number;
  options?: PlatformOptions | undefined;
  /** The token dialect (docs/token-dialects.md). Unset: seed 003's, from siteId and apiKey. */
  token?: TokenSettings | undefined;
  /**
   * With keys, the token is kept in the database, sealed, and shared by every instance. Newest
   * first: writes seal under the first, reads open with any, so a key is rotated without a
   * disconnect (docs/token-dialects.md#rotating-the-sealing-key). Each 32 bytes, none twice.
   */
  tokenEncryptionKeys?: readonly Buffer[] | undefined;
  /** The older name of `tokenEncryptionKeys` with one key; give one or the other. */
  tokenEncryptionKey?: Buffer | undefined;
  /**
   * HTTP Basic encoding of the client id and secret where `token` leaves it unset: `form`
   * (RFC 6749 §2.3.1) or `raw` (`curl --user`). Unset in both: `raw` for seed 003's dialect,
   * `form` for the others; `basicEncodingWarning(settings)` says whether the choice matters
   * (docs/token-dialects.md#basic-encoding).
   */
  basicEncoding?: BasicEncoding | undefined;
}

export interface Platform {
  bridge: Bridge;
  tokens: TokenClient;
  accounts: AccountsClient;
  /** One token request to see whether the platform takes the credentials; background jobs run it. */
  credentials: CredentialsCheck;
  breakerState(): CircuitState;
  /** Stops the breaker's timers and closes idle sockets. */
  close(): Promise<void>;
}

/**
 * Token client, accounts client, one circuit breaker in front of both, metrics and the bridge,
 * wired together. Nothing happens at import time: each app builds its own.
 */
export function createPlatform(config: CreatePlatformOptions): Platform {
  const { baseUrl, timeoutMs, clock, logger } = config;
  const sealingKeys = sealingKeysOf(config);
  const options = config.options ?? {};
  const metrics = createPlatformMetrics(config.registry, config.onOutcome && listenerThatNeverThrows(config.onOutcome, logger));
  const breaker = createCircuitBreaker(options.breaker, clock);
  metrics.watchCircuit(breaker.state);
  breaker.onStateChange((state) => {
    if (state === 'open') logger.warn({ code: 'PLATFORM_CIRCUIT_OPEN', circuit: state }, 'platform circuit opened; calls paused');
    else logger.info({ circuit: state }, `platform circuit ${state}`);
  });

  const given = config.token ? { ...config.token, basicEncoding: config.token.basicEncoding ?? config.basicEncoding } : undefined;
  const tokens = given
    ? createTokenSource({
        settings: given,
        clock,
        timeoutMs,
        refreshMarginMs: options.refreshMarginMs,
        metrics,
        breaker,
        logger,
        store: sealingKeys
          ? createDatabaseTokenStore({
              db: config.db,
              clock,
              keys: sealingKeys,
              logger,
              identity: [given.tokenUrl, given.clientId, given.grant].join(' '),
            })
          : undefined,
      })
    : createTokenClient({
        baseUrl,
        siteId: config.siteId,
        apiKey: config.apiKey,
        clock,
        timeoutMs,
        refreshMarginMs: options.refreshMarginMs,
        metrics,
        breaker,
        logger,
        basicEncoding: config.basicEncoding,
      });
  // The settings in force, once the token source has checked them.
  const settings = given ?? { ...viafouraTokenSettings(baseUrl, config.siteId, config.apiKey), basicEncoding: config.basicEncoding };
  const credentials = createCredentialsCheck({ tokens, settings, clock, logger, retryBaseMs: options.retryBaseMs, retryMaxMs: options.retryMaxMs });
  const accounts = createAccountsClient({ baseUrl, tokens, timeoutMs, metrics, breaker });
  const { refreshMarginMs: _margin, breaker: _breaker, ...bridgeOptions } = options;
  const bridge = createBridge({ db: config.db, accounts, clock, logger, metrics, circuit: breaker.state, options: bridgeOptions });

  return {
    bridge,
    tokens,
    accounts,
    credentials,
    breakerState: breaker.state,
    async close() {
      breaker.shutdown();
      tokens.close();
      accounts.close();
    },
  };
}

/** The sealing keys under either name, checked at construction rather than at the first token. */
function sealingKeysOf(config: CreatePlatformOptions): readonly Buffer[] | undefined {
  const { tokenEncryptionKeys: keys, tokenEncryptionKey: key } = config;
  if (keys !== undefined && key !== undefined) {
    throw new TypeError('createPlatform: give tokenEncryptionKeys, or tokenEncryptionKey (its older name), not both');
  }
  if (keys !== undefined) return checkSealingKeys(keys, 'createPlatform: tokenEncryptionKeys');
  if (key !== undefined) return checkSealingKeys([key], 'createPlatform: tokenEncryptionKey');
  return undefined;
}

/**
 * The publisher's outcome listener runs inside a platform call's bookkeeping: a listener that
 * throws is logged (once a minute at most would be nicer; each is rare) and never turns a call
 * that worked into one that failed.
 */
function listenerThatNeverThrows(listener: OutcomeListener, logger: Logger): OutcomeListener {
  return (outcome) => {
    try {
      listener(outcome);
    } catch (error) {
      logger.error({ code: 'INTERNAL', err: error, kind: outcome.kind }, 'the onOutcome listener threw; the outcome is still counted');
    }
  };
}

