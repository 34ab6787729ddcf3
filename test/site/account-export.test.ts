import type TestAgent from 'supertest/lib/agent';
import { csrfFor, embedTagOf, login, register, sessionCookie, uniqueEmail } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(() => t.close());

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

function sidOf(res: { headers: Record<string, unknown> }): string {
  const sid = /^s:(.+)\.[^.]+$/.exec(decodeURIComponent(sessionCookie(res) ?? ''))?.[1];
  if (!sid) throw new Error('no session cookie on the answer');
  return sid;
}

const platformSessionOf = async (agent: TestAgent) => embedTagOf((await agent.get('/').expect(200)).text);

describe("the reader's data export", () => {
  it('sends an anonymous visitor to log in first', async () => {
    const res = await t.agent().get('/account/export');
    expect([302, 303]).toContain(res.status);
    expect(res.headers.location).toBe('/login?returnTo=%2Faccount%2Fexport');
    expect(res.headers['content-disposition']).toBeUndefined();
  });

  it('is a JSON download of the account, its sessions and its platform identity, and nothing secret', async () => {
    const firefox = t.agent().set('User-Agent', FIREFOX_LINUX);
    const before = t.clock.now();
    const { email, res: registered } = await register(firefox, { name: 'Exporting Reader' });
    const other = t.agent();
    const otherLogin = await login(other, email);
    const me = (await firefox.get('/api/session')).body.user as { id: number };
    const mine = await platformSessionOf(firefox);
    const theirs = await platformSessionOf(other);

    // An email change waiting on its link: the export names the address it waits on.
    const pending = uniqueEmail('moving');
    const _csrf = await csrfFor(firefox, '/account');
    await firefox.post('/account').type('form').send({ _csrf, name: 'Exporting Reader', email: pending, currentPassword: TEST_PASSWORD }).expect(303);

    const res = await firefox.get('/account/export').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="account.json"');
    expect(res.headers['cache-control']).toContain('no-store');
    const data = JSON.parse(res.text);

    expect(data.account).toEqual({
      id: me.id,
      email,
      name: 'Exporting Reader',
      role: 'reader',
      emailVerified: false,
      emailVerifiedAt: null,
      emailChangedAt: null,
      pendingEmail: pending,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(Date.parse(data.account.createdAt)).toBeGreaterThanOrEqual(before);
    expect(data.platform).toEqual({ userId: mine.uid });
    expect(data.sessions).toHaveLength(2);
    expect(data.sessions[0]).toEqual({
      device: 'Firefox 128 on Linux',
      userAgent: FIREFOX_LINUX,
      network: '127.0.0.0/24',
      startedAt: expect.any(String),
      lastSeenAt: expect.any(String),
      platformSession: true,
      current: true,
    });
    expect(data.sessions[1]).toMatchObject({ platformSession: true, current: false });

    // No hash, no token, no session id, no platform session: only what is the reader's.
    const row = await t.site.database.db.selectFrom('users').select('password_hash').where('id', '=', me.id).executeTakeFirstOrThrow();
    await waitFor(() => t.site.devInbox!.messages().some((m) => m.to === pending), 'the link to the new address');
    const mailedToken = /token=([A-Za-z0-9_-]{43})/.exec(t.site.devInbox!.messages().find((m) => m.to === pending)?.text ?? '')?.[1];
    expect(mailedToken).toBeDefined();
    const secrets = [row.password_hash, mailedToken!, sidOf(registered), sidOf(otherLogin), mine.sid!, theirs.sid!];
    for (const secret of secrets) expect(res.text).not.toContain(secret);
    expect(res.text).not.toMatch(/password|hash|token|"sid"|"id": "/i);
  });

  it('shows a verified address with when it was verified', async () => {
    const agent = t.agent();
    await register(agent);
    const { id } = (await agent.get('/api/session')).body.user as { id: number };
    const verifiedAt = t.clock.now();
    await t.site.database.db.updateTable('users').set({ email_verified_at: verifiedAt }).where('id', '=', id).execute();
    const data = JSON.parse((await agent.get('/account/export').expect(200)).text);
    expect(data.account.emailVerified).toBe(true);
    expect(data.account.emailVerifiedAt).toBe(new Date(verifiedAt).toISOString());
  });

  it('is linked from the account page', async () => {
    const agent = t.agent();
    await register(agent);
    const page = await agent.get('/account').expect(200);
    expect(page.text).toContain('href="/account/export"');
    expect(page.text).toContain('href="/account/sessions"');
  });
});
