/**
 * How the bridge obtains its bearer token: one "dialect" per platform family, described in
 * docs/token-dialects.md. The accounts calls do not change with the dialect; only the token does.
 */
export type TokenGrant = 'client_credentials' | 'password' | 'authorization_code' | 'pat';
/** Where the client id and secret go on a token request. */
export type ClientAuth = 'basic' | 'body' | 'json';
/** Where a refresh request carries the refresh token. */
export type RefreshTokenIn = 'body' | 'query';

export const TOKEN_GRANTS: readonly TokenGrant[] = ['client_credentials', 'password', 'authorization_code', 'pat'];
export const CLIENT_AUTHS: readonly ClientAuth[] = ['basic', 'body', 'json'];
export const REFRESH_TOKEN_PLACES: readonly RefreshTokenIn[] = ['body', 'query'];

export interface TokenSettings {
  readonly grant: TokenGrant;
  readonly clientAuth: ClientAuth;
  /** Absolute http(s) URL of the token endpoint. */
  readonly tokenUrl: string;
  /** The platform's authorization page (authorization_code only). */
  readonly authorizeUrl?: string | undefined;
  /** Sent as `scope` on grant requests; unset: no scope parameter. */
  readonly scope?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientSecret?: string | undefined;
  /** The integration user of the password grant. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** A personal access token (grant `pat`). */
  readonly accessToken?: string | undefined;
  /** Where the platform sends the operator back after consent (authorization_code only). */
  readonly redirectUrl?: string | undefined;
  readonly refreshTokenIn: RefreshTokenIn;
}

/** Grants whose tokens may carry a refresh token worth keeping, and so need the encrypted store. */
export function keepsRefreshTokens(grant: TokenGrant): boolean {
  return grant === 'password' || grant === 'authorization_code';
}

function isHttpUrl(value: string | undefined): boolean {
  if (value === undefined) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The problems of one settings object, each a line that starts with the variable to fix. The
 * same rules guard the config loader and `createTokenSource`, so a programmatic caller gets them too.
 */
export function tokenSettingsProblems(s: TokenSettings): string[] {
  const problems: string[] = [];
  const need = (value: string | undefined, variable: string, why: string) => {
    if (value === undefined || value === '') problems.push(`${variable}: required ${why}`);
  };
  const notWith = (value: string | undefined, variable: string, why: string) => {
    if (value !== undefined && value !== '') problems.push(`${variable}: not used ${why}`);
  };
  if (!TOKEN_GRANTS.includes(s.grant)) problems.push(`VF_TOKEN_GRANT: must be one of ${TOKEN_GRANTS.join(', ')}`);
  if (!CLIENT_AUTHS.includes(s.clientAuth)) problems.push(`VF_CLIENT_AUTH: must be one of ${CLIENT_AUTHS.join(', ')}`);
  if (!REFRESH_TOKEN_PLACES.includes(s.refreshTokenIn)) problems.push('VF_REFRESH_TOKEN_IN: must be body or query');
  if (!isHttpUrl(s.tokenUrl) && s.grant !== 'pat') problems.push('VF_TOKEN_URL: must be an http(s) URL');

  if (s.grant === 'pat') {
    need(s.accessToken, 'VF_ACCESS_TOKEN', 'with VF_TOKEN_GRANT=pat');
    notWith(s.username, 'VF_USERNAME', 'with VF_TOKEN_GRANT=pat');
    notWith(s.authorizeUrl, 'VF_AUTHORIZE_URL', 'with VF_TOKEN_GRANT=pat');
    return problems;
  }
  notWith(s.accessToken, 'VF_ACCESS_TOKEN', `with VF_TOKEN_GRANT=${s.grant} (only with pat)`);
  need(s.clientId, 'VF_CLIENT_ID', `with VF_TOKEN_GRANT=${s.grant}`);
  need(s.clientSecret, 'VF_CLIENT_SECRET', `with VF_TOKEN_GRANT=${s.grant}`);
  // RFC 7617 §2: the user-id of Basic authentication cannot hold a colon.
  if (s.clientAuth === 'basic' && s.clientId?.includes(':')) problems.push('VF_CLIENT_ID: must not contain ":" with VF_CLIENT_AUTH=basic');
  // A JSON body carries every parameter; a refresh token in the query string belongs to a form dialect.
  if (s.clientAuth === 'json' && s.refreshTokenIn === 'query') problems.push('VF_REFRESH_TOKEN_IN: query does not go with VF_CLIENT_AUTH=json');

  if (s.grant === 'password') {
    need(s.username, 'VF_USERNAME', 'with VF_TOKEN_GRANT=password');
    need(s.password, 'VF_PASSWORD', 'with VF_TOKEN_GRANT=password');
  } else {
    notWith(s.username, 'VF_USERNAME', `with VF_TOKEN_GRANT=${s.grant} (only with password)`);
    notWith(s.password, 'VF_PASSWORD', `with VF_TOKEN_GRANT=${s.grant} (only with password)`);
  }
  if (s.grant === 'authorization_code') {
    if (!isHttpUrl(s.authorizeUrl)) problems.push('VF_AUTHORIZE_URL: required with VF_TOKEN_GRANT=authorization_code (an http(s) URL)');
    if (!isHttpUrl(s.redirectUrl)) problems.push('VF_REDIRECT_URL: required with VF_TOKEN_GRANT=authorization_code (an http(s) URL)');
  } else {
    notWith(s.authorizeUrl, 'VF_AUTHORIZE_URL', `with VF_TOKEN_GRANT=${s.grant} (only with authorization_code)`);
    notWith(s.redirectUrl, 'VF_REDIRECT_URL', `with VF_TOKEN_GRANT=${s.grant} (only with authorization_code)`);
  }
  return problems;
}

/** Seed 003's dialect, the default: client_credentials, HTTP Basic, scope=accounts. */
export function viafouraTokenSettings(baseUrl: string, siteId: string, apiKey: string): TokenSettings {
  return {
    grant: 'client_credentials',
    clientAuth: 'basic',
    tokenUrl: `${baseUrl.replace(/\/+$/, '')}/oauth2/token`,
    scope: 'accounts',
    clientId: siteId,
    clientSecret: apiKey,
    refreshTokenIn: 'body',
  };
}
