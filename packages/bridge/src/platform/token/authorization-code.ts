import { authorizationUrl, codeExchangeRequest } from '../token-request';
import type { GrantContext, GrantTraits, TokenGrantStrategy } from './grant-strategy';
import { refreshOr } from './refresh-token';
import { tokenStateError } from './token-errors';
import { reconnectRecord, recordOf } from './token-record';
import { statusOfRecord } from './token-status';

/**
 * RFC 6749 §4.1 with PKCE (RFC 7636): an operator connects once (seeds 001 three-legged, 002,
 * 004), then refresh tokens carry on. Nothing can grant anew without the operator, so a dead
 * refresh token marks the site "reconnect needed" (docs/token-dialects.md).
 */
export function authorizationCodeGrant(context: GrantContext): TokenGrantStrategy {
  const { settings, clock } = context;
  const traits: GrantTraits = { startsAnew: false, shared: true };
  return {
    traits,
    obtain: () => Promise.reject(tokenStateError('TOKEN_NOT_CONNECTED')),
    refresh: (current) => refreshOr(context, current, async (why) => reconnectRecord(current, why)),
    authorizationUrl: (state, codeChallenge) => authorizationUrl(settings, state, codeChallenge),
    async connect(code, codeVerifier, operator) {
      const requestedAt = clock.now();
      const answer = await context.exchange.send(codeExchangeRequest(settings, code, codeVerifier), settings.scope);
      return recordOf(answer, requestedAt, null, operator ? `connected by ${operator}` : undefined);
    },
    describes: (record) => statusOfRecord('authorization_code', traits.startsAnew, record),
  };
}
