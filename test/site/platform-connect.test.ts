import { adminAgent } from '../helpers/admin';
import { csrfFor, embedTagOf, register } from '../helpers/browser-flow';
import { consentOverHttp } from '../helpers/connect';
import { OPS_AUTHORIZATION, startTestSite, TEST_REDIRECT_URL, type TestSite } from '../helpers/site';
import type TestAgent from 'supertest/lib/agent';

const ADMIN = 'ops@example.com';
let t: TestSite;
beforeEach(async () => {
  t = await startTestSite({ profile: 'viewneo' });
});
afterEach(() => t.close());

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

    const admin = await adminAgent(t, ADMIN);
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
    const admin = await adminAgent(t, ADMIN);
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

  it('refuses a callback whose state this browser did not start and keeps the connect under way; the real callback connects, once', async () => {
    const admin = await adminAgent(t, ADMIN);
    const _csrf = await csrfFor(admin, '/admin/platform');
    const start = await admin.post('/admin/platform/connect').type('form').send({ _csrf }).expect(303);
    const back = await consentOverHttp(start.headers['location']!);
    const forged = new URLSearchParams(back.search);
    forged.set('state', 'forged-state-0123456789');
    const refused = await admin.get(`${back.pathname}?${forged}`).expect(400);
    expect(refused.text).toContain('not one this site started');
    const stateless = new URLSearchParams(back.search);
    stateless.delete('state');
    await admin.get(`${back.pathname}?${stateless}`).expect(400);
    await admin.get(`${back.pathname}?code=x&state=a&state=b`).expect(400);
    // A bad link cannot cancel the operator's connect: the real callback still goes through.
    await admin.get(back.pathname + back.search).expect(303).expect('Location', '/admin/platform?connected=1');
    expect((await admin.get('/admin/platform').expect(200)).text).toContain('data-state="connected"');
    // Used once: a replay finds no connect under way.
    const replayed = await admin.get(back.pathname + back.search).expect(400);
    expect(replayed.text).toContain('not one this site started');
  });

  it('drops a connect that did not come back within ten minutes', async () => {
    const admin = await adminAgent(t, ADMIN);
    const _csrf = await csrfFor(admin, '/admin/platform');
    const start = await admin.post('/admin/platform/connect').type('form').send({ _csrf }).expect(303);
    const back = await consentOverHttp(start.headers['location']!);
    t.clock.advance(10 * 60_000 + 1);
    await admin.get(back.pathname + back.search).expect(400);
    expect((await admin.get('/admin/platform').expect(200)).text).toContain('data-state="not_connected"');
  });

  it('a refused callback repeats none of its URL in its page: not the code, not the state, no query in any link', async () => {
    const admin = await adminAgent(t, ADMIN);
    /** Starts a connect and comes back from the platform's consent page with its answer. */
    const comeBack = async (decision: 'allow' | 'deny' = 'allow') => {
      const _csrf = await csrfFor(admin, '/admin/platform');
      const start = await admin.post('/admin/platform/connect').type('form').send({ _csrf }).expect(303);
      return consentOverHttp(start.headers['location']!, decision);
    };
    /** Opens a refused callback; its page says why, and repeats nothing of the callback's URL. */
    const refusedPage = async (why: string, url: string, says: string) => {
      const query = new URLSearchParams(url.slice(url.indexOf('?')));
      const page = await admin.get(url).expect(400);
      expect(page.text).toContain(says);
      const secrets = [query.get('code'), query.get('state')].filter((value): value is string => Boolean(value));
      expect(secrets.length).toBeGreaterThan(0);
      for (const secret of secrets) expect({ why, found: page.text.includes(secret) }).toEqual({ why, found: false });
      const links = [...page.text.matchAll(/\b(?:href|action|src)="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
      for (const link of links) expect({ why, link, callback: decodeURIComponent(link).includes('/admin/platform/callback?') }).toEqual({ why, link, callback: false });
      expect(links).toContain(`/login?returnTo=${encodeURIComponent('/admin/platform/callback')}`);
    };

    const back = await comeBack();
    const forged = new URLSearchParams(back.search);
    forged.set('state', 'forged-state-0123456789');
    await refusedPage('a forged state', `${back.pathname}?${forged}`, 'not one this site started');
    // The same connect, still under way: its state is right, its code one the platform never issued.
    const wrongCode = new URLSearchParams(back.search);
    wrongCode.set('code', 'code-the-platform-never-issued-0123456789');
    await refusedPage('a code the platform refuses', `${back.pathname}?${wrongCode}`, 'The platform refused the connection');
    const denied = await comeBack('deny');
    await refusedPage('consent denied', denied.pathname + denied.search, 'The platform did not grant access');
  });

  it('an anonymous visitor’s page at an address with a query links to the login with the path only', async () => {
    for (const [url, status] of [
      ['/no-such-page?token=private-value-0123', 404],
      ['/articles/harbour-bridge-reopens?token=private-value-0123', 200],
      ['/admin/platform/callback?code=private-value-0123&state=x', 303],
    ] as const) {
      const res = await t.agent().get(url).expect(status);
      expect(res.text).not.toContain('private-value-0123');
      if (status === 303) expect(res.headers['location']).toBe(`/login?returnTo=${encodeURIComponent('/admin/platform/callback')}`);
      else expect(res.text).toContain(`href="/login?returnTo=${encodeURIComponent(url.split('?')[0]!)}" data-login-link`);
    }
  });

  it('a revoked refresh token: "reconnect needed", visibly, never a 5xx; connecting again heals it', async () => {
    const admin = await adminAgent(t, ADMIN);
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
