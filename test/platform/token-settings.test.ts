import { loadConfig } from '../../src/config';
import { problemsOf } from '../helpers/config';
import { processTokenResponse } from '../../packages/bridge/src/platform/token-reply';
import { createTokenSealer, parseEncryptionKey } from '../../packages/bridge/src/platform/token-crypto';

const KEY = 'q3J0c1VfTmlDe8e0ykPp0Hn3Fh8WwB4W1lKxg7Yf2aE=';

describe('token settings at start-up', () => {
  it('keeps seed 003 as the default: VF_SITE_ID/VF_API_KEY are the client id and secret, Basic, scope=accounts', () => {
    const config = loadConfig({ VF_SITE_ID: 'site', VF_API_KEY: 'key' });
    expect(config.platform.mode === 'remote' && config.platform.token).toEqual({
      grant: 'client_credentials', clientAuth: 'basic', tokenUrl: 'https://api.viafoura.co/oauth2/token', scope: 'accounts',
      clientId: 'site', clientSecret: 'key', refreshTokenIn: 'body',
      authorizeUrl: undefined, username: undefined, password: undefined, accessToken: undefined, redirectUrl: undefined,
    });
    expect(config.tokens.encryptionKeys).toBeUndefined();
  });

  it.each([
    ['seed 000', { VF_TOKEN_GRANT: 'password', VF_CLIENT_AUTH: 'body', VF_TOKEN_URL: 'https://app.viima.com/oauth2/token/', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_USERNAME: 'u@x', VF_PASSWORD: 'p', TOKEN_ENCRYPTION_KEY: KEY }],
    ['seed 001', { VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_TOKEN_URL: 'https://sandbox-api.veem.com/oauth/token', VF_SCOPE: 'all', VF_REFRESH_TOKEN_IN: 'query' }],
    ['seed 002', { VF_TOKEN_GRANT: 'authorization_code', VF_CLIENT_AUTH: 'json', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_TOKEN_URL: 'https://cloud.viewneo.com/oauth/token', VF_AUTHORIZE_URL: 'https://cloud.viewneo.com/oauth/authorize', VF_REDIRECT_URL: 'https://news.example/admin/platform/callback', TOKEN_ENCRYPTION_KEY: KEY, ADMIN_EMAILS: 'ops@news.example' }],
    // Administrators are a role granted with `npm run admin -- grant EMAIL`: ADMIN_EMAILS is optional.
    ['seed 002 without ADMIN_EMAILS', { VF_TOKEN_GRANT: 'authorization_code', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_AUTHORIZE_URL: 'https://a/auth', VF_REDIRECT_URL: 'https://a/cb', TOKEN_ENCRYPTION_KEY: KEY }],
    ['seed 004', { VF_TOKEN_GRANT: 'pat', VF_ACCESS_TOKEN: 'pat_123' }],
  ])('accepts %s settings', (_seed, env) => {
    expect(problemsOf(env)).toEqual([]);
  });

  it.each([
    [{ VF_TOKEN_GRANT: 'password', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_PASSWORD: 'p', TOKEN_ENCRYPTION_KEY: KEY }, 'VF_USERNAME'],
    [{ VF_TOKEN_GRANT: 'pat' }, 'VF_ACCESS_TOKEN'],
    [{ VF_TOKEN_GRANT: 'pat', VF_ACCESS_TOKEN: 't', VF_CLIENT_AUTH: 'json' }, 'VF_CLIENT_AUTH'],
    [{ VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_CLIENT_AUTH: 'json', VF_REFRESH_TOKEN_IN: 'query' }, 'VF_REFRESH_TOKEN_IN'],
    [{ VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_CLIENT_AUTH: 'json,basic' }, 'VF_CLIENT_AUTH'],
    [{ VF_TOKEN_GRANT: 'implicit', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's' }, 'VF_TOKEN_GRANT'],
    [{ VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_ACCESS_TOKEN: 't' }, 'VF_ACCESS_TOKEN'],
    [{ VF_CLIENT_ID: 'c' }, 'VF_CLIENT_SECRET'],
    [{ VF_CLIENT_ID: 'c', VF_SITE_ID: 'other', VF_CLIENT_SECRET: 's' }, 'VF_CLIENT_ID'],
    [{ VF_TOKEN_GRANT: 'password', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_USERNAME: 'u', VF_PASSWORD: 'p' }, 'TOKEN_ENCRYPTION_KEYS'],
    [{ VF_TOKEN_GRANT: 'password', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_USERNAME: 'u', VF_PASSWORD: 'p', TOKEN_ENCRYPTION_KEY: 'a'.repeat(64) }, 'TOKEN_ENCRYPTION_KEY'],
    [{ VF_TOKEN_GRANT: 'password', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_USERNAME: 'u', VF_PASSWORD: 'p', TOKEN_ENCRYPTION_KEY: 'short' }, 'TOKEN_ENCRYPTION_KEY'],
    [{ VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_TOKEN_URL: 'ftp://x' }, 'VF_TOKEN_URL'],
    [{ VF_TOKEN_GRANT: 'authorization_code', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_REDIRECT_URL: 'https://a/cb', TOKEN_ENCRYPTION_KEY: KEY, ADMIN_EMAILS: 'a@b' }, 'VF_AUTHORIZE_URL'],
    [{ VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_USERNAME: 'u' }, 'VF_USERNAME'],
    [{ VF_TOKEN_GRANT: 'authorization_code', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_AUTHORIZE_URL: 'https://a/auth', VF_REDIRECT_URL: 'https://a/cb', TOKEN_ENCRYPTION_KEY: KEY, VF_AUTHORIZE_PROMPT: 'always' }, 'VF_AUTHORIZE_PROMPT'],
    [{ VF_TOKEN_GRANT: 'authorization_code', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_AUTHORIZE_URL: 'https://a/auth', VF_REDIRECT_URL: 'https://a/cb', TOKEN_ENCRYPTION_KEY: KEY, VF_AUTHORIZE_PROMPT: 'none consent' }, 'VF_AUTHORIZE_PROMPT'],
    [{ VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_AUTHORIZE_PROMPT: 'consent' }, 'VF_AUTHORIZE_PROMPT'],
  ])('%j stops start-up with one line naming %s', (env, variable) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable}: `));
  });
});

describe('VF_AUTHORIZE_PROMPT', () => {
  it('goes with the operator connect: an OpenID Connect server keeps offline_access only with prompt=consent', () => {
    const env = { VF_TOKEN_GRANT: 'authorization_code', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_AUTHORIZE_URL: 'https://idp.example/auth', VF_REDIRECT_URL: 'https://news.example/admin/platform/callback', VF_TOKEN_URL: 'https://idp.example/token', VF_SCOPE: 'accounts offline_access', TOKEN_ENCRYPTION_KEY: KEY };
    expect(problemsOf({ ...env, VF_AUTHORIZE_PROMPT: 'consent' })).toEqual([]);
    expect(problemsOf({ ...env, VF_AUTHORIZE_PROMPT: 'login consent' })).toEqual([]);
    const config = loadConfig({ ...env, VF_AUTHORIZE_PROMPT: 'consent' });
    expect(config.platform.mode === 'remote' && config.platform.token).toMatchObject({ scope: 'accounts offline_access', authorizePrompt: 'consent' });
  });
});

describe('token answers of every dialect', () => {
  const answer = (body: Record<string, unknown>) => ({ status: 200, body: JSON.stringify(body) });

  it('reads token_type in either case, the refresh token, and extra fields as text', () => {
    const parsed = processTokenResponse(answer({ access_token: 'a', token_type: 'Bearer', expires_in: 1296000, refresh_token: 'r', account_id: 1, user_id: 2, nested: { x: 1 } }));
    expect(parsed).toEqual({ accessToken: 'a', expiresInMs: 1296000_000, refreshToken: 'r', scope: undefined, scopeNotGranted: [], extra: { account_id: '1', user_id: '2' } });
    expect(processTokenResponse(answer({ access_token: 'a', token_type: 'bearer', expires_in: 1 })).accessToken).toBe('a');
  });

  it('accepts a missing expires_in (lifetime unknown) but not a wrong one', () => {
    expect(processTokenResponse(answer({ access_token: 'a', token_type: 'bearer' })).expiresInMs).toBeNull();
    expect(() => processTokenResponse(answer({ access_token: 'a', token_type: 'bearer', expires_in: '3600' }))).toThrow(expect.objectContaining({ code: 'PLATFORM_BAD_RESPONSE' }));
    expect(() => processTokenResponse(answer({ access_token: 'a', token_type: 'mac', expires_in: 1 }))).toThrow(expect.objectContaining({ code: 'PLATFORM_BAD_RESPONSE' }));
    expect(() => processTokenResponse(answer({ access_token: 'a', token_type: 'bearer', refresh_token: 5 }))).toThrow(expect.objectContaining({ code: 'PLATFORM_BAD_RESPONSE' }));
  });

  it('accepts an answer that grants less scope than asked (RFC 6749 §3.3), naming what is missing', () => {
    const narrower = processTokenResponse(answer({ access_token: 'a', token_type: 'bearer', scope: 'read' }), { requestedScope: 'read all' });
    expect(narrower).toMatchObject({ accessToken: 'a', scope: 'read', scopeNotGranted: ['all'] });
    // No scope in the answer: what was asked was granted (§5.1).
    expect(processTokenResponse(answer({ access_token: 'a', token_type: 'bearer' }), { requestedScope: 'read all' }).scopeNotGranted).toEqual([]);
  });

  it('counts offline_access as granted exactly when a refresh token came back (OpenID Connect Core §11)', () => {
    const asked = { requestedScope: 'accounts offline_access' };
    expect(processTokenResponse(answer({ access_token: 'a', token_type: 'bearer', scope: 'accounts', refresh_token: 'r' }), asked).scopeNotGranted).toEqual([]);
    expect(processTokenResponse(answer({ access_token: 'a', token_type: 'bearer', scope: 'accounts' }), asked).scopeNotGranted).toEqual(['offline_access']);
    expect(processTokenResponse(answer({ access_token: 'a', token_type: 'bearer' }), asked).scopeNotGranted).toEqual(['offline_access']);
  });

  it('still refuses an answer without a usable access token or token type, whatever its scope', () => {
    const asked = { requestedScope: 'accounts' };
    expect(() => processTokenResponse(answer({ token_type: 'bearer', scope: 'accounts' }), asked)).toThrow(expect.objectContaining({ code: 'PLATFORM_BAD_RESPONSE' }));
    expect(() => processTokenResponse(answer({ access_token: 'a', scope: 'accounts' }), asked)).toThrow(expect.objectContaining({ code: 'PLATFORM_BAD_RESPONSE' }));
  });
});

describe('tokens at rest', () => {
  it('AES-256-GCM: opens only with the same key and label, and each seal differs', () => {
    const parsed = parseEncryptionKey(KEY);
    if (!('key' in parsed)) throw new Error(parsed.problem);
    const sealer = createTokenSealer(parsed.key);
    const a = sealer.seal('{"accessToken":"secret"}', 'row-1');
    expect(a).not.toContain('secret');
    expect(sealer.seal('{"accessToken":"secret"}', 'row-1')).not.toBe(a);
    expect(sealer.open(a, 'row-1')).toBe('{"accessToken":"secret"}');
    expect(() => sealer.open(a, 'row-2')).toThrow();
    const other = createTokenSealer(Buffer.alloc(32, 7));
    expect(() => other.open(a, 'row-1')).toThrow();
  });
});
