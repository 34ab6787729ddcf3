import { Registry } from 'prom-client';
import { createAdjustableClock } from 'vf-login-bridge';
import {
  createPlatformMetrics,
  createTokenClient,
  processClientCredentialsResponse,
  type TokenClient,
  type TokenClientOptions,
} from '../../packages/bridge/src/platform';
import { curlBasicAuth, emulatorHttp, formPost, startTestEmulator, TEST_API_KEY, TEST_SITE_ID } from '../helpers/emulator';
import { everythingPrintedOf, expectNoSecretIn, platformErrorOf, type TestEmulator } from './fixture';

describe('token client (RFC 6749 §4.4 client_credentials)', () => {
  let emulator: TestEmulator;
  const clients: TokenClient[] = [];

  function tokenClient(overrides: Partial<TokenClientOptions> = {}): TokenClient {
    const client = createTokenClient({
      baseUrl: emulator.url,
      siteId: TEST_SITE_ID,
      apiKey: TEST_API_KEY,
      clock: emulator.clock,
      timeoutMs: 2000,
      ...overrides,
    });
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    emulator = await startTestEmulator();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await emulator.close();
  });

  test('sends the Site ID and API key exactly as curl --user does, and the grant as a form body', async () => {
    const token = await tokenClient().getToken();

    const request = emulator.lastRequest('token');
    expect(request).not.toBeNull();
    // base64('site-123:k+ey/with=chars'): no form-encoding of '+', '/' or '=' before Basic.
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('site-123:k+ey/with=chars').toString('base64')}`);
    expect(request!.headers.authorization).toBe(curlBasicAuth(TEST_SITE_ID, TEST_API_KEY));
    expect(request!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request!.rawBody).toBe('grant_type=client_credentials&scope=accounts');
    expect(typeof token).toBe('string');
    expect(token.length).toBeGreaterThan(0);
  });

  test('1,000 simultaneous callers share one token request', async () => {
    const tokens = tokenClient();

    const answers = await Promise.all(Array.from({ length: 1000 }, () => tokens.getToken()));

    expect(emulator.stats().calls.token).toBe(1);
    expect(new Set(answers).size).toBe(1);
  });

  test('a failed request is shared by the callers waiting on it and not cached', async () => {
    const tokens = tokenClient();
    emulator.faults.failNext(1, { status: 503 }, 'token');

    const results = await Promise.allSettled(Array.from({ length: 50 }, () => tokens.getToken()));

    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(emulator.stats().calls.token).toBe(1);
    await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
    expect(emulator.stats().calls.token).toBe(2);
  });

  test('the token is reused until 60 s before it expires, then refreshed while still valid', async () => {
    const tokens = tokenClient();
    const first = await tokens.getToken();

    emulator.clock.advance(3600_000 - 61_000);
    await expect(tokens.getToken()).resolves.toBe(first);
    expect(emulator.stats().calls.token).toBe(1);

    emulator.clock.advance(2_000);
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    expect(emulator.stats().calls.token).toBe(2);
  });

  test('a short-lived token is refreshed at 90% of its lifetime', async () => {
    await emulator.close();
    emulator = await startTestEmulator({ tokenTtlSeconds: 100 });
    const tokens = tokenClient();
    const first = await tokens.getToken();

    emulator.clock.advance(89_000);
    await expect(tokens.getToken()).resolves.toBe(first);
    emulator.clock.advance(2_000);
    await expect(tokens.getToken()).resolves.not.toBe(first);
    expect(emulator.stats().calls.token).toBe(2);
  });

  test('refreshMarginMs overrides the default margin', async () => {
    const tokens = tokenClient({ refreshMarginMs: 10 * 60_000 });
    const first = await tokens.getToken();

    emulator.clock.advance(3600_000 - 10 * 60_000 - 1_000);
    await expect(tokens.getToken()).resolves.toBe(first);
    emulator.clock.advance(2_000);
    await expect(tokens.getToken()).resolves.not.toBe(first);
  });

  test('a failed early refresh falls back to the token that has not expired yet', async () => {
    const tokens = tokenClient();
    const first = await tokens.getToken();
    emulator.clock.advance(3600_000 - 30_000);
    emulator.faults.failNext(1, { status: 503 }, 'token');

    await expect(tokens.getToken()).resolves.toBe(first);
    expect(emulator.stats().calls.token).toBe(2);
  });

  test('the lifetime is counted on the injected clock, not the wall clock', async () => {
    // The emulator runs on its own clock; this client's clock jumps ahead by itself.
    const clock = createAdjustableClock();
    const tokens = tokenClient({ clock });
    const first = await tokens.getToken();

    clock.advance(3600_000);
    await expect(tokens.getToken()).resolves.not.toBe(first);
    expect(emulator.stats().calls.token).toBe(2);
  });

  test('invalidate drops only the token it names, so a stale 401 keeps a fresh token', async () => {
    const tokens = tokenClient();
    const first = await tokens.getToken();

    tokens.invalidate('some-other-token');
    await expect(tokens.getToken()).resolves.toBe(first);
    expect(emulator.stats().calls.token).toBe(1);

    tokens.invalidate(first);
    const second = await tokens.getToken();
    expect(second).not.toBe(first);

    tokens.invalidate(first);
    await expect(tokens.getToken()).resolves.toBe(second);
    expect(emulator.stats().calls.token).toBe(2);
  });

  test('health() tells none, cached or failing without asking the platform', async () => {
    const client = tokenClient();
    expect(client.health()).toBe('none');
    await client.getToken();
    expect(client.health()).toBe('cached');

    const failing = tokenClient({ apiKey: 'not-the-key' });
    await expect(failing.getToken()).rejects.toThrow();
    const calls = emulator.stats().calls.token;
    expect(failing.health()).toBe('failing');
    expect(emulator.stats().calls.token).toBe(calls);
  });

  test('a wrong API key is TOKEN_INVALID_CLIENT with the provider error, and the key is nowhere in the error', async () => {
    const wrongKey = 'not+the/right=key';
    const error = await platformErrorOf(tokenClient({ apiKey: wrongKey }).getToken());

    expect(error.code).toBe('TOKEN_INVALID_CLIENT');
    expect(error.oauthError).toBe('invalid_client');
    expect(error.upstreamStatus).toBe(401);
    expect(error.status).toBe(502);
    expectNoSecretIn(everythingPrintedOf(error), [wrongKey, encodeURIComponent(wrongKey), Buffer.from(`${TEST_SITE_ID}:${wrongKey}`).toString('base64')]);
  });

  test('RFC 6749 §5.2 errors from the emulator map to their own codes', async () => {
    const http = emulatorHttp(emulator);
    const authorization = curlBasicAuth(TEST_SITE_ID, TEST_API_KEY);
    const ask = async (body: string) => {
      const answer = await formPost(http, '/oauth2/token', body, { Authorization: authorization });
      return { status: answer.status, body: typeof answer.data === 'string' ? answer.data : JSON.stringify(answer.data) };
    };

    const scope = await ask('grant_type=client_credentials&scope=comments');
    expect(() => processClientCredentialsResponse(scope)).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID_SCOPE', oauthError: 'invalid_scope' }));

    const grant = await ask('grant_type=password&scope=accounts');
    expect(() => processClientCredentialsResponse(grant)).toThrow(
      expect.objectContaining({ code: 'TOKEN_UNSUPPORTED_GRANT', oauthError: 'unsupported_grant_type' }),
    );

    const missing = await ask('scope=accounts');
    expect(() => processClientCredentialsResponse(missing)).toThrow(expect.objectContaining({ code: 'TOKEN_REJECTED', oauthError: 'invalid_request' }));

    expect(() => processClientCredentialsResponse({ status: 400, body: '{"error":"invalid_grant"}' })).toThrow(
      expect.objectContaining({ code: 'TOKEN_INVALID_GRANT', oauthError: 'invalid_grant', upstreamStatus: 400 }),
    );
    expect(() => processClientCredentialsResponse({ status: 400, body: '{"error":"constructor"}' })).toThrow(
      expect.objectContaining({ code: 'TOKEN_REJECTED', oauthError: 'constructor' }),
    );
    expect(() => processClientCredentialsResponse({ status: 403, body: '<html>forbidden</html>' })).toThrow(
      expect.objectContaining({ code: 'TOKEN_REJECTED', oauthError: undefined, upstreamStatus: 403 }),
    );
  });

  test('every field of a token answer is checked', () => {
    const answer = (fields: Record<string, unknown>) => ({
      status: 200,
      body: JSON.stringify({ access_token: 'abc+/=', token_type: 'bearer', expires_in: 3600, scope: 'accounts', ...fields }),
    });
    expect(processClientCredentialsResponse(answer({}))).toEqual({ accessToken: 'abc+/=', expiresInMs: 3600_000 });
    expect(processClientCredentialsResponse(answer({ token_type: 'Bearer', scope: undefined }))).toEqual({
      accessToken: 'abc+/=',
      expiresInMs: 3600_000,
    });
    // A narrower scope is accepted (RFC 6749 §3.3); the token source warns about it.
    expect(processClientCredentialsResponse(answer({ scope: 'comments' }))).toEqual({ accessToken: 'abc+/=', expiresInMs: 3600_000 });

    const broken = [
      { status: 200, body: 'not json' },
      { status: 200, body: '[]' },
      { status: 200, body: '' },
      { status: 204, body: '' },
      answer({ access_token: undefined }),
      answer({ access_token: '' }),
      answer({ access_token: 42 }),
      answer({ access_token: 'two words' }),
      answer({ access_token: 'line\r\nX-Injected: 1' }),
      answer({ token_type: 'mac' }),
      answer({ token_type: undefined }),
      answer({ expires_in: 0 }),
      answer({ expires_in: -5 }),
      answer({ expires_in: '3600' }),
      answer({ expires_in: undefined }),
    ];
    for (const reply of broken) {
      expect(() => processClientCredentialsResponse(reply)).toThrow(expect.objectContaining({ code: 'PLATFORM_BAD_RESPONSE' }));
    }
  });

  test('a platform slower than timeoutMs is PLATFORM_TIMEOUT, and the wait is bounded', async () => {
    emulator.faults.setLatency(1500, 'token');
    const started = Date.now();

    const error = await platformErrorOf(tokenClient({ timeoutMs: 150 }).getToken());

    expect(error.code).toBe('PLATFORM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1000);
    expectNoSecretIn(everythingPrintedOf(error));
  });

  test('a 5xx, a dropped connection and a closed port are PLATFORM_UNAVAILABLE', async () => {
    emulator.faults.failNext(1, { status: 503 }, 'token');
    const fiveHundred = await platformErrorOf(tokenClient().getToken());
    expect(fiveHundred).toMatchObject({ code: 'PLATFORM_UNAVAILABLE', upstreamStatus: 503 });

    emulator.faults.failNext(1, 'drop', 'token');
    const dropped = await platformErrorOf(tokenClient().getToken());
    expect(dropped.code).toBe('PLATFORM_UNAVAILABLE');

    const gone = await startTestEmulator();
    await gone.close();
    const refused = await platformErrorOf(tokenClient({ baseUrl: gone.url }).getToken());
    expect(refused.code).toBe('PLATFORM_UNAVAILABLE');

    for (const error of [fiveHundred, dropped, refused]) expectNoSecretIn(everythingPrintedOf(error));
  });

  test('token fetches are counted by outcome on the given registry', async () => {
    const registry = new Registry();
    const metrics = createPlatformMetrics(registry);
    const tokens = tokenClient({ metrics });
    await tokens.getToken();
    tokens.invalidate(await tokens.getToken());
    emulator.faults.failNext(1, { status: 503 }, 'token');
    await tokens.getToken().catch(() => undefined);

    const text = await registry.metrics();
    expect(text).toContain('vf_platform_token_fetches_total{outcome="ok"} 1');
    expect(text).toContain('vf_platform_token_fetches_total{outcome="platform_unavailable"} 1');
    expect(text).toContain('vf_platform_calls_total{endpoint="token",outcome="ok"} 1');
    expect(text).toMatch(/vf_platform_call_duration_seconds_count\{endpoint="token"\} 2/);
  });

  test('misuse fails at construction, without echoing the key', () => {
    const base = { baseUrl: 'http://127.0.0.1:1', siteId: TEST_SITE_ID, apiKey: TEST_API_KEY, clock: createAdjustableClock(), timeoutMs: 1000 };
    expect(() => createTokenClient({ ...base, siteId: 'a:b' })).toThrow(TypeError);
    expect(() => createTokenClient({ ...base, apiKey: '' })).toThrow(TypeError);
    expect(() => createTokenClient({ ...base, baseUrl: 'ftp://example.com' })).toThrow(TypeError);
    expect(() => createTokenClient({ ...base, timeoutMs: 0 })).toThrow(TypeError);
    expect(() => createTokenClient({ ...base, refreshMarginMs: -1 })).toThrow(TypeError);
    const thrown: unknown[] = [];
    for (const misuse of [{ siteId: 'a:b' }, { timeoutMs: Number.NaN }, { baseUrl: 'not a url' }, { clock: undefined as never }]) {
      try {
        createTokenClient({ ...base, ...misuse });
      } catch (error) {
        thrown.push(error);
      }
    }
    expect(thrown).toHaveLength(4);
    for (const error of thrown) expectNoSecretIn(everythingPrintedOf(error));
  });
});
