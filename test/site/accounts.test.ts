import { csrfFor, embedTagOf, login, register, sessionCookie, uniqueEmail } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(() => t.close());

describe('host accounts', () => {
  it('registering logs the reader in', async () => {
    const agent = t.agent();
    const { res, name } = await register(agent, { name: 'Grace Reader' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const account = await agent.get('/account').expect(200);
    expect(account.text).toContain(`value="${name}"`);
  });

  it('logs in and out with the form; after logout the account page asks for a login', async () => {
    const { email } = await register(t.agent());
    const agent = t.agent();
    const res = await login(agent, email);
    expect(res.status).toBe(303);
    await agent.get('/account').expect(200);

    const page = await agent.get('/').expect(200);
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const out = await agent.post('/logout').type('form').send({ _csrf });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/');
    const after = await agent.get('/account');
    expect(after.status).toBe(303);
    expect(after.headers.location).toBe('/login?returnTo=%2Faccount');
  });

  it('answers a wrong password and an unknown email alike', async () => {
    const { email } = await register(t.agent());
    const wrongPassword = await login(t.agent(), email, 'not the password at all');
    const unknownEmail = await login(t.agent(), uniqueEmail('nobody'), 'not the password at all');
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    const message = (html: string) => /class="form-error"[^>]*>([^<]*)</.exec(html)?.[1];
    expect(message(wrongPassword.text)).toBe('Wrong email or password.');
    expect(message(unknownEmail.text)).toBe(message(wrongPassword.text));
  });

  it('gives a new session id at login', async () => {
    const { email } = await register(t.agent());
    const agent = t.agent();
    const before = sessionCookie(await login(agent, email));
    const _csrf = await csrfFor(agent, '/login');
    const after = sessionCookie(await agent.post('/login').type('form').send({ _csrf, email, password: TEST_PASSWORD }));
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });

  it('follows returnTo on this site only', async () => {
    const { email } = await register(t.agent());
    const inside = await login(t.agent(), email, TEST_PASSWORD, { returnTo: '/articles/library-late-fees' });
    expect(inside.headers.location).toBe('/articles/library-late-fees');
    for (const returnTo of ['https://other.example/', '//other.example/x', '/\\other.example', 'javascript:alert(1)']) {
      const res = await login(t.agent(), email, TEST_PASSWORD, { returnTo });
      expect(res.headers.location).toBe('/');
    }
  });

  it('shows a name with <script> escaped, on the page and in the header', async () => {
    const agent = t.agent();
    await register(agent, { name: '<script>alert(1)</script>' });
    const page = await agent.get('/articles/harbour-bridge-reopens').expect(200);
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('changes the name at once; a new email waits for its link, the old one stays in force', async () => {
    const agent = t.agent();
    const { email } = await register(agent, { name: 'Old Name' });
    const _csrf = await csrfFor(agent, '/account');
    const newEmail = uniqueEmail('renamed');
    const res = await agent.post('/account').type('form').send({ _csrf, name: 'New Name', email: newEmail.toUpperCase(), currentPassword: TEST_PASSWORD });
    expect(res.status).toBe(303);
    const account = await agent.get(res.headers.location as string).expect(200);
    expect(account.text).toContain('value="New Name"');
    expect(account.text).toContain(`value="${email}"`);
    expect(account.text).toContain(`We sent a link to ${newEmail}`);
  });

  it('refuses a second account for the same email, however it is cased', async () => {
    const { email } = await register(t.agent());
    const { res } = await register(t.agent(), { email: `  ${email.toUpperCase()} ` });
    expect(res.status).toBe(409);
    expect(res.text).toContain('already exists');
  });

  it('renders every page with the embed tag, anonymous without uid/sid', async () => {
    const page = await t.agent().get('/articles/night-market-returns').expect(200);
    expect(embedTagOf(page.text)).toEqual({ uid: null, sid: null });
    expect(page.text).toContain(`src="${t.emulator.embedSrc}"`);
  });
});
