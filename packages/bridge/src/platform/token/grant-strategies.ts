import type { GrantContext, TokenGrantStrategy } from './grant-strategy';
import { authorizationCodeGrant } from './authorization-code';
import { clientCredentialsGrant } from './client-credentials';
import { passwordGrant } from './password';
import { personalAccessTokenGrant } from './personal-access-token';

/** The one place that names the grants: the configured one's strategy. */
export function grantStrategyFor(context: GrantContext): TokenGrantStrategy {
  switch (context.settings.grant) {
    case 'client_credentials':
      return clientCredentialsGrant(context);
    case 'password':
      return passwordGrant(context);
    case 'authorization_code':
      return authorizationCodeGrant(context);
    case 'pat':
      return personalAccessTokenGrant(context.settings, context.clock);
  }
}
