import { csrfFor, embedTagOf, register } from '../helpers/browser-flow';
import { emulatorHttp, formPost } from '../helpers/emulator';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

const ARTICLE = '/articles/harbour-bridge-reopens';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(() => t.close());

async function commentAs(sid: string, text: string): Promise<void> {
  const posted = await formPost(emulatorHttp(t.emulator), '/embed/v1/comments', new URLSearchParams({ sid, page: ARTICLE, text }).toString());
  expect(posted.status).toBe(200);
}

async function namesOnArticle(): Promise<Record<string, string>> {
  const answer = await emulatorHttp(t.emulator).get('/embed/v1/comments', { params: { page: ARTICLE } });
  return Object.fromEntries((answer.data.comments as Array<{ text: string; name: string }>).map((c) => [c.text, c.name]));
}

describe('a reader who changes name', () => {
  it("sees old and new comments under the new name, as the account page says", async () => {
    const agent = t.agent();
    await register(agent, { name: 'Ada Before' });
    const before = embedTagOf((await agent.get(ARTICLE).expect(200)).text);
    await commentAs(before.sid!, 'posted before the rename');

    const _csrf = await csrfFor(agent, '/account');
    const saved = await agent.post('/account').type('form').send({ _csrf, name: 'Ada After', email: `ada-${Date.now()}@example.com`, currentPassword: TEST_PASSWORD });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe('/account?saved=1&email=sent');
    expect((await agent.get(saved.headers.location).expect(200)).text).toContain('Saved. Your comments, old and new, now show your new name.');

    const after = embedTagOf((await agent.get(ARTICLE).expect(200)).text);
    await commentAs(after.sid!, 'posted after the rename');
    const names = await namesOnArticle();
    expect(names['posted before the rename']).toBe('Ada After');
    expect(names['posted after the rename']).toBe('Ada After');
  });

  it('is told the new name shows later when the platform does not answer, and it does once it answers', async () => {
    const agent = t.agent();
    await register(agent, { name: 'Bo Before' });
    const before = embedTagOf((await agent.get(ARTICLE).expect(200)).text);
    await commentAs(before.sid!, 'Bo was here');

    t.emulator.faults.failAll({ status: 503 }, 'login');
    const _csrf = await csrfFor(agent, '/account');
    const saved = await agent.post('/account').type('form').send({ _csrf, name: 'Bo After', email: `bo-${Date.now()}@example.com`, currentPassword: TEST_PASSWORD });
    expect(saved.headers.location).toBe('/account?saved=later&email=sent');
    expect((await agent.get(saved.headers.location).expect(200)).text).toContain('your comments will show your new name once it does');
    expect((await namesOnArticle())['Bo was here']).toBe('Bo Before');

    // The platform is back and the bridge's retry is due: the next page view carries the new name.
    t.emulator.faults.reset();
    t.clock.advance(60_000);
    await agent.get(ARTICLE).expect(200);
    expect((await namesOnArticle())['Bo was here']).toBe('Bo After');
  });
});
