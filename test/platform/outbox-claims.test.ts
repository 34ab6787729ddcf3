import type { HostUser, Platform } from 'vf-login-bridge';
import { claimJobLease } from 'vf-login-bridge';
import { startPlatformFixture, type PlatformFixture } from './fixture';

/**
 * Several site instances share one database: every queued platform logout is sent by exactly one
 * of them, and a periodic job runs on one of them per period. Runs on the run's BACKEND, so on
 * PostgreSQL the instances' claims really race.
 */
describe('the logout outbox across instances', () => {
  let fixture: PlatformFixture;
  let instances: Platform[];
  const reader = (i: number): HostUser => ({ id: `u${i}`, name: `Reader ${i}` });
  const LEASE_MS = 60_000;

  beforeEach(async () => {
    // The circuit never opens here: these tests count calls, not outages.
    fixture = await startPlatformFixture({ options: { deliveryLeaseMs: LEASE_MS, breaker: { volumeThreshold: 10_000 } } });
    instances = [fixture.platform, fixture.restartPlatform(), fixture.restartPlatform()];
  });
  afterEach(async () => {
    await fixture.close();
  });

  const pending = async () => (await fixture.db.selectFrom('pending_logouts').select('platform_session').execute()).map((row) => row.platform_session);

  /** `count` readers logged in and out while the platform refuses logouts: their logouts are queued. */
  async function queueLogouts(count: number): Promise<string[]> {
    const sessions: string[] = [];
    for (let i = 0; i < count; i += 1) sessions.push((await fixture.platform.bridge.onLogin(`sid-${i}`, reader(i)))!.session);
    fixture.emulator.faults.failAll({ status: 503 }, 'logout');
    await Promise.all(sessions.map((_, i) => instances[i % 3]!.bridge.onLogout(`sid-${i}`)));
    fixture.emulator.faults.reset();
    expect((await pending()).sort()).toEqual([...sessions].sort());
    return sessions;
  }

  test('60 logouts queued during an outage: three instances delivering at once send exactly 60 platform logouts', async () => {
    const sessions = await queueLogouts(60);
    // The platform is back, slowly: each call takes a while, so the three instances' runs overlap.
    fixture.emulator.faults.setLatency(20, 'logout');
    fixture.emulator.clock.advance(LEASE_MS);
    const before = fixture.emulator.stats().calls.logout;

    const runs = await Promise.all(instances.map((each) => each.bridge.deliverPendingLogouts()));

    expect(fixture.emulator.stats().calls.logout - before).toBe(60);
    expect(runs.reduce((sum, run) => sum + run.delivered, 0)).toBe(60);
    expect(await pending()).toEqual([]);
    for (const session of sessions) expect(fixture.emulator.sessionInfo(session)!.alive).toBe(false);
  });

  test('a row claimed by an instance that died is left alone until its lease runs out, then taken over once', async () => {
    const [session] = await queueLogouts(1);
    fixture.emulator.clock.advance(LEASE_MS);
    const now = fixture.emulator.clock.now();
    // What a crash between the claim and the platform call leaves behind.
    await fixture.db.updateTable('pending_logouts').set({ claim_token: 'an-instance-that-died', claimed_until: now + LEASE_MS }).execute();
    const before = fixture.emulator.stats().calls.logout;

    await expect(instances[1]!.bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 0, remaining: 1 });
    expect(fixture.emulator.stats().calls.logout).toBe(before);

    fixture.emulator.clock.advance(LEASE_MS);
    await expect(instances[1]!.bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 1, remaining: 0 });
    await expect(instances[2]!.bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 0, remaining: 0 });
    expect(fixture.emulator.stats().calls.logout).toBe(before + 1);
    expect(fixture.emulator.sessionInfo(session!)!.alive).toBe(false);
  });

  test('a failed delivery gives its claim back: the retry is due for any instance', async () => {
    await queueLogouts(1);
    fixture.emulator.clock.advance(LEASE_MS);
    fixture.emulator.faults.failNext(1, { status: 503 }, 'logout');
    await expect(instances[0]!.bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 0, remaining: 1 });
    const [row] = await fixture.db.selectFrom('pending_logouts').selectAll().execute();
    expect(row).toMatchObject({ claim_token: null, claimed_until: null, attempts: 2 });

    fixture.emulator.clock.advance(LEASE_MS);
    await expect(instances[2]!.bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 1, remaining: 0 });
  });
});

