import request from 'supertest';
import { signHook } from 'vf-login-bridge';
import { embedTagOf, login, register } from '../helpers/browser-flow';
import { startTestSite, TEST_HOOK_SECRET, type TestSite } from '../helpers/site';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(() => t.close());

const nowSeconds = () => Math.floor(t.clock.now() / 1000);

function sendHook(body: string, signature: string | undefined, contentType = 'application/json') {
  const req = request(t.site.app).post('/hooks/logout').set('Content-Type', contentType);
  if (signature !== undefined) req.set('X-Hook-Signature', signature);
  return req.send(body);
}

const signed = (body: string, at = nowSeconds(), secret = TEST_HOOK_SECRET) => signHook(secret, at, body);

/** A reader logged in from two browsers; returns the user id and both platform sessions. */
async function readerInTwoBrowsers() {
  const first = t.agent();
  const { email } = await register(first);
  const second = t.agent();
  await login(second, email);
  const sids = [];
  for (const agent of [first, second]) sids.push(embedTagOf((await agent.get('/').expect(200)).text).sid!);
  const userId = String((await first.get('/api/session')).body.user.id);
  return { first, second, userId, sids };
}

describe('POST /hooks/logout', () => {
  it('a good signature ends every host session and every platform session of that user', async () => {
    const { first, second, userId, sids } = await readerInTwoBrowsers();
    const bystander = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });

    const res = await sendHook(body, signed(body)).expect(200);
    expect(res.body).toEqual({ loggedOut: 2 });
    for (const agent of [first, second]) expect((await agent.get('/api/session')).body.user).toBeNull();
    for (const sid of sids) expect(t.emulator.sessionInfo(sid)?.alive).toBe(false);
    // another reader is untouched
    expect((await bystander.first.get('/api/session')).body.user).not.toBeNull();
    for (const sid of bystander.sids) expect(t.emulator.sessionInfo(sid)?.alive).toBe(true);
  });

  it('an unknown user answers {"loggedOut":0}', async () => {
    const body = JSON.stringify({ userId: '999999' });
    expect((await sendHook(body, signed(body)).expect(200)).body).toEqual({ loggedOut: 0 });
  });

  it.each([
    ['no signature', () => undefined, 'HOOK_SIGNATURE_INVALID'],
    ['a malformed signature', () => 't=abc,v1=xyz', 'HOOK_SIGNATURE_INVALID'],
    ['the wrong secret', (body: string) => signed(body, nowSeconds(), 'another-secret-another-secret-123456'), 'HOOK_SIGNATURE_INVALID'],
    ['a signature over another body', () => signed(JSON.stringify({ userId: 'someone-else' })), 'HOOK_SIGNATURE_INVALID'],
    ['a stale timestamp', (body: string) => signed(body, nowSeconds() - 301), 'HOOK_SIGNATURE_STALE'],
    ['a timestamp from the future', (body: string) => signed(body, nowSeconds() + 301), 'HOOK_SIGNATURE_STALE'],
  ])('%s is refused with 401 and logs nobody out', async (_label, signatureFor, code) => {
    const { first, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    const res = await sendHook(body, signatureFor(body)).expect(401);
    expect(res.body.error.code).toBe(code);
    expect((await first.get('/api/session')).body.user).not.toBeNull();
  });

  it('a replayed signature is refused', async () => {
    const { userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    const signature = signed(body);
    await sendHook(body, signature).expect(200);
    const replay = await sendHook(body, signature).expect(401);
    expect(replay.body.error.code).toBe('HOOK_REPLAYED');
  });

  it('a replay is refused after a restart too: seen signatures are in the database', async () => {
    const body = JSON.stringify({ userId: 'nobody' });
    const signature = signed(body);
    await sendHook(body, signature).expect(200);
    const restarted = await t.restart();
    try {
      const res = await request(restarted.site.app).post('/hooks/logout').set('Content-Type', 'application/json').set('X-Hook-Signature', signature).send(body);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('HOOK_REPLAYED');
    } finally {
      await restarted.close();
    }
  });

  it.each([
    ['malformed JSON', '{"userId": ', 400, 'MALFORMED_BODY'],
    ['a userId of the wrong type', '{"userId": 42}', 400, 'VALIDATION_FAILED'],
    ['extra fields', '{"userId": "1", "admin": true}', 400, 'VALIDATION_FAILED'],
    ['an array', '[{"userId": "1"}]', 400, 'VALIDATION_FAILED'],
  ])('%s, even signed, gets a 4xx', async (_label, body, status, code) => {
    const res = await sendHook(body, signed(body)).expect(status);
    expect(res.body.error.code).toBe(code);
  });

  it('a huge body is refused with 413 before anything else', async () => {
    const body = JSON.stringify({ userId: 'x'.repeat(10_000) });
    const res = await sendHook(body, signed(body)).expect(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a body that is not JSON is refused with 415', async () => {
    const body = 'userId=1';
    const res = await sendHook(body, signed(body), 'application/x-www-form-urlencoded').expect(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('is refused while HOOK_SECRET is unset', async () => {
    const noSecret = await startTestSite({ emulator: t.emulator, overrides: { hookSecret: undefined } });
    try {
      const body = JSON.stringify({ userId: '1' });
      const res = await request(noSecret.site.app).post('/hooks/logout').set('Content-Type', 'application/json').set('X-Hook-Signature', signed(body)).send(body);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('HOOK_DISABLED');
    } finally {
      await noSecret.close();
    }
  });
});

describe('POST /hooks/logout and requests already under way', () => {
  it('a request that loaded the session before the hook cannot save it back logged in', async () => {
    const { first, userId } = await readerInTwoBrowsers();
    const { host_sid } = await t.site.database.db.selectFrom('bridge_sessions').select('host_sid').where('host_user_id', '=', userId).executeTakeFirstOrThrow();
    const { store } = t.site.sessions;
    const loaded = await new Promise<unknown>((resolve, reject) => store.get(host_sid, (err, data) => (err ? reject(err) : resolve(data))));
    expect(loaded).toHaveProperty('passport.user');

    const body = JSON.stringify({ userId });
    await sendHook(body, signed(body)).expect(200);
    // What express-session does when that request ends: it saves the session it modified.
    await new Promise<void>((resolve, reject) => store.set(host_sid, loaded as never, (err) => (err ? reject(err) : resolve())));

    expect(await new Promise((resolve) => store.get(host_sid, (_err, data) => resolve(data)))).toBeFalsy();
    expect((await first.get('/api/session')).body.user).toBeNull();
  });
});

describe('POST /hooks/logout and expired sessions', () => {
  it('counts only host sessions that were still alive', async () => {
    const { userId } = await readerInTwoBrowsers();
    // One browser's host session has already gone (expired or cleared from the store).
    const { host_sid } = await t.site.database.db.selectFrom('bridge_sessions').select('host_sid').where('host_user_id', '=', userId).executeTakeFirstOrThrow();
    await new Promise<void>((resolve, reject) => t.site.sessions.store.destroy(host_sid, (err) => (err ? reject(err) : resolve())));
    const body = JSON.stringify({ userId });
    expect((await sendHook(body, signed(body)).expect(200)).body).toEqual({ loggedOut: 1 });
  });
});
