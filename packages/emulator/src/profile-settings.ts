import type { TokenSettings } from 'vf-login-bridge';
import { DEFAULT_INTEGRATION_USER, TOKEN_DIALECTS, type EmulatorProfile } from './profiles';

export interface EmulatorClient {
  /** The emulator's base URL, without a trailing slash. */
  url: string;
  siteId: string;
  apiKey: string;
  integrationUser?: { username: string; password: string } | undefined;
  personalAccessToken?: string | undefined;
}

/**
 * The bridge's token settings that speak a profile's dialect: what a publisher would set as
 * VF_TOKEN_* for that platform (README, "Token dialects"). `redirectUrl` selects the
 * three-legged connect where the profile has one (veem, viewneo); veem without it is two-legged.
 */
export function tokenSettingsForEmulator(profile: EmulatorProfile, client: EmulatorClient, redirectUrl?: string): TokenSettings {
  const dialect = TOKEN_DIALECTS[profile];
  const base = { clientId: client.siteId, clientSecret: client.apiKey, refreshTokenIn: dialect.refreshTokenIn, clientAuth: dialect.clientAuth };
  const tokenUrl = `${client.url}${dialect.tokenPath ?? '/oauth2/token'}`;
  switch (profile) {
    case 'viafoura':
      return { ...base, grant: 'client_credentials', tokenUrl, scope: 'accounts' };
    case 'viima': {
      const user = client.integrationUser ?? DEFAULT_INTEGRATION_USER;
      return { ...base, grant: 'password', tokenUrl, username: user.username, password: user.password };
    }
    case 'veem':
      if (redirectUrl === undefined) return { ...base, grant: 'client_credentials', tokenUrl, scope: 'all' };
      return { ...base, grant: 'authorization_code', tokenUrl, scope: 'all', authorizeUrl: `${client.url}${dialect.authorizePath}`, redirectUrl };
    case 'viewneo':
      return { ...base, grant: 'authorization_code', tokenUrl, authorizeUrl: `${client.url}${dialect.authorizePath}`, redirectUrl: redirectUrl ?? 'http://127.0.0.1/admin/platform/callback' };
    case 'pat':
      return { grant: 'pat', clientAuth: 'basic', tokenUrl, refreshTokenIn: 'body', accessToken: client.personalAccessToken ?? client.apiKey };
  }
}
