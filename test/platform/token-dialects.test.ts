import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccountsClient } from '../../packages/bridge/src/platform/accounts-client';
import { createTokenSource, type TokenSource } from '../../packages/bridge/src/platform/token';
import { tokenSettingsForEmulator, type EmulatorProfile } from 'vf-platform-emulator';
import type { TokenSettings } from '../../packages/bridge/src/platform/token-settings';
import { consentOverHttp, pkcePair } from '../helpers/connect';
import { curlBasicAuth, formBasicAuth, startTestEmulator, TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';

const USER = { username: 'integration@example.com', password: 'p@ss word&=' };
const HOUR = 3600_000;

let emulator: TestEmulator;
let sources: TokenSource[] = [];

async function start(profile: EmulatorProfile): Promise<void> {
  emulator = await startTestEmulator({ profile, integrationUser: USER });
}
function source(settings: TokenSettings): TokenSource {
  const created = createTokenSource({ settings, clock: emulator.clock, timeoutMs: 2000 });
  sources.push(created);
  return created;
}
function settingsFor(profile: EmulatorProfile, redirectUrl?: string): TokenSettings {
  return tokenSettingsForEmulator(profile, { url: emulator.url, siteId: TEST_SITE_ID, apiKey: TEST_API_KEY, integrationUser: USER }, redirectUrl);
}
function accountsWith(tokens: TokenSource) {
  return createAccountsClient({ baseUrl: emulator.url, tokens, timeoutMs: 2000 });
}
/** The last token request, as the seeds' curl examples describe it. */
function wire() {
  const request = emulator.lastRequest('token')!;
  return {
    method: request.method,
    url: request.url,
    authorization: request.headers['authorization'],
    contentType: request.headers['content-type'],
    accept: request.headers['accept'],
    body: request.rawBody,
  };
}

afterEach(async () => {
  for (const s of sources.splice(0)) s.close();
  await emulator.close();
});

describe('seed 003 (Viafoura, the default): client_credentials, Basic, scope=accounts', () => {
  it('sends exactly `curl --user SITE_ID:API_KEY -d grant_type=client_credentials -d scope=accounts`', async () => {
    await start('viafoura');
    await source(settingsFor('viafoura')).getToken();
    expect(wire()).toMatchObject({
      method: 'POST',
      url: '/oauth2/token',
      authorization: curlBasicAuth(TEST_SITE_ID, TEST_API_KEY),
      contentType: 'application/x-www-form-urlencoded',
      body: 'grant_type=client_credentials&scope=accounts',
    });
  });

  it('has no refresh token, so a 401 on an accounts call gets a new grant', async () => {
    await start('viafoura');
    const tokens = source(settingsFor('viafoura'));
    const first = await tokens.getToken();
    emulator.faults.expireAllTokens();
    await accountsWith(tokens).login({ id: 'u1', name: 'Reader' });
    expect(emulator.grantCounts()).toMatchObject({ refresh_token: 0 });
    expect(emulator.stats().tokensIssued).toBe(2);
    expect(await tokens.getToken()).not.toBe(first);
  });
});

describe('seed 000 (Viima): password grant, client in the form body, path with a trailing slash', () => {
  it('sends the curl example: client_id, client_secret, grant_type=password, username, password; no Authorization', async () => {
    await start('viima');
    const tokens = source(settingsFor('viima'));
    await tokens.getToken();
    expect(wire()).toMatchObject({ method: 'POST', url: '/oauth2/token/', authorization: undefined, contentType: 'application/x-www-form-urlencoded' });
    expect([...new URLSearchParams(wire().body)]).toEqual([
      ['client_id', TEST_SITE_ID],
      ['client_secret', TEST_API_KEY],
      ['grant_type', 'password'],
      ['username', USER.username],
      ['password', USER.password],
    ]);
    expect(await tokens.status()).toMatchObject({ connected: true, connectedAs: USER.username });
  });

  it('refreshes before expiry with grant_type=refresh_token and the client in the body, and keeps the rotated token', async () => {
    await start('viima');
    const tokens = source(settingsFor('viima'));
    const first = await tokens.getToken();
    emulator.clock.advance(10 * HOUR - 30_000); // inside the last minute of a 36000 s token
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    const refresh = new URLSearchParams(wire().body);
    expect([...refresh.keys()]).toEqual(['client_id', 'client_secret', 'grant_type', 'refresh_token']);
    expect(refresh.get('grant_type')).toBe('refresh_token');
    // The platform rotates: the next refresh must use the new refresh token, or it would fail.
    emulator.clock.advance(10 * HOUR);
    const refreshedFrom = emulator.clock.now();
    const third = await tokens.getToken();
    expect(third).not.toBe(second);
    expect(emulator.grantCounts()).toMatchObject({ password: 1, refresh_token: 2 });
    const { refreshedAt } = await tokens.status();
    expect(refreshedAt).toBeGreaterThanOrEqual(refreshedFrom);
    expect(refreshedAt).toBeLessThanOrEqual(emulator.clock.now());
  });

  it('after a 401 on an accounts call, refreshes once and retries; concurrent callers share that refresh', async () => {
    await start('viima');
    const tokens = source(settingsFor('viima'));
    const accounts = accountsWith(tokens);
    await tokens.getToken();
    emulator.faults.expireAllTokens();
    await Promise.all([1, 2, 3, 4, 5].map((i) => accounts.login({ id: `u${i}`, name: `Reader ${i}` })));
    expect(emulator.grantCounts()).toMatchObject({ password: 1, refresh_token: 1 });
  });

  it('a refused refresh token falls back to a new password grant', async () => {
    await start('viima');
    const tokens = source(settingsFor('viima'));
    await tokens.getToken();
    emulator.revokeRefreshTokens();
    emulator.faults.expireAllTokens();
    await accountsWith(tokens).login({ id: 'u1', name: 'Reader' });
    expect(emulator.grantCounts()).toMatchObject({ password: 2, refresh_token: 0 });
    expect(tokens.health()).toBe('cached');
  });

  it('without the trailing slash the platform redirects, and the bridge does not follow', async () => {
    await start('viima');
    const tokens = source({ ...settingsFor('viima'), tokenUrl: `${emulator.url}/oauth2/token` });
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'PLATFORM_BAD_RESPONSE', upstreamStatus: 301 });
  });
});

