import { refreshRequest } from '../token-request';
import type { TokenRecord } from '../token-store';
import type { GrantContext } from './grant-strategy';
import { isRefusedGrant } from './token-errors';
import { recordOf } from './token-record';

export const REFRESH_REFUSED = 'the platform refused the refresh token';
export const NO_REFRESH_TOKEN = 'the token expired and the platform gave no refresh token';

/**
 * The refresh_token grant (RFC 6749 §6) that every renewing grant shares. The answer's new
 * refresh token replaces the old one in the same record (rotation); without a refresh token, or
 * when the platform refuses it (`invalid_grant`), the grant's own `otherwise` decides.
 */
export async function refreshOr(
  context: GrantContext,
  current: TokenRecord,
  otherwise: (why: string) => Promise<TokenRecord>,
): Promise<TokenRecord> {
  if (!current.refreshToken) return otherwise(NO_REFRESH_TOKEN);
  const requestedAt = context.clock.now();
  try {
    const answer = await context.exchange.send(refreshRequest(context.settings, current.refreshToken));
    return { ...recordOf(answer, requestedAt, current), refreshedAt: requestedAt };
  } catch (error) {
    if (!isRefusedGrant(error)) throw error;
    return otherwise(REFRESH_REFUSED);
  }
}
