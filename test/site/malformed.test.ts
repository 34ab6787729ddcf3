import { csrfFor, register, uniqueEmail } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(() => t.close());

const userCount = async () => Number((await t.site.database.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

function expectPlainError(res: { status: number; text: string }) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.text).not.toMatch(/\bat \S+ \(|node_modules|Error: /);
}

describe('malformed bodies are refused with a 4xx and store nothing', () => {
  it.each([
    ['an email given twice (an array)', 'email=a%40example.com&email=b%40example.com&name=X&password=' + encodeURIComponent(TEST_PASSWORD)],
    ['a nested field', 'email[x]=a%40example.com&name=X&password=' + encodeURIComponent(TEST_PASSWORD)],
    ['a huge name', `email=${encodeURIComponent(uniqueEmail())}&name=${'n'.repeat(5000)}&password=${encodeURIComponent(TEST_PASSWORD)}`],
    ['a body over the size limit', `email=${encodeURIComponent(uniqueEmail())}&name=X&password=${'p'.repeat(40_000)}`],
    ['a short password', `email=${encodeURIComponent(uniqueEmail())}&name=X&password=short`],
    ['an invalid email', `email=not-an-email&name=X&password=${encodeURIComponent(TEST_PASSWORD)}`],
    ['a control character in the name', `email=${encodeURIComponent(uniqueEmail())}&name=A%00B&password=${encodeURIComponent(TEST_PASSWORD)}`],
  ])('register with %s', async (_label, body) => {
    const agent = t.agent();
    const _csrf = await csrfFor(agent, '/register');
    const before = await userCount();
    const res = await agent.post('/register').type('form').send(`_csrf=${encodeURIComponent(_csrf)}&${body}`);
    expectPlainError(res);
    expect(await userCount()).toBe(before);
  });

  it.each([
    ['bad JSON', '{"email": '],
    ['wrong types', JSON.stringify({ email: 42, name: ['x'], password: { a: 1 } })],
    ['a JSON array', '[1,2,3]'],
  ])('JSON register with %s gets a JSON 4xx', async (_label, body) => {
    const agent = t.agent();
    const _csrf = await csrfFor(agent, '/register');
    const before = await userCount();
    const res = await agent.post('/register').set('Content-Type', 'application/json').set('Accept', 'application/json').set('X-CSRF-Token', _csrf).send(body);
    expectPlainError(res);
    expect(res.body.error.code).toMatch(/^(MALFORMED_BODY|VALIDATION_FAILED)$/);
    expect(await userCount()).toBe(before);
  });

  it('an account update with a bad email changes nothing', async () => {
    const agent = t.agent();
    const { email } = await register(agent, { name: 'Keeps Name' });
    const _csrf = await csrfFor(agent, '/account');
    const res = await agent.post('/account').type('form').send({ _csrf, name: 'Changed', email: 'nope' });
    expectPlainError(res);
    const row = await t.site.database.db.selectFrom('users').select(['name', 'email']).where('email', '=', email).executeTakeFirstOrThrow();
    expect(row).toEqual({ name: 'Keeps Name', email });
  });

  it('an unknown page is a 404 page, and a JSON 404 for JSON clients', async () => {
    const page = await t.agent().get('/no/such/page');
    expect(page.status).toBe(404);
    expect(page.text).toContain('There is nothing at this address.');
    const json = await t.agent().get('/no/such/page').set('Accept', 'application/json');
    expect(json.body).toEqual({ error: { code: 'NOT_FOUND', message: 'There is nothing at this address.' } });
  });
});

describe('what is not malformed', () => {
  it('a bare % in a password sent as curl -d sends it is the character itself', async () => {
    const agent = t.agent();
    const _csrf = await csrfFor(agent, '/register');
    const email = uniqueEmail();
    const res = await agent.post('/register').type('form').send(`_csrf=${encodeURIComponent(_csrf)}&email=${encodeURIComponent(email)}&name=Percy&password=100%sure-of-it`);
    expect(res.status).toBe(303);
  });

  it('POST /Login/ reaches the login route, as Express routing would', async () => {
    const agent = t.agent();
    const { email } = await register(t.agent());
    const _csrf = await csrfFor(agent, '/login');
    const res = await agent.post('/Login/').type('form').send({ _csrf, email, password: TEST_PASSWORD });
    expect(res.status).toBe(303);
  });
});
