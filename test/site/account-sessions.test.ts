import type TestAgent from 'supertest/lib/agent';
import { storeDestroy, storeRead } from 'vf-login-bridge';
import { csrfFor, embedTagOf, login, register, sessionCookie } from '../helpers/browser-flow';
import { startTestSite, type TestSite } from '../helpers/site';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

let t: TestSite;
beforeAll(async () => {
  // Every suite here posts from 127.0.0.1: the per-IP limits are raised so only the per-user one is met.
  t = await startTestSite({ overrides: { rateLimits: { loginPerAccount: 10, loginPerIp: 200, registerPerIp: 200, accountChangesPerIp: 200 } } });
});
afterAll(() => t.close());

interface ListedSession {
  id: string;
  device: string;
  network: string;
  startedAt: string;
  lastSeenAt: string;
  platformSession: boolean;
  current: boolean;
}

const browser = (userAgent: string) => t.agent().set('User-Agent', userAgent);

/** The session id inside a signed express-session cookie (`s:<sid>.<signature>`). */
function sidOf(res: { headers: Record<string, unknown> }): string {
  const cookie = sessionCookie(res);
  const sid = cookie && /^s:(.+)\.[^.]+$/.exec(decodeURIComponent(cookie))?.[1];
  if (!sid) throw new Error('no session cookie on the answer');
  return sid;
}

async function listed(agent: TestAgent): Promise<ListedSession[]> {
  const res = await agent.get('/account/sessions').set('Accept', 'application/json').expect(200);
  return res.body.sessions as ListedSession[];
}

/** The platform session this browser's pages carry. */
async function platformSessionOf(agent: TestAgent): Promise<string> {
  const sid = embedTagOf((await agent.get('/').expect(200)).text).sid;
  if (!sid) throw new Error('the page carries no platform session');
  return sid;
}

const loggedIn = async (agent: TestAgent) => (await agent.get('/api/session').expect(200)).body.user !== null;

/** One reader in two browsers: Firefox on Linux (registered there) and Chrome on macOS. */
async function readerInTwoBrowsers() {
  const firefox = browser(FIREFOX_LINUX);
  const { email, res } = await register(firefox);
  const chrome = browser(CHROME_MAC);
  const chromeLogin = await login(chrome, email);
  expect(chromeLogin.status).toBe(303);
  return { email, firefox, chrome, firefoxSid: sidOf(res), chromeSid: sidOf(chromeLogin) };
}

