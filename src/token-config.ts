import { parseEncryptionKey } from 'vf-login-bridge';
import {
  CLIENT_AUTHS,
  REFRESH_TOKEN_PLACES,
  TOKEN_GRANTS,
  keepsRefreshTokens,
  tokenSettingsProblems,
  type ClientAuth,
  type RefreshTokenIn,
  type TokenGrant,
  type TokenSettings,
} from 'vf-login-bridge';

/** The token part of the configuration (docs/token-dialects.md). */
export interface TokenConfig {
  /** unset: no platform credentials at all, so the bundled emulator is used */
  readonly settings: TokenSettings | undefined;
  /** AES-256-GCM key for tokens kept in the database; required for grants that keep refresh tokens */
  readonly encryptionKey: Buffer | undefined;
  /** Lower-cased emails of the site's users who may connect the platform (authorization_code). */
  readonly adminEmails: readonly string[];
}

const CREDENTIAL_VARIABLES = ['VF_CLIENT_ID', 'VF_CLIENT_SECRET', 'VF_SITE_ID', 'VF_API_KEY', 'VF_ACCESS_TOKEN', 'VF_TOKEN_GRANT'];

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T | undefined {
  if (value === undefined) return fallback;
  return (allowed as readonly string[]).includes(value) ? (value as T) : undefined;
}

/**
 * VF_TOKEN_* and friends -> token settings, or problems, one line each, naming the variable.
 * `env` has empty values removed already; `apiUrl` is the platform base URL without a trailing slash.
 * VF_SITE_ID / VF_API_KEY are the same two values as VF_CLIENT_ID / VF_CLIENT_SECRET, so
 * seed 003's deployments keep working unchanged.
 */
export function readTokenConfig(env: Readonly<Record<string, string | undefined>>, apiUrl: string): { config: TokenConfig; problems: string[] } {
  const problems: string[] = [];
  const adminEmails = (env['ADMIN_EMAILS'] ?? '')
    .split(',')
    .map((email) => email.trim().toLowerCase())
    .filter((email) => email !== '');

  const pair = (preferred: string, legacy: string): { value: string | undefined; name: string } => {
    const a = env[preferred];
    const b = env[legacy];
    if (a !== undefined && b !== undefined && a !== b) problems.push(`${preferred}: differs from ${legacy}; they name the same value, set one`);
    return { value: a ?? b, name: a === undefined && b !== undefined ? legacy : preferred };
  };
  const id = pair('VF_CLIENT_ID', 'VF_SITE_ID');
  const secret = pair('VF_CLIENT_SECRET', 'VF_API_KEY');
  // A deployment that speaks of VF_SITE_ID is told about VF_API_KEY, not a name it never used.
  const secretName = env['VF_CLIENT_SECRET'] === undefined && (env['VF_API_KEY'] !== undefined || id.name === 'VF_SITE_ID') ? 'VF_API_KEY' : 'VF_CLIENT_SECRET';
  const idName = env['VF_CLIENT_ID'] === undefined && (env['VF_SITE_ID'] !== undefined || secretName === 'VF_API_KEY') ? 'VF_SITE_ID' : 'VF_CLIENT_ID';

  const remote = CREDENTIAL_VARIABLES.some((name) => env[name] !== undefined);
  if (!remote) return { config: { settings: undefined, encryptionKey: undefined, adminEmails }, problems };

  const grant = oneOf<TokenGrant>(env['VF_TOKEN_GRANT'], TOKEN_GRANTS, 'client_credentials');
  const clientAuth = oneOf<ClientAuth>(env['VF_CLIENT_AUTH'], CLIENT_AUTHS, 'basic');
  const refreshTokenIn = oneOf<RefreshTokenIn>(env['VF_REFRESH_TOKEN_IN'], REFRESH_TOKEN_PLACES, 'body');
  if (!grant) problems.push(`VF_TOKEN_GRANT: must be one of ${TOKEN_GRANTS.join(', ')}`);
  if (!clientAuth) problems.push(`VF_CLIENT_AUTH: must be one of ${CLIENT_AUTHS.join(', ')}`);
  if (!refreshTokenIn) problems.push('VF_REFRESH_TOKEN_IN: must be body or query');
  if (!grant || !clientAuth || !refreshTokenIn) return { config: { settings: undefined, encryptionKey: undefined, adminEmails }, problems };

  const settings: TokenSettings = {
    grant,
    clientAuth,
    tokenUrl: env['VF_TOKEN_URL'] ?? `${apiUrl}/oauth2/token`,
    authorizeUrl: env['VF_AUTHORIZE_URL'],
    // Seed 003 asks for scope=accounts; other grants send a scope only when one is set.
    scope: env['VF_SCOPE'] ?? (grant === 'client_credentials' ? 'accounts' : undefined),
    clientId: id.value,
    clientSecret: secret.value,
    username: env['VF_USERNAME'],
    password: env['VF_PASSWORD'],
    accessToken: env['VF_ACCESS_TOKEN'],
    redirectUrl: env['VF_REDIRECT_URL'],
    refreshTokenIn,
  };
  for (const problem of tokenSettingsProblems(settings)) {
    problems.push(problem.replace(/^VF_CLIENT_ID:/, `${idName}:`).replace(/^VF_CLIENT_SECRET:/, `${secretName}:`));
  }
  if (grant === 'pat' && env['VF_CLIENT_AUTH'] !== undefined) problems.push('VF_CLIENT_AUTH: not used with VF_TOKEN_GRANT=pat');

  let encryptionKey: Buffer | undefined;
  const keyText = env['TOKEN_ENCRYPTION_KEY'];
  if (keyText !== undefined) {
    const parsed = parseEncryptionKey(keyText);
    if ('problem' in parsed) problems.push(`TOKEN_ENCRYPTION_KEY: ${parsed.problem}`);
    else encryptionKey = parsed.key;
  } else if (keepsRefreshTokens(grant)) {
    problems.push(`TOKEN_ENCRYPTION_KEY: required with VF_TOKEN_GRANT=${grant} (refresh tokens are kept encrypted in the database)`);
  }
  if (grant === 'authorization_code' && adminEmails.length === 0) {
    problems.push('ADMIN_EMAILS: required with VF_TOKEN_GRANT=authorization_code (who may connect the platform)');
  }
  return { config: { settings, encryptionKey, adminEmails }, problems };
}
