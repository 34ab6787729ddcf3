import { sql } from 'kysely';
import type { Response } from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { storeRead } from 'vf-login-bridge';
import type { PasswordHasher } from '../../src/auth/passwords';
import type { MailMessage, MailTransport } from '../../src/mail/transport';
import { createUserStore } from '../../src/store/user-store';
import { csrfFor, csrfFrom, login, register, sessionCookie, uniqueEmail } from '../helpers/browser-flow';
import { confirmLink, linkIn, mailTo, pathOf, SUBJECTS, waitForMail } from '../helpers/mail';
import { startTestSite, testPasswords, TEST_PASSWORD, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';

/**
 * The account routes (docs/accounts.md) as an attacker meets them: concurrent uses of one link,
 * links that outlive the address or the password they were mailed for, links replayed in another
 * reader's browser, hostile parameters, forged requests and headers, and what the pages, the
 * export and the log give away. Each test is one attack, and asserts that it fails.
 */

const NEW_PASSWORD = 'lantern orchard quietly 42';
const OTHER_PASSWORD = 'pebble violin harbour fog';
const SQUATTER_PASSWORD = 'squatter kept this one 77';
/** Every limit out of the way but the ones an attack is about. */
const LIMITS = {
  loginPerAccount: 100,
  loginPerIp: 1000,
  loginCeiling: 1000,
  registerPerIp: 1000,
  accountChangesPerUser: 1000,
  accountChangesPerIp: 1000,
  mailPerAddress: 100,
  mailPerIp: 1000,
};

/**
 * A hasher whose next `hash` or `verify` waits, its answer known, until the test lets it finish:
 * a reset that has looked at its link (src/accounts/password-reset-routes.ts peeks, then hashes,
 * then spends) held between the look and the spend; a deletion held once its password is checked.
 */
function gatedPasswords() {
  type Held = { started: boolean; gate: Promise<void>; release: () => void };
  const held: { hash?: Held | undefined; verify?: Held | undefined } = {};
  async function pass<T>(kind: 'hash' | 'verify', answer: T): Promise<T> {
    const mine = held[kind];
    if (mine && !mine.started) {
      mine.started = true;
      await mine.gate;
    }
    return answer;
  }
  function holdNext(kind: 'hash' | 'verify') {
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const entry = { started: false, gate, release };
    held[kind] = entry;
    return { reached: () => entry.started, release: () => entry.release() };
  }
  const hasher: PasswordHasher = {
    verify: async (hashed, password) => pass('verify', await testPasswords.verify(hashed, password)),
    verifyNothing: (password) => testPasswords.verifyNothing(password),
    hash: async (password) => pass('hash', await testPasswords.hash(password)),
  };
  return { hasher, holdNextHash: () => holdNext('hash'), holdNextVerify: () => holdNext('verify') };
}

const gate = gatedPasswords();
let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({ overrides: { rateLimits: LIMITS, passwords: gate.hasher } });
});
afterAll(() => t.close());

// ---------------------------------------------------------------------------------------------
// Small helpers: a browser's view of the site, and the mail it gets.

interface Me {
  user: { id: number; email: string; name: string } | null;
  platform: { sid: string } | null;
  csrfToken?: string;
}
const whoAmI = async (agent: TestAgent): Promise<Me> => (await agent.get('/api/session').expect(200)).body as Me;
const usersOf = (site: TestSite) => createUserStore(site.site.database.db, site.clock);
const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;

/** The session token a logged-in browser sends with AJAX. */
async function ajaxCsrf(agent: TestAgent): Promise<string> {
  const me = await whoAmI(agent);
  if (!me.csrfToken) throw new Error('not logged in: no session CSRF token');
  return me.csrfToken;
}

async function askReset(agent: TestAgent, email: string): Promise<Response> {
  const _csrf = await csrfFor(agent, '/password/forgot');
  return agent.post('/password/forgot').type('form').send({ _csrf, email });
}

/** Asks for a reset link for `email` and returns it (the first reset mail to each address here). */
async function resetLinkFor(email: string): Promise<string> {
  expect((await askReset(t.agent(), email)).status).toBe(200);
  return linkIn((await waitForMail(t, email, SUBJECTS.reset)).text, '/password/reset');
}

/** The newest verification link mailed to `email`. */
async function verifyLinkFor(email: string): Promise<string> {
  return linkIn((await waitForMail(t, email, SUBJECTS.verify)).text, '/email/verify');
}

/** The reset page's form, ready to send: its CSRF token for this browser. */
async function resetFormOf(agent: TestAgent, token: string): Promise<string> {
  return csrfFrom((await agent.get(`/password/reset?token=${token}`).expect(200)).text);
}

async function setPassword(agent: TestAgent, link: string, newPassword: string): Promise<Response> {
  const token = tokenOf(link);
  const page = await agent.get(pathOf(link));
  if (page.status !== 200) return page;
  return agent.post('/password/reset').type('form').send({ _csrf: csrfFrom(page.text), token, newPassword });
}

async function askEmailChange(agent: TestAgent, email: string, currentPassword = TEST_PASSWORD): Promise<Response> {
  const me = await whoAmI(agent);
  return agent.post('/account').type('form').send({ _csrf: await csrfFor(agent, '/account'), name: me.user!.name, email, currentPassword });
}

async function deleteAccount(agent: TestAgent, currentPassword = TEST_PASSWORD): Promise<Response> {
  return agent.post('/account/delete').type('form').send({ _csrf: await csrfFor(agent, '/account'), currentPassword });
}

/** A new reader, logged in in a browser of their own. */
async function newReader(fields: { email?: string; name?: string; password?: string } = {}) {
  const agent = t.agent();
  const { res, email, name } = await register(agent, fields);
  expect(res.status).toBe(303);
  const me = await whoAmI(agent);
  return { agent, email, name, id: me.user!.id, platformSid: me.platform!.sid };
}

function sidOf(res: { headers: Record<string, unknown> }): string {
  const sid = /^s:(.+)\.[^.]+$/.exec(decodeURIComponent(sessionCookie(res) ?? ''))?.[1];
  if (!sid) throw new Error('no session cookie on the answer');
  return sid;
}

const accountOf = async (id: number) => usersOf(t).findById(id);

/**
 * Platform sessions of the reader still alive on the platform whose host session is not: a
 * session the reader can no longer see or end. Delivers queued logouts first, as the job does.
 */