describe("the reader's sessions page", () => {
  it('asks an anonymous visitor to log in first', async () => {
    const res = await t.agent().get('/account/sessions').expect(303);
    expect(res.headers.location).toBe('/login?returnTo=%2Faccount%2Fsessions');
    await t.agent().get('/account/sessions').set('Accept', 'application/json').expect(401);
  });

  it('lists each browser with its device, network, times and platform session, this one marked', async () => {
    const before = t.clock.now();
    const { firefox, chrome } = await readerInTwoBrowsers();
    const after = t.clock.now();
    const sessions = await listed(firefox);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({ device: 'Firefox 128 on Linux', network: '127.0.0.0/24', platformSession: true, current: true });
    expect(sessions[1]).toMatchObject({ device: 'Chrome 126 on macOS', network: '127.0.0.0/24', platformSession: true, current: false });
    for (const s of sessions) {
      expect(s.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Date.parse(s.startedAt)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(s.startedAt)).toBeLessThanOrEqual(after);
      // Not moved since the login: last seen then.
      expect(s.lastSeenAt).toBe(s.startedAt);
    }

    // The other browser sees the same two, itself marked.
    const fromChrome = await listed(chrome);
    expect(fromChrome.map((s) => [s.device, s.current])).toEqual([
      ['Chrome 126 on macOS', true],
      ['Firefox 128 on Linux', false],
    ]);

    const page = await firefox.get('/account/sessions').expect(200);
    expect(page.text).toContain('Firefox 128 on Linux <small>(this browser)</small>');
    expect(page.text).toContain('Chrome 126 on macOS');
    expect(page.text).toContain('Network 127.0.0.0/24');
    expect(page.text).toContain('Logged in to the comments too');
    expect(page.text).toContain(`action="/account/sessions/${sessions[1]!.id}/logout"`);
    expect(page.text).toContain('action="/account/sessions/logout-others"');
  });

  it('shows "last seen" as the time the session last moved, in words', async () => {
    const { firefox, chromeSid } = await readerInTwoBrowsers();
    t.clock.advance(2 * 60 * 60_000);
    // A view two hours on moves the session's expiry and stamps the time (src/auth/session-lifetime.ts);
    // it moves only once real time has moved a minute, so the stamp is written as such a view writes it.
    const data = await storeRead(t.site.sessions.store, chromeSid);
    const rolledAt = t.clock.now();
    await new Promise<void>((resolve, reject) => t.site.sessions.store.set(chromeSid, { ...data!, rolledAt }, (e) => (e ? reject(e) : resolve())));
    const sessions = await listed(firefox);
    const chromeRow = sessions.find((s) => s.device.startsWith('Chrome'))!;
    const firefoxRow = sessions.find((s) => s.device.startsWith('Firefox'))!;
    expect(chromeRow.lastSeenAt).toBe(new Date(rolledAt).toISOString());
    expect(firefoxRow.lastSeenAt).toBe(firefoxRow.startedAt);
    const page = await firefox.get('/account/sessions').expect(200);
    expect(page.text).toContain('about a minute ago');
    expect(page.text).toContain('about 2 hours ago');
  });

  it('says "Unknown device" when the browser sends no user agent it can read', async () => {
    const agent = browser('');
    await register(agent);
    expect((await listed(agent))[0]!.device).toBe('Unknown device');
  });

  it('logs out one session by its public id, on the site and on the platform', async () => {
    const { firefox, chrome } = await readerInTwoBrowsers();
    const chromePlatform = await platformSessionOf(chrome);
    const firefoxPlatform = await platformSessionOf(firefox);
    const target = (await listed(firefox)).find((s) => !s.current)!;

    const _csrf = await csrfFor(firefox, '/account/sessions');
    const res = await firefox.post(`/account/sessions/${target.id}/logout`).type('form').send({ _csrf }).expect(303);
    expect(res.headers.location).toBe('/account/sessions?ended=1');
    expect((await firefox.get(res.headers.location).expect(200)).text).toContain('One session was logged out');

    expect(await loggedIn(chrome)).toBe(false);
    expect(t.emulator.sessionInfo(chromePlatform)?.alive).toBe(false);
    // This browser goes on, here and on the platform.
    expect(await loggedIn(firefox)).toBe(true);
    expect(t.emulator.sessionInfo(firefoxPlatform)?.alive).toBe(true);
    expect((await listed(firefox)).map((s) => s.current)).toEqual([true]);
  });

  it("answers another reader's session id as it answers a made-up one, and ends nothing", async () => {
    const victim = await readerInTwoBrowsers();
    const victimPlatform = await platformSessionOf(victim.chrome);
    const victimIds = (await listed(victim.firefox)).map((s) => s.id);

    const attacker = browser(SAFARI_IPHONE);
    await register(attacker);
    const _csrf = await csrfFor(attacker, '/account/sessions');
    const answers = [];
    for (const id of [...victimIds, 'AAAAAAAAAAAAAAAAAAAAAA', 'not-an-id']) {
      const res = await attacker.post(`/account/sessions/${id}/logout`).set('Accept', 'application/json').send({ _csrf });
      answers.push([res.status, res.body]);
    }
    for (const answer of answers) expect(answer).toEqual([404, { error: { code: 'NOT_FOUND', message: 'No such session.' } }]);

    expect(await loggedIn(victim.firefox)).toBe(true);
    expect(await loggedIn(victim.chrome)).toBe(true);
    expect(t.emulator.sessionInfo(victimPlatform)?.alive).toBe(true);
    expect(await listed(victim.firefox)).toHaveLength(2);
  });

  it('logs out everywhere else: this browser stays, the others end here and on the platform', async () => {
    const { email, firefox, chrome } = await readerInTwoBrowsers();
    const iphone = browser(SAFARI_IPHONE);
    expect((await login(iphone, email)).status).toBe(303);
    const others = [await platformSessionOf(chrome), await platformSessionOf(iphone)];
    const mine = await platformSessionOf(firefox);

    const _csrf = await csrfFor(firefox, '/account/sessions');
    const res = await firefox.post('/account/sessions/logout-others').set('Accept', 'application/json').send({ _csrf }).expect(200);
    expect(res.body).toEqual({ ok: true, ended: 2 });

    expect(await loggedIn(chrome)).toBe(false);
    expect(await loggedIn(iphone)).toBe(false);
    for (const sid of others) expect(t.emulator.sessionInfo(sid)?.alive).toBe(false);
    expect(await loggedIn(firefox)).toBe(true);
    expect(t.emulator.sessionInfo(mine)?.alive).toBe(true);
    expect((await listed(firefox)).map((s) => s.device)).toEqual(['Firefox 128 on Linux']);
  });

  it("logging out this browser's own session from the list logs it out", async () => {
    const { firefox, chrome } = await readerInTwoBrowsers();
    const mine = await platformSessionOf(firefox);
    const own = (await listed(firefox)).find((s) => s.current)!;
    const _csrf = await csrfFor(firefox, '/account/sessions');
    const res = await firefox.post(`/account/sessions/${own.id}/logout`).type('form').send({ _csrf }).expect(303);
    expect(res.headers.location).toBe('/');
    expect(await loggedIn(firefox)).toBe(false);
    expect(t.emulator.sessionInfo(mine)?.alive).toBe(false);
    expect(await loggedIn(chrome)).toBe(true);
    expect((await listed(chrome)).map((s) => s.device)).toEqual(['Chrome 126 on macOS']);
  });

  it('refuses both logouts without the CSRF token', async () => {
    const { firefox, chrome } = await readerInTwoBrowsers();
    const target = (await listed(firefox)).find((s) => !s.current)!;
    await firefox.post(`/account/sessions/${target.id}/logout`).type('form').send({}).expect(403);
    await firefox.post('/account/sessions/logout-others').type('form').send({ _csrf: 'forged' }).expect(403);
    expect(await loggedIn(chrome)).toBe(true);
    expect(await listed(firefox)).toHaveLength(2);
  });

  it('counts both logouts against the account-change limit', async () => {
    const { firefox } = await readerInTwoBrowsers();
    const _csrf = await csrfFor(firefox, '/account/sessions');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1) {
      statuses.push((await firefox.post('/account/sessions/logout-others').set('Accept', 'application/json').send({ _csrf })).status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses[10]).toBe(429);
    await firefox.post('/account/sessions/AAAAAAAAAAAAAAAAAAAAAA/logout').set('Accept', 'application/json').send({ _csrf }).expect(429);
  });

  it('drops a session the store no longer holds from the index, and does not show it', async () => {
    const { firefox, chromeSid } = await readerInTwoBrowsers();
    const userId = (await firefox.get('/api/session')).body.user.id as number;
    await storeDestroy(t.site.sessions.store, chromeSid);
    expect((await listed(firefox)).map((s) => s.device)).toEqual(['Firefox 128 on Linux']);
    const rows = await t.site.database.db.selectFrom('user_sessions').select('sid').where('user_id', '=', userId).execute();
    expect(rows.map((row) => row.sid)).not.toContain(chromeSid);
    expect(rows).toHaveLength(1);
  });

  it('never shows a session id or a platform session token, on the page or in JSON', async () => {
    const { firefox, chrome, firefoxSid, chromeSid } = await readerInTwoBrowsers();
    const secrets = [firefoxSid, chromeSid, await platformSessionOf(firefox), await platformSessionOf(chrome)];
    const page = await firefox.get('/account/sessions').expect(200);
    const json = await firefox.get('/account/sessions').set('Accept', 'application/json').expect(200);
    for (const secret of secrets) {
      expect(page.text).not.toContain(secret);
      expect(json.text).not.toContain(secret);
    }
  });
});
