import request from 'supertest';
import type { EmulatorProfile } from 'vf-platform-emulator';
import { signHook } from 'vf-login-bridge';
import { csrfFor, embedTagOf, login, register } from '../helpers/browser-flow';
import { consentOverHttp, pkcePair } from '../helpers/connect';
import { startTestSite, TEST_HOOK_SECRET, type TestSite } from '../helpers/site';

/** Every dialect the bridge speaks, each against the emulator profile of its seed. */
const PROFILES: Array<[EmulatorProfile, string, boolean]> = [
  ['viafoura', 'seed 003, client_credentials', false],
  ['viima', 'seed 000, password grant', false],
  ['veem', 'seed 001, client_credentials with a refresh token', false],
  ['veem', 'seed 001, three-legged: authorization code connected once', true],
  ['viewneo', 'seed 002, authorization code connected once', true],
  ['pat', 'seeds 002/004, personal access token', false],
];

describe.each(PROFILES)('the reader flow in the %s dialect (%s)', (profile, _what, threeLegged) => {
  let t: TestSite;
  beforeAll(async () => {
    t = await startTestSite({ profile, threeLegged });
    if (threeLegged) {
      // The operator's one-time connect, driven over HTTP (the browser version is in test/browser).
      const { verifier, challenge } = pkcePair();
      const back = await consentOverHttp(t.site.platform.tokens.authorizationUrl('state-for-the-flow', challenge));
      await t.site.platform.tokens.connect(back.searchParams.get('code')!, verifier);
    }
  });
  afterAll(() => t.close());

  it('register -> embed tag with the platform session -> logout ends it on the platform', async () => {
    const agent = t.agent();
    await register(agent, { name: `Reader ${profile}` });
    const tag = embedTagOf((await agent.get('/articles/harbour-bridge-reopens').expect(200)).text);
    expect(tag.uid).toMatch(/^\d+$/);
    expect(t.emulator.sessionInfo(tag.sid!)).toMatchObject({ alive: true, name: `Reader ${profile}` });
    const _csrf = await csrfFor(agent, '/account');
    await agent.post('/logout').type('form').send({ _csrf }).expect(303);
    expect(t.emulator.sessionInfo(tag.sid!)?.alive).toBe(false);
    expect(embedTagOf((await agent.get('/').expect(200)).text)).toEqual({ uid: null, sid: null });
  });

  it('the logout hook ends the platform session, also after the platform expired every access token', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    await login(agent, email);
    const tag = embedTagOf((await agent.get('/').expect(200)).text);
    const userId = String((await agent.get('/api/session')).body.user.id);
    // A token the platform forgot: the logout call gets a 401, refreshes in this dialect, and retries.
    // A personal access token cannot be renewed: its expiry is an operator's matter, not the bridge's.
    if (profile !== 'pat') t.emulator.faults.expireAllTokens();
    const body = JSON.stringify({ userId });
    const res = await request(t.site.app)
      .post('/hooks/logout')
      .set('Content-Type', 'application/json')
      .set('X-Hook-Signature', signHook(TEST_HOOK_SECRET, Math.floor(t.clock.now() / 1000), body))
      .send(body)
      .expect(200);
    expect(res.body.loggedOut).toBeGreaterThanOrEqual(1);
    expect(t.emulator.sessionInfo(tag.sid!)?.alive).toBe(false);
  });
});
