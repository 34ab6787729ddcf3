import { createBridge, type HostUser } from 'vf-login-bridge';
import { createMemoryLogger } from '../../src/logger';
import { createAdjustableClock } from 'vf-login-bridge';
import { expectNoSecretIn, HOUR, SECRET_FORMS, startPlatformFixture, type PlatformFixture } from './fixture';
import { waitFor } from '../helpers/wait-for';

const ada: HostUser = { id: '17', name: 'Ada Lovelace', email: 'ada@example.com' };
const grace: HostUser = { id: '42', name: 'Grace Hopper', email: null };
/** A logged-out host session's row: a tombstone that holds no platform session. */
const ENDED = { ended_at: expect.any(Number), platform_session: null, platform_user_id: null };

describe('bridge: platform sessions for host sessions', () => {
  let fixture: PlatformFixture;

  beforeEach(async () => {
    fixture = await startPlatformFixture();
  });

  afterEach(async () => {
    await fixture.close();
  });

  const rowOf = (hostSid: string) =>
    fixture.db.selectFrom('bridge_sessions').selectAll().where('host_sid', '=', hostSid).executeTakeFirst();
  const pendingRows = () => fixture.db.selectFrom('pending_logouts').selectAll().execute();
  const totalCalls = () => {
    const { token, login, logout } = fixture.emulator.stats().calls;
    return token + login + logout;
  };

  describe('login and page views', () => {
    test('a host login opens a platform session for that reader, with the host user id', async () => {
      const { bridge } = fixture.platform;

      const platform = await bridge.onLogin('sid-a', ada);

      expect(platform).not.toBeNull();
      const user = fixture.emulator.userByHostId('17')!;
      expect(platform!.userId).toBe(String(user.userId));
      expect(user).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com' });
      expect(fixture.emulator.sessionInfo(platform!.session)).toMatchObject({ hostId: '17', alive: true });
      expect(await rowOf('sid-a')).toMatchObject({
        host_user_id: '17',
        platform_user_id: platform!.userId,
        platform_session: platform!.session,
        retry_at: null,
        failed_attempts: 0,
      });
    });

    test('page views in steady state make no platform call and write at most once a minute', async () => {
      const { bridge } = fixture.platform;
      const { clock } = fixture.emulator;
      const platform = await bridge.onLogin('sid-a', ada);
      const loggedInAt = clock.now();
      const callsAfterLogin = totalCalls();

      for (let i = 0; i < 20; i += 1) await expect(bridge.platformSessionFor('sid-a', ada)).resolves.toEqual(platform);
      clock.advance(30_000);
      await expect(bridge.platformSessionFor('sid-a', ada)).resolves.toEqual(platform);
      expect((await rowOf('sid-a'))!.last_activity_at).toBe(loggedInAt);

      clock.advance(31_000);
      await expect(bridge.platformSessionFor('sid-a', ada)).resolves.toEqual(platform);
      expect((await rowOf('sid-a'))!.last_activity_at).toBe(clock.now());
      expect(totalCalls()).toBe(callsAfterLogin);
    });

    test('1,000 simultaneous host logins share one token request', async () => {
      // The burst is about sharing the token, not speed: a loaded test machine must not time it out,
      // and on PostgreSQL the 1,000 logins queue for the pool's ten connections longer than a site's 2 s.
      await fixture.close();
      fixture = await startPlatformFixture({ timeoutMs: 20_000, connectionWaitMs: 20_000 });
      const { bridge } = fixture.platform;

      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => bridge.onLogin(`sid-${i}`, { id: `u${i}`, name: `Reader ${i}` })),
      );

      expect(results.every((result) => result !== null)).toBe(true);
      expect(fixture.emulator.stats().calls.token).toBe(1);
      expect(fixture.emulator.stats().calls.login).toBe(1000);
    }, 120_000);

    test('simultaneous page views of a session that needs a login share one platform login', async () => {
      const { bridge } = fixture.platform;

      const results = await Promise.all(Array.from({ length: 20 }, () => bridge.platformSessionFor('sid-a', ada)));

      expect(new Set(results.map((result) => result!.session)).size).toBe(1);
      expect(fixture.emulator.stats().calls.login).toBe(1);
    });

    test('a session idle for 11.5 hours is replaced by a transparent re-login; the old one is logged out', async () => {
      const { bridge } = fixture.platform;
      const { clock, stats, sessionInfo } = fixture.emulator;
      const first = (await bridge.onLogin('sid-a', ada))!;

      clock.advance(11 * HOUR);
      await expect(bridge.platformSessionFor('sid-a', ada)).resolves.toEqual(first);
      expect(stats().calls.login).toBe(1);

      // Idle counts from the last page view, not from the login.
      clock.advance(11 * HOUR);
      await expect(bridge.platformSessionFor('sid-a', ada)).resolves.toEqual(first);
      expect(stats().calls.login).toBe(1);

      clock.advance(11.5 * HOUR + 1000);
      const second = (await bridge.platformSessionFor('sid-a', ada))!;
      expect(second.session).not.toBe(first.session);
      expect(second.userId).toBe(first.userId);
      expect(sessionInfo(second.session)!.alive).toBe(true);
      expect(stats().calls.login).toBe(2);

      expect((await pendingRows()).map((row) => row.platform_session)).toEqual([first.session]);
      await expect(bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 1, remaining: 0 });
      expect(fixture.emulator.lastRequest('logout')!.rawBody).toBe(`session=${first.session}`);
    });

    test('a session past 12 hours of host inactivity is replaced, and still logged out: the embed may have kept it alive', async () => {
      const { bridge } = fixture.platform;
      const first = (await bridge.onLogin('sid-a', ada))!;

      fixture.emulator.clock.advance(13 * HOUR);
      const logoutsBefore = fixture.emulator.stats().calls.logout;
      const second = (await bridge.platformSessionFor('sid-a', ada))!;
      await bridge.deliverPendingLogouts();

      expect(second.session).not.toBe(first.session);
      expect(fixture.emulator.sessionInfo(first.session)!.alive).toBe(false);
      expect(fixture.emulator.stats().calls.logout).toBe(logoutsBefore + 1);
      expect(await pendingRows()).toEqual([]);
    });

    test('a page view for a host session the bridge has never seen logs it in', async () => {
      const platform = await fixture.platform.bridge.platformSessionFor('sid-unknown', grace);

      expect(fixture.emulator.sessionInfo(platform!.session)).toMatchObject({ hostId: '42', alive: true });
      expect(await rowOf('sid-unknown')).toMatchObject({ host_user_id: '42', platform_session: platform!.session });
    });
  });

  describe('the platform is down at login', () => {
    test('onLogin returns null and a page view after the retry time logs in', async () => {
      const { bridge } = fixture.platform;
      const { clock, faults } = fixture.emulator;
      faults.failAll({ status: 503 });

      await expect(bridge.onLogin('sid-a', ada)).resolves.toBeNull();
      const failed = (await rowOf('sid-a'))!;
      expect(failed).toMatchObject({ platform_session: null, failed_attempts: 1, retry_at: clock.now() + 5_000 });
      expect(fixture.logLines.some((line) => line.includes('"code":"PLATFORM_UNAVAILABLE"'))).toBe(true);

      // Before the retry time: nothing is asked of the platform.
      const callsBefore = totalCalls();
      await expect(bridge.platformSessionFor('sid-a', ada)).resolves.toBeNull();
      expect(totalCalls()).toBe(callsBefore);

      // Still down at the retry time: the wait doubles.
      clock.advance(5_000);
      await expect(bridge.platformSessionFor('sid-a', ada)).resolves.toBeNull();
      expect(await rowOf('sid-a')).toMatchObject({ failed_attempts: 2, retry_at: clock.now() + 10_000 });

      faults.failAll(null);
      clock.advance(10_000);
      const platform = await bridge.platformSessionFor('sid-a', ada);
      expect(fixture.emulator.sessionInfo(platform!.session)).toMatchObject({ hostId: '17', alive: true });
      expect(await rowOf('sid-a')).toMatchObject({ failed_attempts: 0, retry_at: null, platform_session: platform!.session });
    });

    test('the retry wait is capped', async () => {
      await fixture.close();
      fixture = await startPlatformFixture({
        options: { retryBaseMs: 1_000, retryMaxMs: 4_000, breaker: { volumeThreshold: 100 } },
      });
      const { bridge } = fixture.platform;
      const { clock, faults } = fixture.emulator;
      faults.failAll({ status: 500 });

      await bridge.onLogin('sid-a', ada);
      const waits: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        const row = (await rowOf('sid-a'))!;
        waits.push(row.retry_at! - clock.now());
        clock.advance(row.retry_at! - clock.now());
        await bridge.platformSessionFor('sid-a', ada);
      }
      expect(waits).toEqual([1_000, 2_000, 4_000, 4_000]);
    });

    test('a platform slower than timeoutMs: onLogin gives up in time, returns null and does not send the login again', async () => {
      await fixture.close();
      fixture = await startPlatformFixture({ timeoutMs: 200 });
      const { bridge } = fixture.platform;
      await fixture.platform.tokens.getToken();
      fixture.emulator.faults.setLatency(1500, 'login');
      const started = Date.now();

      await expect(bridge.onLogin('sid-a', ada)).resolves.toBeNull();

      expect(Date.now() - started).toBeLessThan(1000);
      expect(fixture.emulator.stats().calls.login).toBe(1);
      expect(fixture.logLines.some((line) => line.includes('"code":"PLATFORM_TIMEOUT"'))).toBe(true);
    });

    test('with the circuit open, logins return null at once without calling the platform', async () => {
      const { bridge } = fixture.platform;
      fixture.emulator.faults.failAll({ status: 503 });
      for (let i = 0; i < 6; i += 1) await bridge.onLogin(`sid-${i}`, { id: `u${i}`, name: `Reader ${i}` });
      expect(fixture.platform.breakerState()).toBe('open');
      const callsBefore = totalCalls();

      await expect(bridge.onLogin('sid-late', ada)).resolves.toBeNull();

      expect(totalCalls()).toBe(callsBefore);
      await expect(bridge.status()).resolves.toMatchObject({ circuit: 'open' });
    });
  });

  describe('profile changes', () => {
    test('a name change reaches the platform, and the old session is logged out', async () => {
      const { bridge } = fixture.platform;
      const first = (await bridge.onLogin('sid-a', ada))!;

      const renamed = { ...ada, name: 'Ada King', email: 'countess@example.com' };
      const second = (await bridge.onProfileChange('sid-a', renamed))!;

      expect(fixture.emulator.userByHostId('17')).toMatchObject({ name: 'Ada King', email: 'countess@example.com' });
      expect(second.userId).toBe(first.userId);
      expect(fixture.emulator.sessionInfo(second.session)).toMatchObject({ name: 'Ada King', alive: true });
      expect(fixture.emulator.sessionInfo(first.session)!.alive).toBe(false);
      await expect(bridge.platformSessionFor('sid-a', renamed)).resolves.toEqual(second);
      expect(await pendingRows()).toEqual([]);
    });

    test('a name change while the platform is down keeps the old session and reaches the platform on a later page view', async () => {
      const { bridge } = fixture.platform;
      const { clock, faults } = fixture.emulator;
      const first = (await bridge.onLogin('sid-a', ada))!;
      const renamed = { ...ada, name: 'Ada King' };

      faults.failAll({ status: 503 }, 'login');
      await expect(bridge.onProfileChange('sid-a', renamed)).resolves.toEqual(first);
      expect(fixture.emulator.userByHostId('17')!.name).toBe('Ada Lovelace');

      faults.failAll(null);
      clock.advance(5_000);
      const second = (await bridge.platformSessionFor('sid-a', renamed))!;
      expect(second.session).not.toBe(first.session);
      expect(fixture.emulator.userByHostId('17')!.name).toBe('Ada King');

      await bridge.deliverPendingLogouts();
      expect(fixture.emulator.sessionInfo(first.session)!.alive).toBe(false);
    });
  });

  describe('logout', () => {
    test('a host logout ends the platform session at once and leaves nothing queued', async () => {
      const { bridge } = fixture.platform;
      const platform = (await bridge.onLogin('sid-a', ada))!;

      await bridge.onLogout('sid-a');

      expect(fixture.emulator.sessionInfo(platform.session)!.alive).toBe(false);
      expect(await rowOf('sid-a')).toMatchObject(ENDED);
      expect(await pendingRows()).toEqual([]);
      // A page view that was in flight at the logout does not log the reader back in.
      await expect(bridge.platformSessionFor('sid-a', ada)).resolves.toBeNull();
      expect(fixture.emulator.stats().liveSessions).toBe(0);
    });

    test('a logout while the platform is down stays queued and is delivered once it is back', async () => {
      const { bridge } = fixture.platform;
      const { clock, faults, sessionInfo, stats } = fixture.emulator;
      const platform = (await bridge.onLogin('sid-a', ada))!;
      faults.failAll({ status: 503 }, 'logout');

      await expect(bridge.onLogout('sid-a')).resolves.toBeUndefined();

      expect(await rowOf('sid-a')).toMatchObject(ENDED);
      expect(await pendingRows()).toEqual([
        { platform_session: platform.session, attempts: 1, next_attempt_at: clock.now() + 5_000, created_at: clock.now(), claim_token: null, claimed_until: null },
      ]);
      expect(sessionInfo(platform.session)!.alive).toBe(true);

      faults.failAll(null);
      const logoutCalls = stats().calls.logout;
      await expect(bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 0, remaining: 1 });
      expect(stats().calls.logout).toBe(logoutCalls);

      clock.advance(5_000);
      await expect(bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 1, remaining: 0 });
      expect(sessionInfo(platform.session)!.alive).toBe(false);
      await expect(bridge.status()).resolves.toEqual({ circuit: 'closed', pendingLogouts: 0 });
    });

    test('a queued logout survives a restart', async () => {
      const platform = (await fixture.platform.bridge.onLogin('sid-a', ada))!;
      fixture.emulator.faults.failAll('drop', 'logout');
      await fixture.platform.bridge.onLogout('sid-a');
      fixture.emulator.faults.failAll(null);

      const restarted = fixture.restartPlatform();
      fixture.emulator.clock.advance(5_000);
      await expect(restarted.bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 1, remaining: 0 });
      expect(fixture.emulator.sessionInfo(platform.session)!.alive).toBe(false);
    });

    test('a logout the platform refuses with a 4xx is dropped: there is nothing to log out', async () => {
      const { bridge } = fixture.platform;
      await bridge.onLogin('sid-a', ada);
      fixture.emulator.faults.failNext(1, { status: 404 }, 'logout');

      await bridge.onLogout('sid-a');

      expect(await pendingRows()).toEqual([]);
      expect(await fixture.registry.metrics()).toContain('vf_bridge_logouts_total{outcome="dropped"} 1');
    });

    test.each([408, 425, 429])('a logout answered %i stays queued for a retry', async (status) => {
      const { bridge } = fixture.platform;
      const platform = (await bridge.onLogin('sid-a', ada))!;
      fixture.emulator.faults.failNext(1, { status }, 'logout');

      await bridge.onLogout('sid-a');

      expect(await pendingRows()).toMatchObject([{ platform_session: platform.session, attempts: 1 }]);
      fixture.emulator.clock.advance(5_000);
      await expect(bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 1, remaining: 0 });
      expect(fixture.emulator.sessionInfo(platform.session)!.alive).toBe(false);
    });

    test('queued logouts older than the platform idle limit are dropped undelivered', async () => {
      const { bridge } = fixture.platform;
      await bridge.onLogin('sid-a', ada);
      fixture.emulator.faults.failAll({ status: 503 }, 'logout');
      await bridge.onLogout('sid-a');

      fixture.emulator.clock.advance(12 * HOUR);
      const callsBefore = fixture.emulator.stats().calls.logout;
      await expect(bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 0, remaining: 0 });
      expect(fixture.emulator.stats().calls.logout).toBe(callsBefore);
    });

    test('logoutUser ends every session of that user and none of another user', async () => {
      const { bridge } = fixture.platform;
      const adaAtHome = (await bridge.onLogin('sid-home', ada))!;
      const adaAtWork = (await bridge.onLogin('sid-work', ada))!;
      const graceSession = (await bridge.onLogin('sid-grace', grace))!;

      const { hostSessionIds } = await bridge.logoutUser('17');

      expect(hostSessionIds.sort()).toEqual(['sid-home', 'sid-work']);
      expect(fixture.emulator.sessionInfo(adaAtHome.session)!.alive).toBe(false);
      expect(fixture.emulator.sessionInfo(adaAtWork.session)!.alive).toBe(false);
      expect(fixture.emulator.sessionInfo(graceSession.session)!.alive).toBe(true);
      await expect(bridge.platformSessionFor('sid-grace', grace)).resolves.toEqual(graceSession);
      expect(await rowOf('sid-home')).toMatchObject(ENDED);
      await expect(bridge.logoutUser('17')).resolves.toEqual({ hostSessionIds: [] });
    });

    test('logoutUser while the platform is down still returns the host sessions and queues the logouts', async () => {
      const { bridge } = fixture.platform;
      await bridge.onLogin('sid-home', ada);
      await bridge.onLogin('sid-work', ada);
      fixture.emulator.faults.failAll({ status: 503 }, 'logout');

      const { hostSessionIds } = await bridge.logoutUser('17');

      expect(hostSessionIds.sort()).toEqual(['sid-home', 'sid-work']);
      await expect(bridge.status()).resolves.toMatchObject({ pendingLogouts: 2 });
    });

    test('a logout that comes while the login is still under way is not undone by it', async () => {
      const { bridge } = fixture.platform;
      await fixture.platform.tokens.getToken();
      fixture.emulator.faults.setLatency(100, 'login');

      const login = bridge.onLogin('sid-a', ada);
      await bridge.onLogout('sid-a');
      const platform = await login;

      expect(await rowOf('sid-a')).toMatchObject(ENDED);
      expect(fixture.emulator.sessionInfo(platform!.session)!.alive).toBe(false);
    });
    test('a failed re-login does not show a session that another process logged out meanwhile', async () => {
      const { bridge } = fixture.platform;
      await bridge.onLogin('sid-a', ada);
      fixture.emulator.clock.advance(11.6 * HOUR);
      fixture.emulator.faults.setLatency(500, 'login');
      fixture.emulator.faults.failNext(1, { status: 503 }, 'login');
      const loginsBefore = fixture.emulator.stats().calls.login;

      const page = bridge.platformSessionFor('sid-a', ada);
      await waitFor(() => fixture.emulator.stats().calls.login > loginsBefore, 'the re-login to reach the platform');
      // What another site process's onLogout leaves: a tombstone.
      await fixture.db.updateTable('bridge_sessions').set({ ended_at: fixture.emulator.clock.now(), platform_session: null, platform_user_id: null }).where('host_sid', '=', 'sid-a').execute();

      await expect(page).resolves.toBeNull();
    });

    test('a logout of a host session the bridge has no row for still stops a page view under way from logging in', async () => {
      const { bridge } = fixture.platform;
      await bridge.onLogout('sid-never-seen');

      const loginsBefore = fixture.emulator.stats().calls.login;
      await expect(bridge.platformSessionFor('sid-never-seen', ada)).resolves.toBeNull();
      expect(fixture.emulator.stats().calls.login).toBe(loginsBefore);
      expect(await rowOf('sid-never-seen')).toMatchObject(ENDED);
    });

    test('a logout by another process while a login is under way: the session just opened is queued for logout', async () => {
      const { bridge } = fixture.platform;
      await fixture.platform.tokens.getToken();
      fixture.emulator.faults.setLatency(500, 'login');
      const loginsBefore = fixture.emulator.stats().calls.login;

      const login = bridge.onLogin('sid-a', ada);
      await waitFor(() => fixture.emulator.stats().calls.login > loginsBefore, 'the login to reach the platform');
      // What another site process's onLogout does to the shared table.
      await fixture.db.deleteFrom('bridge_sessions').where('host_sid', '=', 'sid-a').execute();
      await expect(login).resolves.toBeNull();

      const queued = await pendingRows();
      expect(queued).toHaveLength(1);
      expect(fixture.emulator.sessionInfo(queued[0]!.platform_session)).toMatchObject({ hostId: '17', alive: true });
      expect(await rowOf('sid-a')).toBeUndefined();
      await expect(bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 1, remaining: 0 });
      expect(fixture.emulator.stats().liveSessions).toBe(0);
    });
  });

  describe('secrets and metrics', () => {
    test('no API key, token or platform session reaches a log line', async () => {
      await fixture.close();
      fixture = await startPlatformFixture({ timeoutMs: 200, options: { breaker: { volumeThreshold: 100 } } });
      const { bridge, tokens } = fixture.platform;
      const { faults, clock } = fixture.emulator;
      const platform = (await bridge.onLogin('sid-a', ada))!;
      const token = await tokens.getToken();

      faults.failAll({ status: 503 });
      await bridge.onLogin('sid-b', grace);
      await bridge.onLogout('sid-a');
      faults.failAll('drop');
      clock.advance(60_000);
      await bridge.deliverPendingLogouts();
      faults.failAll(null);
      faults.setLatency(1000);
      await bridge.platformSessionFor('sid-b', grace);
      faults.reset();
      faults.expireAllTokens();
      faults.failNext(2, { status: 401 }, 'login');
      await bridge.onLogin('sid-c', { id: '7', name: 'Seven' });

      const logs = fixture.logLines.join('\n');
      expect(logs).toMatch(/PLATFORM_UNAVAILABLE/);
      expect(logs).toMatch(/PLATFORM_TIMEOUT/);
      expect(logs).toMatch(/PLATFORM_REJECTED/);
      expectNoSecretIn(logs, [...SECRET_FORMS, token, platform.session]);
    });

    test('a wrong API key is logged as TOKEN_INVALID_CLIENT, and the key itself never', async () => {
      await fixture.close();
      const wrongKey = 'wrong+key/=';
      fixture = await startPlatformFixture({ apiKey: wrongKey });

      await expect(fixture.platform.bridge.onLogin('sid-a', ada)).resolves.toBeNull();

      const logs = fixture.logLines.join('\n');
      expect(logs).toContain('"code":"TOKEN_INVALID_CLIENT"');
      expect(logs).toContain('"oauthError":"invalid_client"');
      expectNoSecretIn(logs, [wrongKey, encodeURIComponent(wrongKey), Buffer.from(`site-123:${wrongKey}`).toString('base64')]);
    });

    test('metrics count calls, logins and logouts on the app registry', async () => {
      const { bridge } = fixture.platform;
      await bridge.onLogin('sid-a', ada);
      fixture.emulator.faults.failAll({ status: 503 }, 'logout');
      await bridge.onLogout('sid-a');

      const text = await fixture.registry.metrics();
      expect(text).toContain('vf_platform_calls_total{endpoint="login",outcome="ok"} 1');
      expect(text).toContain('vf_platform_calls_total{endpoint="logout",outcome="platform_unavailable"} 1');
      expect(text).toContain('vf_bridge_logins_total{outcome="ok"} 1');
      expect(text).toContain('vf_bridge_logouts_total{outcome="platform_unavailable"} 1');
      expect(text).toContain('vf_bridge_pending_logouts 1');
      expect(text).toContain('vf_platform_circuit_state 0');
      expect(text).toMatch(/vf_platform_call_duration_seconds_count\{endpoint="login"\} 1/);
    });
  });

  test('createBridge refuses to start without its dependencies', () => {
    const { logger } = createMemoryLogger();
    const clock = createAdjustableClock();
    const accounts = fixture.platform.accounts;
    expect(() => createBridge({ db: undefined as never, accounts, clock, logger })).toThrow(TypeError);
    expect(() => createBridge({ db: fixture.db, accounts: {} as never, clock, logger })).toThrow(TypeError);
    expect(() => createBridge({ db: fixture.db, accounts, clock, logger, options: { idleReloginMs: 13 * HOUR } })).toThrow(TypeError);
  });
});

