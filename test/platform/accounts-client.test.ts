import {
  createAccountsClient,
  createTokenClient,
  processLoginResponse,
  type AccountsClient,
  type TokenClient,
} from '../../packages/bridge/src/platform';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID } from '../helpers/emulator';
import { everythingPrintedOf, expectNoSecretIn, platformErrorOf, type TestEmulator } from './fixture';

describe('accounts client (docs/platform-protocol.md: login and logout)', () => {
  let emulator: TestEmulator;
  let tokens: TokenClient;
  let accounts: AccountsClient;

  function clientsWithTimeout(timeoutMs: number): void {
    tokens.close();
    accounts.close();
    tokens = createTokenClient({ baseUrl: emulator.url, siteId: TEST_SITE_ID, apiKey: TEST_API_KEY, clock: emulator.clock, timeoutMs });
    accounts = createAccountsClient({ baseUrl: emulator.url, tokens, timeoutMs });
  }

  beforeEach(async () => {
    emulator = await startTestEmulator();
    tokens = createTokenClient({ baseUrl: emulator.url, siteId: TEST_SITE_ID, apiKey: TEST_API_KEY, clock: emulator.clock, timeoutMs: 2000 });
    accounts = createAccountsClient({ baseUrl: emulator.url, tokens, timeoutMs: 2000 });
  });

  afterEach(async () => {
    tokens.close();
    accounts.close();
    await emulator.close();
  });

  test('login sends the bearer token and the reader as a form body, and answers the platform user id as a string', async () => {
    const result = await accounts.login({ id: 'reader-1', name: 'Ada Lovelace', email: 'ada@example.com' });

    const request = emulator.lastRequest('login')!;
    expect(request.headers.authorization).toBe(`Bearer ${await tokens.getToken()}`);
    expect(request.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request.rawBody).toBe('id=reader-1&name=Ada+Lovelace&email=ada%40example.com');
    const user = emulator.userByHostId('reader-1')!;
    expect(result.userId).toBe(String(user.userId));
    expect(user).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com' });
    expect(emulator.sessionInfo(result.session)).toMatchObject({ hostId: 'reader-1', alive: true });
  });

  test('an absent email is left out of the form, not sent blank', async () => {
    await accounts.login({ id: 'reader-2', name: 'No Mail', email: null });

    expect(new URLSearchParams(emulator.lastRequest('login')!.rawBody).has('email')).toBe(false);
    expect(emulator.userByHostId('reader-2')!.email).toBeNull();
  });

  test('the same host id always maps to the same platform user, with a new session each login', async () => {
    const first = await accounts.login({ id: 'reader-3', name: 'Reader Three' });
    const second = await accounts.login({ id: 'reader-3', name: 'Reader Three' });

    expect(second.userId).toBe(first.userId);
    expect(second.session).not.toBe(first.session);
  });

  test('logout sends the session as a form body and the session is dead from then on', async () => {
    const { session } = await accounts.login({ id: 'reader-4', name: 'Reader Four' });

    await accounts.logout(session);

    const request = emulator.lastRequest('logout')!;
    expect(request.rawBody).toBe(`session=${encodeURIComponent(session)}`);
    expect(request.headers.authorization).toBe(`Bearer ${await tokens.getToken()}`);
    expect(emulator.sessionInfo(session)!.alive).toBe(false);
  });

  test('a 401 for an expired token gets a new token and exactly one retry', async () => {
    await accounts.login({ id: 'reader-5', name: 'Reader Five' });
    const before = await tokens.getToken();
    emulator.faults.expireAllTokens();

    const result = await accounts.login({ id: 'reader-5', name: 'Reader Five' });

    expect(emulator.sessionInfo(result.session)!.alive).toBe(true);
    expect(emulator.stats().calls).toMatchObject({ token: 2, login: 3 });
    await expect(tokens.getToken()).resolves.not.toBe(before);
  });

  test('a second 401 is PLATFORM_REJECTED, with no third try', async () => {
    emulator.faults.failNext(2, { status: 401 }, 'login');

    const error = await platformErrorOf(accounts.login({ id: 'reader-6', name: 'Reader Six' }));

    expect(error).toMatchObject({ code: 'PLATFORM_REJECTED', upstreamStatus: 401 });
    expect(emulator.stats().calls).toMatchObject({ token: 2, login: 2 });
  });

  test('1,000 concurrent logins on a cold cache make one token call', async () => {
    // The burst is about sharing the token, not speed: a loaded test machine must not time it out.
    clientsWithTimeout(20_000);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => accounts.login({ id: `burst-${i}`, name: `Burst ${i}` })),
    );

    expect(emulator.stats().calls.token).toBe(1);
    expect(emulator.stats().calls.login).toBe(1000);
    expect(new Set(results.map((result) => result.session)).size).toBe(1000);
  });

  test('1,000 concurrent logins after the tokens expired fetch one new token between them', async () => {
    clientsWithTimeout(20_000);
    await accounts.login({ id: 'warm', name: 'Warm' });
    emulator.faults.expireAllTokens();

    await Promise.all(Array.from({ length: 1000 }, (_, i) => accounts.login({ id: `again-${i}`, name: `Again ${i}` })));

    expect(emulator.stats().calls.token).toBe(2);
  });

  test('a 4xx other than 401 is PLATFORM_REJECTED and not retried', async () => {
    emulator.faults.failNext(1, { status: 400 }, 'login');

    const error = await platformErrorOf(accounts.login({ id: 'reader-7', name: 'Reader Seven' }));

    expect(error).toMatchObject({ code: 'PLATFORM_REJECTED', upstreamStatus: 400 });
    expect(emulator.stats().calls.login).toBe(1);
  });

  test('a 5xx or a dropped connection is PLATFORM_UNAVAILABLE; only a dropped kept-alive connection is tried once more', async () => {
    emulator.faults.failNext(1, { status: 502 }, 'login');
    expect(await platformErrorOf(accounts.login({ id: 'reader-8', name: 'Eight' }))).toMatchObject({
      code: 'PLATFORM_UNAVAILABLE',
      upstreamStatus: 502,
    });
    expect(emulator.stats().calls.login).toBe(1);

    // The logout goes out on the socket the login kept alive: the first drop looks like the
    // server closing it idle, so the call is sent once more, and dropped again.
    emulator.faults.failNext(2, 'drop', 'logout');
    expect((await platformErrorOf(accounts.logout('whatever-session'))).code).toBe('PLATFORM_UNAVAILABLE');
    expect(emulator.stats().calls.logout).toBe(2);
  });

  test('a login that times out is PLATFORM_TIMEOUT and is not sent again (it may have reached the platform)', async () => {
    clientsWithTimeout(200);
    await tokens.getToken();
    emulator.faults.setLatency(1000, 'login');

    const error = await platformErrorOf(accounts.login({ id: 'slow', name: 'Slow Reader' }));

    expect(error.code).toBe('PLATFORM_TIMEOUT');
    expect(emulator.stats().calls.login).toBe(1);
    expectNoSecretIn(everythingPrintedOf(error), [await tokens.getToken()]);
  });

  test('every field of the login answer is checked', () => {
    const answer = (fields: Record<string, unknown>) => ({
      status: 200,
      body: JSON.stringify({ user_id: 7000000003119, session: 'o52l4itrv8q4p8n4amsou1c567', ...fields }),
    });
    expect(processLoginResponse(answer({}))).toEqual({ userId: '7000000003119', session: 'o52l4itrv8q4p8n4amsou1c567' });
    expect(processLoginResponse(answer({ user_id: '7000000003119' })).userId).toBe('7000000003119');

    const broken = [
      { status: 200, body: 'not json' },
      { status: 200, body: 'null' },
      answer({ user_id: 0 }),
      answer({ user_id: -3 }),
      answer({ user_id: 1.5 }),
      answer({ user_id: 2 ** 53 }),
      answer({ user_id: '12abc' }),
      answer({ user_id: '007' }),
      answer({ user_id: null }),
      answer({ user_id: undefined }),
      answer({ session: '' }),
      answer({ session: 'has space' }),
      answer({ session: '<script>' + 'x'.repeat(600) }),
      answer({ session: 42 }),
      answer({ session: undefined }),
    ];
    for (const reply of broken) {
      expect(() => processLoginResponse(reply)).toThrow(expect.objectContaining({ code: 'PLATFORM_BAD_RESPONSE' }));
    }
  });

  test('a login without the host user id or name is refused before any call', async () => {
    await expect(accounts.login({ id: '', name: 'Nameless' })).rejects.toThrow(TypeError);
    await expect(accounts.login({ id: 'reader-9', name: '  ' })).rejects.toThrow(TypeError);
    expect(emulator.stats().calls).toMatchObject({ token: 0, login: 0 });
  });
});
