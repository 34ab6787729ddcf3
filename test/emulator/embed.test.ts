import vm from 'node:vm';
import { EMBED_JS } from 'vf-platform-emulator';
import { emulatorHttp, formPost, platformLogin, startTestEmulator, type TestEmulator } from '../helpers/emulator';

const HOST_ORIGIN = 'http://publisher.test';

describe('emulator: the embed script and its API over HTTP (docs/platform-protocol.md#javascript-api)', () => {
  let emulator: TestEmulator;
  const http = () => emulatorHttp(emulator);

  beforeEach(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('serves embed.js as JavaScript at embedSrc', async () => {
    expect(emulator.embedSrc).toBe(`${emulator.url}/embed.js`);
    const answer = await http().get('/embed.js', { responseType: 'text' });

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/javascript; charset=utf-8$/);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.data).toBe(EMBED_JS);
  });

  it('serves embed.css as a stylesheet', async () => {
    const answer = await http().get('/embed.css', { responseType: 'text' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/css/);
    expect(answer.data).toContain('.vf-status');
  });

  it('ships a script that parses and holds nothing a strict CSP forbids', () => {
    expect(() => new vm.Script(EMBED_JS)).not.toThrow();
    expect(EMBED_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|\.style\b|setAttribute\('style'/);
  });

  it('answers the session check with the user of a live session, to any origin', async () => {
    const { session, user_id: userId } = await platformLogin(emulator, { id: 'host-1', name: 'Ann <b>' });
    const answer = await http().get('/embed/v1/session', { params: { sid: session }, headers: { Origin: HOST_ORIGIN } });

    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.data).toEqual({ user: { id: userId, name: 'Ann <b>' } });
  });

  it('answers null for an unknown or missing session', async () => {
    const unknown = await http().get('/embed/v1/session', { params: { sid: 'nosuchsession' } });
    const missing = await http().get('/embed/v1/session');
    expect([unknown.data, missing.data]).toEqual([{ user: null }, { user: null }]);
  });

  it('answers CORS preflights on the embed API', async () => {
    const answer = await http().request({
      method: 'OPTIONS',
      url: '/embed/v1/comments',
      headers: { Origin: HOST_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });

    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(answer.headers['access-control-allow-methods']).toContain('POST');
    expect(answer.headers['access-control-allow-headers']).toMatch(/content-type/i);
  });

  it('allows the script and stylesheet to be loaded cross-origin', async () => {
    const answer = await http().get('/embed.js', { headers: { Origin: HOST_ORIGIN } });
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(answer.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });

  it('logs a session out from the embed', async () => {
    const { session } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' });
    const answer = await formPost(http(), '/embed/v1/logout', `sid=${session}`, { Origin: HOST_ORIGIN });

    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(answer.data).toEqual({ ok: true });
    expect(emulator.sessionInfo(session)?.alive).toBe(false);
  });

  it('refuses an embed logout without a session id', async () => {
    const answer = await formPost(http(), '/embed/v1/logout', '');
    expect(answer.status).toBe(400);
  });

  it('keeps comments per page for a live session and refuses a dead one', async () => {
    const { session, user_id: userId } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' });
    const posted = await formPost(http(), '/embed/v1/comments', new URLSearchParams({ sid: session, page: '/articles/a', text: ' First! ' }).toString());

    expect(posted.status).toBe(200);
    expect(posted.data.comment).toMatchObject({ userId, name: 'Ann', text: 'First!' });
    const onPage = await http().get('/embed/v1/comments', { params: { page: '/articles/a' } });
    const elsewhere = await http().get('/embed/v1/comments', { params: { page: '/articles/b' } });
    expect(onPage.data.comments).toEqual([posted.data.comment]);
    expect(elsewhere.data.comments).toEqual([]);

    await formPost(http(), '/embed/v1/logout', `sid=${session}`);
    const refused = await formPost(http(), '/embed/v1/comments', new URLSearchParams({ sid: session, page: '/articles/a', text: 'again' }).toString());
    expect(refused.status).toBe(401);
    expect((await http().get('/embed/v1/comments', { params: { page: '/articles/a' } })).data.comments).toHaveLength(1);
  });

  it('refuses an empty or oversized comment', async () => {
    const { session } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' });
    const post = (text: string) =>
      formPost(http(), '/embed/v1/comments', new URLSearchParams({ sid: session, page: '/a', text }).toString());
    expect((await post('   ')).status).toBe(400);
    expect((await post('x'.repeat(2001))).status).toBe(400);
  });

  it('does not count embed traffic as platform API calls', async () => {
    await http().get('/embed.js');
    await http().get('/embed/v1/session', { params: { sid: 'x' } });
    expect(emulator.stats().calls).toEqual({ token: 0, login: 0, logout: 0 });
  });
});