describe('seed 001 (Veem): Basic (form-encoded, RFC 6749 §2.3.1), Accept: application/json, a year-long token, refresh token in the query', () => {
  it('sends the curl example for client_credentials with scope=all and reads the extra fields', async () => {
    await start('veem');
    const tokens = source(settingsFor('veem'));
    const asked = emulator.clock.now();
    await tokens.getToken();
    expect(wire()).toMatchObject({
      method: 'POST',
      url: '/oauth/token',
      authorization: formBasicAuth(TEST_SITE_ID, TEST_API_KEY),
      accept: 'application/json',
      contentType: 'application/x-www-form-urlencoded',
      body: 'grant_type=client_credentials&scope=all',
    });
    const status = await tokens.status();
    expect(status).toMatchObject({ connected: true, connectedAs: 'user 2' });
    expect(status.expiresAt).toBeGreaterThanOrEqual(asked + 31535999_000);
    expect(status.expiresAt).toBeLessThanOrEqual(emulator.clock.now() + 31535999_000);
  });

  it('honours expires_in of a year, then refreshes with POST /oauth/token?refresh_token=... and grant_type alone in the body', async () => {
    await start('veem');
    const tokens = source(settingsFor('veem'));
    const first = await tokens.getToken();
    emulator.clock.advance(364 * 24 * HOUR);
    expect(await tokens.getToken()).toBe(first);
    expect(emulator.stats().calls.token).toBe(1);
    emulator.clock.advance(24 * HOUR - 30_000);
    expect(await tokens.getToken()).not.toBe(first);
    expect(wire().url).toMatch(/^\/oauth\/token\?refresh_token=[A-Za-z0-9_-]+$/);
    expect(wire()).toMatchObject({ authorization: formBasicAuth(TEST_SITE_ID, TEST_API_KEY), accept: 'application/json', body: 'grant_type=refresh_token' });
    expect(emulator.grantCounts()).toMatchObject({ client_credentials: 1, refresh_token: 1 });
  });

  it('three-legged: the code exchange sends grant_type, code, redirect_uri, the PKCE verifier and scope=all', async () => {
    await start('veem');
    const redirect = 'http://127.0.0.1:9/admin/platform/callback';
    const tokens = source(settingsFor('veem', redirect));
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'TOKEN_NOT_CONNECTED' });
    expect(tokens.health()).toBe('not_connected');
    const { verifier, challenge } = pkcePair();
    const back = await consentOverHttp(tokens.authorizationUrl('state-0123456789', challenge));
    expect(back.searchParams.get('state')).toBe('state-0123456789');
    await tokens.connect(back.searchParams.get('code')!, verifier);
    const body = new URLSearchParams(wire().body);
    expect([...body.keys()]).toEqual(['grant_type', 'code', 'redirect_uri', 'code_verifier', 'scope']);
    expect(body.get('redirect_uri')).toBe(redirect);
    expect(wire()).toMatchObject({ authorization: formBasicAuth(TEST_SITE_ID, TEST_API_KEY), accept: 'application/json' });
    expect(tokens.health()).toBe('cached');
  });
});

