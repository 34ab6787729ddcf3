import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { storeRead } from 'vf-login-bridge';
import type TestAgent from 'supertest/lib/agent';
import { csrfFor, embedTagOf, sessionCookie } from '../helpers/browser-flow';
import { listenFirst, type EarlyServer } from '../helpers/listen-first';
import { logInWithProvider, oidcOverrides, PROVIDER_ACCOUNTS, startProviderFor } from '../helpers/oidc-site';
import { signInAndConsent, type RunningOpenIdProvider } from '../helpers/openid-provider';
import { startTestSite, type TestSite } from '../helpers/site';

/**
 * The OpenID Connect login (docs/oidc-login.md#the-login) as an attacker meets it: codes and
 * responses carried from one browser, client or issuer to another, redirects out of the site,
 * sessions planted before the login, hostile names from the provider and in the settings, and the
 * account pages of a reader who has no password here. Each test is one attack, and asserts that it fails.
 */

/** Another relying party at the same provider: its codes are not the site's to redeem. */
const OTHER_CLIENT = { id: 'rogue-reader-app', secret: 'another client secret', redirect: 'http://127.0.0.1:9/callback' };
/** A name as hostile as a provider can hand over: control characters, a bidi override, markup, far too long. */
const HOSTILE_NAME = `Mallory\u0000\u0007\u202E\r\n<script>alert(1)</script>\u2028${'x'.repeat(500)}`;

/** How long a login under way keeps its session (src/oidc/routes.ts). */
const PENDING_LOGIN_MS = 30 * 60_000;

let server: EarlyServer;
let op: RunningOpenIdProvider;
let t: TestSite;
let base: string;
beforeAll(async () => {
  server = await listenFirst();
  base = server.base;
  op = await startProviderFor(base, {
    extraClients: [
      { client_id: OTHER_CLIENT.id, client_secret: OTHER_CLIENT.secret, grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [OTHER_CLIENT.redirect], token_endpoint_auth_method: 'client_secret_basic' },
    ],
    accounts: { ...PROVIDER_ACCOUNTS, mallory: { name: HOSTILE_NAME, email: 'mallory@example.com', email_verified: true } },
  });
  t = await startTestSite({ overrides: oidcOverrides(base, op.issuer) });
  server.serve(t.site.app);
});
afterAll(async () => {
  await server.close();
  await t.close();
  await op.stop();
});

async function userOf(agent: TestAgent): Promise<{ id: number; name: string; email: string } | null> {
  return (await agent.get('/api/session').expect(200)).body.user;
}

/** The provider's authorize URL this browser was sent to, and the state in it. */
async function startLogin(agent: TestAgent, returnTo = '/'): Promise<{ authorize: string; state: string }> {
  const start = await agent.get(`/login/oidc?returnTo=${encodeURIComponent(returnTo)}`).expect(302);
  const authorize = start.headers.location!;
  return { authorize, state: new URL(authorize).searchParams.get('state')! };
}

