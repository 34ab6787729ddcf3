import { createAdjustableClock, type AdjustableClock } from 'vf-login-bridge';
import { createMemoryLogger } from '../../src/logger';
import { createTokenSource, type TokenSource } from '../../packages/bridge/src/platform/token';
import { basicEncodingWarning, type TokenSettings } from '../../packages/bridge/src/platform/token-settings';
import { startOAuth2ServerPeer, type OAuth2ServerPeer } from './oauth2-server-peer';

/**
 * The password and client_credentials grants against @node-oauth/oauth2-server, with a client
 * secret (and a user password) holding every character where the Basic encodings differ. This
 * server reads Basic as raw bytes, as `curl --user` sends them: VF_BASIC_ENCODING=raw is its setting.
 */

const SECRET = 'p:s+e%c/r=e t';
const USER = { username: 'integration@news.example', password: 'pa ss:w+o%r/d=' };
const HOUR = 3600_000;

let server: OAuth2ServerPeer;
let clock: AdjustableClock;
let logLines: string[];
let sources: TokenSource[] = [];

beforeEach(async () => {
  clock = createAdjustableClock();
  server = await startOAuth2ServerPeer({ client: { id: 'bridge', secret: SECRET }, user: USER, grants: ['accounts', 'read'] });
});
afterEach(async () => {
  for (const s of sources.splice(0)) s.close();
  await server.close();
});

function settingsWith(extra: Partial<TokenSettings>): TokenSettings {
  return { grant: 'client_credentials', clientAuth: 'basic', tokenUrl: server.tokenUrl, refreshTokenIn: 'body', clientId: 'bridge', clientSecret: SECRET, scope: 'accounts', ...extra };
}
function source(extra: Partial<TokenSettings>): TokenSource {
  const memory = createMemoryLogger('debug');
  logLines = memory.lines;
  const created = createTokenSource({ settings: settingsWith(extra), clock, timeoutMs: 5000, logger: memory.logger });
  sources.push(created);
  return created;
}

describe('client_credentials with HTTP Basic', () => {
  it('raw Basic gets a token; the default form encoding is refused, and start-up would have warned about it', async () => {
    expect(await source({ basicEncoding: 'raw' }).getToken()).toEqual(expect.any(String));
    expect(server.granted).toEqual({ client_credentials: 1 });
    await expect(source({}).getToken()).rejects.toMatchObject({ code: 'TOKEN_INVALID_CLIENT', oauthError: 'invalid_client', upstreamStatus: 401 });
    expect(basicEncodingWarning(settingsWith({}))).toMatch(/^VF_BASIC_ENCODING: .*set VF_BASIC_ENCODING=raw$/);
  });

  it('a narrower grant than asked is accepted, with one warning naming the missing scope', async () => {
    const tokens = source({ basicEncoding: 'raw', scope: 'accounts comments' });
    await tokens.getToken();
    clock.advance(HOUR);
    await tokens.getToken();
    expect(server.granted).toEqual({ client_credentials: 2 });
    const warnings = logLines.filter((line) => line.includes('TOKEN_SCOPE_NOT_GRANTED')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ granted: 'accounts', missing: ['comments'] });
  });
});

describe('the password grant', () => {
  it('with the client in the form body: a token and a refresh token, refreshed with the rotated one', async () => {
    const tokens = source({ grant: 'password', clientAuth: 'body', scope: undefined, username: USER.username, password: USER.password });
    const first = await tokens.getToken();
    clock.advance(HOUR);
    const second = await tokens.getToken();
    clock.advance(HOUR);
    const third = await tokens.getToken();
    expect(new Set([first, second, third]).size).toBe(3);
    // Each refresh used the refresh token the one before handed out: the server revokes the old one.
    expect(server.granted).toEqual({ password: 1, refresh_token: 2 });
  });

  it('with raw Basic and a scope', async () => {
    const tokens = source({ grant: 'password', basicEncoding: 'raw', scope: 'read', username: USER.username, password: USER.password });
    await tokens.getToken();
    expect(await tokens.status()).toMatchObject({ grant: 'password', connected: true, connectedAs: USER.username });
    expect(server.granted).toEqual({ password: 1 });
  });

  it('a wrong password is invalid_grant', async () => {
    const tokens = source({ grant: 'password', clientAuth: 'body', scope: undefined, username: USER.username, password: 'wrong' });
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'TOKEN_INVALID_GRANT' });
  });
});
