import { PlatformError } from '../src/errors';
import {
  activityWriteDue,
  checkUser,
  claimSize,
  DELIVERY_CONCURRENCY,
  emptyRow,
  failureFields,
  HOUR,
  loginRetryDelay,
  logoutRetryDelay,
  nothingToLogOut,
  pageViewLoginReason,
  pageViewOf,
  resolveOptions,
  sendSize,
  sessionLeftOver,
  stillAlive,
  usableSession,
} from '../src/core/policy';
import type { BridgeSessionRow } from '../src/store/session-columns';

const NOW = Date.UTC(2026, 10, 2, 9, 0, 0);
const options = resolveOptions();
const reader = { id: 'u1', name: 'Ada' };

/** A live row of `reader` holding a platform session last active `idleMs` ago. */
function liveRow(idleMs: number, extra: Partial<BridgeSessionRow> = {}): BridgeSessionRow {
  return { ...emptyRow('sid-1', reader.id, NOW - idleMs), platform_user_id: 'p1', platform_session: 'ps-1', ...extra };
}

describe('bridge options', () => {
  it('default to a re-login at 11.5 hours inside the platform idle limit of 12 hours', () => {
    expect(options.idleReloginMs).toBe(11.5 * HOUR);
    expect(options.platformIdleMs).toBe(12 * HOUR);
    expect(options.pendingLogoutTtlMs).toBe(12 * HOUR);
    expect(options.forgetAfterMs).toBe(7 * 24 * HOUR + 12 * HOUR);
  });

  it('derive the logout expiry and the forget time from the platform idle limit given', () => {
    const resolved = resolveOptions({ platformIdleMs: 2 * HOUR, idleReloginMs: HOUR });
    expect(resolved.pendingLogoutTtlMs).toBe(2 * HOUR);
    expect(resolved.forgetAfterMs).toBe(7 * 24 * HOUR + 2 * HOUR);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuse %p as a duration', (value) => {
    expect(() => resolveOptions({ retryBaseMs: value })).toThrow(new TypeError('bridge option retryBaseMs must be a positive number'));
  });

  it('refuse a re-login time that is not shorter than the platform idle limit', () => {
    expect(() => resolveOptions({ idleReloginMs: 12 * HOUR })).toThrow('idleReloginMs must be shorter than platformIdleMs');
  });
});

describe('a host user', () => {
  it('needs an id and a name that is not blank', () => {
    expect(() => checkUser(reader)).not.toThrow();
    expect(() => checkUser({ id: '', name: 'Ada' })).toThrow('a host user needs an id');
    expect(() => checkUser({ id: 'u1', name: '  ' })).toThrow('a host user needs a name');
    expect(() => checkUser(undefined as unknown as { id: string; name: string })).toThrow('a host user needs an id');
  });
});

describe('a platform session', () => {
  it('is alive until the platform idle limit has passed since its last activity', () => {
    expect(stillAlive(NOW - 12 * HOUR + 1, NOW, options)).toBe(true);
    expect(stillAlive(NOW - 12 * HOUR, NOW, options)).toBe(false);
  });

  it('is shown only from a live row of the same user that holds one', () => {
    expect(usableSession(liveRow(HOUR), reader, NOW, options)).toEqual({ userId: 'p1', session: 'ps-1' });
    expect(usableSession(undefined, reader, NOW, options)).toBeNull();
    expect(usableSession(liveRow(HOUR), { id: 'u2', name: 'Bob' }, NOW, options)).toBeNull();
    expect(usableSession(liveRow(HOUR, { ended_at: NOW }), reader, NOW, options)).toBeNull();
    expect(usableSession(emptyRow('sid-1', reader.id, NOW), reader, NOW, options)).toBeNull();
    expect(usableSession(liveRow(12 * HOUR), reader, NOW, options)).toBeNull();
  });
});

