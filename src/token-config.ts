import { parseEncryptionKey } from 'vf-login-bridge';
import {
  BASIC_ENCODINGS,
  basicEncodingWarning,
  CLIENT_AUTHS,
  REFRESH_TOKEN_PLACES,
  TOKEN_GRANTS,
  keepsRefreshTokens,
  tokenSettingsProblems,
  type BasicEncoding,
  type ClientAuth,
  type RefreshTokenIn,
  type TokenGrant,
  type TokenSettings,
} from 'vf-login-bridge';

/** The token part of the configuration (docs/token-dialects.md). */
export interface TokenConfig {
  /** unset: no platform credentials at all, so the bundled emulator is used */
  readonly settings: TokenSettings | undefined;
  /**
   * TOKEN_ENCRYPTION_KEYS, newest first: AES-256-GCM keys for tokens kept in the database (the first
   * seals, any opens); required for grants that keep refresh tokens
   */
  readonly encryptionKeys: readonly Buffer[] | undefined;
  /**
   * ADMIN_EMAILS, lower-cased: accounts given the administrator role at start-up if they registered
   * with the address and verified it (docs/accounts.md#roles); `npm run admin -- grant` does the rest.
   */
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
export function readTokenConfig(
  env: Readonly<Record<string, string | undefined>>,
  apiUrl: string,
): { config: TokenConfig; problems: string[]; warnings: string[] } {
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
  if (!remote) return { config: { settings: undefined, encryptionKeys: undefined, adminEmails }, problems, warnings: [] };

  const grant = oneOf<TokenGrant>(env['VF_TOKEN_GRANT'], TOKEN_GRANTS, 'client_credentials');
  const clientAuth = oneOf<ClientAuth>(env['VF_CLIENT_AUTH'], CLIENT_AUTHS, 'basic');
  const refreshTokenIn = oneOf<RefreshTokenIn>(env['VF_REFRESH_TOKEN_IN'], REFRESH_TOKEN_PLACES, 'body');
  if (!grant) problems.push(`VF_TOKEN_GRANT: must be one of ${TOKEN_GRANTS.join(', ')}`);
  if (!clientAuth) problems.push(`VF_CLIENT_AUTH: must be one of ${CLIENT_AUTHS.join(', ')}`);
  if (!refreshTokenIn) problems.push('VF_REFRESH_TOKEN_IN: must be body or query');
  // Unset stays unset: the library then picks the dialect's encoding and warns where it matters.
  const basicEncodingText = env['VF_BASIC_ENCODING'];
  const basicEncoding = basicEncodingText === undefined ? undefined : oneOf<BasicEncoding>(basicEncodingText, BASIC_ENCODINGS, 'raw');
  const badEncoding = basicEncodingText !== undefined && !basicEncoding;
  if (badEncoding) problems.push(`VF_BASIC_ENCODING: must be one of ${BASIC_ENCODINGS.join(', ')}`);
  if (!grant || !clientAuth || !refreshTokenIn || badEncoding) return { config: { settings: undefined, encryptionKeys: undefined, adminEmails }, problems, warnings: [] };

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
    ...(basicEncoding !== undefined ? { basicEncoding } : {}),
    ...(env['VF_AUTHORIZE_PROMPT'] !== undefined ? { authorizePrompt: env['VF_AUTHORIZE_PROMPT'] } : {}),
  };
  for (const problem of tokenSettingsProblems(settings)) {
    problems.push(problem.replace(/^VF_CLIENT_ID:/, `${idName}:`).replace(/^VF_CLIENT_SECRET:/, `${secretName}:`));
  }
  if (grant === 'pat' && env['VF_CLIENT_AUTH'] !== undefined) problems.push('VF_CLIENT_AUTH: not used with VF_TOKEN_GRANT=pat');

  const encryptionKeys = readSealingKeys(env, problems);
  if (encryptionKeys === null && keepsRefreshTokens(grant)) {
    problems.push(`TOKEN_ENCRYPTION_KEYS: required with VF_TOKEN_GRANT=${grant} (refresh tokens are kept encrypted in the database)`);
  }
  // Left unset although it matters: one line at start-up (docs/token-dialects.md#basic-encoding).
  const encodingWarning = basicEncodingWarning(settings);
  const warnings = encodingWarning ? [encodingWarning.replace(/client id or secret/, `${idName} or ${secretName}`)] : [];
  return { config: { settings, encryptionKeys: encryptionKeys ?? undefined, adminEmails }, problems, warnings };
}

/**
 * TOKEN_ENCRYPTION_KEYS (comma-separated, newest first), or TOKEN_ENCRYPTION_KEY, its older name
 * for a list of one. null: neither is set; undefined: set but refused, with the line in `problems`
 * (one line for the variable, each bad key by its position, never the key itself).
 */
function readSealingKeys(env: Readonly<Record<string, string | undefined>>, problems: string[]): readonly Buffer[] | null | undefined {
  const list = env['TOKEN_ENCRYPTION_KEYS'];
  const one = env['TOKEN_ENCRYPTION_KEY'];
  if (list !== undefined && one !== undefined && list.trim() !== one.trim()) {
    problems.push('TOKEN_ENCRYPTION_KEYS: TOKEN_ENCRYPTION_KEY is set too, to another value; it is the older name of a list of one, set one of them');
    return undefined;
  }
  const name = list !== undefined ? 'TOKEN_ENCRYPTION_KEYS' : 'TOKEN_ENCRYPTION_KEY';
  const text = list ?? one;
  if (text === undefined) return null;
  const pieces = text.split(',').map((piece) => piece.trim());
  if (name === 'TOKEN_ENCRYPTION_KEY' && pieces.length > 1) {
    problems.push('TOKEN_ENCRYPTION_KEY: holds one key; list several, newest first, in TOKEN_ENCRYPTION_KEYS');
    return undefined;
  }
  const wrong: string[] = [];
  const keys: Array<{ key: Buffer; position: number }> = [];
  pieces.forEach((piece, i) => {
    // The position, never the text: a line in a start-up log must not carry a key.
    const which = name === 'TOKEN_ENCRYPTION_KEY' ? '' : `key ${i + 1} of ${pieces.length} `;
    const parsed = parseEncryptionKey(piece);
    if ('problem' in parsed) return void wrong.push(`${which}${piece === '' ? 'is empty' : parsed.problem}`);
    const same = keys.find(({ key }) => key.equals(parsed.key));
    if (same) return void wrong.push(`${which}is key ${same.position} again: list each key once`);
    keys.push({ key: parsed.key, position: i + 1 });
  });
  if (wrong.length > 0) {
    problems.push(`${name}: ${wrong.join('; ')}`);
    return undefined;
  }
  return keys.map(({ key }) => key);
}
