import { createAdjustableClock } from 'vf-login-bridge';
import { emulatorHttp, formPost, issueTestToken, platformLogin, startTestEmulator, type TestEmulator } from '../helpers/emulator';

const HOUR = 60 * 60 * 1000;
/** Time stands still unless the test moves it, so a boundary can be hit to the millisecond. */
const frozenClock = () => createAdjustableClock({ now: () => 1_800_000_000_000 });

describe('emulator: sessions expire after 12 hours without activity (docs/platform-protocol.md#idle-expiry)', () => {
  let emulator: TestEmulator;
  const embedSessionCheck = (session: string) =>
    emulatorHttp(emulator).get('/embed/v1/session', { params: { sid: session } });

  beforeEach(async () => {
    emulator = await startTestEmulator({ clock: frozenClock() });
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('kills a session left alone for 12 hours', async () => {
    const { session } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' });

    emulator.clock.advance(12 * HOUR - 1);
    expect(emulator.sessionInfo(session)?.alive).toBe(true);
    expect(emulator.stats().liveSessions).toBe(1);

    emulator.clock.advance(1);
    expect(emulator.sessionInfo(session)?.alive).toBe(false);
    expect(emulator.stats().liveSessions).toBe(0);
    expect((await embedSessionCheck(session)).data).toEqual({ user: null });
  });

  it('keeps a session alive while the embed keeps asking about it', async () => {
    const { session, user_id: userId } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' });

    for (let round = 0; round < 3; round += 1) {
      emulator.clock.advance(11 * HOUR);
      const check = await embedSessionCheck(session);
      expect(check.data).toEqual({ user: { id: userId, name: 'Ann' } });
    }
    // 33 hours after login, 11 after the last activity.
    expect(emulator.sessionInfo(session)?.alive).toBe(true);

    emulator.clock.advance(12 * HOUR);
    expect(emulator.sessionInfo(session)?.alive).toBe(false);
  });

  it('does not bring an idle-expired session back when asked about it later', async () => {
    const { session } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' });
    emulator.clock.advance(12 * HOUR);

    expect((await embedSessionCheck(session)).data).toEqual({ user: null });
    expect((await embedSessionCheck(session)).data).toEqual({ user: null });
    expect(emulator.sessionInfo(session)?.alive).toBe(false);
  });

  it('does not count a platform login for another session as activity of this one', async () => {
    const first = await platformLogin(emulator, { id: 'host-1', name: 'Ann' });
    emulator.clock.advance(6 * HOUR);
    const second = await platformLogin(emulator, { id: 'host-1', name: 'Ann' });
    emulator.clock.advance(6 * HOUR);

    expect(emulator.sessionInfo(second.session)?.alive).toBe(true);
    expect(emulator.sessionInfo(first.session)?.alive).toBe(false);
  });

  it('honours a configured idle time', async () => {
    const quick = await startTestEmulator({ sessionIdleMs: 1000, clock: frozenClock() });
    try {
      const { session } = await platformLogin(quick, { id: 'host-1', name: 'Ann' });
      quick.clock.advance(999);
      expect(quick.sessionInfo(session)?.alive).toBe(true);
      quick.clock.advance(1);
      expect(quick.sessionInfo(session)?.alive).toBe(false);
    } finally {
      await quick.close();
    }
  });

  it('wraps a plain clock so time can still be moved', async () => {
    let now = 1_000_000;
    const plain = await startTestEmulator({ clock: { now: () => now } });
    try {
      const { session } = await platformLogin(plain, { id: 'host-1', name: 'Ann' });
      now += HOUR;
      plain.clock.advance(11 * HOUR);
      expect(plain.sessionInfo(session)?.alive).toBe(false);
      expect(plain.clock.now()).toBe(now + 11 * HOUR);
    } finally {
      await plain.close();
    }
  });

  it('moves time over HTTP through /_emulator/clock', async () => {
    const { session } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' });
    const before = emulator.clock.now();
    const answer = await emulatorHttp(emulator).post('/_emulator/clock', { advanceMs: 12 * HOUR });

    expect(answer.status).toBe(200);
    expect(answer.data.now).toBeGreaterThanOrEqual(before + 12 * HOUR);
    expect(emulator.sessionInfo(session)?.alive).toBe(false);
  });

  it('refuses to move time backwards', async () => {
    const answer = await emulatorHttp(emulator).post('/_emulator/clock', { advanceMs: -1 });
    expect(answer.status).toBe(400);
    expect(answer.data.error).toBe('invalid_request');
  });

  it('keeps a logged-out session dead even with activity afterwards', async () => {
    const token = await issueTestToken(emulator);
    const { session } = await platformLogin(emulator, { id: 'host-1', name: 'Ann' }, token);
    await formPost(emulatorHttp(emulator), '/rest/v1/accounts/logout', `session=${session}`, { Authorization: `Bearer ${token}` });

    expect((await embedSessionCheck(session)).data).toEqual({ user: null });
    expect(emulator.sessionInfo(session)?.alive).toBe(false);
  });
});