describe('seed 002 (viewneo): authorization code, a JSON body with the client inside, token_type "Bearer"', () => {
  async function connected(): Promise<TokenSource> {
    const tokens = source(settingsFor('viewneo', 'http://127.0.0.1:9/callback'));
    const { verifier, challenge } = pkcePair();
    const back = await consentOverHttp(tokens.authorizationUrl('state-abcdefghij', challenge));
    await tokens.connect(back.searchParams.get('code')!, verifier, 'admin@example.com');
    return tokens;
  }

  it('sends the curl example as JSON, reads "Bearer", and refreshes with a JSON body before 15 days are out', async () => {
    await start('viewneo');
    const tokens = await connected();
    expect(wire()).toMatchObject({ method: 'POST', url: '/oauth/token', authorization: undefined, contentType: 'application/json' });
    expect(JSON.parse(wire().body)).toEqual({
      grant_type: 'authorization_code',
      code: expect.any(String),
      redirect_uri: 'http://127.0.0.1:9/callback',
      code_verifier: expect.any(String),
      client_id: TEST_SITE_ID,
      client_secret: TEST_API_KEY,
    });
    expect(await tokens.status()).toMatchObject({ connected: true, connectedAs: 'connected by admin@example.com' });
    const first = await tokens.getToken();
    emulator.clock.advance(15 * 24 * HOUR - 30_000);
    expect(await tokens.getToken()).not.toBe(first);
    expect(JSON.parse(wire().body)).toEqual({ grant_type: 'refresh_token', refresh_token: expect.any(String), client_id: TEST_SITE_ID, client_secret: TEST_API_KEY });
  });

  it('a revoked refresh token puts the bridge in "reconnect needed", and a new connect clears it', async () => {
    await start('viewneo');
    const tokens = await connected();
    emulator.revokeRefreshTokens();
    emulator.faults.expireAllTokens();
    await expect(accountsWith(tokens).login({ id: 'u1', name: 'Reader' })).rejects.toMatchObject({ code: 'TOKEN_RECONNECT_NEEDED' });
    expect(tokens.health()).toBe('reconnect_needed');
    expect(await tokens.status()).toMatchObject({ connected: false, reconnectNeeded: 'the platform refused the refresh token' });
    const { verifier, challenge } = pkcePair();
    const back = await consentOverHttp(tokens.authorizationUrl('state-again-0001', challenge));
    await tokens.connect(back.searchParams.get('code')!, verifier);
    await accountsWith(tokens).login({ id: 'u1', name: 'Reader' });
    expect(tokens.health()).toBe('cached');
  });

  it('a code used with the wrong PKCE verifier is refused by the platform', async () => {
    await start('viewneo');
    const tokens = source(settingsFor('viewneo', 'http://127.0.0.1:9/callback'));
    const back = await consentOverHttp(tokens.authorizationUrl('state-abcdefghij', pkcePair().challenge));
    await expect(tokens.connect(back.searchParams.get('code')!, pkcePair().verifier)).rejects.toMatchObject({ code: 'TOKEN_INVALID_GRANT' });
  });
});

describe('seeds 002 and 004: a personal access token', () => {
  it('is sent as Bearer on accounts calls and never asks a token endpoint', async () => {
    emulator = await startTestEmulator({ profile: 'pat', personalAccessToken: 'pat_0123456789abcdef' });
    const tokens = source(tokenSettingsForEmulator('pat', { url: emulator.url, siteId: '', apiKey: '', personalAccessToken: 'pat_0123456789abcdef' }));
    const session = await accountsWith(tokens).login({ id: 'u1', name: 'Reader' });
    expect(session.session).toMatch(/^[a-z0-9]{26}$/);
    expect(emulator.lastRequest('login')!.headers['authorization']).toBe('Bearer pat_0123456789abcdef');
    expect(emulator.stats().calls.token).toBe(0);
    expect(tokens.health()).toBe('cached');
  });
});

describe('status before the first token', () => {
  it('grants that start from their own credentials count as connected; authorization_code does not', async () => {
    await start('viima');
    expect(await source(settingsFor('viima')).status()).toMatchObject({ connected: true, reconnectNeeded: undefined });
    expect(await source(settingsFor('viewneo', 'http://127.0.0.1:9/cb')).status()).toMatchObject({ connected: false });
    expect(emulator.stats().calls.token).toBe(0);
  });
});

describe('an answer without expires_in', () => {
  it('is used for an hour, then renewed', async () => {
    emulator = await startTestEmulator();
    let calls = 0;
    const server = http.createServer((_req, res) => {
      calls += 1;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: `tok${calls}`, token_type: 'Bearer' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const tokens = source({ grant: 'client_credentials', clientAuth: 'basic', tokenUrl: `http://127.0.0.1:${port}/token`, clientId: 'c', clientSecret: 's', refreshTokenIn: 'body' });
      expect(await tokens.getToken()).toBe('tok1');
      emulator.clock.advance(HOUR - 2 * 60_000);
      expect(await tokens.getToken()).toBe('tok1');
      emulator.clock.advance(2 * 60_000);
      expect(await tokens.getToken()).toBe('tok2');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
