import { curlBasicAuth, emulatorHttp, formPost, startTestEmulator, TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';

const GRANT = 'grant_type=client_credentials&scope=accounts';

describe('emulator: POST /oauth2/token (client_credentials, RFC 6749 §4.4)', () => {
  let emulator: TestEmulator;
  const auth = () => ({ Authorization: curlBasicAuth(TEST_SITE_ID, TEST_API_KEY) });

  beforeEach(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('issues a bearer token for the Site ID and API key sent as curl --user sends them', async () => {
    const answer = await formPost(emulatorHttp(emulator), '/oauth2/token', GRANT, auth());

    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.data).toEqual({
      access_token: expect.stringMatching(/^[A-Za-z0-9+/]{27}=$/),
      token_type: 'bearer',
      expires_in: 3600,
      scope: 'accounts',
    });
    expect(emulator.stats().tokensIssued).toBe(1);
  });

  it('gives a different token on every request', async () => {
    const http = emulatorHttp(emulator);
    const first = await formPost(http, '/oauth2/token', GRANT, auth());
    const second = await formPost(http, '/oauth2/token', GRANT, auth());
    expect(first.data.access_token).not.toBe(second.data.access_token);
  });

  it('reports the configured lifetime in expires_in', async () => {
    const shortLived = await startTestEmulator({ tokenTtlSeconds: 60 });
    try {
      const answer = await formPost(emulatorHttp(shortLived), '/oauth2/token', GRANT, auth());
      expect(answer.data.expires_in).toBe(60);
    } finally {
      await shortLived.close();
    }
  });

  it('keeps the raw bytes of a key holding + / = and refuses the same key URL-encoded', async () => {
    const http = emulatorHttp(emulator);
    const raw = await formPost(http, '/oauth2/token', GRANT, { Authorization: curlBasicAuth(TEST_SITE_ID, 'k+ey/with=chars') });
    const encoded = await formPost(http, '/oauth2/token', GRANT, {
      Authorization: curlBasicAuth(TEST_SITE_ID, encodeURIComponent(TEST_API_KEY)),
    });

    expect(raw.status).toBe(200);
    expect(encoded.status).toBe(401);
    expect(encoded.data.error).toBe('invalid_client');
  });

  it('splits the credentials at the first colon, so a key may hold colons', async () => {
    const colonKey = await startTestEmulator({ apiKey: 'a:b:c' });
    try {
      const http = emulatorHttp(colonKey);
      const right = await formPost(http, '/oauth2/token', GRANT, { Authorization: curlBasicAuth(TEST_SITE_ID, 'a:b:c') });
      const cut = await formPost(http, '/oauth2/token', GRANT, { Authorization: curlBasicAuth(TEST_SITE_ID, 'a:b') });
      expect(right.status).toBe(200);
      expect(cut.status).toBe(401);
    } finally {
      await colonKey.close();
    }
  });

  it('refuses at construction a Site ID holding a colon, which Basic credentials could never carry', async () => {
    await expect(startTestEmulator({ siteId: 'a:b' })).rejects.toThrow(TypeError);
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong API key', curlBasicAuth(TEST_SITE_ID, 'not-the-key')],
    ['a wrong Site ID', curlBasicAuth('site-999', TEST_API_KEY)],
    ['an API key with a trailing byte', curlBasicAuth(TEST_SITE_ID, `${TEST_API_KEY} `)],
    ['credentials without a colon', `Basic ${Buffer.from(`${TEST_SITE_ID}${TEST_API_KEY}`).toString('base64')}`],
    ['a token where Basic belongs', 'Bearer abc'],
    ['malformed base64', 'Basic !!!notbase64'],
  ])('refuses %s with 401 invalid_client and a Basic challenge', async (_case, authorization) => {
    const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
    const answer = await formPost(emulatorHttp(emulator), '/oauth2/token', GRANT, headers);

    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/^Basic realm="[^"]+"/);
    expect(answer.data).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    expect(emulator.stats().tokensIssued).toBe(0);
  });

  it('accepts the scheme name in any case (RFC 7235 §2.1)', async () => {
    const header = curlBasicAuth(TEST_SITE_ID, TEST_API_KEY).replace('Basic', 'basic');
    const answer = await formPost(emulatorHttp(emulator), '/oauth2/token', GRANT, { Authorization: header });
    expect(answer.status).toBe(200);
  });

  it.each([
    ['another grant', 'unsupported_grant_type', 'grant_type=password&scope=accounts'],
    ['a refresh grant', 'unsupported_grant_type', 'grant_type=refresh_token&scope=accounts'],
    ['no grant_type', 'invalid_request', 'scope=accounts'],
    ['no scope', 'invalid_scope', 'grant_type=client_credentials'],
    ['an empty scope', 'invalid_scope', 'grant_type=client_credentials&scope='],
    ['an unknown scope', 'invalid_scope', 'grant_type=client_credentials&scope=admin'],
    ['an extra scope', 'invalid_scope', 'grant_type=client_credentials&scope=accounts+admin'],
    ['a repeated parameter', 'invalid_request', 'grant_type=client_credentials&grant_type=client_credentials&scope=accounts'],
    ['a second client authentication in the body', 'invalid_request', `${GRANT}&client_id=${TEST_SITE_ID}&client_secret=x`],
  ])('answers %s with 400 %s', async (_case, error, body) => {
    const answer = await formPost(emulatorHttp(emulator), '/oauth2/token', body, auth());

    expect(answer.status).toBe(400);
    expect(answer.data).toEqual({ error, error_description: expect.any(String) });
  });

  it('answers a JSON body with 400 invalid_request', async () => {
    const answer = await emulatorHttp(emulator).post(
      '/oauth2/token',
      { grant_type: 'client_credentials', scope: 'accounts' },
      { headers: auth() },
    );
    expect(answer.status).toBe(400);
    expect(answer.data.error).toBe('invalid_request');
  });

  it('refuses other methods with 405 and counts only POSTs as token calls', async () => {
    const answer = await emulatorHttp(emulator).get('/oauth2/token', { headers: auth() });
    expect(answer.status).toBe(405);
    expect(answer.headers['allow']).toBe('POST');
    expect(emulator.stats().calls.token).toBe(0);
  });

  it('records the last token request as it came over the wire', async () => {
    await formPost(emulatorHttp(emulator), '/oauth2/token', GRANT, auth());
    const recorded = emulator.lastRequest('token');

    expect(recorded?.rawBody).toBe(GRANT);
    expect(recorded?.headers['authorization']).toBe(curlBasicAuth(TEST_SITE_ID, TEST_API_KEY));
    expect(recorded?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(emulator.lastRequest('login')).toBeNull();
  });
});
