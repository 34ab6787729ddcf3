/**
 * How the bridge obtains its bearer token: one "dialect" per platform family, described in
 * docs/token-dialects.md. The accounts calls do not change with the dialect; only the token does.
 */
export type TokenGrant = 'client_credentials' | 'password' | 'authorization_code' | 'pat';
/** Where the client id and secret go on a token request. */
export type ClientAuth = 'basic' | 'body' | 'json';
/** Where a refresh request carries the refresh token. */
export type RefreshTokenIn = 'body' | 'query';
/**
 * How the client id and secret become HTTP Basic credentials: `form` encodes each as
 * application/x-www-form-urlencoded first (RFC 6749 §2.3.1), `raw` sends the bytes as they are,
 * as `curl --user ID:SECRET` does (seed 003). docs/token-dialects.md, "Basic encoding".
 */
export type BasicEncoding = 'form' | 'raw';

export const TOKEN_GRANTS: readonly TokenGrant[] = ['client_credentials', 'password', 'authorization_code', 'pat'];
export const CLIENT_AUTHS: readonly ClientAuth[] = ['basic', 'body', 'json'];
export const REFRESH_TOKEN_PLACES: readonly RefreshTokenIn[] = ['body', 'query'];
export const BASIC_ENCODINGS: readonly BasicEncoding[] = ['form', 'raw'];
/** The `prompt` values of OpenID Connect Core §3.1.2.1 an authorization request may carry. */
export const AUTHORIZE_PROMPTS: readonly string[] = ['none', 'login', 'consent', 'select_account'];

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
  /** Unset: `raw` for the Viafoura dialect, `form` for every other (basicEncodingOf). */
  readonly basicEncoding?: BasicEncoding | undefined;
  /**
   * Sent as `prompt` on the operator's authorization request (authorization_code only). An
   * OpenID Connect server issues a refresh token for `offline_access` only with `consent` here.
   */
  readonly authorizePrompt?: string | undefined;
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
    notWith(s.basicEncoding, 'VF_BASIC_ENCODING', 'with VF_TOKEN_GRANT=pat');
    notWith(s.authorizePrompt, 'VF_AUTHORIZE_PROMPT', 'with VF_TOKEN_GRANT=pat');
    return problems;
  }
  basicEncodingProblems(s, problems);
  notWith(s.accessToken, 'VF_ACCESS_TOKEN', `with VF_TOKEN_GRANT=${s.grant} (only with pat)`);
  need(s.clientId, 'VF_CLIENT_ID', `with VF_TOKEN_GRANT=${s.grant}`);
  need(s.clientSecret, 'VF_CLIENT_SECRET', `with VF_TOKEN_GRANT=${s.grant}`);
  // RFC 7617 §2: the user-id of Basic authentication cannot hold a colon; form encoding turns it into %3A.
  if (s.clientAuth === 'basic' && basicEncodingOf(s) === 'raw' && s.clientId?.includes(':')) {
    problems.push('VF_CLIENT_ID: must not contain ":" with VF_CLIENT_AUTH=basic and VF_BASIC_ENCODING=raw');
  }
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
    const prompts = (s.authorizePrompt ?? '').split(' ').filter((value) => value !== '');
    if (prompts.some((value) => !AUTHORIZE_PROMPTS.includes(value)) || (prompts.includes('none') && prompts.length > 1)) {
      problems.push(`VF_AUTHORIZE_PROMPT: must be one or more of ${AUTHORIZE_PROMPTS.join(', ')}, separated by spaces (none alone)`);
    }
  } else {
    notWith(s.authorizeUrl, 'VF_AUTHORIZE_URL', `with VF_TOKEN_GRANT=${s.grant} (only with authorization_code)`);
    notWith(s.redirectUrl, 'VF_REDIRECT_URL', `with VF_TOKEN_GRANT=${s.grant} (only with authorization_code)`);
    notWith(s.authorizePrompt, 'VF_AUTHORIZE_PROMPT', `with VF_TOKEN_GRANT=${s.grant} (only with authorization_code)`);
  }
  return problems;
}

function basicEncodingProblems(s: TokenSettings, problems: string[]): void {
  if (s.basicEncoding === undefined) return;
  if (!BASIC_ENCODINGS.includes(s.basicEncoding)) problems.push(`VF_BASIC_ENCODING: must be one of ${BASIC_ENCODINGS.join(', ')}`);
  else if (s.clientAuth !== 'basic') problems.push(`VF_BASIC_ENCODING: not used with VF_CLIENT_AUTH=${s.clientAuth} (only with basic)`);
}

/**
 * Seed 003's dialect as viafouraTokenSettings (and a site with only VF_SITE_ID/VF_API_KEY)
 * describes it: client_credentials with Basic and scope=accounts at `.../oauth2/token`.
 */
export function isViafouraDialect(s: TokenSettings): boolean {
  if (s.grant !== 'client_credentials' || s.clientAuth !== 'basic' || s.scope !== 'accounts') return false;
  try {
    return new URL(s.tokenUrl).pathname.endsWith('/oauth2/token');
  } catch {
    return false;
  }
}

/** The encoding in force: the setting, else the platform's own (seed 003's curl --user), else RFC 6749's. */
export function basicEncodingOf(s: TokenSettings): BasicEncoding {
  return s.basicEncoding ?? (isViafouraDialect(s) ? 'raw' : 'form');
}

/** A value as application/x-www-form-urlencoded (RFC 6749 Appendix B): space as '+', the rest %XX. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * The start-up warning when the encoding was left to its default although it matters: the client
 * id or secret holds a character that the two encodings send differently. Undefined otherwise.
 */
export function basicEncodingWarning(s: TokenSettings): string | undefined {
  if (s.grant === 'pat' || s.clientAuth !== 'basic' || s.basicEncoding !== undefined) return undefined;
  const differs = [s.clientId, s.clientSecret].some((value) => value !== undefined && formEncode(value) !== value);
  if (!differs) return undefined;
  const used = basicEncodingOf(s);
  const other: BasicEncoding = used === 'raw' ? 'form' : 'raw';
  const how = used === 'raw' ? 'raw, as curl --user sends it' : 'form-encoded, as RFC 6749 section 2.3.1 asks';
  return `VF_BASIC_ENCODING: not set, and the client id or secret holds characters that HTTP Basic sends differently raw and form-encoded; sending them ${how}. If the platform answers invalid_client, set VF_BASIC_ENCODING=${other}`;
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