describe('job leases', () => {
  let fixture: PlatformFixture;
  beforeEach(async () => {
    fixture = await startPlatformFixture();
  });
  afterEach(async () => {
    await fixture.close();
  });

  test('of several instances asking at once, one gets the period; after it, the next one to ask does', async () => {
    const now = 1_000_000;
    const answers = await Promise.all(['a', 'b', 'c'].map((holder) => claimJobLease(fixture.db, 'prune', holder, now, 60_000)));
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(await claimJobLease(fixture.db, 'prune', 'b', now + 59_999, 60_000)).toBe(false);
    // Another job has its own lease.
    expect(await claimJobLease(fixture.db, 'reconcile', 'b', now, 60_000)).toBe(true);
    expect(await claimJobLease(fixture.db, 'prune', 'c', now + 60_000, 60_000)).toBe(true);
    expect(await claimJobLease(fixture.db, 'prune', 'a', now + 60_001, 60_000)).toBe(false);
  });
});

describe('reconciling bridge rows with the session store', () => {
  let fixture: PlatformFixture;
  const GRACE_MS = 5 * 60_000;
  beforeEach(async () => {
    fixture = await startPlatformFixture({ options: { reconcileGraceMs: GRACE_MS } });
  });
  afterEach(async () => {
    await fixture.close();
  });

  test('a host session the store no longer has is ended and its platform session logged out; live ones stay', async () => {
    const { bridge } = fixture.platform;
    const kept = (await bridge.onLogin('sid-kept', { id: '1', name: 'Kept' }))!;
    const lost = (await bridge.onLogin('sid-lost', { id: '2', name: 'Lost' }))!;
    const storeHas = async (sid: string) => sid === 'sid-kept';

    // Too recent: the login's session may not have reached the store yet.
    await expect(bridge.reconcile(storeHas)).resolves.toEqual({ checked: 0, ended: 0 });

    fixture.emulator.clock.advance(GRACE_MS);
    await expect(bridge.reconcile(storeHas)).resolves.toEqual({ checked: 2, ended: 1 });
    await bridge.deliverPendingLogouts();
    expect(fixture.emulator.sessionInfo(lost.session)!.alive).toBe(false);
    expect(fixture.emulator.sessionInfo(kept.session)!.alive).toBe(true);
    await expect(bridge.hasEnded('sid-lost')).resolves.toBe(true);
    await expect(bridge.platformSessionFor('sid-kept', { id: '1', name: 'Kept' })).resolves.toEqual(kept);
  });

  test('a store that answers for a page of ids at once is asked once a page, and ends the same rows', async () => {
    const { bridge } = fixture.platform;
    const sessions = new Map<string, string>();
    for (let i = 0; i < 5; i += 1) sessions.set(`sid-${i}`, (await bridge.onLogin(`sid-${i}`, { id: String(i), name: `Reader ${i}` }))!.session);
    const asked: string[][] = [];
    const existing = async (ids: readonly string[]) => {
      asked.push([...ids]);
      return new Set(ids.filter((id) => id !== 'sid-1' && id !== 'sid-3'));
    };
    fixture.emulator.clock.advance(GRACE_MS);

    await expect(bridge.reconcile({ existing })).resolves.toEqual({ checked: 5, ended: 2 });
    expect(asked).toEqual([['sid-0', 'sid-1', 'sid-2', 'sid-3', 'sid-4']]);
    await bridge.deliverPendingLogouts();
    for (const [sid, session] of sessions) {
      const gone = sid === 'sid-1' || sid === 'sid-3';
      expect(fixture.emulator.sessionInfo(session)!.alive).toBe(!gone);
      await expect(bridge.hasEnded(sid)).resolves.toBe(gone);
    }
  });

  test('a page question that fails ends nothing', async () => {
    const { bridge } = fixture.platform;
    await bridge.onLogin('sid-a', { id: '1', name: 'A' });
    fixture.emulator.clock.advance(GRACE_MS);

    await expect(bridge.reconcile({ existing: async () => Promise.reject(new Error('store down')) })).rejects.toThrow('store down');
    await expect(bridge.hasEnded('sid-a')).resolves.toBe(false);
  });

  test('a store that cannot answer ends nothing', async () => {
    const { bridge } = fixture.platform;
    const platform = (await bridge.onLogin('sid-a', { id: '1', name: 'A' }))!;
    fixture.emulator.clock.advance(GRACE_MS);

    await expect(bridge.reconcile(async () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(fixture.emulator.sessionInfo(platform.session)!.alive).toBe(true);
    await expect(bridge.hasEnded('sid-a')).resolves.toBe(false);
  });
});
