import { sql } from 'kysely';
import type { Response } from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { csrfFor, csrfFrom, login, register, uniqueEmail } from '../helpers/browser-flow';
import { linkIn, mailTo, pathOf, SUBJECTS, verifyEmail, waitForMail } from '../helpers/mail';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

const NEW_PASSWORD = 'lantern orchard quietly 42';
const OTHER_PASSWORD = 'pebble violin harbour fog';
const MINUTE = 60_000;
const LIMITS = { loginPerAccount: 10, loginPerIp: 50, registerPerIp: 30 };

let t: TestSite;
/** every SQL statement the site ran, in order */
const statements: string[] = [];
beforeAll(async () => {
  t = await startTestSite({ overrides: { onQuery: (text) => statements.push(text) } });
});
afterAll(() => t.close());

/** Asks for a reset link from the forgot-password form, as a browser does. */
async function askReset(agent: TestAgent, email: string): Promise<Response> {
  const _csrf = await csrfFor(agent, '/password/forgot');
  return agent.post('/password/forgot').type('form').send({ _csrf, email });
}

async function resetLinkFor(site: TestSite, email: string, count = 1): Promise<string> {
  return linkIn((await waitForMail(site, email, SUBJECTS.reset, { count })).text, '/password/reset');
}

/** Opens the link and sends the form on it; the page itself when the link does not open. */
async function setPassword(agent: TestAgent, link: string, newPassword: string): Promise<Response> {
  const page = await agent.get(pathOf(link));
  if (page.status !== 200) return page;
  return agent.post('/password/reset').type('form').send({ _csrf: csrfFrom(page.text), token: new URL(link).searchParams.get('token'), newPassword });
}

const whoAmI = async (agent: TestAgent) => (await agent.get('/api/session').expect(200)).body as { user: { id: number } | null; platform: { sid: string } | null };
const withoutCsrf = (html: string) => html.replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value=""');

/** Until released, the site cannot read its users: on SQLite its one connection is held, on PostgreSQL the table is locked. */
async function holdUsersTable(site: TestSite): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const holding = new Promise<void>((resolve) => (held = resolve));
  const done = site.site.database.db.transaction().execute(async (tx) => {
    if (site.site.database.dialect === 'postgres') await sql`lock table users in access exclusive mode`.execute(tx);
    else await sql`select 1`.execute(tx);
    held();
    await released;
  });
  await holding;
  return async () => {
    release();
    await done;
  };
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('"forgot your password?" says nothing about the address', () => {
  it('the login page links to it', async () => {
    expect((await t.agent().get('/login').expect(200)).text).toContain('<a href="/password/forgot">Forgot your password?</a>');
  });

  it('an address with an account and one without get the same status and the same bytes, and only the first gets mail', async () => {
    const { email } = await register(t.agent());
    const unknown = uniqueEmail('nobody');
    const agent = t.agent();
    const known = await askReset(agent, email);
    const stranger = await askReset(agent, unknown);

    expect(known.status).toBe(200);
    expect(stranger.status).toBe(known.status);
    expect(stranger.headers['content-type']).toBe(known.headers['content-type']);
    expect(withoutCsrf(stranger.text)).toBe(withoutCsrf(known.text));
    expect(known.text).toContain('If an account uses that address');
    expect(known.text).not.toContain(email);

    await resetLinkFor(t, email);
    await t.site.pending.idle();
    await t.site.mail.deliver();
    expect(mailTo(t, unknown, SUBJECTS.reset)).toHaveLength(0);
  });

  it('the answer goes out before the account is looked up', async () => {
    const { email } = await register(t.agent());
    const agent = t.agent();
    const _csrf = await csrfFor(agent, '/password/forgot');
    const lookups = () => statements.filter((text) => /from "users"/.test(text) && /"email" = /.test(text)).length;
    const before = lookups();

    const release = await holdUsersTable(t);
    let answer: Response;
    try {
      // Were the answer to wait for the lookup, it would wait for the release below.
      answer = await within(5_000, 'the answer', agent.post('/password/forgot').type('form').send({ _csrf, email }));
      expect(lookups()).toBe(before);
      expect(mailTo(t, email, SUBJECTS.reset)).toHaveLength(0);
    } finally {
      await release();
    }
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('If an account uses that address');
    await resetLinkFor(t, email);
    expect(lookups()).toBeGreaterThan(before);
  });
});

