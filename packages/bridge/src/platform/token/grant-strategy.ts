import type { Clock } from '../../clock';
import type { TokenSettings } from '../token-settings';
import type { TokenRecord } from '../token-store';
import type { TokenExchange } from './token-exchange';
import type { TokenStatus } from './token-status';

/** What every grant is built from: its settings, the token endpoint, and the clock its lifetimes count on. */
export interface GrantContext {
  settings: TokenSettings;
  exchange: TokenExchange;
  clock: Clock;
}

/** What the token source must know of a grant to cache, share and report it; nothing here names a grant. */
export interface GrantTraits {
  /** Obtains a first token from the configured credentials alone, without an operator's connect. */
  readonly startsAnew: boolean;
  /** Its tokens go to the configured store (shared by every instance); false: they stay in this process. */
  readonly shared: boolean;
}

/**
 * One way of getting a bearer token (docs/token-dialects.md), one file per grant. A strategy
 * holds no state: the token source keeps the record, and hands it back on every call.
 */
export interface TokenGrantStrategy {
  readonly traits: GrantTraits;
  /** A first token, before any is kept. */
  obtain(): Promise<TokenRecord>;
  /**
   * The token after `current` is due or refused. Absent: the grant starts over with obtain().
   * A record with `reconnectNeeded` when nothing but an operator's connect can give one.
   */
  refresh?(current: TokenRecord): Promise<TokenRecord>;
  /** The platform's consent page for an operator's connect (RFC 6749 §4.1.1). */
  authorizationUrl?(state: string, codeChallenge: string): string;
  /** Exchanges the code of a connect callback (RFC 6749 §4.1.3, RFC 7636). */
  connect?(code: string, codeVerifier: string, operator?: string): Promise<TokenRecord>;
  /** The status line of the kept record: a pure function of it. */
  describes(record: TokenRecord | null): TokenStatus;
}
