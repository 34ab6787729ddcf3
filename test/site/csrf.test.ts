import { csrfFor, register, uniqueEmail } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(() => t.close());

const userCount = async () => Number((await t.site.database.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('CSRF', () => {
  it.each([
    ['missing', undefined],
    ['wrong', 'not-the-token'],
  ])('a %s token on register is refused with 403 and nothing is stored', async (_label, token) => {
    const agent = t.agent();
    await csrfFor(agent, '/register');
    const before = await userCount();
    const res = await agent
      .post('/register')
      .type('form')
      .send({ ...(token ? { _csrf: token } : {}), email: uniqueEmail(), name: 'Mallory', password: TEST_PASSWORD });
    expect(res.status).toBe(403);
    expect(res.text).toContain('did not come from this site');
    expect(await userCount()).toBe(before);
  });

  it('a token from another session is refused: the account is not changed', async () => {
    const victim = t.agent();
    await register(victim, { name: 'Victim' });
    const attackerToken = await csrfFor(t.agent(), '/login');
    const res = await victim.post('/account').type('form').send({ _csrf: attackerToken, name: 'Pwned', email: uniqueEmail() });
    expect(res.status).toBe(403);
    const account = await victim.get('/account').expect(200);
    expect(account.text).toContain('value="Victim"');
  });

  it('a logout without a token does not log out', async () => {
    const agent = t.agent();
    await register(agent);
    const res = await agent.post('/logout').set('Accept', 'application/json');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'CSRF_INVALID', message: expect.any(String) } });
    await agent.get('/account').expect(200);
  });

  it('accepts the token in the X-CSRF-Token header for AJAX', async () => {
    const agent = t.agent();
    await register(agent);
    const token = (await agent.get('/api/session').expect(200)).body.csrfToken as string;
    const res = await agent.post('/logout').set('Accept', 'application/json').set('X-CSRF-Token', token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });
});