describe('the reset link', () => {
  it('sets a new password once: the old one stops working, the link too', async () => {
    const { email } = await register(t.agent());
    await askReset(t.agent(), email);
    const link = await resetLinkFor(t, email);
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1\/password\/reset\?token=[A-Za-z0-9_-]{43}$/);

    const browser = t.agent();
    const page = await browser.get(pathOf(link)).expect(200);
    expect(page.text).toContain('Choose a new password');
    const done = await setPassword(browser, link, NEW_PASSWORD);
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/account?password=reset');
    expect((await browser.get('/account?password=reset').expect(200)).text).toContain('Password reset. Every session of yours was logged out.');

    expect((await login(t.agent(), email, TEST_PASSWORD)).status).toBe(401);
    expect((await login(t.agent(), email, NEW_PASSWORD)).status).toBe(303);

    const again = t.agent();
    const reopened = await again.get(pathOf(link));
    expect(reopened.status).toBe(400);
    expect(reopened.text).toContain('This link is no longer valid');
    expect(reopened.text).toContain('<a href="/password/forgot">Ask for a new link</a>');
    const _csrf = await csrfFor(again, '/password/forgot');
    const reposted = await again.post('/password/reset').type('form').send({ _csrf, token: new URL(link).searchParams.get('token'), newPassword: OTHER_PASSWORD });
    expect(reposted.status).toBe(400);
    expect((await login(t.agent(), email, OTHER_PASSWORD)).status).toBe(401);
  });

  it('takes the token from the query as well as from the form', async () => {
    const { email } = await register(t.agent());
    await askReset(t.agent(), email);
    const link = await resetLinkFor(t, email);
    const browser = t.agent();
    const _csrf = await csrfFor(browser, '/password/forgot');
    const done = await browser.post(pathOf(link)).type('form').send({ _csrf, newPassword: NEW_PASSWORD });
    expect(done.status).toBe(303);
    expect((await login(t.agent(), email, NEW_PASSWORD)).status).toBe(303);
  });

  it('works for an hour, and not after', async () => {
    const { email: early } = await register(t.agent());
    const { email: late } = await register(t.agent());
    await askReset(t.agent(), early);
    await askReset(t.agent(), late);
    const earlyLink = await resetLinkFor(t, early);
    const lateLink = await resetLinkFor(t, late);

    t.clock.advance(59 * MINUTE);
    expect((await setPassword(t.agent(), earlyLink, NEW_PASSWORD)).status).toBe(303);
    t.clock.advance(2 * MINUTE);
    const expired = await setPassword(t.agent(), lateLink, NEW_PASSWORD);
    expect(expired.status).toBe(400);
    expect(expired.text).toContain('This link is no longer valid');
    expect((await login(t.agent(), late, TEST_PASSWORD)).status).toBe(303);
  });

  it('is replaced by a newer one', async () => {
    const { email } = await register(t.agent());
    await askReset(t.agent(), email);
    const first = await resetLinkFor(t, email);
    await askReset(t.agent(), email);
    const second = await resetLinkFor(t, email, 2);
    expect(second).not.toBe(first);

    expect((await t.agent().get(pathOf(first))).status).toBe(400);
    expect((await setPassword(t.agent(), second, NEW_PASSWORD)).status).toBe(303);
  });

  it('a weak password is refused and leaves the link working', async () => {
    const { email } = await register(t.agent());
    await askReset(t.agent(), email);
    const link = await resetLinkFor(t, email);
    const browser = t.agent();
    const token = new URL(link).searchParams.get('token')!;

    for (const weak of ['password1234', 'short', email]) {
      const page = await browser.get(pathOf(link)).expect(200);
      const refused = await browser.post('/password/reset').type('form').send({ _csrf: csrfFrom(page.text), token, newPassword: weak });
      expect(refused.status).toBe(400);
      expect(refused.text).toMatch(/too easy to guess|at least 12 characters/);
      expect(refused.text).toContain(`name="token" value="${token}"`);
    }
    expect((await login(t.agent(), email, TEST_PASSWORD)).status).toBe(303);
    expect((await setPassword(browser, link, NEW_PASSWORD)).status).toBe(303);
  });

  it('a link sent before an email change does not work after it', async () => {
    const agent = t.agent();
    const { email, name } = await register(agent);
    await verifyEmail(t, agent, email);
    await askReset(t.agent(), email);
    const link = await resetLinkFor(t, email);

    const moved = uniqueEmail('moved');
    await agent.post('/account').type('form').send({ _csrf: await csrfFor(agent, '/account'), name, email: moved, currentPassword: TEST_PASSWORD }).expect(303);
    // Only asking for the change leaves the old address in force, and its link working.
    expect((await t.agent().get(pathOf(link))).status).toBe(200);
    await verifyEmail(t, agent, moved);

    const refused = await setPassword(t.agent(), link, NEW_PASSWORD);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('This link is no longer valid');
    expect((await login(t.agent(), moved, TEST_PASSWORD)).status).toBe(303);
    expect((await login(t.agent(), moved, NEW_PASSWORD)).status).toBe(401);
  });

  it('ends every session of the reader, host and platform, and this browser goes on logged in as a known device under the new password', async () => {
    const here = t.agent();
    const { email, res: registered } = await register(here);
    const elsewhere = t.agent();
    expect((await login(elsewhere, email)).status).toBe(303);
    const herePlatform = (await whoAmI(here)).platform!.sid;
    const elsewherePlatform = (await whoAmI(elsewhere)).platform!.sid;
    expect(t.emulator.sessionInfo(elsewherePlatform)?.alive).toBe(true);

    await askReset(t.agent(), email);
    const link = await resetLinkFor(t, email);
    const browser = t.agent();
    const done = await setPassword(browser, link, NEW_PASSWORD);
    expect(done.status).toBe(303);

    expect((await whoAmI(here)).user).toBeNull();
    expect((await whoAmI(elsewhere)).user).toBeNull();
    expect(t.emulator.sessionInfo(herePlatform)?.alive).toBe(false);
    expect(t.emulator.sessionInfo(elsewherePlatform)?.alive).toBe(false);
    const now = await whoAmI(browser);
    expect(now.user).not.toBeNull();
    expect(t.emulator.sessionInfo(now.platform!.sid)?.alive).toBe(true);

    // The device cookie is made again, under the credentials version the reset moved on.
    const deviceOf = (res: Response) => {
      const value = (res.headers['set-cookie'] as unknown as string[] | undefined)?.map((c) => /^vfb\.device=([^;]+)/.exec(c)?.[1]).find(Boolean);
      if (!value) throw new Error('no device cookie issued');
      const [user, version] = value.split('.');
      return { user, version: Number(version) };
    };
    const first = deviceOf(registered);
    const reissued = deviceOf(done);
    expect(reissued.user).toBe(String(now.user!.id));
    expect(first.user).toBe(reissued.user);
    expect(reissued.version).toBeGreaterThan(first.version);
  });
});

