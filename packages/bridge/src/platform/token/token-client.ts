import type { Clock } from '../../clock';
import type { Logger } from '../../logger';
import type { PlatformGuard } from '../circuit-breaker';
import type { PlatformMetrics } from '../metrics';
import { checkBaseUrl, checkTimeout, type PlatformReply } from '../platform-http';
import { processTokenResponse } from '../token-reply';
import { viafouraTokenSettings, type BasicEncoding } from '../token-settings';
import { createTokenSource, type TokenSource } from './token-source';

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
  logger?: Logger | undefined;
  /** HTTP Basic encoding of the Site ID and key; default `raw`, as `curl --user` sends them. */
  basicEncoding?: BasicEncoding | undefined;
}

/** The token source as the accounts client and the site use it (see token-source.ts). */
export type TokenClient = TokenSource;

/** A token and its lifetime, as read from a successful token answer. */
export interface ClientCredentialsToken {
  accessToken: string;
  expiresInMs: number;
}

export const TOKEN_PATH = '/oauth2/token';

/** The default dialect's token answer (RFC 6749 §5.1): expires_in required; a narrower scope is the caller's to report. */
export function processClientCredentialsResponse(reply: PlatformReply): ClientCredentialsToken {
  const answer = processTokenResponse(reply, { requestedScope: 'accounts', requireExpiresIn: true });
  return { accessToken: answer.accessToken, expiresInMs: answer.expiresInMs! };
}

/**
 * The OAuth 2.0 client_credentials grant (RFC 6749 §4.4) with the Site ID and API key
 * (docs/token-dialects.md, the default dialect): a token source over viafouraTokenSettings, with
 * the checks that keep the key out of every error.
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  const { siteId, apiKey, clock } = options;
  if (typeof siteId !== 'string' || siteId === '') throw new TypeError('createTokenClient requires a siteId');
  // RFC 7617 §2: the user-id of Basic authentication cannot contain a colon (form encoding escapes it).
  if (siteId.includes(':') && options.basicEncoding !== 'form') throw new TypeError('siteId must not contain ":"');
  if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('createTokenClient requires an apiKey');
  if (!clock || typeof clock.now !== 'function') throw new TypeError('createTokenClient requires a clock');
  return createTokenSource({
    settings: { ...viafouraTokenSettings(checkBaseUrl(options.baseUrl), siteId, apiKey), basicEncoding: options.basicEncoding },
    clock,
    timeoutMs: checkTimeout(options.timeoutMs),
    refreshMarginMs: options.refreshMarginMs,
    metrics: options.metrics,
    breaker: options.breaker,
    logger: options.logger,
  });
}
