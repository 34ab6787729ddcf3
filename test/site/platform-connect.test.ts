import { csrfFor, embedTagOf, register } from '../helpers/browser-flow';
import { consentOverHttp } from '../helpers/connect';
import { OPS_AUTHORIZATION, startTestSite, TEST_REDIRECT_URL, type TestSite } from '../helpers/site';
import type TestAgent from 'supertest/lib/agent';

const ADMIN = 'ops@example.com';
let t: TestSite;
beforeEach(async () => {
  t = await startTestSite({ profile: 'viewneo', overrides: { adminEmails: [ADMIN] } });
});
afterEach(() => t.close());

async function adminAgent(): Promise<TestAgent> {
  const agent = t.agent();
  await register(agent, { email: ADMIN, name: 'Operator' });
  return agent;
}

/** The operator presses the button, allows on the platform, and comes back to the callback. */
async function connectAs(agent: TestAgent): Promise<void> {
  const _csrf = await csrfFor(agent, '/admin/platform');
  const start = await agent.post('/admin/platform/connect').type('form').send({ _csrf }).expect(303);
  const back = await consentOverHttp(start.headers['location']!);
  expect(back.origin + back.pathname).toBe(TEST_REDIRECT_URL);
  await agent.get(back.pathname + back.search).expect(303).expect('Location', '/admin/platform?connected=1');
}

describe('the operator connect (authorization_code)', () => {
  it('until connected: anonymous embed for readers, /readyz says why, the admin page offers the button', async () => {
    const reader = t.agent();
    await register(reader);
    expect(embedTagOf((await reader.get('/').expect(200)).text)).toEqual({ uid: null, sid: null });
    const ready = await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION).expect(200);
    expect(ready.body.checks.platform).toMatchObject({ ok: false, token: 'not_connected', reason: expect.stringMatching(/^not connected/) });

    const admin = await adminAgent();
    const page = await admin.get('/admin/platform').expect(200);
    expect(page.text).toContain('data-state="not_connected"');
    expect(page.text).toContain('Connect the commenting platform</button>');
  });

  it('is for admins only', async () => {
    await t.agent().get('/admin/platform').expect(303).expect('Location', '/login?returnTo=%2Fadmin%2Fplatform');
    const reader = t.agent();
    await register(reader);
    await reader.get('/admin/platform').expect(403);
    await reader.get('/admin/platform/callback?code=x&state=y').expect(403);
  });

  it('redirects with state and an S256 challenge, exchanges the code, and readers get the platform session', async () => {
    const admin = await adminAgent();
    const _csrf = await csrfFor(admin, '/admin/platform');
    const start = await admin.post('/admin/platform/connect').type('form').send({ _csrf }).expect(303);
    const location = new URL(start.headers['location']!);
    expect(location.origin).toBe(t.emulator.url);
    expect(location.pathname).toBe('/oauth/authorize');
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      response_type: 'code',
      redirect_uri: TEST_REDIRECT_URL,
      code_challenge_method: 'S256',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const back = await consentOverHttp(location.toString());
    await admin.get(back.pathname + back.search).expect(303);
    const page = await admin.get('/admin/platform?connected=1').expect(200);
    expect(page.text).toMatch(/data-state="connected">Connected as connected by ops@example.com; token expires \d{4}-/);
    expect(page.text).toContain('last refresh none yet');

    const reader = t.agent();
    await register(reader, { name: 'After Connect' });
    const tag = embedTagOf((await reader.get('/').expect(200)).text);
    expect(t.emulator.sessionInfo(tag.sid!)).toMatchObject({ alive: true, name: 'After Connect' });
    expect((await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION).expect(200)).body.checks.platform).toMatchObject({ ok: true, token: 'cached' });
  });

  it('refuses a callback whose state this browser did not start, and a second use of a good one', async () => {
    const admin = await adminAgent();
    const _csrf = await csrfFor(admin, '/admin/platform');
    const start = await admin.post('/admin/platform/connect').type('form').send({ _csrf }).expect(303);
    const back = await consentOverHttp(start.headers['location']!);
    const forged = new URLSearchParams(back.search);
    forged.set('state', 'forged-state-0123456789');
    const refused = await admin.get(`${back.pathname}?${forged}`).expect(400);
    expect(refused.text).toContain('not one this site started');
    // The pending connect was used up by the forged attempt: the real callback is refused too.
    await admin.get(back.pathname + back.search).expect(400);
    expect((await admin.get('/admin/platform').expect(200)).text).toContain('data-state="not_connected"');
  });

  it('a revoked refresh token: "reconnect needed", visibly, never a 5xx; connecting again heals it', async () => {
    const admin = await adminAgent();
    await connectAs(admin);
    t.emulator.revokeRefreshTokens();
    t.emulator.faults.expireAllTokens();

    const reader = t.agent();
    await register(reader).then(({ res }) => expect(res.status).toBe(303));
    expect(embedTagOf((await reader.get('/articles/harbour-bridge-reopens').expect(200)).text)).toEqual({ uid: null, sid: null });
    expect((await admin.get('/admin/platform').expect(200)).text).toContain('data-state="reconnect_needed">Reconnect needed: the platform refused the refresh token.');
    expect((await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION).expect(200)).body.checks.platform).toMatchObject({ token: 'reconnect_needed', reason: expect.stringMatching(/^reconnect needed/) });

    await connectAs(admin);
    const later = t.agent();
    await register(later);
    expect(embedTagOf((await later.get('/').expect(200)).text).uid).toMatch(/^\d+$/);
  });
});