describe('a page view', () => {
  it('shows a fresh session without logging in', () => {
    expect(pageViewOf(liveRow(HOUR), reader, NOW, options)).toEqual({ current: { userId: 'p1', session: 'ps-1' }, due: false });
  });

  it('logs in again once the session has been idle for the re-login time, still showing it meanwhile', () => {
    expect(pageViewOf(liveRow(11.5 * HOUR), reader, NOW, options)).toEqual({ current: { userId: 'p1', session: 'ps-1' }, due: true });
  });

  it('logs in when the row has no platform session yet', () => {
    expect(pageViewOf(emptyRow('sid-1', reader.id, NOW), reader, NOW, options)).toEqual({ current: null, due: true });
  });

  it('waits for the retry time after a failed login, showing the old session until then', () => {
    const failed = liveRow(HOUR, { retry_at: NOW + 1, failed_attempts: 1 });
    expect(pageViewOf(failed, reader, NOW, options)).toEqual({ current: { userId: 'p1', session: 'ps-1' }, due: false });
    expect(pageViewOf(failed, reader, NOW + 1, options).due).toBe(true);
  });

  it('names why it logs in', () => {
    expect(pageViewLoginReason(undefined, reader)).toBe('missing');
    expect(pageViewLoginReason(liveRow(HOUR, { host_user_id: 'u2' }), reader)).toBe('other-user');
    expect(pageViewLoginReason(liveRow(HOUR, { retry_at: NOW }), reader)).toBe('retry');
    expect(pageViewLoginReason(liveRow(11.5 * HOUR), reader)).toBe('idle');
  });

  it('writes the activity time at most once per write interval', () => {
    expect(activityWriteDue(NOW - 59_999, NOW, options)).toBe(false);
    expect(activityWriteDue(NOW - 60_000, NOW, options)).toBe(true);
  });
});

describe('a finished platform login', () => {
  it('that took its row leaves the session it replaced to log out', () => {
    expect(sessionLeftOver(true, 'old', 'new')).toBe('old');
    expect(sessionLeftOver(true, null, 'new')).toBeNull();
    expect(sessionLeftOver(true, 'same', 'same')).toBeNull();
  });

  it('that lost its row to a logout or another login leaves its own new session to log out', () => {
    expect(sessionLeftOver(false, 'old', 'new')).toBe('new');
  });
});

describe('retry schedules', () => {
  it('wait 5 s after a first failed login, doubling up to 5 minutes', () => {
    expect([1, 2, 3, 4, 7, 50].map((n) => loginRetryDelay(n, options))).toEqual([5_000, 10_000, 20_000, 40_000, 300_000, 300_000]);
  });

  it('wait 5 s after a first failed logout delivery, doubling up to 5 minutes', () => {
    expect([1, 2, 3, 4, 7, 50].map((n) => logoutRetryDelay(n, options))).toEqual([5_000, 10_000, 20_000, 40_000, 300_000, 300_000]);
  });

  it('follow the configured base and cap', () => {
    const tuned = resolveOptions({ retryBaseMs: 100, retryMaxMs: 250 });
    expect([1, 2, 3].map((n) => loginRetryDelay(n, tuned))).toEqual([100, 200, 250]);
    expect([1, 2, 3].map((n) => logoutRetryDelay(n, tuned))).toEqual([100, 200, 250]);
  });
});

describe('a refused platform logout', () => {
  const rejected = (status: number) => new PlatformError('PLATFORM_REJECTED', 'refused', { upstreamStatus: status });

  it('leaves nothing to retry when the platform answers a 4xx meaning it has no such session', () => {
    expect(nothingToLogOut(rejected(400))).toBe(true);
    expect(nothingToLogOut(rejected(404))).toBe(true);
  });

  it.each([401, 408, 425, 429])('stays queued after a %p, which means later', (status) => {
    expect(nothingToLogOut(rejected(status))).toBe(false);
  });

  it('stays queued after a 5xx, a timeout or an unknown error', () => {
    expect(nothingToLogOut(rejected(503))).toBe(false);
    expect(nothingToLogOut(new PlatformError('PLATFORM_TIMEOUT', 'timed out'))).toBe(false);
    expect(nothingToLogOut(new Error('socket hang up'))).toBe(false);
  });
});

describe('the log fields of a failed platform call', () => {
  it('carry the code, upstream status and OAuth error, never the message or cause', () => {
    const error = new PlatformError('TOKEN_INVALID_GRANT', 'refused token=secret', { upstreamStatus: 400, oauthError: 'invalid_grant', cause: new Error('body secret') });
    expect(failureFields(error, { attempts: 2 })).toEqual({ code: 'TOKEN_INVALID_GRANT', attempts: 2, upstreamStatus: 400, oauthError: 'invalid_grant' });
  });

  it('name an error that is not the bridge own as INTERNAL', () => {
    expect(failureFields(new Error('secret'))).toEqual({ code: 'INTERNAL' });
  });
});

describe('delivery under the circuit breaker', () => {
  it('claims a whole batch and sends ten at once while the circuit is closed', () => {
    expect(claimSize('closed', 100)).toBe(100);
    expect(sendSize('closed')).toBe(DELIVERY_CONCURRENCY);
    expect(DELIVERY_CONCURRENCY).toBe(10);
  });

  it('claims and sends one trial logout while it is half-open', () => {
    expect(claimSize('half-open', 100)).toBe(1);
    expect(sendSize('half-open')).toBe(1);
  });
});
