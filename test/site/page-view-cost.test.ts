import { ARTICLES } from '../../src/web/articles';
import { embedTagOf, register, sessionCookie } from '../helpers/browser-flow';
import { startTestSite, type TestSite } from '../helpers/site';

// express-session dates its cookies with Date itself: to move past the roll interval, these tests
// move Date (and with it the site's clock), and nothing else.
const ONLY_DATE = ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] as const;
const moveTime = (ms: number) => jest.setSystemTime(Date.now() + ms);

/** Every SQL statement the site runs, as it runs it. */
const statements: string[] = [];
const isWrite = (sql: string) => !/^\s*select\b/i.test(sql);
const ARTICLE = `/articles/${ARTICLES[0]!.slug}`;

let t: TestSite;
beforeAll(async () => {
  jest.useFakeTimers({ doNotFake: [...ONLY_DATE], advanceTimers: true });
  t = await startTestSite({ overrides: { onQuery: (sql) => statements.push(sql) } });
});
afterAll(async () => {
  await t.close();
  jest.useRealTimers();
});

/** The statements `work` made the site run. */
async function counted(work: () => Promise<unknown>): Promise<string[]> {
  const from = statements.length;
  await work();
  return statements.slice(from);
}

describe('what a page view costs (docs/architecture.md#a-page-view)', () => {
  it('a logged-in article view runs at most one SQL statement, writes nothing and re-sends no cookie', async () => {
    const agent = t.agent();
    await register(agent);
    const first = embedTagOf((await agent.get(ARTICLE).expect(200)).text);
    expect(first.sid).not.toBeNull();

    const views = 20;
    const ran = await counted(async () => {
      for (let i = 0; i < views; i += 1) {
        const res = await agent.get(ARTICLE).expect(200);
        expect(embedTagOf(res.text)).toEqual(first);
        expect(sessionCookie(res)).toBeUndefined();
      }
    });
    expect(ran.length).toBeLessThanOrEqual(views);
    expect(ran.filter(isWrite)).toEqual([]);
  });

  it('a minute later the next view moves the expiry once: one save, the cookie re-sent, then quiet again', async () => {
    const agent = t.agent();
    await register(agent);
    await agent.get(ARTICLE).expect(200);
    moveTime(61_000);

    let cookie: string | undefined;
    const rolled = await counted(async () => {
      cookie = sessionCookie(await agent.get(ARTICLE).expect(200));
    });
    expect(cookie).toBeDefined();
    expect(rolled.filter((sql) => isWrite(sql) && /"sessions"/.test(sql)).length).toBeLessThanOrEqual(1);

    const quiet = await counted(async () => {
      expect(sessionCookie(await agent.get(ARTICLE).expect(200))).toBeUndefined();
    });
    expect(quiet.filter(isWrite)).toEqual([]);
  });

  it('an anonymous visitor who looks at the login form, the register form or an article runs no SQL at all', async () => {
    const ran = await counted(async () => {
      for (const path of ['/login', '/register', ARTICLE, '/']) await t.agent().get(path).expect(200);
    });
    expect(ran).toEqual([]);
  });

  it('nothing is cached between views: a rename shows on the next view, and a logout through another instance too', async () => {
    const agent = t.agent();
    const { email } = await register(agent, { name: 'Olga Original' });
    expect((await agent.get('/api/session').expect(200)).body.user.name).toBe('Olga Original');
    await t.site.database.db.updateTable('users').set({ name: 'Olga Renamed' }).where('email', '=', email).execute();
    expect((await agent.get('/api/session').expect(200)).body.user.name).toBe('Olga Renamed');

    // A second instance on the same stores logs the reader out (the logout hook's path).
    const other = await t.restart();
    try {
      const { id } = (await agent.get('/api/session').expect(200)).body.user as { id: number };
      const { hostSessionIds } = await other.site.platform.bridge.logoutUser(String(id));
      expect(hostSessionIds.length).toBe(1);
      await new Promise<void>((resolve, reject) => other.site.sessions.store.destroy(hostSessionIds[0]!, (err) => (err ? reject(err) : resolve())));
    } finally {
      await other.close();
    }
    const after = await agent.get(ARTICLE).expect(200);
    expect(embedTagOf(after.text)).toEqual({ uid: null, sid: null });
  });
});
