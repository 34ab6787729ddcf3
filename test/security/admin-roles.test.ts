import type TestAgent from 'supertest/lib/agent';
import { createUserStore } from '../../src/store/user-store';
import { csrfFor, csrfFrom, login, register } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

/** The address ADMIN_EMAILS names in every test here; readers type it in another case. */
const LISTED = 'security@news.example';

let t: TestSite;
beforeEach(async () => {
  // authorization_code: the admin page offers the connect, which is what a stolen role would be used for.
  t = await startTestSite({ profile: 'viewneo', overrides: { adminEmails: [LISTED] } });
});
afterEach(() => t.close());

const usersOf = (site: TestSite) => createUserStore(site.site.database.db, site.clock);

/** The newest mail to `address` that carries a verification link: the link's path and query. */
async function verificationLinkFor(site: TestSite, address: string): Promise<string> {
  await site.site.mail.deliver();
  await site.site.mail.idle();
  const mail = site.site.devInbox!.messages().find((message) => message.to === address && message.text.includes('/email/verify?token='));
  if (!mail) throw new Error(`no verification mail to ${address}`);
  const link = new URL(/(https?:\/\/\S+\/email\/verify\?token=\S+)/.exec(mail.text)![1]!);
  return link.pathname + link.search;
}

/** Opens the link's page and confirms with its form, as the mailbox's owner does. */
async function confirmLink(agent: TestAgent, link: string): Promise<void> {
  const page = await agent.get(link).expect(200);
  const token = new URLSearchParams(link.slice(link.indexOf('?'))).get('token')!;
  const res = await agent.post('/email/verify').type('form').send({ _csrf: csrfFrom(page.text), token });
  expect(res.status).toBeLessThan(400);
}

/** A fresh browser on `site` logged in as `email`. */
async function loggedIn(site: TestSite, email: string): Promise<TestAgent> {
  const agent = site.agent();
  expect((await login(agent, email)).status).toBe(303);
  return agent;
}

/** A restart of `t` with the same ADMIN_EMAILS, closed after `use`. */
async function afterRestart(use: (site: TestSite) => Promise<void>): Promise<void> {
  const restarted = await t.restart();
  try {
    await use(restarted);
  } finally {
    await restarted.close();
  }
}

describe('ASVS 4.1.2, 4.1.3: administrator is a role stored with the account, never gained through an address', () => {
  it('registering the listed address grants nothing, now or at the next start-up, while it is not verified', async () => {
    const agent = t.agent();
    expect((await register(agent, { email: LISTED, name: 'Squatter' })).res.status).toBe(303);
    await agent.get('/admin/platform').expect(403);
    await agent.post('/admin/platform/connect').type('form').send({ _csrf: await csrfFor(agent, '/account') }).expect(403);

    await afterRestart(async (restarted) => {
      await (await loggedIn(restarted, LISTED)).get('/admin/platform').expect(403);
      expect((await usersOf(restarted).findByEmail(LISTED))?.role).toBe('reader');
    });
  });

  it('a reader who changes their email to the listed address (in another case) stays a reader: before, after confirming, and after a restart', async () => {
    const agent = t.agent();
    const { email: oldEmail } = await register(agent, { name: 'Mallory' });
    const changed = await agent
      .post('/account')
      .type('form')
      .send({ _csrf: await csrfFor(agent, '/account'), name: 'Mallory', email: 'Security@News.Example', currentPassword: TEST_PASSWORD });
    expect(changed.status).toBe(303);
    await agent.get('/admin/platform').expect(403);

    const link = await verificationLinkFor(t, LISTED);
    await confirmLink(agent, link);
    const user = await usersOf(t).findByEmail(LISTED);
    // The change went through: the account now holds the listed address, verified, and is still a reader.
    expect(user).toMatchObject({ email: LISTED, emailVerified: true, role: 'reader' });
    await (await loggedIn(t, 'Security@News.Example')).get('/admin/platform').expect(403);
    expect(t.site.devInbox!.messages().some((message) => message.to === oldEmail && /change of your email address/.test(message.subject))).toBe(true);

    await afterRestart(async (restarted) => {
      const again = await loggedIn(restarted, LISTED);
      await again.get('/admin/platform').expect(403);
      await again.post('/admin/platform/connect').type('form').send({ _csrf: await csrfFor(again, '/account') }).expect(403);
      expect((await usersOf(restarted).findByEmail(LISTED))?.role).toBe('reader');
      expect(restarted.logLines.join('\n')).not.toContain('administrator role granted from ADMIN_EMAILS');
    });
  });

  it('an account that registered with the listed address and verified it is an administrator from the next start-up', async () => {
    const agent = t.agent();
    await register(agent, { email: LISTED, name: 'Security Desk' });
    await confirmLink(agent, await verificationLinkFor(t, LISTED));
    expect((await usersOf(t).findByEmail(LISTED))?.emailVerified).toBe(true);

    await afterRestart(async (restarted) => {
      const page = await (await loggedIn(restarted, LISTED)).get('/admin/platform').expect(200);
      expect(page.text).toContain('Connect the commenting platform</button>');
      expect(restarted.logLines.some((line) => line.includes('administrator role granted from ADMIN_EMAILS') && line.includes(LISTED))).toBe(true);
    });
  });

  it.each(['/admin/platform', '/admin/status'])('%s: a visitor is sent to log in with the path only; a reader gets 403', async (page) => {
    await t.agent().get(`${page}?code=private-0123`).expect(303).expect('Location', `/login?returnTo=${encodeURIComponent(page)}`);
    const reader = t.agent();
    await register(reader);
    await reader.get(page).expect(403);
    await reader.get(page.toUpperCase()).expect(403);
  });

  it('a role granted or revoked in the store applies on the next request, without logging in again', async () => {
    const agent = t.agent();
    const { email } = await register(agent, { name: 'Operator' });
    await agent.get('/admin/platform').expect(403);
    await usersOf(t).setRole(email, 'admin');
    await agent.get('/admin/platform').expect(200);
    await agent.get('/admin/status').expect(200);
    await usersOf(t).setRole(email, 'reader');
    await agent.get('/admin/platform').expect(403);
    await agent.get('/admin/status').expect(403);
  });

  it("changing an administrator's email needs the current password, and the old address is told", async () => {
    const agent = t.agent();
    const { email } = await register(agent, { name: 'Operator' });
    await usersOf(t).setRole(email, 'admin');
    const send = (fields: Record<string, string>) =>
      csrfFor(agent, '/account').then((_csrf) => agent.post('/account').type('form').send({ _csrf, name: 'Operator', email: 'elsewhere@news.example', ...fields }));

    expect((await send({})).status).toBe(400);
    expect((await send({ currentPassword: 'not the password at all' })).status).toBe(401);
    expect((await send({ currentPassword: TEST_PASSWORD })).status).toBe(303);
    await t.site.mail.deliver();
    await t.site.mail.idle();
    expect(t.site.devInbox!.messages().filter((message) => message.to === email).map((message) => message.text)).toContainEqual(expect.stringContaining('elsewhere@news.example'));
  });
});