describe('bridge: forgetting rows', () => {
  let fixture: PlatformFixture;
  beforeEach(async () => {
    fixture = await startPlatformFixture({ options: { forgetAfterMs: 8 * 24 * HOUR } });
  });
  afterEach(() => fixture.close());

  const hostSids = async () => (await fixture.db.selectFrom('bridge_sessions').select('host_sid').orderBy('host_sid').execute()).map((row) => row.host_sid);

  test('tombstones go after an hour, rows of long-expired host sessions after forgetAfterMs (their platform session logged out), live ones stay', async () => {
    const { bridge } = fixture.platform;
    const abandoned = (await bridge.onLogin('sid-abandoned', ada))!;
    fixture.emulator.clock.advance(7 * 24 * HOUR);
    await bridge.onLogin('sid-live', ada);
    await bridge.onLogin('sid-ended', grace);
    await bridge.onLogout('sid-ended');

    await expect(bridge.pruneSessions()).resolves.toBe(0);
    fixture.emulator.clock.advance(HOUR);
    await expect(bridge.pruneSessions()).resolves.toBe(1);
    expect(await hostSids()).toEqual(['sid-abandoned', 'sid-live']);

    fixture.emulator.clock.advance(24 * HOUR);
    await expect(bridge.pruneSessions()).resolves.toBe(1);
    expect(await hostSids()).toEqual(['sid-live']);
    expect((await fixture.db.selectFrom('pending_logouts').select('platform_session').execute()).map((row) => row.platform_session)).toEqual([abandoned.session]);
  });
});
