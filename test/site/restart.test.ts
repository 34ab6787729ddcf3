import { embedTagOf, register } from '../helpers/browser-flow';
import { startTestSite } from '../helpers/site';

describe('restart', () => {
  it('a logged-in reader is still logged in, with the same platform session, on a new app over the same database', async () => {
    const first = await startTestSite();
    const agent = first.agent();
    await register(agent, { name: 'Persistent Reader' });
    const before = embedTagOf((await agent.get('/articles/harbour-bridge-reopens').expect(200)).text);
    const cookie = (await agent.get('/account')).request.cookies;

    const second = await first.restart();
    try {
      await first.site.close();
      const res = await second.agent().get('/account').set('Cookie', cookie).expect(200);
      expect(res.text).toContain('value="Persistent Reader"');
      const after = embedTagOf((await second.agent().get('/articles/harbour-bridge-reopens').set('Cookie', cookie)).text);
      expect(after.sid).toBe(before.sid);
      expect(after.uid).toBe(before.uid);
      expect(before.sid).toBeTruthy();
    } finally {
      await second.close();
      await first.emulator.close();
    }
  });
});
