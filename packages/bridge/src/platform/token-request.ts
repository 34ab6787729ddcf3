import type { PlatformRequest } from './platform-http';
import { basicEncodingOf, formEncode, type BasicEncoding, type TokenSettings } from './token-settings';

/**
 * HTTP Basic client authentication. `form` is RFC 6749 §2.3.1: the id and the secret each
 * form-encoded, then joined by ':' and base64'd. `raw` joins the UTF-8 bytes as they are, as
 * `curl --user ID:SECRET` does, which seed 003's platform compares (docs/token-dialects.md).
 */
export function basicCredentials(clientId: string, clientSecret: string, encoding: BasicEncoding = 'raw'): string {
  const pair = encoding === 'form' ? `${formEncode(clientId)}:${formEncode(clientSecret)}` : `${clientId}:${clientSecret}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/**
 * One token request in the configured dialect: the grant's own parameters, plus the client's
 * credentials where the dialect puts them (a Basic header, the form body, or a JSON body).
 * Parameters keep the order of the seed documents' curl examples.
 */
export function tokenRequest(settings: TokenSettings, params: ReadonlyArray<readonly [string, string]>, query?: Record<string, string>): PlatformRequest {
  const clientId = settings.clientId ?? '';
  const clientSecret = settings.clientSecret ?? '';
  let url = settings.tokenUrl;
  if (query) {
    const search = new URLSearchParams(query).toString();
    url += (url.includes('?') ? '&' : '?') + search;
  }
  switch (settings.clientAuth) {
    case 'basic':
      return {
        url,
        body: new URLSearchParams(params.map(([k, v]): [string, string] => [k, v])).toString(),
        contentType: 'application/x-www-form-urlencoded',
        authorization: basicCredentials(clientId, clientSecret, basicEncodingOf(settings)),
      };
    case 'body':
      // Seed 000: `-d "client_id=...&client_secret=...&grant_type=..."`, no Authorization header.
      return {
        url,
        body: new URLSearchParams([['client_id', clientId], ['client_secret', clientSecret], ...params.map(([k, v]): [string, string] => [k, v])]).toString(),
        contentType: 'application/x-www-form-urlencoded',
      };
    case 'json': {
      // Seed 002: one JSON object with the grant, then the client.
      const fields: Record<string, string> = {};
      for (const [k, v] of params) fields[k] = v;
      fields['client_id'] = clientId;
      fields['client_secret'] = clientSecret;
      return { url, body: JSON.stringify(fields), contentType: 'application/json' };
    }
  }
}

/** The grant that starts from the configured credentials alone (client_credentials or password). */
export function newGrantRequest(settings: TokenSettings): PlatformRequest {
  const params: Array<[string, string]> = [['grant_type', settings.grant]];
  if (settings.grant === 'password') params.push(['username', settings.username ?? ''], ['password', settings.password ?? '']);
  if (settings.scope !== undefined) params.push(['scope', settings.scope]);
  return tokenRequest(settings, params);
}

/** RFC 6749 §6, with the refresh token where the dialect wants it (seed 001: the query string). */
export function refreshRequest(settings: TokenSettings, refreshToken: string): PlatformRequest {
  if (settings.refreshTokenIn === 'query') return tokenRequest(settings, [['grant_type', 'refresh_token']], { refresh_token: refreshToken });
  return tokenRequest(settings, [
    ['grant_type', 'refresh_token'],
    ['refresh_token', refreshToken],
  ]);
}

/** RFC 6749 §4.1.3 with the PKCE verifier of RFC 7636 §4.5. */
export function codeExchangeRequest(settings: TokenSettings, code: string, codeVerifier: string): PlatformRequest {
  const params: Array<[string, string]> = [
    ['grant_type', 'authorization_code'],
    ['code', code],
    ['redirect_uri', settings.redirectUrl ?? ''],
    ['code_verifier', codeVerifier],
  ];
  if (settings.scope !== undefined) params.push(['scope', settings.scope]);
  return tokenRequest(settings, params);
}

/** RFC 6749 §4.1.1 with RFC 7636 §4.3's S256 challenge. */
export function authorizationUrl(settings: TokenSettings, state: string, codeChallenge: string): string {
  const url = new URL(settings.authorizeUrl ?? '');
  url.searchParams.set('client_id', settings.clientId ?? '');
  url.searchParams.set('redirect_uri', settings.redirectUrl ?? '');
  url.searchParams.set('response_type', 'code');
  if (settings.scope !== undefined) url.searchParams.set('scope', settings.scope);
  if (settings.authorizePrompt !== undefined && settings.authorizePrompt !== '') url.searchParams.set('prompt', settings.authorizePrompt);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}
