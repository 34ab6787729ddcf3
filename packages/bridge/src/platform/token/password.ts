import { newGrantRequest } from '../token-request';
import type { TokenRecord } from '../token-store';
import type { GrantContext, GrantTraits, TokenGrantStrategy } from './grant-strategy';
import { refreshOr } from './refresh-token';
import { statusOfRecord } from './token-status';
import { recordOf } from './token-record';

/**
 * RFC 6749 §4.3: an integration user's name and password (seed 000). Its refresh tokens rotate;
 * a refused one costs nothing, the password grants again (docs/token-dialects.md).
 */
export function passwordGrant(context: GrantContext): TokenGrantStrategy {
  // The status line names the integration user when the answer does not.
  const user = context.settings.username;
  async function obtain(): Promise<TokenRecord> {
    const requestedAt = context.clock.now();
    return recordOf(await context.exchange.send(newGrantRequest(context.settings), context.settings.scope), requestedAt, null, user);
  }
  const traits: GrantTraits = { startsAnew: true, shared: true };
  return {
    traits,
    obtain,
    refresh: (current) => refreshOr(context, current, obtain),
    describes: (record) => statusOfRecord('password', traits.startsAnew, record),
  };
}
