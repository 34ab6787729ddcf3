import { ARTICLES } from '../../src/web/articles';
import { login, register, sessionCookie } from '../helpers/browser-flow';
import { startTestSite, type TestSite } from '../helpers/site';
import { proxiedBrowser } from './proxied-browser';

const DAY = 24 * 60 * 60_000;

// express-session dates its cookies with Date itself, not with the site's clock: to move time for
// both, these tests move Date (and with it the site's and the emulator's clock), and only Date.
const ONLY_DATE = ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] as const;
const moveTime = (ms: number) => jest.setSystemTime(Date.now() + ms);

let t: TestSite;
beforeAll(async () => {
  jest.useFakeTimers({ doNotFake: [...ONLY_DATE], advanceTimers: true });
  t = await startTestSite({ overrides: { sessionAbsoluteMs: 30 * DAY, sessionMaxPerUser: 3 } });
});
afterAll(async () => {
  await t.close();
  jest.useRealTimers();
});

const sessionRows = async () => Number((await t.site.database.db.selectFrom('sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const whoAmI = async (agent: ReturnType<TestSite['agent']>) => (await agent.get('/api/session').expect(200)).body as { user: { id: number } | null; platform: { sid: string } | null };

describe('sessions (ASVS 3.2, 3.3, 3.4)', () => {
  it('ASVS 3.3.2: a session ends 30 days after the login however active it is, host and platform', async () => {
    const agent = t.agent();
    await register(agent);
    const platformSid = (await whoAmI(agent)).platform!.sid;
    // A page view every 6 days keeps inside the 7-day idle lifetime.
    for (let day = 6; day < 30; day += 6) {
      moveTime(6 * DAY);
      expect((await whoAmI(agent)).user).not.toBeNull();
    }
    moveTime(6 * DAY + 1);
    expect((await whoAmI(agent)).user).toBeNull();
    // The bridge's pruning logs out what the host session left behind on the platform.
    moveTime(7 * DAY + 12 * 60 * 60_000);
    await t.site.platform.bridge.pruneSessions();
    await t.site.platform.bridge.deliverPendingLogouts();
    expect(t.emulator.sessionInfo(platformSid)?.alive ?? false).toBe(false);
  });

  it('ASVS 3.3.2: the cookie expires at the absolute limit, not a full idle lifetime later', async () => {
    const agent = t.agent();
    await register(agent);
    // The cookie is re-sent only when its expiry moves: the last one sent is the browser's.
    let cookie = '';
    for (const days of [6, 6, 6, 6, 3]) {
      moveTime(days * DAY);
      const res = await agent.get('/api/session').expect(200);
      cookie = ((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []).find((line) => line.startsWith('vfb.sid=')) ?? cookie;
    }
    const expires = Date.parse(/Expires=([^;]+)/.exec(cookie)![1]!);
    // 3 days left of 30, rather than the 7-day idle lifetime.
    expect(expires - Date.now()).toBeLessThanOrEqual(3 * DAY + 1000);
    expect(expires - Date.now()).toBeGreaterThan(3 * DAY - 60_000);
  });

  it('ASVS 3.2.1: 500 cookieless views of the login and register forms and of articles write no session row', async () => {
    const before = await sessionRows();
    const paths = ['/login', '/register', `/articles/${ARTICLES[0]!.slug}`, '/', '/login?returnTo=%2Faccount'];
    for (let i = 0; i < 500; i += 1) {
      const res = await t.agent().get(paths[i % paths.length]!).expect(200);
      expect(sessionCookie(res)).toBeUndefined();
    }
    expect(await sessionRows()).toBe(before);
  });

  it('ASVS 3.3: at most N live sessions per reader; a new login logs out the oldest, host and platform', async () => {
    const { email } = await register(t.agent());
    const agents = [];
    for (let i = 0; i < 5; i += 1) {
      const agent = t.agent();
      expect((await login(agent, email)).status).toBe(303);
      agents.push({ agent, platformSid: (await whoAmI(agent)).platform!.sid });
      moveTime(1000);
    }
    // The registration's session and the first two logins were the oldest of seven.
    const alive = await Promise.all(agents.map(async ({ agent }) => (await whoAmI(agent)).user !== null));
    expect(alive).toEqual([false, false, true, true, true]);
    expect(agents.map(({ platformSid }) => t.emulator.sessionInfo(platformSid)?.alive ?? false)).toEqual([false, false, true, true, true]);
  });

  it('ASVS 3.4.4: behind TLS every cookie is Secure, HttpOnly and __Host- prefixed', async () => {
    const site = await startTestSite({ overrides: { trustProxy: true } });
    try {
      const browser = proxiedBrowser(site.site.app, '198.51.100.7');
      const form = await browser.get('/register');
      const registered = await browser.submit('/register', '/register', { email: `host-prefix-${Date.now()}@example.com`, name: 'Hana', password: 'a quiet harbour at dawn' });
      expect(registered.status).toBe(303);
      const lines = [...((form.headers['set-cookie'] as unknown as string[]) ?? []), ...((registered.headers['set-cookie'] as unknown as string[]) ?? [])];
      expect(lines.map((line) => line.split('=')[0]).sort()).toEqual(['__Host-vfb.csrf', '__Host-vfb.device', '__Host-vfb.sid']);
      for (const line of lines) {
        expect(line).toMatch(/; Secure/i);
        expect(line).toMatch(/; HttpOnly/i);
        expect(line).toMatch(/; Path=\//i);
        expect(line).not.toMatch(/; Domain=/i);
      }
      expect((await browser.get('/account')).status).toBe(200);
    } finally {
      await site.close();
    }
  });
});
