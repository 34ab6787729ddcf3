import type { SealedTokenCode } from '../token-crypto';
import type { TokenGrant } from '../token-settings';
import type { TokenRecord } from '../token-store';

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
  /** Whether a refresh token is kept; false: the token cannot be renewed without a new grant or connect. */
  renewable?: boolean | undefined;
  /**
   * A token is kept in the database but this process cannot open it: `TOKEN_KEY_UNKNOWN` (sealed
   * under a key not in its list) or `TOKEN_SEAL_DAMAGED`. It counts as none kept meanwhile.
   */
  keptTokenUnreadable?: SealedTokenCode | undefined;
}

/**
 * The status line of a kept record, a pure function of it. A grant that starts from its own
 * credentials counts as connected before its first token: it can always obtain one.
 */
export function statusOfRecord(grant: TokenGrant, startsAnew: boolean, record: TokenRecord | null): TokenStatus {
  return {
    grant,
    connected: (record !== null || startsAnew) && !record?.reconnectNeeded,
    connectedAs: record?.connectedAs,
    expiresAt: record?.expiresAt,
    refreshedAt: record?.refreshedAt,
    reconnectNeeded: record?.reconnectNeeded,
    renewable: record ? record.refreshToken !== undefined : undefined,
  };
}
