import {
  curlBasicAuth,
  emulatorHttp,
  formPost,
  issueTestToken,
  platformLogin,
  startTestEmulator,
  TEST_API_KEY,
  TEST_SITE_ID,
  type TestEmulator,
} from '../helpers/emulator';

const GRANT = 'grant_type=client_credentials&scope=accounts';

describe('emulator: fault knobs and counters', () => {
  let emulator: TestEmulator;
  const requestToken = () =>
    formPost(emulatorHttp(emulator), '/oauth2/token', GRANT, { Authorization: curlBasicAuth(TEST_SITE_ID, TEST_API_KEY) });
  const requestLogin = (token: string) =>
    formPost(emulatorHttp(emulator), '/rest/v1/accounts/login', 'id=host-1&name=Ann', { Authorization: `Bearer ${token}` });

  beforeEach(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('adds latency before answering, only where asked', async () => {
    emulator.faults.setLatency(300, 'token');
    const token = await issueTestToken(emulator);

    let started = Date.now();
    expect((await requestToken()).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);

    started = Date.now();
    expect((await requestLogin(token)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(250);
  });

  it('lets a client time out on a slow answer', async () => {
    emulator.faults.setLatency(2000);
    const http = emulatorHttp(emulator);
    const slow = formPost(http, '/oauth2/token', GRANT, { Authorization: curlBasicAuth(TEST_SITE_ID, TEST_API_KEY) });
    await expect(
      http.post('/oauth2/token', GRANT, {
        timeout: 200,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: curlBasicAuth(TEST_SITE_ID, TEST_API_KEY) },
      }),
    ).rejects.toMatchObject({ code: 'ECONNABORTED' });
    emulator.faults.reset();
    // close() must not wait for the pending slow answer.
    void slow.catch(() => undefined);
  });

  it('fails the next N calls with a status, then answers normally', async () => {
    emulator.faults.failNext(2, { status: 503 }, 'token');

    const answers = [await requestToken(), await requestToken(), await requestToken()];
    expect(answers.map((answer) => answer.status)).toEqual([503, 503, 200]);
    expect(answers[0]!.data).toEqual({ error: expect.any(String), error_description: expect.any(String) });
    expect(emulator.stats()).toMatchObject({ calls: { token: 3, login: 0, logout: 0 }, tokensIssued: 1 });
  });

  it('shares a failNext count for any endpoint across all three calls, in arrival order', async () => {
    const token = await issueTestToken(emulator);
    emulator.faults.failNext(2, { status: 500 });

    expect((await requestLogin(token)).status).toBe(500);
    expect((await requestToken()).status).toBe(500);
    expect((await requestLogin(token)).status).toBe(200);
  });

  it('fails a login with 401 once, as an expired token would look', async () => {
    const token = await issueTestToken(emulator);
    emulator.faults.failNext(1, { status: 401 }, 'login');

    expect((await requestLogin(token)).status).toBe(401);
    expect((await requestLogin(token)).status).toBe(200);
    expect(emulator.stats().users).toBe(1);
  });

  it('drops the connection without an answer', async () => {
    emulator.faults.failNext(1, 'drop', 'token');

    await expect(emulatorHttp(emulator).post('/oauth2/token', GRANT, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: curlBasicAuth(TEST_SITE_ID, TEST_API_KEY) },
    })).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|ERR_BAD_RESPONSE|EPIPE/) });
    expect((await requestToken()).status).toBe(200);
    expect(emulator.stats().calls.token).toBe(2);
  });

  it('is down for every call until failAll(null)', async () => {
    const token = await issueTestToken(emulator);
    emulator.faults.failAll({ status: 503 });

    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await requestToken()).status).toBe(503);
      expect((await requestLogin(token)).status).toBe(503);
    }
    emulator.faults.failAll(null);
    expect((await requestLogin(token)).status).toBe(200);
    expect(emulator.stats().calls).toEqual({ token: 4, login: 4, logout: 0 });
  });

  it('can take down one endpoint only', async () => {
    const token = await issueTestToken(emulator);
    emulator.faults.failAll('drop', 'logout');

    expect((await requestLogin(token)).status).toBe(200);
    await expect(formPost(emulatorHttp(emulator), '/rest/v1/accounts/logout', 'session=x', { Authorization: `Bearer ${token}` })).rejects.toThrow();
  });

  it('makes every issued token unknown on expireAllTokens, while new ones work', async () => {
    const old = await issueTestToken(emulator);
    emulator.faults.expireAllTokens();

    const refused = await requestLogin(old);
    expect(refused.status).toBe(401);
    expect(refused.data.error).toBe('invalid_token');
    expect((await requestLogin(await issueTestToken(emulator))).status).toBe(200);
  });

  it('clears every knob on reset', async () => {
    emulator.faults.setLatency(1000);
    emulator.faults.failNext(5, { status: 500 });
    emulator.faults.failAll({ status: 503 }, 'login');
    emulator.faults.reset();

    const started = Date.now();
    const token = await issueTestToken(emulator);
    expect((await requestLogin(token)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('refuses nonsense knob settings at the call', () => {
    expect(() => emulator.faults.failNext(1, { status: 200 })).toThrow(RangeError);
    expect(() => emulator.faults.setLatency(-1)).toThrow(RangeError);
    expect(() => emulator.faults.failAll({ status: 503 }, 'tokens' as never)).toThrow(TypeError);
  });

  it('counts users, tokens and live sessions', async () => {
    const token = await issueTestToken(emulator);
    const ann = await platformLogin(emulator, { id: 'host-1', name: 'Ann' }, token);
    await platformLogin(emulator, { id: 'host-2', name: 'Bob' }, token);
    await formPost(emulatorHttp(emulator), '/rest/v1/accounts/logout', `session=${ann.session}`, { Authorization: `Bearer ${token}` });

    expect(emulator.stats()).toEqual({ calls: { token: 1, login: 2, logout: 1 }, tokensIssued: 1, users: 2, liveSessions: 1 });
  });

  describe('over HTTP, for a standalone emulator', () => {
    const admin = () => emulatorHttp(emulator);

    it('reports stats at GET /_emulator/stats', async () => {
      await issueTestToken(emulator);
      const answer = await admin().get('/_emulator/stats');
      expect(answer.status).toBe(200);
      expect(answer.data).toEqual(emulator.stats());
      expect(answer.data.calls.token).toBe(1);
    });

    it('sets failNext, failAll, latency and token expiry at POST /_emulator/faults', async () => {
      const token = await issueTestToken(emulator);
      expect((await admin().post('/_emulator/faults', { failNext: { count: 1, status: 502, endpoint: 'login' } })).status).toBe(200);
      expect((await requestLogin(token)).status).toBe(502);
      expect((await requestLogin(token)).status).toBe(200);

      await admin().post('/_emulator/faults', { failAll: { drop: true, endpoint: 'token' } });
      await expect(requestToken()).rejects.toThrow();
      await admin().post('/_emulator/faults', { failAll: null });
      expect((await requestToken()).status).toBe(200);

      await admin().post('/_emulator/faults', { expireTokens: true });
      expect((await requestLogin(token)).status).toBe(401);

      await admin().post('/_emulator/faults', { latencyMs: 250, latencyEndpoint: 'token' });
      const started = Date.now();
      await requestToken();
      expect(Date.now() - started).toBeGreaterThanOrEqual(230);
      await admin().post('/_emulator/faults', { reset: true });
      expect(emulator.faults).toBeDefined();
    });

    it('refuses a malformed faults request with 400', async () => {
      const answers = await Promise.all([
        admin().post('/_emulator/faults', { failNext: { count: 1 } }),
        admin().post('/_emulator/faults', { failNext: { count: 1, status: 200 } }),
        admin().post('/_emulator/faults', { latencyMs: 'slow' }),
        admin().post('/_emulator/faults', { bogus: true }),
        admin().post('/_emulator/faults', '{not json', { headers: { 'Content-Type': 'application/json' } }),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400, 400, 400]);
      expect(answers.every((answer) => typeof answer.data.error === 'string')).toBe(true);
      expect((await requestToken()).status).toBe(200);
    });
  });
});
