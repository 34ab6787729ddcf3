import {
  emulatorHttp,
  formPost,
  issueTestToken,
  platformLogin,
  startTestEmulator,
  type TestEmulator,
} from '../helpers/emulator';

describe('emulator: accounts login and logout (docs/platform-protocol.md)', () => {
  let emulator: TestEmulator;
  let token: string;
  const bearer = () => ({ Authorization: `Bearer ${token}` });
  const login = (body: string) => formPost(emulatorHttp(emulator), '/rest/v1/accounts/login', body, bearer());
  const logout = (body: string) => formPost(emulatorHttp(emulator), '/rest/v1/accounts/logout', body, bearer());

  beforeEach(async () => {
    emulator = await startTestEmulator();
    token = await issueTestToken(emulator);
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('creates the user on first login and answers user_id and a new session', async () => {
    // The body exactly as the curl example in docs/platform-protocol.md sends it: a raw space, an unencoded '@'.
    const answer = await login('id=host-42&name=John Doe&email=john@example.com');

    expect(answer.status).toBe(200);
    expect(answer.data).toEqual({ user_id: 7000000000001, session: expect.stringMatching(/^[a-z0-9]{26}$/) });
    expect(emulator.userByHostId('host-42')).toEqual({
      userId: 7000000000001,
      hostId: 'host-42',
      name: 'John Doe',
      email: 'john@example.com',
    });
    expect(emulator.sessionInfo(answer.data.session)).toMatchObject({ hostId: 'host-42', alive: true });
  });

  it('maps the same id to the same user_id, updates changed details and opens a new session each time', async () => {
    const first = await platformLogin(emulator, { id: 'host-1', name: 'Ann', email: 'ann@example.com' }, token);
    const other = await platformLogin(emulator, { id: 'host-2', name: 'Bob' }, token);
    const again = await platformLogin(emulator, { id: 'host-1', name: 'Ann Lee', email: 'ann.lee@example.com' }, token);

    expect(other.user_id).toBe(first.user_id + 1);
    expect(again.user_id).toBe(first.user_id);
    expect(again.session).not.toBe(first.session);
    expect(emulator.userByHostId('host-1')).toMatchObject({ name: 'Ann Lee', email: 'ann.lee@example.com' });
    expect(emulator.userByHostId('host-2')).toMatchObject({ name: 'Bob', email: null });
    expect(emulator.stats()).toMatchObject({ users: 2, liveSessions: 3 });
    // An earlier session stays alive: a reader may be logged in on two devices.
    expect(emulator.sessionInfo(first.session)?.alive).toBe(true);
  });

  it('keeps the stored email when a later login omits it', async () => {
    await platformLogin(emulator, { id: 'host-1', name: 'Ann', email: 'ann@example.com' }, token);
    await platformLogin(emulator, { id: 'host-1', name: 'Ann' }, token);
    expect(emulator.userByHostId('host-1')?.email).toBe('ann@example.com');
  });

  it.each([
    ['no id', 'name=Ann'],
    ['an empty id', 'id=&name=Ann'],
    ['no name', 'id=host-1'],
    ['a blank name', 'id=host-1&name=%20%20'],
    ['an id over 255 characters', `id=${'x'.repeat(256)}&name=Ann`],
    ['a name over 255 characters', `id=host-1&name=${'n'.repeat(256)}`],
    ['an email that is not one', 'id=host-1&name=Ann&email=not-an-email'],
    ['a repeated id', 'id=host-1&id=host-2&name=Ann'],
  ])('answers a login with %s with 400 and creates nobody', async (_case, body) => {
    const answer = await login(body);

    expect(answer.status).toBe(400);
    expect(answer.data).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    expect(emulator.stats().users).toBe(0);
  });

  it('accepts an id and a name of exactly 255 characters', async () => {
    const answer = await login(`id=${'x'.repeat(255)}&name=${'n'.repeat(255)}`);
    expect(answer.status).toBe(200);
  });

  it('answers a JSON login body with 400', async () => {
    const answer = await emulatorHttp(emulator).post('/rest/v1/accounts/login', { id: 'host-1', name: 'Ann' }, { headers: bearer() });
    expect(answer.status).toBe(400);
    expect(emulator.stats().users).toBe(0);
  });

  it.each([
    ['no token', {}],
    ['an unknown token', { Authorization: 'Bearer 9MRSxm+GZwLfRKLn1luFrJvUP5A=' }],
    ['Basic instead of Bearer', { Authorization: 'Basic c2l0ZS0xMjM6aw==' }],
  ])('refuses login and logout with %s: 401 JSON', async (_case, headers: Record<string, string>) => {
    const http = emulatorHttp(emulator);
    const loginAnswer = await formPost(http, '/rest/v1/accounts/login', 'id=host-1&name=Ann', headers);
    const logoutAnswer = await formPost(http, '/rest/v1/accounts/logout', 'session=abc', headers);

    for (const answer of [loginAnswer, logoutAnswer]) {
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(answer.data).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
    }
    expect(emulator.stats().users).toBe(0);
  });

  it('refuses a token once its expires_in has passed on the clock', async () => {
    emulator.clock.advance(3599 * 1000);
    expect((await login('id=host-1&name=Ann')).status).toBe(200);

    emulator.clock.advance(1000);
    const answer = await login('id=host-2&name=Bob');
    expect(answer.status).toBe(401);
    expect(answer.data.error).toBe('invalid_token');
  });

  it('ends a session at once on logout', async () => {
    const { session } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' }, token);
    const answer = await logout(`session=${session}`);

    expect(answer.status).toBe(200);
    expect(answer.data).toEqual({ ok: true });
    expect(emulator.sessionInfo(session)).toMatchObject({ hostId: 'host-1', alive: false });
    expect(emulator.stats().liveSessions).toBe(0);
    expect(emulator.lastRequest('logout')?.rawBody).toBe(`session=${session}`);
  });

  it('logs out only the session it names', async () => {
    const phone = await platformLogin(emulator, { id: 'host-1', name: 'Ann' }, token);
    const laptop = await platformLogin(emulator, { id: 'host-1', name: 'Ann' }, token);
    await logout(`session=${phone.session}`);

    expect(emulator.sessionInfo(phone.session)?.alive).toBe(false);
    expect(emulator.sessionInfo(laptop.session)?.alive).toBe(true);
  });

  it('answers 200 to a repeated logout and to an unknown session, so retries are safe', async () => {
    const { session } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' }, token);
    await logout(`session=${session}`);

    const repeated = await logout(`session=${session}`);
    const unknown = await logout('session=nosuchsession00000000000000');
    expect([repeated.status, unknown.status]).toEqual([200, 200]);
    expect(unknown.data).toEqual({ ok: true });
  });

  it('answers a logout without a session with 400', async () => {
    const answer = await logout('');
    expect(answer.status).toBe(400);
    expect(answer.data.error).toBe('invalid_request');
  });

  it('answers an oversized body with 413 and counts the call', async () => {
    const answer = await login(`id=host-1&name=${'n'.repeat(20 * 1024)}`);
    expect(answer.status).toBe(413);
    expect(answer.data.error).toBe('invalid_request');
    expect(emulator.stats().calls.login).toBe(1);
  });

  it('answers an unknown route with a 404 JSON error and no stack trace', async () => {
    const answer = await emulatorHttp(emulator).get('/rest/v1/nothing');
    expect(answer.status).toBe(404);
    expect(answer.data).toEqual({ error: 'not_found', error_description: expect.any(String) });
    expect(JSON.stringify(answer.data)).not.toMatch(/at .*\.ts/);
  });
});
