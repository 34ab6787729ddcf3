import { csrfFor, login, register, uniqueEmail } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

const NEW_PASSWORD = 'a brand new harbour lantern';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({
    overrides: { rateLimits: { loginPerAccountClient: 3, loginPerAccount: 30, loginPerIp: 1000, loginCeiling: 100, registerPerIp: 1000 } },
  });
});
afterAll(() => t.close());

const emailOf = async (id: number) => (await t.site.database.db.selectFrom('users').select('email').where('id', '=', id).executeTakeFirstOrThrow()).email;
const whoAmI = async (agent: ReturnType<TestSite['agent']>) => (await agent.get('/api/session').expect(200)).body as { user: { id: number; name: string } | null; platform: { sid: string } | null };

describe('account changes need the current password and are rate-limited', () => {
  it('ASVS 3.7.1: an email change without the current password, or with a wrong one, changes nothing', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    const { user } = await whoAmI(agent);
    const missing = await agent.post('/account').type('form').send({ _csrf: await csrfFor(agent, '/account'), name: 'Ada Reader', email: uniqueEmail('new') });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('Enter your current password to change your email address.');
    const wrong = await agent.post('/account').type('form').send({ _csrf: await csrfFor(agent, '/account'), name: 'Ada Reader', email: uniqueEmail('new'), currentPassword: 'not my password at all' });
    expect(wrong.status).toBe(401);
    expect(await emailOf(user!.id)).toBe(email);
  });

  it('ASVS 2.2.1: a wrong current password counts as a failed login of that account', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    for (let i = 0; i < 3; i += 1) {
      const res = await agent.post('/account/password').type('form').send({ _csrf: await csrfFor(agent, '/account'), currentPassword: `wrong ${i} password`, newPassword: NEW_PASSWORD });
      expect(res.status).toBe(401);
    }
    // The same client (this browser, a known device) is now past its limit for the account.
    expect((await login(agent, email)).status).toBe(429);
  });

  it('ASVS 3.7.1: a name-only change needs no password, and an unchanged form costs no platform call', async () => {
    const agent = t.agent();
    await register(agent);
    const before = t.emulator.stats().calls.login;
    const same = await agent.post('/account').type('form').send({ _csrf: await csrfFor(agent, '/account'), name: 'Ada Reader', email: (await agent.get('/api/session')).body.user.email });
    expect(same.status).toBe(303);
    expect(t.emulator.stats().calls.login).toBe(before);
    const renamed = await agent.post('/account').type('form').send({ _csrf: await csrfFor(agent, '/account'), name: 'Ada Renamed', email: (await agent.get('/api/session')).body.user.email });
    expect(renamed.status).toBe(303);
    expect(t.emulator.stats().calls.login).toBe(before + 1);
    expect((await whoAmI(agent)).user?.name).toBe('Ada Renamed');
  });

  it('ASVS 2.2.1: EMAIL_TAKEN is no oracle: account changes are limited per user and per IP', async () => {
    const t = await startTestSite({ overrides: { rateLimits: { loginPerAccount: 10, loginPerIp: 1000, registerPerIp: 1000, accountChangesPerUser: 5, accountChangesPerIp: 8 } } });
    try {
    const taken = (await register(t.agent())).email;
    const probe = async (agent: ReturnType<TestSite['agent']>) =>
      (await agent.post('/account').type('form').set('Accept', 'application/json').set('X-CSRF-Token', (await agent.get('/api/session')).body.csrfToken).send({ name: 'Prober', email: taken, currentPassword: TEST_PASSWORD })).status;
    const first = t.agent();
    await register(first);
    const firstStatuses: number[] = [];
    for (let i = 0; i < 7; i += 1) firstStatuses.push(await probe(first));
    expect(firstStatuses).toEqual([409, 409, 409, 409, 409, 429, 429]);
    // A second account from the same IP gets what is left of the IP's limit (8 - 5), not a fresh 5.
    const second = t.agent();
    await register(second);
    const secondStatuses: number[] = [];
    for (let i = 0; i < 5; i += 1) secondStatuses.push(await probe(second));
    expect(secondStatuses).toEqual([409, 409, 409, 429, 429]);
    } finally {
      await t.close();
    }
  });
});

describe('changing the password (ASVS 2.1.5, 2.1.6, 3.3.3)', () => {
  let site: TestSite;
  beforeAll(async () => {
    site = await startTestSite();
  });
  afterAll(() => site.close());

  it('ASVS 2.1.6: needs the current password, and a new password that meets the policy', async () => {
    const agent = site.agent();
    await register(agent);
    const wrong = await agent.post('/account/password').type('form').send({ _csrf: await csrfFor(agent, '/account'), currentPassword: 'not my password at all', newPassword: NEW_PASSWORD });
    expect(wrong.status).toBe(401);
    const weak = await agent.post('/account/password').type('form').send({ _csrf: await csrfFor(agent, '/account'), currentPassword: TEST_PASSWORD, newPassword: 'password1234' });
    expect(weak.status).toBe(400);
    expect(weak.text).toContain('That password is too easy to guess');
  });

  it('ASVS 2.1.5, 3.3.3: a password change logs out every other session of the reader, host and platform, and this browser goes on', async () => {
    const here = site.agent();
    const { email } = await register(here);
    const elsewhere = site.agent();
    expect((await login(elsewhere, email)).status).toBe(303);
    const elsewherePlatform = (await whoAmI(elsewhere)).platform!.sid;
    const herePlatform = (await whoAmI(here)).platform!.sid;

    const res = await here.post('/account/password').type('form').send({ _csrf: await csrfFor(here, '/account'), currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account?password=1');

    expect((await whoAmI(elsewhere)).user).toBeNull();
    expect(site.emulator.sessionInfo(elsewherePlatform)?.alive).toBe(false);
    const now = await whoAmI(here);
    expect(now.user).not.toBeNull();
    expect(site.emulator.sessionInfo(herePlatform)?.alive).toBe(false);
    expect(site.emulator.sessionInfo(now.platform!.sid)?.alive).toBe(true);

    expect((await login(site.agent(), email, TEST_PASSWORD)).status).toBe(401);
    expect((await login(site.agent(), email, NEW_PASSWORD)).status).toBe(303);
  });
});