/** A code the provider issued to the other client, for `login`: what a rogue relying party holds. */
async function codeOfOtherClient(login: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${op.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: OTHER_CLIENT.id,
    response_type: 'code',
    scope: 'openid profile email',
    redirect_uri: OTHER_CLIENT.redirect,
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const back = await signInAndConsent(url.href, login);
  expect(back.origin + back.pathname).toBe(OTHER_CLIENT.redirect);
  return back.searchParams.get('code')!;
}

/** A refused callback: a plain 400 page, one log line, nobody logged in, and no code in the log. */
async function expectRefusedCallback(agent: TestAgent, callback: URL): Promise<void> {
  const from = t.logLines.length;
  const res = await agent.get(callback.pathname + callback.search);
  expect(res.status).toBe(400);
  expect(res.text).toContain('did not complete');
  expect(res.text).not.toMatch(/at \w+ \(|Error:/);
  expect(await userOf(agent)).toBeNull();
  const lines = t.logLines.slice(from);
  const reasons = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((record) => record['code'] === 'OIDC_LOGIN_FAILED' && typeof record['reason'] === 'string');
  expect(reasons).toHaveLength(1);
  const code = callback.searchParams.get('code');
  if (code) expect(lines.join('\n')).not.toContain(code);
}

describe('codes and answers carried from elsewhere', () => {
  it('a code the provider issued to another client, put into a reader\'s callback, logs nobody in', async () => {
    const victim = t.agent();
    const { state } = await startLogin(victim);
    const code = await codeOfOtherClient('alice');
    const injected = new URL(`${base}/login/oidc/callback`);
    injected.search = new URLSearchParams({ code, state, iss: op.issuer }).toString();
    await expectRefusedCallback(victim, injected);
  });

  it('a reader\'s code replayed in an attacker\'s browser, with the attacker\'s own state, fails its PKCE check', async () => {
    const victim = t.agent();
    const { authorize } = await startLogin(victim);
    const victimCallback = await signInAndConsent(authorize, 'alice');
    const attacker = t.agent();
    const { state } = await startLogin(attacker);
    const injected = new URL(victimCallback);
    injected.searchParams.set('state', state);
    await expectRefusedCallback(attacker, injected);
  });

  it('mix-up: a callback whose `iss` names another issuer, or none, is refused', async () => {
    for (const iss of ['https://evil.example', undefined]) {
      const reader = t.agent();
      const { authorize } = await startLogin(reader);
      const callback = await signInAndConsent(authorize, 'alice');
      // The provider says who it is in every answer (RFC 9207); the site checks it.
      expect(callback.searchParams.get('iss')).toBe(op.issuer);
      if (iss === undefined) callback.searchParams.delete('iss');
      else callback.searchParams.set('iss', iss);
      await expectRefusedCallback(reader, callback);
    }
  });

  it('an error answer with markup in its description shows the plain page, not the markup', async () => {
    const reader = t.agent();
    const { state } = await startLogin(reader);
    const res = await reader.get(`/login/oidc/callback?${new URLSearchParams({ error: 'access_denied', error_description: '<script>alert(1)</script>', state, iss: op.issuer })}`).expect(400);
    expect(res.text).toContain('did not complete');
    expect(res.text).not.toContain('<script>alert(1)');
    expect(await userOf(reader)).toBeNull();
  });
});

describe('returnTo on /login/oidc', () => {
  // A browser drops tabs and newlines from a URL, and reads a backslash as a slash.
  it.each(['//evil.example', 'https://evil.example', '/\\evil.example', '/\\/evil.example', 'https:evil.example', '/.//evil.example', '/\t/evil.example', '/\n/evil.example', 'javascript:alert(1)'])(
    '%j brings the reader to the front page after the login, not away from the site',
    async (returnTo) => {
      const done = await logInWithProvider(t.agent(), 'alice', new Map(), returnTo);
      expect(done).toMatchObject({ status: 303, location: '/' });
    },
  );

  it('a path on the site is kept', async () => {
    const done = await logInWithProvider(t.agent(), 'alice', new Map(), '/articles/welcome?page=2');
    expect(done.location).toBe('/articles/welcome?page=2');
  });
});

describe('session fixation', () => {
  const sidOf = (cookie: string) => /^s:([^.]+)\./.exec(decodeURIComponent(cookie))![1]!;

  it('the session id a browser had before /login/oidc is not the logged-in one, and logs nobody in', async () => {
    const agent = t.agent();
    const start = await agent.get('/login/oidc').expect(302);
    const before = sessionCookie(start)!;
    const callback = await signInAndConsent(start.headers.location!, 'alice');
    const done = await agent.get(callback.pathname + callback.search).expect(303);
    const after = sessionCookie(done)!;
    expect(sidOf(after)).not.toBe(sidOf(before));
    expect(await userOf(agent)).not.toBeNull();
    const old = await request(t.site.app).get('/api/session').set('Cookie', `vfb.sid=${before}`).expect(200);
    expect(old.body.user).toBeNull();
  });

  it('a session planted in the victim\'s browser before the login gives its planter nothing', async () => {
    // The attacker starts a login to get a session id of the site's own, and plants it.
    const planted = sessionCookie(await request(t.site.app).get('/login/oidc').expect(302))!;
    const start = await request(t.site.app).get('/login/oidc').set('Cookie', `vfb.sid=${planted}`).expect(302);
    const callback = await signInAndConsent(start.headers.location!, 'alice');
    const done = await request(t.site.app).get(callback.pathname + callback.search).set('Cookie', `vfb.sid=${planted}`).expect(303);
    const victimCookie = sessionCookie(done)!;
    expect(sidOf(victimCookie)).not.toBe(sidOf(planted));
    expect((await request(t.site.app).get('/api/session').set('Cookie', `vfb.sid=${victimCookie}`).expect(200)).body.user).not.toBeNull();
    expect((await request(t.site.app).get('/api/session').set('Cookie', `vfb.sid=${planted}`).expect(200)).body.user).toBeNull();
  });
});

describe('starting logins', () => {
  /** When the cookie in this answer, and the stored session it names, expire. */
  async function expiryOf(res: request.Response): Promise<{ cookie: number; stored: number }> {
    const setCookie = (res.headers['set-cookie'] as unknown as string[]).find((line) => line.startsWith('vfb.sid='))!;
    const cookie = Date.parse(/Expires=([^;]+)/.exec(setCookie)![1]!);
    const sid = /^s:([^.]+)\./.exec(decodeURIComponent(sessionCookie(res)!))![1]!;
    const data = await storeRead(t.site.sessions.store, sid);
    return { cookie, stored: new Date(data!.cookie.expires!).getTime() };
  }

  it('a session made by a login nobody completes lasts minutes, not the idle lifetime; a completed one gets the idle lifetime', async () => {
    const agent = t.agent();
    const start = await agent.get('/login/oidc').expect(302);
    const pending = await expiryOf(start);
    for (const at of [pending.cookie, pending.stored]) expect(at - Date.now()).toBeLessThanOrEqual(PENDING_LOGIN_MS);
    const callback = await signInAndConsent(start.headers.location!, 'alice');
    const done = await agent.get(callback.pathname + callback.search).expect(303);
    const loggedIn = await expiryOf(done);
    for (const at of [loggedIn.cookie, loggedIn.stored]) expect(at - Date.now()).toBeGreaterThan(24 * 60 * 60_000);
  });

  it('a logged-in reader who starts another login keeps the idle lifetime meanwhile', async () => {
    const agent = t.agent();
    const first = await agent.get('/login/oidc').expect(302);
    const callback = await signInAndConsent(first.headers.location!, 'alice');
    const sid = /^s:([^.]+)\./.exec(decodeURIComponent(sessionCookie(await agent.get(callback.pathname + callback.search).expect(303))!))![1]!;
    await agent.get('/login/oidc').expect(302);
    const data = await storeRead(t.site.sessions.store, sid);
    expect(data?.passport?.user).toBeDefined();
    expect(new Date(data!.cookie.expires!).getTime() - Date.now()).toBeGreaterThan(24 * 60 * 60_000);
  });
});

describe('hostile names', () => {
  /** Control characters, format characters (the bidi override) and line breaks: none belongs in a one-line name. */
  const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

  it('an ID token name with control characters, markup and 500 characters: the masthead and the platform get one clean line of at most 100', async () => {
    const agent = t.agent();
    expect((await logInWithProvider(agent, 'mallory')).status).toBe(303);
    const user = (await userOf(agent))!;
    expect(user.name).not.toMatch(UNPRINTABLE);
    expect([...user.name].length).toBeLessThanOrEqual(100);
    expect(user.name.startsWith('Mallory <script>alert(1)</script> xxx')).toBe(true);
    const page = (await agent.get('/').expect(200)).text;
    const masthead = /<a class="who" href="\/account"[^>]*>([^<]*)<\/a>/.exec(page)![1]!;
    expect(masthead).toContain('Mallory &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>alert(1)');
    const platformSid = embedTagOf(page).sid!;
    expect(t.emulator.sessionInfo(platformSid)?.name).toBe(user.name);
  });

  describe('a provider name with markup (OIDC_PROVIDER_NAME)', () => {
    const HOSTILE_PROVIDER = '<img src=x onerror=alert(1)> & "Harbour"';
    let hostile: TestSite;
    let unreachable: TestSite;
    beforeAll(async () => {
      const overrides = oidcOverrides(base, op.issuer);
      const settings = { ...overrides.login!.oidc!, providerName: HOSTILE_PROVIDER };
      hostile = await startTestSite({ overrides: { ...overrides, login: { mode: 'both', oidc: settings } } });
      // Nothing listens on port 9 (discard): its discovery fails at once.
      unreachable = await startTestSite({ overrides: { ...overrides, login: { mode: 'both', oidc: { ...settings, issuer: 'http://127.0.0.1:9' } } } });
    });
    afterAll(async () => {
      await hostile.close();
      await unreachable.close();
    });

    const escaped = '&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Harbour&quot;';

    it('is escaped on the login page and on the page of a login that did not complete', async () => {
      const login = await hostile.agent().get('/login').expect(200);
      expect(login.text).toContain(`Log in with ${escaped}`);
      expect(login.text).not.toContain('<img src=x');
      const failed = await hostile.agent().get('/login/oidc/callback?code=abc&state=def').expect(400);
      expect(failed.text).toContain(`The sign-in at ${escaped} did not complete`);
      expect(failed.text).not.toContain('<img src=x');
    });

    it('is escaped on the page of a provider that cannot be reached', async () => {
      const down = await unreachable.agent().get('/login/oidc').expect(503);
      expect(down.text).toContain(`The sign-in at ${escaped} is not available right now`);
      expect(down.text).not.toContain('<img src=x');
    });
  });
});

describe('a reader who has no password here', () => {
  /** A provider login, then "log in again" from the account page: the provider asked for the credentials a moment ago. */
  async function logInFreshly(agent: TestAgent, login: string): Promise<void> {
    const providerCookies = new Map<string, string>();
    await logInWithProvider(agent, login, providerCookies);
    const start = await agent.get('/login/oidc?returnTo=%2Faccount&reauth=1').expect(302);
    const callback = await signInAndConsent(start.headers.location!, login, providerCookies);
    await agent.get(callback.pathname + callback.search).expect(303);
  }

  it('after a fresh login at the provider the reader sets a password, then logs in with it too', async () => {
    const agent = t.agent();
    await logInFreshly(agent, 'zoe-fresh');
    const _csrf = await csrfFor(agent, '/account');
    await agent.post('/account/password').type('form').send({ _csrf, newPassword: 'a brand new password 42' }).expect(303);
    const user = (await userOf(agent))!;
    const stranger = t.agent();
    const loginCsrf = await csrfFor(stranger, '/login');
    await stranger.post('/login').type('form').send({ _csrf: loginCsrf, email: user.email, password: 'a brand new password 42' }).expect(303);
    expect((await userOf(stranger))?.id).toBe(user.id);
  });

  it('after a fresh login at the provider the reader deletes the account, and its identity goes with it', async () => {
    const agent = t.agent();
    await logInFreshly(agent, 'yan-leaving');
    const user = (await userOf(agent))!;
    const _csrf = await csrfFor(agent, '/account');
    await agent.post('/account/delete').type('form').send({ _csrf }).expect(303);
    expect(await userOf(agent)).toBeNull();
    expect(await t.site.database.db.selectFrom('user_identities').select('user_id').where('user_id', '=', user.id).execute()).toEqual([]);
  });

  it('"log in again" asks the provider for the credentials again (prompt=login, max_age), and the account change then goes through', async () => {
    const agent = t.agent();
    const providerCookies = new Map<string, string>();
    await logInWithProvider(agent, 'xena-again', providerCookies);
    // The provider's single sign-on is no proof: without a fresh login there, no password is set.
    const before = await csrfFor(agent, '/account');
    await agent.post('/account/password').type('form').send({ _csrf: before, newPassword: 'a brand new password 43' }).expect(403);
    const page = await agent.get('/account').expect(200);
    expect(page.text).toContain('href="/login/oidc?returnTo=%2Faccount&amp;reauth=1"');
    const start = await agent.get('/login/oidc?returnTo=%2Faccount&reauth=1').expect(302);
    const url = new URL(start.headers.location!);
    expect(url.searchParams.get('prompt')).toBe('login');
    expect(url.searchParams.get('max_age')).toBe('600');
    const callback = await signInAndConsent(url.href, 'xena-again', providerCookies);
    await agent.get(callback.pathname + callback.search).expect(303);
    const _csrf = await csrfFor(agent, '/account');
    await agent.post('/account/password').type('form').send({ _csrf, newPassword: 'a brand new password 43' }).expect(303);
  });

  it('an old session sets no password and deletes nothing: a login at the provider in the last 10 minutes must come first', async () => {
    const agent = t.agent();
    await logInWithProvider(agent, 'alice');
    const user = (await userOf(agent))!;
    const page = await agent.get('/account').expect(200);
    expect(page.text).toContain('Set a password for this site');
    expect(page.text).not.toContain('name="currentPassword"');
    // A session left open on a shared computer, 11 minutes after its login.
    t.clock.advance(11 * 60_000);
    const _csrf = await csrfFor(agent, '/account');
    const attempts = [
      agent.post('/account/password').type('form').send({ _csrf, newPassword: 'a brand new password 42' }),
      agent.post('/account/password').type('form').send({ _csrf, currentPassword: 'a guess at nothing', newPassword: 'a brand new password 42' }),
      agent.post('/account/delete').type('form').send({ _csrf }),
      agent.post('/account').type('form').send({ _csrf, name: user.name, email: 'taken-over@example.com' }),
    ];
    for (const attempt of attempts) {
      const res = await attempt;
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/<p class="form-error" role="alert">This account signs in with your identity provider[^<]*<\/p>/);
      expect(res.text).not.toMatch(/at \w+ \(|Error:/);
    }
    expect((await userOf(agent))?.id).toBe(user.id);
    const row = await t.site.database.db.selectFrom('users').select(['password_hash', 'email']).where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ password_hash: '', email: 'alice@example.com' });
    // Nor does the password form log anyone in to it.
    const stranger = t.agent();
    const loginCsrf = await csrfFor(stranger, '/login');
    const refused = await stranger.post('/login').type('form').send({ _csrf: loginCsrf, email: 'alice@example.com', password: '' });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(await userOf(stranger)).toBeNull();
  });
});
