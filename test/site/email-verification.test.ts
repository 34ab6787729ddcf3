import type TestAgent from 'supertest/lib/agent';
import { csrfFor, csrfFrom, login, register, uniqueEmail } from '../helpers/browser-flow';
import { confirmLink, linkIn, mailTo, pathOf, SUBJECTS, verifyEmail, waitForMail } from '../helpers/mail';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

const PUBLIC_URL = 'https://news.example';
const HOUR = 60 * 60_000;

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({ overrides: { mail: { publicUrl: PUBLIC_URL } } });
});
afterAll(() => t.close());

const userIdOf = async (agent: TestAgent): Promise<string> => String((await agent.get('/api/session').expect(200)).body.user.id);
const verifyLinkFor = async (email: string, count = 1): Promise<string> => linkIn((await waitForMail(t, email, SUBJECTS.verify, { count })).text, '/email/verify');
const BANNER = 'Please confirm your email address';

async function resend(agent: TestAgent) {
  return agent.post('/email/verify/resend').type('form').send({ _csrf: await csrfFor(agent, '/account') });
}

describe('verifying the address of an account', () => {
  it('registration mails a plain-text link that starts with the public URL, whatever Host the request named', async () => {
    const agent = t.agent();
    const email = uniqueEmail('host');
    const form = await agent.get('/register').set('Host', 'evil.example').expect(200);
    await agent
      .post('/register')
      .set('Host', 'evil.example')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email, name: 'Host Reader', password: TEST_PASSWORD })
      .expect(303);

    const mail = await waitForMail(t, email, SUBJECTS.verify);
    expect(mail.text).toContain('Open this link within 24 hours');
    expect(linkIn(mail.text, '/email/verify')).toMatch(/^https:\/\/news\.example\/email\/verify\?token=[A-Za-z0-9_-]{43}$/);
    const links = [...`${mail.text}\n${mail.html ?? ''}`.matchAll(/https?:\/\/[^\s<>"']+/g)].map((m) => m[0]);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link.startsWith(`${PUBLIC_URL}/`)).toBe(true);
    expect(`${mail.text}${mail.html}`).not.toContain('evil.example');
  });

  it('until the address is confirmed the platform hears no email, and the reader sees a banner; once confirmed the platform has it at once', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    const id = await userIdOf(agent);
    expect(t.emulator.userByHostId(id)).toMatchObject({ email: null });
    expect((await agent.get('/').expect(200)).text).toContain(BANNER);
    expect((await agent.get('/account').expect(200)).text).toContain('not yet confirmed');

    const confirmed = await verifyEmail(t, agent, email);
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe('/account?verified=1');
    expect(t.emulator.userByHostId(id)).toMatchObject({ email });

    const account = await agent.get('/account?verified=1').expect(200);
    expect(account.text).toContain('Your email address is confirmed.');
    expect(account.text).toContain(`${email}: verified`);
    expect(account.text).not.toContain(BANNER);
    expect((await agent.get('/').expect(200)).text).not.toContain(BANNER);
  });

  it('the banner is for unconfirmed readers only: a visitor never sees it', async () => {
    const page = await t.agent().get('/').expect(200);
    expect(page.text).not.toContain(BANNER);
    expect(page.text).not.toContain('/email/verify/resend');
  });

  it('a link opened in a browser not logged in confirms on a plain page; the platform hears the address at the next login', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    const id = await userIdOf(agent);

    const elsewhere = t.agent();
    const confirmed = await verifyEmail(t, elsewhere, email);
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain('Email address confirmed');
    expect(t.emulator.userByHostId(id)).toMatchObject({ email: null });

    expect((await login(t.agent(), email)).status).toBe(303);
    expect(t.emulator.userByHostId(id)).toMatchObject({ email });
    expect((await agent.get('/').expect(200)).text).not.toContain(BANNER);
  });

  it('opening the link (GET) never uses it up; the button does, once', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    const link = await verifyLinkFor(email);

    for (let i = 0; i < 3; i += 1) {
      const page = await t.agent().get(pathOf(link)).expect(200);
      expect(page.text).toContain('Confirm this address');
    }
    const { confirm } = await confirmLink(agent, link);
    expect(confirm.status).toBe(303);

    const token = new URL(link).searchParams.get('token');
    const again = await agent.post('/email/verify').type('form').send({ _csrf: await csrfFor(agent, '/account'), token });
    expect(again.status).toBe(400);
    expect(again.text).toContain('This link is no longer valid');
    const reopened = await agent.get(pathOf(link));
    expect(reopened.status).toBe(400);
    expect(reopened.text).toContain('This link is no longer valid');
    // The request lines name the path, never the token in its query.
    expect(t.logLines.some((line) => line.includes('/email/verify?token=[redacted]'))).toBe(true);
    for (const line of t.logLines) expect(line).not.toContain(token!);
  });

  it('an unknown or malformed token gets the same clear 400 page, with a way to ask for a new link', async () => {
    for (const query of ['?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '?token=%3Cscript%3E', '', '?token=a&token=b']) {
      const res = await t.agent().get(`/email/verify${query}`);
      expect(res.status).toBe(400);
      expect(res.text).toContain('This link is no longer valid');
      expect(res.text).toContain('Log in to ask for a new link');
      expect(res.text).not.toContain('<script>');
    }
    const agent = t.agent();
    await register(agent);
    const logged = await agent.get('/email/verify?token=nope').expect(400);
    expect(logged.text).toContain('Send me a new link');
    const json = await agent.post('/email/verify').set('Accept', 'application/json').send({ _csrf: csrfFrom(logged.text), token: 'nope' });
    expect(json.status).toBe(400);
    expect(json.body).toEqual({ error: { code: 'LINK_INVALID', message: expect.stringContaining('no longer valid') } });
  });

  it('a link works for 24 hours, and not after', async () => {
    const early = t.agent();
    const late = t.agent();
    const { email: earlyEmail } = await register(early);
    const { email: lateEmail } = await register(late);
    const earlyLink = await verifyLinkFor(earlyEmail);
    const lateLink = await verifyLinkFor(lateEmail);

    t.clock.advance(24 * HOUR - 60_000);
    expect((await confirmLink(early, earlyLink)).confirm.status).toBe(303);
    t.clock.advance(2 * 60_000);
    const expired = await late.get(pathOf(lateLink));
    expect(expired.status).toBe(400);
    expect(expired.text).toContain('This link is no longer valid');
    const posted = await late.post('/email/verify').type('form').send({ _csrf: csrfFrom(expired.text), token: new URL(lateLink).searchParams.get('token') });
    expect(posted.status).toBe(400);
    expect((await late.get('/account').expect(200)).text).toContain('not yet confirmed');
  });

  it('a newer link replaces the older one', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    const first = await verifyLinkFor(email);
    const resent = await resend(agent);
    expect(resent.status).toBe(303);
    expect(resent.headers.location).toBe('/account?email=sent');
    expect((await agent.get('/account?email=sent').expect(200)).text).toContain(`We sent a new link to ${email}.`);
    const second = await verifyLinkFor(email, 2);
    expect(second).not.toBe(first);

    expect((await confirmLink(agent, first)).page.status).toBe(400);
    expect((await confirmLink(agent, second)).confirm.status).toBe(303);
  });

  it('an email change: the old address stays in force and is told; the new one works once its link is opened', async () => {
    const agent = t.agent();
    const { email: oldEmail, name } = await register(agent);
    await verifyEmail(t, agent, oldEmail);
    const id = await userIdOf(agent);
    const newEmail = uniqueEmail('moved');

    const change = await agent.post('/account').type('form').send({ _csrf: await csrfFor(agent, '/account'), name, email: newEmail, currentPassword: TEST_PASSWORD });
    expect(change.status).toBe(303);
    expect(change.headers.location).toBe('/account?email=sent');

    const notice = await waitForMail(t, oldEmail, SUBJECTS.changeNotice);
    expect(notice.text).toContain(newEmail);
    expect(notice.text).not.toContain('/email/verify');
    const link = await verifyLinkFor(newEmail);
    expect(mailTo(t, oldEmail, SUBJECTS.verify)).toHaveLength(1);

    expect((await login(t.agent(), oldEmail)).status).toBe(303);
    expect((await login(t.agent(), newEmail)).status).toBe(401);
    expect(t.emulator.userByHostId(id)).toMatchObject({ email: oldEmail });

    expect((await confirmLink(agent, link)).confirm.headers.location).toBe('/account?verified=1');
    expect(t.emulator.userByHostId(id)).toMatchObject({ email: newEmail });
    expect((await login(t.agent(), newEmail)).status).toBe(303);
    expect((await login(t.agent(), oldEmail)).status).toBe(401);
    expect((await agent.get('/account').expect(200)).text).toContain(`${newEmail}: verified`);
  });

  it('a change to an address another account took meanwhile is refused with EMAIL_TAKEN, and changes nothing', async () => {
    const agent = t.agent();
    const { email, name } = await register(agent);
    await verifyEmail(t, agent, email);
    const id = await userIdOf(agent);
    const wanted = uniqueEmail('wanted');
    await agent.post('/account').type('form').send({ _csrf: await csrfFor(agent, '/account'), name, email: wanted, currentPassword: TEST_PASSWORD }).expect(303);
    const link = await verifyLinkFor(wanted);

    const other = t.agent();
    await register(other, { email: wanted, name: 'Quicker Reader' });
    const otherId = await userIdOf(other);

    const { confirm } = await confirmLink(agent, link);
    expect(confirm.status).toBe(409);
    expect(confirm.text).toContain('Another account uses that email address now');

    expect(String((await agent.get('/api/session')).body.user.email)).toBe(email);
    expect(t.emulator.userByHostId(id)).toMatchObject({ email });
    const asWanted = t.agent();
    expect((await login(asWanted, wanted)).status).toBe(303);
    expect(await userIdOf(asWanted)).toBe(otherId);
    expect((await login(t.agent(), email)).status).toBe(303);
  });

  it('resending needs a login and its form token', async () => {
    const anonymous = t.agent();
    const _csrf = await csrfFor(anonymous, '/login');
    const refused = await anonymous.post('/email/verify/resend').type('form').send({ _csrf });
    expect(refused.status).toBe(401);

    const agent = t.agent();
    const { email } = await register(agent);
    await waitForMail(t, email, SUBJECTS.verify);
    expect((await agent.post('/email/verify/resend').type('form').send({})).status).toBe(403);
    await t.site.mail.deliver();
    expect(mailTo(t, email, SUBJECTS.verify)).toHaveLength(1);
  });
});

