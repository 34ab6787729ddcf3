import { pkcePair } from '../helpers/connect';
import { curlBasicAuth, emulatorHttp, formBasicAuth, formPost, startTestEmulator, TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';

const USER = { username: 'integration@example.com', password: 'integration-password' };
let emulator: TestEmulator;
afterEach(() => emulator.close());

const basic = () => ({ Authorization: curlBasicAuth(TEST_SITE_ID, TEST_API_KEY) });
/** Seed 001's platform reads Basic the RFC 6749 §2.3.1 way (docs/token-dialects.md, "Basic encoding"). */
const rfcBasic = () => ({ Authorization: formBasicAuth(TEST_SITE_ID, TEST_API_KEY) });
const viimaBody = (extra: string) => `client_id=${TEST_SITE_ID}&client_secret=${encodeURIComponent(TEST_API_KEY)}&${extra}`;
const passwordGrant = `grant_type=password&username=${encodeURIComponent(USER.username)}&password=${USER.password}`;

describe('emulator profiles refuse requests that are not in their dialect', () => {
  it('viima: the client goes in the body, Basic is refused, and the path without its slash redirects', async () => {
    emulator = await startTestEmulator({ profile: 'viima' });
    const http = emulatorHttp(emulator);
    expect((await formPost(http, '/oauth2/token/', viimaBody(passwordGrant))).status).toBe(200);
    const withBasic = await formPost(http, '/oauth2/token/', passwordGrant, basic());
    expect([withBasic.status, withBasic.data.error]).toEqual([401, 'invalid_client']);
    const noSlash = await formPost(http, '/oauth2/token', viimaBody(passwordGrant));
    expect(noSlash.status).toBe(301);
    expect(noSlash.headers['location']).toBe('/oauth2/token/');
    const wrongPassword = await formPost(http, '/oauth2/token/', viimaBody('grant_type=password&username=integration%40example.com&password=nope'));
    expect([wrongPassword.status, wrongPassword.data.error]).toEqual([400, 'invalid_grant']);
    expect((await formPost(http, '/oauth2/token/', viimaBody('grant_type=client_credentials'))).data.error).toBe('unsupported_grant_type');
  });

  it('viima: a refresh token works once (rotation), and not from the query string', async () => {
    emulator = await startTestEmulator({ profile: 'viima' });
    const http = emulatorHttp(emulator);
    const first = (await formPost(http, '/oauth2/token/', viimaBody(passwordGrant))).data;
    expect(first).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 36000, scope: 'read write', refresh_token: expect.any(String) });
    const inQuery = await formPost(http, `/oauth2/token/?refresh_token=${first.refresh_token}`, viimaBody('grant_type=refresh_token'));
    expect(inQuery.status).toBe(400);
    const refreshed = await formPost(http, '/oauth2/token/', viimaBody(`grant_type=refresh_token&refresh_token=${first.refresh_token}`));
    expect(refreshed.status).toBe(200);
    expect(refreshed.data.refresh_token).not.toBe(first.refresh_token);
    const again = await formPost(http, '/oauth2/token/', viimaBody(`grant_type=refresh_token&refresh_token=${first.refresh_token}`));
    expect([again.status, again.data.error]).toEqual([400, 'invalid_grant']);
  });

  it('veem: Accept: application/json is required, and the refresh token goes in the query, not the body', async () => {
    emulator = await startTestEmulator({ profile: 'veem' });
    const http = emulatorHttp(emulator);
    const accept = { ...rfcBasic(), Accept: 'application/json' };
    const noAccept = await http.post('/oauth/token', 'grant_type=client_credentials&scope=all', {
      headers: { ...rfcBasic(), 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
    });
    expect(noAccept.status).toBe(406);
    const first = await formPost(http, '/oauth/token', 'grant_type=client_credentials&scope=all', accept);
    expect(first.data).toEqual({
      access_token: expect.any(String), token_type: 'bearer', refresh_token: expect.any(String), expires_in: 31535999, scope: 'all', account_id: 1, user_id: 2,
    });
    expect((await formPost(http, '/oauth/token', 'grant_type=client_credentials&scope=accounts', accept)).data.error).toBe('invalid_scope');
    const inBody = await formPost(http, '/oauth/token', `grant_type=refresh_token&refresh_token=${first.data.refresh_token}`, accept);
    expect(inBody.status).toBe(400);
    const inQuery = await formPost(http, `/oauth/token?refresh_token=${first.data.refresh_token}`, 'grant_type=refresh_token', accept);
    expect(inQuery.status).toBe(200);
  });

  it('viewneo: JSON only, with the client in the body; a form is refused', async () => {
    emulator = await startTestEmulator({ profile: 'viewneo' });
    const http = emulatorHttp(emulator);
    const asForm = await formPost(http, '/oauth/token', `grant_type=refresh_token&refresh_token=x&client_id=${TEST_SITE_ID}&client_secret=x`);
    expect([asForm.status, asForm.data.error]).toEqual([400, 'invalid_request']);
    const json = { grant_type: 'refresh_token', refresh_token: 'unknown', client_id: TEST_SITE_ID, client_secret: TEST_API_KEY };
    const withBasic = await http.post('/oauth/token', JSON.stringify(json), { headers: { ...basic(), 'Content-Type': 'application/json' } });
    expect(withBasic.status).toBe(401);
    const unknown = await http.post('/oauth/token', JSON.stringify(json), { headers: { 'Content-Type': 'application/json' } });
    expect([unknown.status, unknown.data.error]).toEqual([400, 'invalid_grant']);
  });

  it('the consent page requires state and an S256 PKCE challenge', async () => {
    emulator = await startTestEmulator({ profile: 'veem' });
    const http = emulatorHttp(emulator);
    const base = `/oauth/authorize?client_id=${TEST_SITE_ID}&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/cb')}&response_type=code`;
    const { challenge } = pkcePair();
    expect((await http.get(`${base}&code_challenge=${challenge}&code_challenge_method=S256`)).status).toBe(400);
    expect((await http.get(`${base}&state=state-0123456789&code_challenge=${challenge}&code_challenge_method=plain`)).status).toBe(400);
    expect((await http.get(`${base}&state=state-0123456789`)).status).toBe(400);
    const page = await http.get(`${base}&state=state-0123456789&code_challenge=${challenge}&code_challenge_method=S256`);
    expect(page.status).toBe(200);
    expect(page.data).toContain('<button type="submit" name="decision" value="allow">Allow</button>');
  });

  it('pat: no token endpoint; the personal access token is accepted as Bearer until revoked', async () => {
    emulator = await startTestEmulator({ profile: 'pat', personalAccessToken: 'pat_abcdef0123456789' });
    const http = emulatorHttp(emulator);
    expect((await formPost(http, '/oauth2/token', 'grant_type=client_credentials&scope=accounts', basic())).status).toBe(404);
    const login = () => formPost(http, '/rest/v1/accounts/login', 'id=1&name=Reader', { Authorization: 'Bearer pat_abcdef0123456789' });
    expect((await login()).status).toBe(200);
    emulator.clock.advance(400 * 24 * 3600_000);
    expect((await login()).status).toBe(200);
    await http.post('/_emulator/faults', { expireTokens: true });
    expect((await login()).status).toBe(401);
  });

  it('the admin API revokes refresh tokens', async () => {
    emulator = await startTestEmulator({ profile: 'viima' });
    const http = emulatorHttp(emulator);
    const first = (await formPost(http, '/oauth2/token/', viimaBody(passwordGrant))).data;
    expect((await http.post('/_emulator/faults', { revokeRefreshTokens: true })).status).toBe(200);
    const refused = await formPost(http, '/oauth2/token/', viimaBody(`grant_type=refresh_token&refresh_token=${first.refresh_token}`));
    expect(refused.data.error).toBe('invalid_grant');
  });
});
