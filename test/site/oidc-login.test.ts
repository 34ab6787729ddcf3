import { embedTagOf, csrfFor, login, register } from '../helpers/browser-flow';
import { logInWithProvider, logOutAtProvider, startOidcTestSite, type OidcTestSite } from '../helpers/oidc-site';
import { waitFor } from '../helpers/wait-for';
import { signInAndConsent } from '../helpers/openid-provider';

let s: OidcTestSite;
beforeAll(async () => {
  s = await startOidcTestSite();
});
afterAll(() => s.close());

async function accountOf(agent: ReturnType<OidcTestSite['t']['agent']>) {
  return (await agent.get('/api/session').expect(200)).body.user as { id: number; name: string; email: string } | null;
}

async function identityRows(subject: string) {
  return s.t.site.database.db.selectFrom('user_identities').selectAll().where('subject', '=', subject).execute();
}

describe('logging in with the OpenID Provider', () => {
  it('the login page offers the provider beside the password form', async () => {
    const page = await s.t.agent().get('/login').expect(200);
    expect(page.text).toContain('Log in with Harbour ID');
    expect(page.text).toContain('href="/login/oidc?returnTo=%2F"');
    expect(page.text).toContain('action="/login"');
  });

  it('GET /login/oidc asks with PKCE S256, state and nonce, and the callback this site serves', async () => {
    const res = await s.t.agent().get('/login/oidc').expect(302);
    const url = new URL(res.headers.location!);
    expect(url.origin).toBe(s.op.issuer);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(url.searchParams.get('redirect_uri')).toBe(`${s.base}/login/oidc/callback`);
    expect(url.searchParams.get('scope')).toBe('openid profile email');
  });

  it('a reader who logs in there is logged in here and on the platform, as the provider names them', async () => {
    const agent = s.t.agent();
    const done = await logInWithProvider(agent, 'alice', new Map(), '/articles/welcome');
    expect(done).toMatchObject({ status: 303, location: '/articles/welcome' });
    const user = await accountOf(agent);
    expect(user).toMatchObject({ name: 'Alice Provider', email: 'alice@example.com' });
    const tag = embedTagOf((await agent.get('/').expect(200)).text);
    expect(tag.uid).not.toBeNull();
    expect(s.t.emulator.sessionInfo(tag.sid!)?.alive).toBe(true);
    // The platform got the address: the provider vouched for it.
    expect(s.t.emulator.sessionInfo(tag.sid!)?.email).toBe('alice@example.com');
    expect(await identityRows('alice')).toEqual([expect.objectContaining({ issuer: `${s.op.issuer}`, user_id: user!.id })]);
    // The reader's export names the provider account that logs in to this one.
    const exported = JSON.parse((await agent.get('/account/export').buffer(true).expect(200)).text) as { identities: unknown };
    expect(exported.identities).toEqual([{ issuer: s.op.issuer, subject: 'alice', linkedAt: expect.any(String) }]);
  });

  it('the same subject logs in to the same account, however often', async () => {
    const first = await (async () => {
      const agent = s.t.agent();
      await logInWithProvider(agent, 'carol');
      return accountOf(agent);
    })();
    const agent = s.t.agent();
    await logInWithProvider(agent, 'carol');
    expect((await accountOf(agent))!.id).toBe(first!.id);
    expect(await identityRows('carol')).toHaveLength(1);
  });

  it('an address the provider did not verify is not used: the platform gets no email', async () => {
    const agent = s.t.agent();
    await logInWithProvider(agent, 'bob');
    const user = await accountOf(agent);
    expect(user!.name).toBe('Bob Unverified');
    expect(user!.email).toMatch(/@oidc\.invalid$/);
    const tag = embedTagOf((await agent.get('/').expect(200)).text);
    expect(s.t.emulator.sessionInfo(tag.sid!)?.email).toBeNull();
  });

  it("a provider account with another reader's verified address does not open that reader's account", async () => {
    const owner = s.t.agent();
    await register(owner, { email: 'dora@example.com', name: 'Dora Local' });
    const ownerId = (await accountOf(owner))!.id;
    const agent = s.t.agent();
    // The provider's "dora" claims the same address, verified.
    await logInWithProvider(agent, 'dora-at-provider');
    const provider = await accountOf(agent);
    expect(provider!.id).not.toBe(ownerId);
    expect(provider!.email).not.toBe('dora@example.com');
  });

  it('a callback whose state was not this browser\'s is refused with a plain 400 and logs nobody in', async () => {
    const victim = s.t.agent();
    const start = await victim.get('/login/oidc').expect(302);
    const callback = await signInAndConsent(start.headers.location!, 'alice');
    // An attacker's browser opens the victim's callback (login CSRF): it has no state of its own.
    const attacker = s.t.agent();
    const res = await attacker.get(callback.pathname + callback.search).expect(400);
    expect(res.text).toContain('did not complete');
    expect(res.text).not.toMatch(/at \w+ \(|Error:/);
    expect(await accountOf(attacker)).toBeNull();
    // A state changed in flight fails too.
    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'x'.repeat(43));
    await victim.get(tampered.pathname + tampered.search).expect(400);
    expect(await accountOf(victim)).toBeNull();
    expect(s.t.logLines.some((line) => line.includes('OIDC_LOGIN_FAILED'))).toBe(true);
  });

  it('a callback used twice logs in once: the second finds no state', async () => {
    const agent = s.t.agent();
    const { callback } = await logInWithProvider(agent, 'erin');
    await agent.get(callback.pathname + callback.search).expect(400);
  });

  it('the provider ending its session (back-channel logout) ends the host and platform sessions of that login', async () => {
    const providerCookies = new Map<string, string>();
    const agent = s.t.agent();
    await logInWithProvider(agent, 'frank', providerCookies);
    const tag = embedTagOf((await agent.get('/').expect(200)).text);
    const other = s.t.agent();
    await logInWithProvider(other, 'grace');

    await logOutAtProvider(s.op.issuer, providerCookies);
    await waitFor(async () => (await accountOf(agent)) === null, 'the back-channel logout ended the session');
    expect(s.t.emulator.sessionInfo(tag.sid!)?.alive).toBe(false);
    expect(embedTagOf((await agent.get('/').expect(200)).text).uid).toBeNull();
    // Another reader's login stays.
    expect(await accountOf(other)).not.toBeNull();
  });

  it('logging out here also logs out at the provider (RP-initiated logout)', async () => {
    const agent = s.t.agent();
    await logInWithProvider(agent, 'heidi');
    const _csrf = await csrfFor(agent, '/');
    const res = await agent.post('/logout').type('form').send({ _csrf }).expect(303);
    const url = new URL(res.headers.location!);
    expect(url.origin).toBe(s.op.issuer);
    expect(url.searchParams.get('id_token_hint')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${s.base}/`);
    expect(await accountOf(agent)).toBeNull();
    // The provider accepts the hint and the return address this site registered.
    const end = await fetch(url, { redirect: 'manual' });
    expect(end.status).toBe(200);
  });

  it('a reader of the site\'s own accounts still logs in with a password when LOGIN=both', async () => {
    const agent = s.t.agent();
    const { email } = await register(agent);
    const fresh = s.t.agent();
    expect((await login(fresh, email)).status).toBe(303);
    expect(await accountOf(fresh)).not.toBeNull();
  });
});

describe('LOGIN=oidc', () => {
  let only: OidcTestSite;
  beforeAll(async () => {
    only = await startOidcTestSite({ mode: 'oidc', op: s.op });
  });
  afterAll(() => only.close());

  it('offers only the provider: no password form, no registration, no password reset', async () => {
    const agent = only.t.agent();
    const page = await agent.get('/login').expect(200);
    expect(page.text).toContain('Log in with Harbour ID');
    expect(page.text).not.toContain('action="/login"');
    expect(page.text).not.toContain('href="/register"');
    await agent.get('/register').expect(404);
    await agent.get('/password/forgot').expect(404);
  });
});

describe('a provider that cannot be reached', () => {
  let down: OidcTestSite;
  beforeAll(async () => {
    down = await startOidcTestSite({ op: { issuer: 'http://127.0.0.1:9', privateJwks: { keys: [] }, stderr: () => '', stop: async () => undefined } });
  });
  afterAll(() => down.close());

  it('refuses its logins with a plain 503, logs what to fix once, and keeps the password login', async () => {
    const res = await down.t.agent().get('/login/oidc').expect(503);
    expect(res.text).toContain('not available right now');
    expect(res.text).not.toMatch(/ECONNREFUSED|at \w+ \(/);
    await waitFor(() => down.t.logLines.some((line) => line.includes('OIDC_DISCOVERY_FAILED')), 'the discovery failure is logged');
    const lines = down.t.logLines.filter((line) => line.includes('OIDC_DISCOVERY_FAILED'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('OIDC_ISSUER');
    const agent = down.t.agent();
    await register(agent);
    expect(await accountOf(agent)).not.toBeNull();
  });
});