describe('the limits on resending', () => {
  const LIMITS = { loginPerAccount: 10, loginPerIp: 50, registerPerIp: 30 };

  it('per IP: past the limit a resend is refused with 429 and no mail goes', async () => {
    const limited = await startTestSite({ overrides: { rateLimits: { ...LIMITS, mailPerIp: 2, mailPerAddress: 100 } } });
    try {
      const agent = limited.agent();
      const { email } = await register(agent);
      const csrf = await csrfFor(agent, '/account');
      for (let i = 0; i < 2; i += 1) expect((await agent.post('/email/verify/resend').type('form').send({ _csrf: csrf })).status).toBe(303);
      const refused = await agent.post('/email/verify/resend').type('form').send({ _csrf: csrf });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      await waitForMail(limited, email, SUBJECTS.verify, { count: 3 });
      await limited.site.mail.deliver();
      expect(mailTo(limited, email, SUBJECTS.verify)).toHaveLength(3);
      expect(await limited.site.mail.count()).toBe(0);
    } finally {
      await limited.close();
    }
  });

  it('per address: past the limit a resend is refused with 429 and no mail goes', async () => {
    const limited = await startTestSite({ overrides: { rateLimits: { ...LIMITS, mailPerIp: 100, mailPerAddress: 2 } } });
    try {
      const agent = limited.agent();
      const { email } = await register(agent);
      const csrf = await csrfFor(agent, '/account');
      for (let i = 0; i < 2; i += 1) expect((await agent.post('/email/verify/resend').type('form').send({ _csrf: csrf })).status).toBe(303);
      expect((await agent.post('/email/verify/resend').type('form').send({ _csrf: csrf })).status).toBe(429);
      await waitForMail(limited, email, SUBJECTS.verify, { count: 3 });
      await limited.site.mail.deliver();
      expect(mailTo(limited, email, SUBJECTS.verify)).toHaveLength(3);
      // Another reader, from the same IP, is not held up by this address's limit.
      const other = limited.agent();
      await register(other);
      expect((await other.post('/email/verify/resend').type('form').send({ _csrf: await csrfFor(other, '/account') })).status).toBe(303);
    } finally {
      await limited.close();
    }
  });
});

describe('the development inbox at /dev/mail', () => {
  it('lists what was mailed, newest first, every reader-given word escaped and each link clickable; never cached', async () => {
    const first = t.agent();
    const { email: firstEmail } = await register(first, { name: '<script>alert("first")</script>' });
    const firstLink = await verifyLinkFor(firstEmail);
    const second = t.agent();
    const { email: secondEmail } = await register(second, { name: 'Second <b>Reader</b>' });
    const secondLink = await verifyLinkFor(secondEmail);

    const page = await t.agent().get('/dev/mail').expect(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).not.toContain('<b>Reader</b>');
    expect(page.text).toContain('Hello &lt;script&gt;alert(&quot;first&quot;)&lt;/script&gt;,');
    expect(page.text).toContain(`<a href="${secondLink}">${secondLink}</a>`);
    expect(page.text).toContain(`<a href="${firstLink}">${firstLink}</a>`);
    expect(page.text.indexOf(secondEmail)).toBeLessThan(page.text.indexOf(firstEmail));
    expect(page.text).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/);
  });
});
