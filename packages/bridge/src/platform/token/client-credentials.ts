import { newGrantRequest } from '../token-request';
import type { TokenRecord } from '../token-store';
import type { GrantContext, GrantTraits, TokenGrantStrategy } from './grant-strategy';
import { refreshOr } from './refresh-token';
import { statusOfRecord } from './token-status';
import { recordOf } from './token-record';

/**
 * RFC 6749 §4.4: the client's own id and secret (seed 003, the default dialect; seed 001's
 * two-legged form). Seed 001 also hands out a refresh token, used while it lives; absent or
 * refused, the credentials simply start over.
 */
export function clientCredentialsGrant(context: GrantContext): TokenGrantStrategy {
  async function obtain(): Promise<TokenRecord> {
    const requestedAt = context.clock.now();
    return recordOf(await context.exchange.send(newGrantRequest(context.settings), context.settings.scope), requestedAt, null);
  }
  const traits: GrantTraits = { startsAnew: true, shared: true };
  return {
    traits,
    obtain,
    refresh: (current) => refreshOr(context, current, obtain),
    describes: (record) => statusOfRecord('client_credentials', traits.startsAnew, record),
  };
}
