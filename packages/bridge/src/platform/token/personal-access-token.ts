import type { Clock } from '../../clock';
import type { TokenSettings } from '../token-settings';
import type { GrantTraits, TokenGrantStrategy } from './grant-strategy';

/** A personal access token has no expiry the bridge could know; only a 401 would say otherwise. */
const NEVER_MS = Number.MAX_SAFE_INTEGER;

/**
 * A personal access token from the settings (seeds 002 and 004), sent as it is: no token
 * endpoint, no refresh. It stays in this process: a stored copy would outlive a rotated
 * VF_ACCESS_TOKEN in every instance that read it.
 */
export function personalAccessTokenGrant(settings: TokenSettings, clock: Clock): TokenGrantStrategy {
  const traits: GrantTraits = { startsAnew: true, shared: false };
  return {
    traits,
    obtain: async () => ({ accessToken: settings.accessToken ?? '', obtainedAt: clock.now(), expiresAt: NEVER_MS }),
    // Nothing to show but the grant: an expiry the bridge made up would mislead the operator.
    describes: () => ({ grant: 'pat', connected: true }),
  };
}
