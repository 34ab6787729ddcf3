import { csrfFor, embedTagOf, register } from '../helpers/browser-flow';
import { TEST_API_KEY } from '../helpers/emulator';
import { startTestSite, type TestSite } from '../helpers/site';
import { createUserStore } from '../../src/store/user-store';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(() => t.close());

describe('the bridge through the site', () => {
  it('register -> the article tag carries the platform user_id and session -> logout -> the platform session is dead', async () => {
    const agent = t.agent();
    await register(agent, { name: 'Flow Reader' });
    const userId = String((await agent.get('/api/session')).body.user.id);

    const page = await agent.get('/articles/harbour-bridge-reopens').expect(200);
    const tag = embedTagOf(page.text);
    const platformUser = t.emulator.userByHostId(userId);
    expect(platformUser).toMatchObject({ name: 'Flow Reader' });
    expect(tag.uid).toBe(String(platformUser!.userId));
    expect(t.emulator.sessionInfo(tag.sid!)).toMatchObject({ alive: true, hostId: userId });

    const session = (await agent.get('/api/session')).body;
    expect(session.platform).toEqual({ uid: tag.uid, sid: tag.sid });

    const _csrf = await csrfFor(agent, '/account');
    await agent.post('/logout').type('form').send({ _csrf }).expect(303);
    expect(t.emulator.sessionInfo(tag.sid!)?.alive).toBe(false);
    expect(embedTagOf((await agent.get('/articles/harbour-bridge-reopens')).text)).toEqual({ uid: null, sid: null });
  });

  it('page views cost no platform call in steady state', async () => {
    const agent = t.agent();
    await register(agent);
    await agent.get('/').expect(200);
    const before = t.emulator.stats().calls;
    for (let i = 0; i < 20; i += 1) await agent.get('/articles/library-late-fees').expect(200);
    expect(t.emulator.stats().calls).toEqual(before);
  });

  it('a name change on the account page reaches the platform at once, with the address once it is verified', async () => {
    const agent = t.agent();
    const { email } = await register(agent, { name: 'Before Rename' });
    const userId = String((await agent.get('/api/session')).body.user.id);
    expect(t.emulator.userByHostId(userId)).toMatchObject({ name: 'Before Rename', email: null });
    await createUserStore(t.site.database.db, t.clock).markVerified(Number(userId), email);
    const _csrf = await csrfFor(agent, '/account');
    await agent.post('/account').type('form').send({ _csrf, name: 'After Rename', email }).expect(303);
    expect(t.emulator.userByHostId(userId)).toMatchObject({ name: 'After Rename', email });
    const tag = embedTagOf((await agent.get('/').expect(200)).text);
    expect(t.emulator.sessionInfo(tag.sid!)).toMatchObject({ alive: true, name: 'After Rename' });
  });

  it('after 12 hours idle the reader gets a fresh platform session, transparently', async () => {
    const agent = t.agent();
    await register(agent);
    const before = embedTagOf((await agent.get('/').expect(200)).text);
    t.clock.advance(12 * 60 * 60 * 1000);
    const after = embedTagOf((await agent.get('/').expect(200)).text);
    expect(after.sid).not.toBe(before.sid);
    expect(after.uid).toBe(before.uid);
    expect(t.emulator.sessionInfo(after.sid!)?.alive).toBe(true);
  });

  it('the API key is in no page and no log line', async () => {
    const agent = t.agent();
    await register(agent);
    const pages = await Promise.all(['/', '/articles/harbour-bridge-reopens', '/account', '/api/session', '/readyz', '/metrics', '/login'].map((p) => agent.get(p)));
    const forms = [TEST_API_KEY, encodeURIComponent(TEST_API_KEY), Buffer.from(`site-123:${TEST_API_KEY}`).toString('base64')];
    for (const res of pages) for (const secret of forms) expect(res.text).not.toContain(secret);
    expect(t.logLines.length).toBeGreaterThan(0);
    for (const line of t.logLines) for (const secret of forms) expect(line).not.toContain(secret);
  });
});
