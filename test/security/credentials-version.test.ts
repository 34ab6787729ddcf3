import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createUserStore } from '../../src/store/user-store';
import type { PasswordHasher } from '../../src/auth/passwords';
import { csrfFor, embedTagOf, login, register } from '../helpers/browser-flow';
import { startTestSite, testPasswords, TEST_PASSWORD, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';

const NEW_PASSWORD = 'a wholly different passphrase';

/**
 * A hasher whose next `verify` waits until the test lets it finish: a login that has checked the
 * old password and not yet made its session, held there while the password changes.
 */
function gatedPasswords() {
  let held: { started: boolean; release: () => void; gate: Promise<void> } | undefined;
  const hasher: PasswordHasher = {
    hash: (password) => testPasswords.hash(password),
    verifyNothing: (password) => testPasswords.verifyNothing(password),
    async verify(hashed, password) {
      const ok = await testPasswords.verify(hashed, password);
      const mine = held && !held.started ? held : undefined;
      if (mine) {
        mine.started = true;
        await mine.gate;
      }
      return ok;
    },
  };
  return {
    hasher,
    /** The next verify, once its answer is known, waits for `release()`; `reached` says it is waiting. */
    holdNext() {
      let release = () => undefined as void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const entry = { started: false, release, gate };
      held = entry;
      return { reached: () => entry.started, release: () => entry.release() };
    },
  };
}

async function changePassword(agent: TestAgent) {
  const _csrf = await csrfFor(agent, '/account');
  return agent.post('/account/password').type('form').send({ _csrf, currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
}

const who = async (agent: TestAgent) => (await agent.get('/api/session').expect(200)).body.user as { id: number } | null;

describe('a password change ends logins in flight (docs/accounts.md#the-credentials-version)', () => {
  let t: TestSite;
  const gated = gatedPasswords();
  beforeAll(async () => {
    t = await startTestSite({ overrides: { passwords: gated.hasher } });
  });
  afterAll(() => t.close());

  it('a login that checked the old password while the change ran gets no session, and its platform session is ended', async () => {
    const owner = t.agent();
    const { email } = await register(owner);
    const intruder = t.agent();
    const csrf = await csrfFor(intruder, '/login');

    // The intruder's login checks the old password and is held before it makes its session.
    const hold = gated.holdNext();
    const pending = intruder.post('/login').type('form').send({ _csrf: csrf, email, password: TEST_PASSWORD });
    const answered = pending.then((res) => res);
    await waitFor(hold.reached, 'the login to have checked the password');

    // The owner changes the password meanwhile: every other session is logged out, version bumped.
    expect((await changePassword(owner)).status).toBe(303);
    const liveBefore = t.emulator.stats().liveSessions;

    hold.release();
    const res = await answered;
    expect(res.status).toBe(409);
    expect(res.text).toContain('password of this account was just changed');
    expect(await who(intruder)).toBeNull();
    // The platform session that login opened is logged out again: no more live sessions than before it finished.
    await waitFor(() => t.emulator.stats().liveSessions <= liveBefore, 'the late login’s platform session to end');
    expect(await who(owner)).toMatchObject({ email });
  });

  it('many concurrent logins with the old password during a change: none keeps a session or a platform session', async () => {
    const owner = t.agent();
    const { email } = await register(owner);
    const ownerTag = embedTagOf((await owner.get('/').expect(200)).text);
    const racers = Array.from({ length: 12 }, () => t.agent());
    const tokens = await Promise.all(racers.map((agent) => csrfFor(agent, '/login')));
    const logins = racers.map((agent, i) => agent.post('/login').type('form').send({ _csrf: tokens[i], email, password: TEST_PASSWORD }));
    const [change] = await Promise.all([changePassword(owner), ...logins]);
    expect(change.status).toBe(303);
    for (const agent of racers) expect(await who(agent)).toBeNull();
    // The owner's own new session is the only one left with the platform.
    const ownerNow = embedTagOf((await owner.get('/').expect(200)).text);
    expect(ownerNow.sid).not.toBe(ownerTag.sid);
    expect(t.emulator.sessionInfo(ownerNow.sid!)?.alive).toBe(true);
    expect(t.emulator.sessionInfo(ownerTag.sid!)?.alive).toBe(false);
  });

  it('a session made under an older version is logged out at its next request, host and platform (the backstop)', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    const tag = embedTagOf((await agent.get('/').expect(200)).text);
    const users = createUserStore(t.site.database.db, t.clock);
    const user = await users.findByEmail(email);
    // The version moves without this session being found by any logout pass (as if its index row were lost).
    await users.setPassword(user!.id, await testPasswords.hash(NEW_PASSWORD));
    expect(embedTagOf((await agent.get('/').expect(200)).text)).toEqual({ uid: null, sid: null });
    expect(await who(agent)).toBeNull();
    expect(t.emulator.sessionInfo(tag.sid!)?.alive).toBe(false);
  });
});

describe('trusted-device cookies stop counting once the password changes', () => {
  let t: TestSite;
  beforeAll(async () => {
    // Small limits, so filling them takes few requests: 3 per account and client, 3 per account for strangers.
    t = await startTestSite({ overrides: { rateLimits: { loginPerAccountClient: 3, loginPerAccount: 3, loginPerIp: 100, loginCeiling: 10, registerPerIp: 30 } } });
  });
  afterAll(() => t.close());

  const deviceCookieOf = (res: request.Response) =>
    ((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []).map((c) => /^(vfb\.device=[^;]+)/.exec(c)?.[1]).find(Boolean);

  it('old device cookies are strangers after the change: they cannot fill the ceiling and lock the owner out', async () => {
    const owner = t.agent();
    const { email } = await register(owner);
    // The attacker once had the password and kept four browsers' device cookies.
    const stolen: string[] = [];
    for (let i = 0; i < 4; i++) stolen.push(deviceCookieOf(await login(t.agent(), email))!);
    expect(stolen.every(Boolean)).toBe(true);

    expect((await changePassword(owner)).status).toBe(303);

    // Three wrong guesses from each: as known devices that would be twelve failures on the ceiling (10).
    const guess = async (cookie: string) => {
      const fresh = request.agent(t.site.app);
      const _csrf = await csrfFor(fresh, '/login');
      return (await fresh.post('/login').set('Cookie', cookie).type('form').send({ _csrf, email, password: 'wrong guess' })).status;
    };
    const statuses: number[] = [];
    for (const cookie of stolen) for (let i = 0; i < 3; i++) statuses.push(await guess(cookie));
    // As strangers, the per-account limit stops them after three, and refused guesses count nowhere.
    expect(statuses.filter((status) => status === 401)).toHaveLength(3);
    expect(statuses.slice(3).every((status) => status === 429)).toBe(true);
    // The owner, on the device the change made a known one under the new password, still logs in.
    expect((await login(owner, email, NEW_PASSWORD)).status).toBe(303);
  });
});
