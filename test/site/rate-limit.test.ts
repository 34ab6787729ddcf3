import { login, register, uniqueEmail } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({ overrides: { rateLimits: { loginPerAccount: 3, loginPerIp: 50, registerPerIp: 4 } } });
});
afterAll(() => t.close());

describe('rate limits', () => {
  it('after too many failed logins for one account, even the right password gets 429 with Retry-After', async () => {
    const { email } = await register(t.agent());
    for (let i = 0; i < 3; i += 1) expect((await login(t.agent(), email, 'wrong password!')).status).toBe(401);
    const blocked = await login(t.agent(), email, TEST_PASSWORD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.text).toContain('Too many attempts');
    // another account from the same IP is not blocked by it
    const other = await register(t.agent());
    expect(other.res.status).toBe(303);
  });

  it('a burst of parallel guesses gets no more tries than the limit', async () => {
    const { email } = await register(t.agent());
    const statuses = await Promise.all(Array.from({ length: 12 }, () => login(t.agent(), email, 'wrong password!').then((res) => res.status)));
    expect(statuses.filter((status) => status === 401)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(9);
  });

  it('successful logins are not counted against the account', async () => {
    const { email } = await register(t.agent());
    for (let i = 0; i < 5; i += 1) expect((await login(t.agent(), email)).status).toBe(303);
    expect((await login(t.agent(), email, 'wrong password!')).status).toBe(401);
  });

  it('registrations per IP are limited too', async () => {
    let last = 0;
    for (let i = 0; i < 6; i += 1) last = (await register(t.agent(), { email: uniqueEmail('flood') })).res.status;
    expect(last).toBe(429);
  });
});

describe('expired rate-limit counters', () => {
  it('are deleted by the prune job (the limiter runs no timer of its own that could outlive the site)', async () => {
    const site = await startTestSite();
    const counters = async () =>
      Number(
        (
          (await site.site.database.db
            .selectFrom('rate_limits_login_ip' as never)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()) as { n: unknown }
        ).n,
      );
    try {
      const { email } = await register(site.agent());
      expect((await login(site.agent(), email, 'wrong password!')).status).toBe(401);
      const sql = !site.stores.redis;
      if (sql) expect(await counters()).toBeGreaterThan(0);
      // Counters are dated with Date itself; the job's lease with the site's clock. Both move two hours.
      const realNow = Date.now;
      Date.now = () => realNow() + 2 * 60 * 60_000;
      try {
        site.clock.advance(2 * 60 * 60_000);
        expect(await site.site.jobs.run('prune')).toBe(true);
      } finally {
        Date.now = realNow;
      }
      if (sql) expect(await counters()).toBe(0);
    } finally {
      await site.close();
    }
  });
});
