import { PlatformError } from '../../errors';

export type TokenStateCode = 'TOKEN_NOT_CONNECTED' | 'TOKEN_RECONNECT_NEEDED' | 'TOKEN_BUSY';

const MESSAGES: Record<TokenStateCode, string> = {
  TOKEN_NOT_CONNECTED: 'The commenting platform is not connected yet',
  TOKEN_RECONNECT_NEEDED: 'The commenting platform must be connected again',
  TOKEN_BUSY: 'Another instance is refreshing the platform token',
};

/** Why no token can be handed out now, although the platform was not asked (or not this time). */
export function tokenStateError(code: TokenStateCode): PlatformError {
  return new PlatformError(code, MESSAGES[code]);
}

/** RFC 6749 §5.2 `invalid_grant`: the refresh token (or code) is dead, not the platform. */
export function isRefusedGrant(error: unknown): boolean {
  return error instanceof PlatformError && error.code === 'TOKEN_INVALID_GRANT';
}
