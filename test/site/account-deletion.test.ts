import type TestAgent from 'supertest/lib/agent';
import { liveHostSessionsOf, storeRead } from 'vf-login-bridge';
import { csrfFor, embedTagOf, login, register, sessionCookie } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({ overrides: { rateLimits: { loginPerAccount: 10, loginPerIp: 200, registerPerIp: 200, accountChangesPerIp: 200 } } });
});
afterAll(() => t.close());

const idOf = async (agent: TestAgent) => (await agent.get('/api/session').expect(200)).body.user?.id as number | undefined;

async function platformSessionOf(agent: TestAgent): Promise<string> {
  const sid = embedTagOf((await agent.get('/').expect(200)).text).sid;
  if (!sid) throw new Error('the page carries no platform session');
  return sid;
}

function sidOf(res: { headers: Record<string, unknown> }): string {
  const sid = /^s:(.+)\.[^.]+$/.exec(decodeURIComponent(sessionCookie(res) ?? ''))?.[1];
  if (!sid) throw new Error('no session cookie on the answer');
  return sid;
}

/** The rows the site keeps of one account, table by table. */
async function rowsOf(userId: number) {
  const db = t.site.database.db;
  const [users, tokens, sessions] = await Promise.all([
    db.selectFrom('users').select('id').where('id', '=', userId).execute(),
    db.selectFrom('account_tokens').select('user_id').where('user_id', '=', userId).execute(),
    db.selectFrom('user_sessions').select('user_id').where('user_id', '=', userId).execute(),
  ]);
  return { users: users.length, account_tokens: tokens.length, user_sessions: sessions.length };
}

function deleteAccount(agent: TestAgent, _csrf: string, currentPassword: string | undefined, json = false) {
  const req = agent.post('/account/delete');
  return json ? req.set('Accept', 'application/json').send({ _csrf, currentPassword }) : req.type('form').send({ _csrf, ...(currentPassword === undefined ? {} : { currentPassword }) });
}

describe('deleting an account', () => {
  it('is refused with a wrong or missing password, and nothing is deleted or logged out', async () => {
    const agent = t.agent();
    await register(agent);
    const userId = (await idOf(agent))!;
    const platform = await platformSessionOf(agent);
    const before = await rowsOf(userId);
    expect(before).toEqual({ users: 1, account_tokens: 1, user_sessions: 1 });
    const _csrf = await csrfFor(agent, '/account');

    const wrong = await deleteAccount(agent, _csrf, 'not my password at all', true);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');
    const missing = await deleteAccount(agent, _csrf, undefined);
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('Enter your current password to delete your account.');
    await agent.post('/account/delete').type('form').send({ currentPassword: TEST_PASSWORD }).expect(403);

    expect(await rowsOf(userId)).toEqual(before);
    expect(await idOf(agent)).toBe(userId);
    expect(t.emulator.sessionInfo(platform)?.alive).toBe(true);
  });

  it('ends every session here and on the platform, erases the rows, mails a confirmation, and frees the address', async () => {
    const firefox = t.agent();
    const { email, name } = await register(firefox, { name: 'Leaving Reader' });
    const chrome = t.agent();
    await login(chrome, email);
    const userId = (await idOf(firefox))!;
    const platformSessions = [await platformSessionOf(firefox), await platformSessionOf(chrome)];
    const oldPlatformUser = t.emulator.userByHostId(String(userId))!.userId;

    const page = await firefox.get('/account').expect(200);
    expect(page.text).toContain('action="/account/delete"');
    expect(page.text).toContain('This cannot be undone.');
    const _csrf = await csrfFor(firefox, '/account');
    const res = await deleteAccount(firefox, _csrf, TEST_PASSWORD);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/?deleted=1');
    expect((await firefox.get('/?deleted=1').expect(200)).text).toContain('Your account has been deleted');

    // Both browsers are logged out, here and on the platform.
    expect(await idOf(firefox)).toBeUndefined();
    expect(await idOf(chrome)).toBeUndefined();
    for (const sid of platformSessions) expect(t.emulator.sessionInfo(sid)?.alive).toBe(false);
    expect(await liveHostSessionsOf(t.site.database.db, String(userId))).toEqual([]);
    // Every row of the account is gone.
    expect(await rowsOf(userId)).toEqual({ users: 0, account_tokens: 0, user_sessions: 0 });

    await t.site.jobs.run('deliver');
    await waitFor(() => t.site.devInbox!.messages().some((m) => m.to === email && m.subject.startsWith('Your account was deleted')), 'the confirmation mail');
    const mail = t.site.devInbox!.messages().find((m) => m.to === email && m.subject.startsWith('Your account was deleted'))!;
    expect(mail.text).toContain(`Hello ${name},`);

    // The address registers again at once: a new account, a new platform identity.
    const again = t.agent();
    const { res: registered } = await register(again, { email });
    expect(registered.status).toBe(303);
    const newId = (await idOf(again))!;
    expect(newId).not.toBe(userId);
    await platformSessionOf(again);
    expect(t.emulator.userByHostId(String(newId))!.userId).not.toBe(oldPlatformUser);
  });

  it('answers JSON when asked, and the browser ends logged out', async () => {
    const agent = t.agent();
    await register(agent);
    const userId = (await idOf(agent))!;
    const _csrf = await csrfFor(agent, '/account');
    const res = await deleteAccount(agent, _csrf, TEST_PASSWORD, true);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, deleted: true });
    expect(await idOf(agent)).toBeUndefined();
    expect((await rowsOf(userId)).users).toBe(0);
  });

  it('a login racing the deletion leaves no live session for the deleted account', async () => {
    const leaving = t.agent();
    const { email } = await register(leaving);
    const userId = (await idOf(leaving))!;
    const leavingPlatform = await platformSessionOf(leaving);
    const _csrf = await csrfFor(leaving, '/account');

    // The deletion's first logout of every session waits on the platform; a login from another
    // browser starts after that logout has listed the sessions, and passes all its checks before
    // the account row goes (the window src/accounts/account-deletion.ts closes with its second pass).
    t.emulator.faults.setLatency(400, 'logout');
    const logoutsBefore = t.emulator.stats().calls.logout;
    let deletionAnswered = false;
    const deletion = deleteAccount(leaving, _csrf, TEST_PASSWORD).then((res) => {
      deletionAnswered = true;
      return res;
    });
    try {
      await waitFor(() => t.emulator.stats().calls.logout > logoutsBefore, 'the deletion to log the sessions out on the platform');
      const racer = t.agent();
      const raced = await login(racer, email);
      expect(raced.status).toBe(303);
      const racerSid = sidOf(raced);
      const racerPlatform = await platformSessionOf(racer);
      // All of it ran while the deletion was still under way.
      expect(deletionAnswered).toBe(false);
      expect((await deletion).status).toBe(303);
      t.emulator.faults.reset();
      await t.site.jobs.run('deliver');

      for (const sid of [leavingPlatform, racerPlatform]) expect(t.emulator.sessionInfo(sid)?.alive).toBe(false);
      expect(await liveHostSessionsOf(t.site.database.db, String(userId))).toEqual([]);
      expect(await storeRead(t.site.sessions.store, racerSid)).toBeNull();
      expect(await idOf(racer)).toBeUndefined();
      expect(await rowsOf(userId)).toEqual({ users: 0, account_tokens: 0, user_sessions: 0 });
    } finally {
      t.emulator.faults.reset();
    }
  });
});