async function orphanedPlatformSessions(site: TestSite, userId: number): Promise<string[]> {
  await site.site.jobs.run('deliver');
  const rows = await site.site.database.db
    .selectFrom('bridge_sessions')
    .select(['host_sid', 'platform_session'])
    .where('host_user_id', '=', String(userId))
    .execute();
  const orphans: string[] = [];
  for (const row of rows) {
    if (row.platform_session === null || !site.emulator.sessionInfo(row.platform_session)?.alive) continue;
    const data = await storeRead(site.site.sessions.store, row.host_sid);
    if (data?.passport?.user !== userId) orphans.push(row.platform_session);
  }
  return orphans;
}

/**
 * Until released, the account's one-time links are locked (PostgreSQL: `FOR UPDATE` on its
 * `account_tokens` rows, from a connection of the test's own); `blocked()` counts the site's
 * statements waiting behind that lock, directly or behind another waiter. SQLite has one
 * connection: holding it holds every statement, and nothing can be counted.
 */
async function holdLinksOf(site: TestSite, userId: number) {
  const { db, dialect } = site.site.database;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holder = 0;
  let held!: () => void;
  const holding = new Promise<void>((resolve) => (held = resolve));
  const done = db.transaction().execute(async (tx) => {
    if (dialect === 'postgres') {
      holder = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
      await tx.selectFrom('account_tokens').select('token_hash').where('user_id', '=', userId).forUpdate().execute();
    } else {
      await sql`select 1`.execute(tx);
    }
    held();
    await released;
  });
  await holding;
  return {
    postgres: dialect === 'postgres',
    async blocked(): Promise<number> {
      const { rows } = await sql<{ n: number }>`
        with recursive chain(pid) as (
          select a.pid from pg_stat_activity a where ${holder}::int = any(pg_blocking_pids(a.pid))
          union
          select a.pid from pg_stat_activity a join chain c on c.pid = any(pg_blocking_pids(a.pid))
        )
        select count(*)::int as n from chain`.execute(db);
      return rows[0]!.n;
    },
    async release(): Promise<void> {
      release();
      await done;
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe('races: one link, two requests at once', () => {
  it('two resets with the same link at once: exactly one sets its password, the other is told the link is spent', async () => {
    const { email, id } = await newReader();
    const token = tokenOf(await resetLinkFor(email));
    const first = t.agent();
    const second = t.agent();
    const [firstCsrf, secondCsrf] = await Promise.all([resetFormOf(first, token), resetFormOf(second, token)]);
    const versionBefore = (await accountOf(id))!.credentialsVersion;

    const answers = await Promise.all([
      first.post('/password/reset').type('form').send({ _csrf: firstCsrf, token, newPassword: NEW_PASSWORD }),
      second.post('/password/reset').type('form').send({ _csrf: secondCsrf, token, newPassword: OTHER_PASSWORD }),
    ]);

    expect(answers.map((res) => res.status).sort()).toEqual([303, 400]);
    const winner = answers[0]!.status === 303 ? 0 : 1;
    const [won, lost] = winner === 0 ? [NEW_PASSWORD, OTHER_PASSWORD] : [OTHER_PASSWORD, NEW_PASSWORD];
    expect(answers[1 - winner]!.text).toContain('This link is no longer valid');
    expect((await login(t.agent(), email, won)).status).toBe(303);
    expect((await login(t.agent(), email, lost)).status).toBe(401);
    expect((await accountOf(id))!.credentialsVersion).toBe(versionBefore + 1);
    expect((await whoAmI([first, second][winner]!)).user?.id).toBe(id);
    expect((await whoAmI([first, second][1 - winner]!)).user).toBeNull();
    // One password, one notice.
    await t.site.mail.deliver();
    expect(mailTo(t, email, SUBJECTS.passwordChanged)).toHaveLength(1);
  });

  it('two confirmations of one verification link at once: exactly one confirms', async () => {
    const { email, id } = await newReader();
    const token = tokenOf(await verifyLinkFor(email));
    const browsers = [t.agent(), t.agent(), t.agent()];
    const tokens = await Promise.all(browsers.map((browser) => browser.get(`/email/verify?token=${token}`).expect(200).then((page) => csrfFrom(page.text))));

    const answers = await Promise.all(browsers.map((browser, i) => browser.post('/email/verify').set('Accept', 'application/json').send({ _csrf: tokens[i], token })));

    expect(answers.map((res) => res.status).sort()).toEqual([200, 400, 400]);
    for (const res of answers.filter((answer) => answer.status === 400)) expect(res.body.error.code).toBe('LINK_INVALID');
    expect((await accountOf(id))!.emailVerified).toBe(true);
  });

  it('a reset that looked at its link before the address changed, and spends it after, is refused: the link was for the old address', async () => {
    const { agent, email, id } = await newReader();
    const moved = uniqueEmail('moved');
    const resetLink = await resetLinkFor(email);
    expect((await askEmailChange(agent, moved)).status).toBe(303);
    const changeLink = await verifyLinkFor(moved);

    const resetting = t.agent();
    const _csrf = await resetFormOf(resetting, tokenOf(resetLink));
    const held = gate.holdNextHash();
    const reset = resetting.post('/password/reset').type('form').send({ _csrf, token: tokenOf(resetLink), newPassword: NEW_PASSWORD }).then((res) => res);
    await waitFor(held.reached, 'the reset to have looked at its link');
    // While the reset waits, the reader confirms the new address.
    expect((await confirmLink(agent, changeLink)).confirm.status).toBe(303);
    held.release();

    const answer = await reset;
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('This link is no longer valid');
    expect((await accountOf(id))!.email).toBe(moved);
    expect((await login(t.agent(), moved, NEW_PASSWORD)).status).toBe(401);
    expect((await whoAmI(agent)).user?.id).toBe(id);
  });

  it('a reset and the confirmation of an email change at once: one of them takes effect, never both', async () => {
    const { agent, email, id } = await newReader();
    const moved = uniqueEmail('moved');
    const resetLink = await resetLinkFor(email);
    expect((await askEmailChange(agent, moved)).status).toBe(303);
    const changeLink = await verifyLinkFor(moved);

    const resetting = t.agent();
    const confirming = t.agent();
    const resetCsrf = await resetFormOf(resetting, tokenOf(resetLink));
    const confirmCsrf = csrfFrom((await confirming.get(pathOf(changeLink)).expect(200)).text);
    const [reset, confirm] = await Promise.all([
      resetting.post('/password/reset').type('form').send({ _csrf: resetCsrf, token: tokenOf(resetLink), newPassword: NEW_PASSWORD }),
      confirming.post('/email/verify').type('form').send({ _csrf: confirmCsrf, token: tokenOf(changeLink) }),
    ]);

    const account = (await accountOf(id))!;
    if (reset.status === 303) {
      // The reset came first: it ended the change the (possibly stolen) old password had asked for.
      expect(confirm.status).toBe(400);
      expect(account.email).toBe(email);
      expect((await login(t.agent(), email, NEW_PASSWORD)).status).toBe(303);
    } else {
      expect(reset.status).toBe(400);
      expect(confirm.status).toBe(200);
      expect(account.email).toBe(moved);
      expect((await login(t.agent(), moved, TEST_PASSWORD)).status).toBe(303);
    }
  });

  /**
   * Deletes the reader's account while `use` spends one of its links. The deletion checks the
   * password first and is held there, so the race is between the two transactions alone. On
   * PostgreSQL both are then made to wait on the account's links, the link's use first: it holds
   * its link and wants the account row, so a deletion that took the account row before the links
   * would deadlock with it.
   */
  async function deleteWhileUsing(reader: { agent: TestAgent; id: number }, use: () => Promise<Response>): Promise<{ use: Response; deletion: Response }> {
    const deleteCsrf = await csrfFor(reader.agent, '/account');
    const checked = gate.holdNextVerify();
    const deletion = reader.agent.post('/account/delete').type('form').send({ _csrf: deleteCsrf, currentPassword: TEST_PASSWORD }).then((res) => res);
    await waitFor(checked.reached, 'the deletion to have checked the password');
    const hold = await holdLinksOf(t, reader.id);
    try {
      const using = use();
      if (hold.postgres) await waitFor(async () => (await hold.blocked()) >= 1, 'the link to wait on the lock');
      checked.release();
      if (hold.postgres) await waitFor(async () => (await hold.blocked()) >= 2, 'the deletion to wait on it too');
      await hold.release();
      const [used, deleted] = await Promise.all([using, deletion]);
      return { use: used, deletion: deleted };
    } finally {
      checked.release();
      await hold.release();
    }
  }

  /** The reader's reset link is used in another browser while the account is being deleted. */
  async function resetWhileDeleting(reader: Awaited<ReturnType<typeof newReader>>) {
    const token = tokenOf(await resetLinkFor(reader.email));
    const resetting = t.agent();
    const _csrf = await resetFormOf(resetting, token);
    const answers = await deleteWhileUsing(reader, () => resetting.post('/password/reset').type('form').send({ _csrf, token, newPassword: NEW_PASSWORD }).then((res) => res));
    return { answers, resetting };
  }

  it("a deletion while the account's reset link is being used: both finish, the account is gone, and nobody is left logged in", async () => {
    const reader = await newReader();
    const { answers, resetting } = await resetWhileDeleting(reader);

    // Whichever came first: the reset set a password the deleted account no longer has (409), or found its link gone with the account (400).
    expect([400, 409]).toContain(answers.use.status);
    expect(answers.deletion.status).toBe(303);
    expect(answers.deletion.headers.location).toBe('/?deleted=1');
    expect(await accountOf(reader.id)).toBeUndefined();
    expect((await whoAmI(resetting)).user).toBeNull();
    expect((await whoAmI(reader.agent)).user).toBeNull();
    expect((await login(t.agent(), reader.email, NEW_PASSWORD)).status).toBe(401);
    expect(await orphanedPlatformSessions(t, reader.id)).toEqual([]);
  });

  it('a deletion while a reset link is used, with an email change waiting on its own link: both finish, and the account is gone', async () => {
    const reader = await newReader();
    // The change's link is written before the reset's: a scan of the account's links meets it first.
    expect((await askEmailChange(reader.agent, uniqueEmail('moved'))).status).toBe(303);
    const { answers } = await resetWhileDeleting(reader);

    expect([400, 409]).toContain(answers.use.status);
    expect(answers.deletion.status).toBe(303);
    expect(await accountOf(reader.id)).toBeUndefined();
    expect(await orphanedPlatformSessions(t, reader.id)).toEqual([]);
  });

  it('a deletion while an email change of the account is being confirmed: both finish, and the account is gone with both addresses free', async () => {
    const reader = await newReader();
    const moved = uniqueEmail('moved');
    expect((await askEmailChange(reader.agent, moved)).status).toBe(303);
    const token = tokenOf(await verifyLinkFor(moved));
    const confirming = t.agent();
    const _csrf = csrfFrom((await confirming.get(`/email/verify?token=${token}`).expect(200)).text);

    const answers = await deleteWhileUsing(reader, () => confirming.post('/email/verify').type('form').send({ _csrf, token }).then((res) => res));

    expect([200, 400]).toContain(answers.use.status);
    expect(answers.deletion.status).toBe(303);
    expect(await accountOf(reader.id)).toBeUndefined();
    expect(await usersOf(t).findByEmail(moved)).toBeUndefined();
    expect(await usersOf(t).findByEmail(reader.email)).toBeUndefined();
    expect(await orphanedPlatformSessions(t, reader.id)).toEqual([]);
  });

  it('"log out everywhere else" racing a new login of the same reader leaves no session the reader cannot see', async () => {
    const { agent: here, email, id } = await newReader();
    const other = t.agent();
    expect((await login(other, email)).status).toBe(303);
    const otherPlatform = (await whoAmI(other)).platform!.sid;
    const _csrf = await csrfFor(here, '/account/sessions');

    // The logout pass waits on the platform, so the new login lands while it runs.
    t.emulator.faults.setLatency(300, 'logout');
    const logoutsBefore = t.emulator.stats().calls.logout;
    try {
      const ending = here.post('/account/sessions/logout-others').type('form').send({ _csrf }).then((res) => res);
      await waitFor(() => t.emulator.stats().calls.logout > logoutsBefore, 'the logout pass to reach the platform');
      const newcomer = t.agent();
      expect((await login(newcomer, email)).status).toBe(303);
      expect((await ending).status).toBe(303);
      t.emulator.faults.reset();

      expect((await whoAmI(other)).user).toBeNull();
      expect(t.emulator.sessionInfo(otherPlatform)?.alive).toBe(false);
      // The login that came in during the pass survived it, and is on the reader's list, where it can be ended.
      const newcomerPlatform = (await whoAmI(newcomer)).platform!.sid;
      const listed = (await here.get('/account/sessions').set('Accept', 'application/json').expect(200)).body.sessions as Array<{ id: string; current: boolean }>;
      expect(listed.map((session) => session.current).sort()).toEqual([false, true]);
      expect(await orphanedPlatformSessions(t, id)).toEqual([]);
      const ended = await here
        .post(`/account/sessions/${listed.find((session) => !session.current)!.id}/logout`)
        .type('form')
        .send({ _csrf: await csrfFor(here, '/account/sessions') });
      expect(ended.status).toBe(303);
      expect((await whoAmI(newcomer)).user).toBeNull();
      expect(t.emulator.sessionInfo(newcomerPlatform)?.alive).toBe(false);
    } finally {
      t.emulator.faults.reset();
    }
  });
});

describe('links that outlive what they were mailed for', () => {
  it('a verification link for address B is dead once the reader asked for C instead, and stays dead after C is confirmed', async () => {
    const { agent, email, id } = await newReader();
    const b = uniqueEmail('b');
    const c = uniqueEmail('c');
    expect((await askEmailChange(agent, b)).status).toBe(303);
    const linkB = await verifyLinkFor(b);
    expect((await askEmailChange(agent, c)).status).toBe(303);
    const linkC = await verifyLinkFor(c);

    expect((await t.agent().get(pathOf(linkB))).status).toBe(400);
    expect((await confirmLink(agent, linkC)).confirm.status).toBe(303);
    const replay = await confirmLink(t.agent(), linkB);
    expect(replay.page.status).toBe(400);
    // Straight to the button, past the page: the same.
    const post = await agent.post('/email/verify').set('Accept', 'application/json').send({ _csrf: await ajaxCsrf(agent), token: tokenOf(linkB) });
    expect(post.status).toBe(400);
    expect((await accountOf(id))!.email).toBe(c);
    // The account's own address was told of both asks.
    await waitForMail(t, email, SUBJECTS.changeNotice, { count: 2 });
  });

  it('a reset link mailed before the address changed does not open after it', async () => {
    const { agent, email } = await newReader();
    const link = await resetLinkFor(email);
    const moved = uniqueEmail('moved');
    expect((await askEmailChange(agent, moved)).status).toBe(303);
    await confirmLink(agent, await verifyLinkFor(moved));
    expect((await setPassword(t.agent(), link, NEW_PASSWORD)).status).toBe(400);
    expect((await login(t.agent(), moved, TEST_PASSWORD)).status).toBe(303);
  });

  it('account pre-hijacking: a squatter registers the owner\'s address and asks to move the account to their own mailbox; the owner\'s reset ends the squatter\'s way back in', async () => {
    const owner = uniqueEmail('owner');
    const squatterMailbox = uniqueEmail('squatter');
    const squatter = t.agent();
    expect((await register(squatter, { email: owner, name: 'Squatter', password: SQUATTER_PASSWORD })).res.status).toBe(303);
    // The owner cannot register: the address has an (unverified) account, in any spelling.
    for (const spelling of [owner, owner.toUpperCase(), `  ${owner}  `]) expect((await register(t.agent(), { email: spelling })).res.status).toBe(409);
    // The squatter, who knows the password they chose, asks for the account to move to their own mailbox.
    expect((await askEmailChange(squatter, squatterMailbox, SQUATTER_PASSWORD)).status).toBe(303);
    const squattersLink = await verifyLinkFor(squatterMailbox);

    // The owner takes the account back from their mailbox, and an operator makes it an administrator.
    const ownerBrowser = t.agent();
    const reset = await setPassword(ownerBrowser, await resetLinkFor(owner), NEW_PASSWORD);
    expect(reset.status).toBe(303);
    await usersOf(t).setRole(owner, 'admin');
    await ownerBrowser.get('/admin/platform').expect(200);

    expect((await whoAmI(squatter)).user).toBeNull();
    expect((await login(t.agent(), owner, SQUATTER_PASSWORD)).status).toBe(401);
    // The link the squatter holds no longer moves the account anywhere.
    const { page } = await confirmLink(t.agent(), squattersLink);
    expect(page.status).toBe(400);
    const account = (await usersOf(t).findByEmail(owner))!;
    expect(account).toMatchObject({ email: owner, emailVerified: true, role: 'admin' });
    expect(await usersOf(t).findByEmail(squatterMailbox)).toBeUndefined();
    expect((await ownerBrowser.get('/account').expect(200)).text).not.toContain(squatterMailbox);
    // Nor can the squatter have a reset link sent to their mailbox.
    await askReset(t.agent(), squatterMailbox);
    await t.site.pending.idle();
    await t.site.mail.deliver();
    expect(mailTo(t, squatterMailbox, SUBJECTS.reset)).toHaveLength(0);
  });

  it('an email change asked with a stolen password ends when the owner changes the password, as the notice tells them to', async () => {
    const { agent: ownerBrowser, email, id } = await newReader();
    const thief = t.agent();
    expect((await login(thief, email)).status).toBe(303);
    const thiefMailbox = uniqueEmail('thief');
    expect((await askEmailChange(thief, thiefMailbox)).status).toBe(303);
    const thiefsLink = await verifyLinkFor(thiefMailbox);
    const notice = await waitForMail(t, email, SUBJECTS.changeNotice);
    expect(notice.text).toContain('change your password now');

    const changed = await ownerBrowser
      .post('/account/password')
      .type('form')
      .send({ _csrf: await csrfFor(ownerBrowser, '/account'), currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.status).toBe(303);

    expect((await whoAmI(thief)).user).toBeNull();
    const { page } = await confirmLink(t.agent(), thiefsLink);
    expect(page.status).toBe(400);
    expect((await accountOf(id))!.email).toBe(email);
    expect((await ownerBrowser.get('/account').expect(200)).text).not.toContain(thiefMailbox);
  });

  it('a password change keeps the link that confirms the account\'s own address', async () => {
    const { agent, email, id } = await newReader();
    const link = await verifyLinkFor(email);
    const changed = await agent.post('/account/password').type('form').send({ _csrf: await csrfFor(agent, '/account'), currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.status).toBe(303);
    expect((await confirmLink(agent, link)).confirm.status).toBe(303);
    expect((await accountOf(id))!.emailVerified).toBe(true);
  });

  it('a reset link of a deleted account opens nothing, even once the address has registered again', async () => {
    const { agent, email } = await newReader();
    const link = await resetLinkFor(email);
    const verify = await verifyLinkFor(email);
    expect((await deleteAccount(agent)).status).toBe(303);
    const { id: newId } = await newReader({ email });

    expect((await setPassword(t.agent(), link, NEW_PASSWORD)).status).toBe(400);
    expect((await t.agent().get(pathOf(verify))).status).toBe(400);
    expect((await login(t.agent(), email, TEST_PASSWORD)).status).toBe(303);
    expect((await accountOf(newId))!.emailVerified).toBe(false);
  });

  it('every link is single use: a spent verification or reset link opens nothing', async () => {
    const { agent, email } = await newReader();
    const verify = await verifyLinkFor(email);
    expect((await confirmLink(agent, verify)).confirm.status).toBe(303);
    expect((await confirmLink(agent, verify)).page.status).toBe(400);
    const reset = await resetLinkFor(email);
    expect((await setPassword(t.agent(), reset, NEW_PASSWORD)).status).toBe(303);
    expect((await setPassword(t.agent(), reset, OTHER_PASSWORD)).status).toBe(400);
  });

  it('a link works only for its own purpose: a verification token resets nothing, a reset token confirms nothing', async () => {
    const { agent, email, id } = await newReader();
    const verify = tokenOf(await verifyLinkFor(email));
    const reset = tokenOf(await resetLinkFor(email));

    expect((await t.agent().get(`/password/reset?token=${verify}`)).status).toBe(400);
    const anon = t.agent();
    const _csrf = await csrfFor(anon, '/password/forgot');
    expect((await anon.post('/password/reset').type('form').send({ _csrf, token: verify, newPassword: NEW_PASSWORD })).status).toBe(400);
    expect((await t.agent().get(`/email/verify?token=${reset}`)).status).toBe(400);
    expect((await agent.post('/email/verify').set('Accept', 'application/json').send({ _csrf: await ajaxCsrf(agent), token: reset })).status).toBe(400);

    expect((await accountOf(id))!.emailVerified).toBe(false);
    expect((await login(t.agent(), email, NEW_PASSWORD)).status).toBe(401);
    // Both still work where they belong.
    expect((await confirmLink(agent, `http://127.0.0.1/email/verify?token=${verify}`)).confirm.status).toBe(303);
    expect((await setPassword(t.agent(), `http://127.0.0.1/password/reset?token=${reset}`, NEW_PASSWORD)).status).toBe(303);
  });
});

describe("another reader's link in a logged-in browser", () => {
  it("confirms the link's account only: the logged-in reader is not verified, not changed, and told nothing about the other", async () => {
    const x = await newReader({ name: 'Xavier' });
    const y = await newReader({ name: 'Yolanda' });
    const yLink = await verifyLinkFor(y.email);

    const { page, confirm } = await confirmLink(x.agent, yLink);
    expect(page.status).toBe(200);
    // A page that says so, never the logged-in reader's account page.
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('is confirmed as the address of your account');
    expect((await accountOf(y.id))!.emailVerified).toBe(true);
    const xNow = (await accountOf(x.id))!;
    expect(xNow).toMatchObject({ email: x.email, emailVerified: false });
    const me = await whoAmI(x.agent);
    expect(me.user).toMatchObject({ id: x.id, email: x.email, name: 'Xavier' });
  });

  it('the same as JSON: ok, and no reader in the answer', async () => {
    const x = await newReader();
    const y = await newReader();
    const token = tokenOf(await verifyLinkFor(y.email));
    const res = await x.agent.post('/email/verify').set('Accept', 'application/json').send({ _csrf: await ajaxCsrf(x.agent), token }).expect(200);
    expect(res.body).toEqual({ ok: true });
    expect((await accountOf(x.id))!.emailVerified).toBe(false);
    expect((await accountOf(y.id))!.emailVerified).toBe(true);
  });
});

describe('what a link page gives away', () => {
  it('the link pages and their answers say Referrer-Policy: no-referrer, and no link on them repeats the token', async () => {
    const { agent, email } = await newReader();
    const verify = tokenOf(await verifyLinkFor(email));
    const reset = tokenOf(await resetLinkFor(email));
    const visitor = t.agent();

    const pages = [
      await visitor.get(`/email/verify?token=${verify}`),
      await agent.get(`/email/verify?token=${verify}`),
      await visitor.get(`/password/reset?token=${reset}`),
      await agent.get(`/password/reset?token=${reset}`),
    ];
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.headers['cache-control']).toBe('no-store');
      const token = page.text.includes(verify) ? verify : reset;
      // The token is in the form's hidden field, and nowhere else: no link, action or source carries it.
      expect(page.text.split(token)).toHaveLength(2);
      expect(page.text).toContain(`name="token" value="${token}"`);
      for (const attribute of page.text.matchAll(/(?:href|action|src)="([^"]*)"/g)) expect(attribute[1]).not.toContain('token');
      // No third-party script runs beside the token: the platform's embed is left off these pages.
      expect(page.text).not.toContain('id="viafoura-platform"');
      expect(page.text).not.toContain(t.emulator.embedSrc);
    }
    // The anonymous page's login link names the path only.
    expect(pages[0]!.text).toContain('href="/login?returnTo=%2Femail%2Fverify"');

    // A link that does not open: the same header, and the token it was given is not echoed.
    const unknown = 'A'.repeat(43);
    const problem = await visitor.get(`/email/verify?token=${unknown}`);
    expect(problem.status).toBe(400);
    expect(problem.headers['referrer-policy']).toBe('no-referrer');
    expect(problem.text).not.toContain(unknown);
    expect((await visitor.get(`/password/reset?token=${unknown}`)).text).not.toContain(unknown);

    // After the button: redirects whose target carries no token.
    const confirmed = await confirmLink(agent, `http://127.0.0.1/email/verify?token=${verify}`);
    expect(confirmed.confirm.headers.location).toBe('/account?verified=1');
    const done = await setPassword(visitor, `http://127.0.0.1/password/reset?token=${reset}`, NEW_PASSWORD);
    expect(done.headers.location).toBe('/account?password=reset');
    expect(done.headers['referrer-policy']).toBe('no-referrer');
  });

  it('no token reaches the log: not from the link, the form, a failed use, nor a Referer a browser sends after it', async () => {
    const { agent, email } = await newReader();
    const verify = tokenOf(await verifyLinkFor(email));
    const reset = tokenOf(await resetLinkFor(email));
    const from = t.logLines.length;

    await confirmLink(agent, `http://127.0.0.1/email/verify?token=${verify}`);
    await confirmLink(agent, `http://127.0.0.1/email/verify?token=${verify}`);
    await setPassword(t.agent(), `http://127.0.0.1/password/reset?token=${reset}`, 'short');
    await setPassword(t.agent(), `http://127.0.0.1/password/reset?token=${reset}`, NEW_PASSWORD);
    await t.agent().get(`/password/reset?token=${reset}&token=${verify}`);
    // A browser that ignores Referrer-Policy names the link page on its next request.
    await t.agent().get('/').set('Referer', `http://127.0.0.1/password/reset?token=${reset}`).expect(200);
    await t.agent().get('/login').set('Referer', `http://127.0.0.1/email/verify?x=1&token=${verify}#frag`).expect(200);

    const logged = t.logLines.slice(from).join('\n');
    expect(logged).toContain('GET /password/reset?token=[redacted]');
    expect(logged).toContain('"referer":"http://127.0.0.1/password/reset?token=[redacted]"');
    expect(logged).not.toContain(verify);
    expect(logged).not.toContain(reset);
  });
});

describe('hostile parameters in front of the token', () => {
  it('a token sent twice, as an array, as an object, huge, or with look-alike characters opens nothing, spends nothing, and never errs', async () => {
    const { agent, email, id } = await newReader();
    const token = tokenOf(await verifyLinkFor(email));
    const other = 'B'.repeat(43);

    const queries = [
      `token=${token}&token=${other}`,
      `token=${other}&token=${token}`,
      `token[]=${token}`,
      `token[0]=${token}`,
      `token=${'C'.repeat(10_000)}`,
      `token=${encodeURIComponent(token.slice(0, 42) + '\u0410')}`,
      `token=${encodeURIComponent(token + '\u200b')}`,
      `token=${encodeURIComponent(token.replace(/[A-Za-z]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)))}`,
      `token=%ZZ${token}`,
    ];
    for (const query of queries) {
      const page = await agent.get(`/email/verify?${query}`);
      expect([query, page.status]).toEqual([query, 400]);
      expect(page.text).toContain('This link is no longer valid');
    }

    const _csrf = await ajaxCsrf(agent);
    const bodies: unknown[] = [{ token: [token] }, { token: [token, token] }, { token: { $ne: null } }, { token: `${token}\u0000` }, { token: 'D'.repeat(15_000) }, [token], { 'token[]': token }];
    for (const body of bodies) {
      const res = await agent.post('/email/verify').set('Accept', 'application/json').set('X-CSRF-Token', _csrf).send(body as object);
      expect([JSON.stringify(body).slice(0, 60), res.status]).toEqual([JSON.stringify(body).slice(0, 60), 400]);
    }
    // A form repeating the field reaches the route as a list: no token.
    const form = await agent.post('/email/verify').type('form').set('Accept', 'application/json').send(`_csrf=${encodeURIComponent(_csrf)}&token=${token}&token=${token}`);
    expect(form.status).toBe(400);
    expect(form.body.error.code).toBe('LINK_INVALID');
    // Over the body limit: refused before any route.
    const huge = await agent.post('/email/verify').set('Accept', 'application/json').set('X-CSRF-Token', _csrf).send({ token: 'E'.repeat(20_000) });
    expect(huge.status).toBe(413);

    expect((await accountOf(id))!.emailVerified).toBe(false);
    expect((await confirmLink(agent, `http://127.0.0.1/email/verify?token=${token}`)).confirm.status).toBe(303);
  });

  it('the reset form takes no list either: a repeated token field is no token', async () => {
    const { email } = await newReader();
    const token = tokenOf(await resetLinkFor(email));
    const browser = t.agent();
    const _csrf = await resetFormOf(browser, token);
    const res = await browser.post('/password/reset').type('form').send(`_csrf=${encodeURIComponent(_csrf)}&token=${token}&token=${'F'.repeat(43)}&newPassword=${encodeURIComponent(NEW_PASSWORD)}`);
    expect(res.status).toBe(400);
    expect((await login(t.agent(), email, NEW_PASSWORD)).status).toBe(401);
  });

  it("a session's :id as another reader's public id, as the session id itself, or as a path: 404, and nothing ends", async () => {
    const x = await newReader();
    const y = await newReader();
    const yPublicId = (await y.agent.get('/account/sessions').set('Accept', 'application/json').expect(200)).body.sessions[0].id as string;
    const xRow = await t.site.database.db.selectFrom('user_sessions').select(['sid', 'public_id']).where('user_id', '=', x.id).executeTakeFirstOrThrow();

    const swapCase = (text: string) => [...text].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
    const ids = [yPublicId, encodeURIComponent(xRow.sid), '..%2F', '..', `%2E%2E%2F${xRow.public_id}`, `${xRow.public_id}%00`, swapCase(xRow.public_id), 'A'.repeat(5000)];
    const _csrf = await ajaxCsrf(x.agent);
    for (const id of ids) {
      const res = await x.agent.post(`/account/sessions/${id}/logout`).set('Accept', 'application/json').set('X-CSRF-Token', _csrf).send({});
      expect([id.slice(0, 40), res.status]).toEqual([id.slice(0, 40), 404]);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const malformed = await x.agent.post('/account/sessions/%ZZ/logout').set('Accept', 'application/json').set('X-CSRF-Token', _csrf).send({});
    expect(malformed.status).toBe(400);

    expect((await whoAmI(x.agent)).user?.id).toBe(x.id);
    expect((await whoAmI(y.agent)).user?.id).toBe(y.id);
    expect(t.emulator.sessionInfo(y.platformSid)?.alive).toBe(true);
  });

  it("a reader sees only their own sessions, on the page and in JSON, and the page escapes what a browser says it is", async () => {
    const x = await newReader();
    const yBrowser = t.agent().set('User-Agent', '<script>alert("ua")</script> "><img src=x onerror=alert(1)>');
    const { res } = await register(yBrowser);
    const ySid = sidOf(res);
    const yPublicId = (await yBrowser.get('/account/sessions').set('Accept', 'application/json').expect(200)).body.sessions[0].id as string;

    const page = (await x.agent.get('/account/sessions').expect(200)).text;
    const json = JSON.stringify((await x.agent.get('/account/sessions').set('Accept', 'application/json').expect(200)).body);
    for (const text of [page, json]) {
      expect(text).not.toContain(yPublicId);
      expect(text).not.toContain(ySid);
    }
    const yPage = (await yBrowser.get('/account/sessions').expect(200)).text;
    expect(yPage).not.toContain('<script>alert');
    expect(yPage).not.toContain('<img src=x');
    expect(yPage).not.toContain(ySid);
  });
});

describe('forged requests', () => {
  it('every account POST without the CSRF token, or with another browser\'s, is refused (forms and JSON), and changes nothing', async () => {
    const victim = await newReader();
    const elsewhere = t.agent();
    expect((await login(elsewhere, victim.email)).status).toBe(303);
    const attacker = await newReader();
    const attackersToken = await ajaxCsrf(attacker.agent);
    const verify = tokenOf(await verifyLinkFor(victim.email));
    const reset = tokenOf(await resetLinkFor(victim.email));
    const publicId = ((await victim.agent.get('/account/sessions').set('Accept', 'application/json').expect(200)).body.sessions as Array<{ id: string; current: boolean }>).find((s) => !s.current)!.id;
    const mailBefore = t.site.devInbox!.messages().length;

    const posts: Array<[string, Record<string, string>]> = [
      ['/register', { email: uniqueEmail('forged'), name: 'Forged', password: NEW_PASSWORD }],
      ['/login', { email: attacker.email, password: TEST_PASSWORD }],
      ['/email/verify', { token: verify }],
      ['/email/verify/resend', {}],
      ['/password/forgot', { email: victim.email }],
      ['/password/reset', { token: reset, newPassword: NEW_PASSWORD }],
      ['/account', { name: 'Forged', email: uniqueEmail('forged'), currentPassword: TEST_PASSWORD }],
      ['/account/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD }],
      ['/account/sessions/logout-others', {}],
      [`/account/sessions/${publicId}/logout`, {}],
      ['/account/delete', { currentPassword: TEST_PASSWORD }],
      ['/admin/platform/connect', {}],
    ];
    for (const [path, fields] of posts) {
      const attempts = [
        victim.agent.post(path).type('form').send(fields),
        victim.agent.post(path).type('form').send({ ...fields, _csrf: attackersToken }),
        victim.agent.post(path).set('Accept', 'application/json').send(fields),
        victim.agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', attackersToken).send(fields),
        victim.agent.post(path).set('Content-Type', 'text/plain').send(new URLSearchParams(fields).toString()),
      ];
      for (const attempt of attempts) expect([path, (await attempt).status]).toEqual([path, 403]);
    }

    const me = await whoAmI(victim.agent);
    expect(me.user).toMatchObject({ id: victim.id, email: victim.email, name: victim.name });
    expect((await whoAmI(elsewhere)).user?.id).toBe(victim.id);
    expect((await accountOf(victim.id))!).toMatchObject({ emailVerified: false, credentialsVersion: 1 });
    await t.site.pending.idle();
    await t.site.mail.deliver();
    expect(t.site.devInbox!.messages().length).toBe(mailBefore);
    // Both links still work for their owner.
    expect((await t.agent().get(`/email/verify?token=${verify}`)).status).toBe(200);
    expect((await t.agent().get(`/password/reset?token=${reset}`)).status).toBe(200);
  });

  it("login CSRF through a reset link: the attacker's form token, replayed from the victim's browser, is refused", async () => {
    const attacker = await newReader();
    const token = tokenOf(await resetLinkFor(attacker.email));
    const attackersBrowser = t.agent();
    const _csrf = await resetFormOf(attackersBrowser, token);
    const victim = await newReader();

    const forged = await victim.agent.post('/password/reset').type('form').send({ _csrf, token, newPassword: NEW_PASSWORD });
    expect(forged.status).toBe(403);
    const anonymous = t.agent();
    await anonymous.get('/').expect(200);
    expect((await anonymous.post('/password/reset').type('form').send({ _csrf, token, newPassword: NEW_PASSWORD })).status).toBe(403);
    expect((await whoAmI(victim.agent)).user?.id).toBe(victim.id);
    expect((await login(t.agent(), attacker.email, NEW_PASSWORD)).status).toBe(401);
  });
});

describe('mail headers and links', () => {
  it('registration refuses a name or an address with CR/LF or other control characters; an email change and a reset request refuse such an address', async () => {
    const badNames = ['Eve\r\nBcc: victim@example.com', 'Eve\nX-Injected: 1', 'Eve\u0000', 'Eve\u001b[31m'];
    for (const name of badNames) {
      const { res } = await register(t.agent(), { name });
      expect([JSON.stringify(name), res.status]).toEqual([JSON.stringify(name), 400]);
    }
    const badAddresses = [`${uniqueEmail('crlf')}\r\nBcc: victim@example.com`, `${uniqueEmail('lf')}\nBcc: victim@example.com`, '"eve\r\nbcc"@example.com', `eve@example.com\r\n.\r\nMAIL FROM:<x@example.com>`];
    for (const email of badAddresses) {
      const { res } = await register(t.agent(), { email });
      expect([JSON.stringify(email), res.status]).toEqual([JSON.stringify(email), 400]);
    }
    const { agent } = await newReader();
    for (const email of badAddresses) expect((await askEmailChange(agent, email)).status).toBe(400);
    const before = t.site.devInbox!.messages().length;
    for (const email of badAddresses) expect((await askReset(t.agent(), email)).status).toBe(400);
    await t.site.pending.idle();
    await t.site.mail.deliver();
    expect(t.site.devInbox!.messages().length).toBe(before);
    expect(t.site.devInbox!.messages().some((message) => /victim@example\.com|\r|\n/.test(message.to) || /[\r\n]/.test(message.subject))).toBe(false);
  });

  it('a look-alike of an address (another case, spaces, a Kelvin sign) never gets mail: the reset goes to the address the account has', async () => {
    const email = uniqueEmail('kate');
    await newReader({ email });
    const statuses: number[] = [];
    for (const lookAlike of [email.toUpperCase(), ` ${email} `, email.replace('k', '\u212a')]) statuses.push((await askReset(t.agent(), lookAlike)).status);
    // The Kelvin sign lower-cases to "k": an address a lookup would match, refused before any lookup.
    expect(statuses).toEqual([200, 200, 400]);
    await t.site.pending.idle();
    await t.site.mail.deliver();
    const mine = email.slice(email.indexOf('-'));
    const resets = t.site.devInbox!.messages().filter((message) => message.subject.includes(SUBJECTS.reset) && message.to.toLowerCase().includes(mine));
    expect(resets.map((message) => message.to)).toEqual([email, email]);
  });
});

describe('a site that sends mail over SMTP', () => {
  const PUBLIC_URL = 'https://news.example';
  let smtp: TestSite;
  const sent: MailMessage[] = [];
  const transport: MailTransport = {
    send: async (message) => void sent.push(message),
    close: () => undefined,
  };
  beforeAll(async () => {
    smtp = await startTestSite({ overrides: { rateLimits: LIMITS, mail: { transport, publicUrl: PUBLIC_URL } } });
  });
  afterAll(() => smtp.close());

  async function mailed(to: string, subjectPart: string): Promise<MailMessage> {
    let found: MailMessage | undefined;
    await waitFor(async () => {
      await smtp.site.pending.idle();
      await smtp.site.mail.deliver();
      found = sent.filter((message) => message.to === to && message.subject.includes(subjectPart)).at(-1);
      return found !== undefined;
    }, `mail to ${to}`);
    return found!;
  }

  it('has no /dev/mail: nobody can read the mail the site sends', async () => {
    expect(smtp.site.devInbox).toBeUndefined();
    const visitor = await smtp.agent().get('/dev/mail');
    expect(visitor.status).toBe(404);
    const agent = smtp.agent();
    await register(agent);
    expect((await agent.get('/dev/mail')).status).toBe(404);
    expect((await agent.get('/dev/mail/').set('Accept', 'application/json')).status).toBe(404);
  });

  it('a forged Host or X-Forwarded-Host never makes a mailed link point elsewhere', async () => {
    const poisoned = (agent: TestAgent) => agent.set('Host', 'evil.example').set('X-Forwarded-Host', 'evil.example').set('X-Forwarded-Proto', 'http');
    const agent = poisoned(smtp.agent());
    const { email, res } = await register(agent);
    expect(res.status).toBe(303);
    const moved = uniqueEmail('moved');
    expect((await askEmailChange(agent, moved)).status).toBe(303);
    await askReset(poisoned(smtp.agent()), email);

    const links = [
      linkIn((await mailed(email, SUBJECTS.verify)).text, '/email/verify'),
      linkIn((await mailed(moved, SUBJECTS.verify)).text, '/email/verify'),
      linkIn((await mailed(email, SUBJECTS.reset)).text, '/password/reset'),
    ];
    for (const link of links) expect(link.startsWith(`${PUBLIC_URL}/`)).toBe(true);
    const all = sent.map((message) => message.text + (message.html ?? '')).join('\n');
    expect(all).not.toContain('evil.example');
    expect(all).not.toContain('127.0.0.1');
  });

  it('a name that no filter stops (Unicode line separators) lands in no header: each message goes to the address alone, under a fixed subject', async () => {
    const name = 'Eve\u2028Bcc: victim@example.com\u0085X: 1';
    const agent = smtp.agent();
    const { email, res } = await register(agent, { name });
    expect(res.status).toBe(303);
    const message = await mailed(email, SUBJECTS.verify);
    expect(message.to).toBe(email);
    expect(message.subject).toBe(`${SUBJECTS.verify} · The Harbour Ledger`);
    expect(message.html).not.toContain('<script');
  });
});

describe('the export', () => {
  it('holds no secret: no hash, no token, no session id, no platform session, no CSRF token; a download nobody caches', async () => {
    const { agent, email, id, platformSid } = await newReader();
    const pending = uniqueEmail('pending');
    expect((await askEmailChange(agent, pending)).status).toBe(303);
    const verify = tokenOf(await verifyLinkFor(pending));
    const reset = tokenOf(await resetLinkFor(email));
    const elsewhere = t.agent();
    const elsewhereLogin = await login(elsewhere, email);
    const secrets: string[] = [verify, reset, sidOf(elsewhereLogin), platformSid, (await whoAmI(elsewhere)).platform!.sid, await ajaxCsrf(agent)];
    const db = t.site.database.db;
    secrets.push((await db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash);
    for (const row of await db.selectFrom('account_tokens').select('token_hash').where('user_id', '=', id).execute()) secrets.push(row.token_hash);
    for (const row of await db.selectFrom('user_sessions').select(['sid', 'public_id']).where('user_id', '=', id).execute()) secrets.push(row.sid, row.public_id);

    const res = await agent.get('/account/export').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-disposition']).toBe('attachment; filename="account.json"');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const text = res.text;
    expect(JSON.parse(text).account).toMatchObject({ id, email, pendingEmail: pending });
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/argon2|password|token|csrf/i);
  });

  it("is only ever the reader's own: no parameter names another reader", async () => {
    const x = await newReader();
    const y = await newReader();
    for (const path of [`/account/export?id=${y.id}`, `/account/export?userId=${y.id}&email=${encodeURIComponent(y.email)}`]) {
      const res = await x.agent.get(path).expect(200);
      expect(JSON.parse(res.text).account.id).toBe(x.id);
      expect(res.text).not.toContain(y.email);
    }
    expect((await t.agent().get('/account/export').set('Accept', 'application/json')).status).toBe(401);
  });
});

describe('the administrator page', () => {
  it('a reader gets 403 on the page and its connect, a visitor is sent to log in', async () => {
    const reader = await newReader();
    await reader.agent.get('/admin/platform').expect(403);
    await t.agent().get('/admin/platform').expect(303);
    const _csrf = await csrfFor(reader.agent, '/account');
    await reader.agent.post('/admin/platform/connect').type('form').send({ _csrf }).expect(403);
  });
});