describe('a reset from a browser already logged in', () => {
  it('as that reader: the browser goes on in a new session, its old platform session ended', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    const before = await whoAmI(agent);
    await askReset(agent, email);
    const done = await setPassword(agent, await resetLinkFor(t, email), NEW_PASSWORD);
    expect(done.status).toBe(303);
    const after = await whoAmI(agent);
    expect(after.user?.id).toBe(before.user!.id);
    expect(after.platform!.sid).not.toBe(before.platform!.sid);
    expect(t.emulator.sessionInfo(before.platform!.sid)?.alive).toBe(false);
    expect(t.emulator.sessionInfo(after.platform!.sid)?.alive).toBe(true);
  });

  it('as another reader: the browser ends up logged in as the reader whose link it was', async () => {
    const agent = t.agent();
    await register(agent);
    const other = await whoAmI(agent);
    const { email } = await register(t.agent());
    await askReset(t.agent(), email);
    expect((await setPassword(agent, await resetLinkFor(t, email), NEW_PASSWORD)).status).toBe(303);
    const now = await whoAmI(agent);
    expect(now.user?.id).not.toBe(other.user!.id);
    expect((await agent.get('/account').expect(200)).text).toContain(`value="${email}"`);
    expect(t.emulator.sessionInfo(other.platform!.sid)?.alive).toBe(false);
  });
});

describe('device cookies issued before a reset', () => {
  it("count as a stranger's afterwards, while the cookie the reset issued is a known device", async () => {
    // Strangers get three failures at an account; a known device is not held by that counter.
    const site = await startTestSite({ overrides: { rateLimits: { ...LIMITS, loginPerAccount: 3, loginPerAccountClient: 10 } } });
    try {
      const before = site.agent();
      const { email } = await register(before);
      await askReset(site.agent(), email);
      const link = await resetLinkFor(site, email);
      const after = site.agent();
      expect((await setPassword(after, link, NEW_PASSWORD)).status).toBe(303);

      // `before` still holds the device cookie its registration issued.
      for (let i = 0; i < 3; i += 1) expect((await login(before, email, 'not the password at all')).status).toBe(401);
      expect((await login(before, email, NEW_PASSWORD)).status).toBe(429);
      expect((await login(after, email, NEW_PASSWORD)).status).toBe(303);
    } finally {
      await site.close();
    }
  });
});

describe('the limits on reset mail', () => {
  it('per address: past the limit the answer is the same, and no more mail goes', async () => {
    const site = await startTestSite({ overrides: { rateLimits: { ...LIMITS, mailPerAddress: 2, mailPerIp: 100 } } });
    try {
      const { email } = await register(site.agent());
      const answers: string[] = [];
      for (let i = 0; i < 4; i += 1) {
        const res = await askReset(site.agent(), email);
        expect(res.status).toBe(200);
        answers.push(withoutCsrf(res.text));
      }
      expect(new Set(answers).size).toBe(1);
      await resetLinkFor(site, email, 2);
      await site.site.pending.idle();
      await site.site.mail.deliver();
      expect(mailTo(site, email, SUBJECTS.reset)).toHaveLength(2);
      expect(await site.site.mail.count()).toBe(0);
    } finally {
      await site.close();
    }
  });

  it('per IP: past the limit a request is refused with 429, and no mail goes', async () => {
    const site = await startTestSite({ overrides: { rateLimits: { ...LIMITS, mailPerAddress: 100, mailPerIp: 3 } } });
    try {
      const { email } = await register(site.agent());
      for (let i = 0; i < 3; i += 1) expect((await askReset(site.agent(), email)).status).toBe(200);
      const refused = await askReset(site.agent(), email);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      await resetLinkFor(site, email, 3);
      await site.site.pending.idle();
      await site.site.mail.deliver();
      expect(mailTo(site, email, SUBJECTS.reset)).toHaveLength(3);
    } finally {
      await site.close();
    }
  });
});
