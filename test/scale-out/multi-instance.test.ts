import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { signHook } from '../../packages/bridge/src/hooks/signature';
import { createPostgresSchema, dropRedisPrefix } from '../helpers/backend';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';
import { hasRedisServer, startPrivateRedis, type PrivateRedis } from '../helpers/private-redis';
import { csrfOf, eachLimited, logIn, logOut, register, sessionOf, waitUntil } from '../helpers/process-reader';
import { killAllSiteProcesses, SiteBrowser, startSiteProcess, type SiteProcess, type SiteReply } from '../helpers/site-process';
import { describeIf, postgresUrl, redisUrl } from '../helpers/services';
import { TEST_HOOK_SECRET } from '../helpers/site';
import { makeTempDir } from '../helpers/temp-dir';

const pg = postgresUrl();
const sharedRedis = redisUrl();
const ARTICLE = '/articles/harbour-bridge-reopens';
const SESSION_SECRET = randomBytes(32).toString('hex');
const LOGIN_LIMIT = 6;

interface Trio {
  sites: SiteProcess[];
  /** the connections' application_name in pg_stat_activity: this trio's alone */
  applicationName: string;
  pgUrl: string;
  close(): Promise<void>;
}

/** Three site processes on one PostgreSQL schema and one Redis, behind no balancer: the test picks the instance. */
async function startTrio(emulator: TestEmulator, redis: { url: string; keyPrefix: string }, extra: Record<string, string> = {}): Promise<Trio> {
  const schema = await createPostgresSchema(pg!);
  const applicationName = `vfb_${schema.schema}`;
  const url = new URL(schema.url);
  url.searchParams.set('application_name', applicationName);
  const temp = makeTempDir('vf-trio-');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATA_DIR: temp.dir,
    DATABASE_URL: url.toString(),
    SESSION_STORE: 'redis',
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    SESSION_SECRET,
    HOOK_SECRET: TEST_HOOK_SECRET,
    VF_SITE_ID: TEST_SITE_ID,
    VF_API_KEY: TEST_API_KEY,
    VF_API_URL: emulator.url,
    VF_EMBED_SRC: emulator.embedSrc,
    // Three sites hashing at production cost beside the emulator on two cores: a slow platform
    // answer here is the test rig's, and the bridge's timeout behaviour has suites of its own.
    VF_TIMEOUT_MS: '10000',
    RATE_LIMIT_REGISTER_IP: '100000',
    RATE_LIMIT_LOGIN_IP: '100000',
    RATE_LIMIT_LOGIN_ACCOUNT: String(LOGIN_LIMIT),
    ...extra,
  };
  // One after another: the first migrates the schema.
  const sites: SiteProcess[] = [];
  for (let i = 0; i < 3; i += 1) sites.push(await startSiteProcess({ env, cwd: temp.dir, startTimeoutMs: 30_000 }));
  return {
    sites,
    applicationName,
    pgUrl: schema.url,
    async close() {
      for (const site of sites) site.signal('SIGTERM');
      await Promise.all(sites.map((site) => site.exited));
      await schema.drop();
      temp.remove();
    },
  };
}

const sidOf = (reply: SiteReply) => /<script id="viafoura-platform"[^>]*data-sid="([^"]+)"/.exec(reply.text)?.[1];
const uidOf = (reply: SiteReply) => /<script id="viafoura-platform"[^>]*data-uid="([^"]+)"/.exec(reply.text)?.[1];

/** The same reader's cookie, sent to another instance. */
function sameReaderOn(browser: SiteBrowser, site: SiteProcess, timeoutMs?: number): SiteBrowser {
  const other = new SiteBrowser(site.url, timeoutMs);
  other.cookie = browser.cookie;
  return other;
}

async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

const pendingLogouts = async (trio: Trio) => Number((await query<{ n: string }>(trio.pgUrl, 'select count(*) as n from vf_pending_logouts'))[0]!.n);

/** Requests from `readers` round-robin over the instances until `stop()`; every status and time is kept. */
function trafficOn(trio: Trio, readers: SiteBrowser[]) {
  const seen: Array<{ status: number; ms: number }> = [];
  let running = true;
  const loops = readers.map(async (reader, i) => {
    for (let n = 0; running; n += 1) {
      const browser = sameReaderOn(reader, trio.sites[(i + n) % 3]!);
      const started = Date.now();
      const reply = await browser.get(n % 2 ? ARTICLE : '/api/session', n % 2 ? {} : { Accept: 'application/json' }).catch((error: Error) => (process.env.TRACE_TRAFFIC && process.stderr.write(`${String((error.cause as Error | undefined)?.message ?? error.message)}\n`), { status: 0 }));
      seen.push({ status: reply.status, ms: Date.now() - started });
    }
  });
  return {
    seen,
    async stop() {
      running = false;
      await Promise.all(loops);
      return seen;
    },
  };
}

const counts = (seen: Array<{ status: number }>) => seen.reduce<Record<number, number>>((acc, { status }) => ((acc[status] = (acc[status] ?? 0) + 1), acc), {});

describeIf(Boolean(pg && sharedRedis))('three instances on PostgreSQL + Redis', () => {
  let emulator: TestEmulator;
  let trio: Trio;
  const keyPrefix = `trio_${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    trio = await startTrio(emulator, { url: sharedRedis!, keyPrefix });
  }, 120_000);
  afterAll(async () => {
    await trio?.close();
    await killAllSiteProcesses();
    await emulator?.close();
    await dropRedisPrefix(sharedRedis!, keyPrefix);
  }, 60_000);

  it('a login on A is read on B and C, and a logout on C ends it everywhere and on the platform', async () => {
    const [a, b, c] = trio.sites as [SiteProcess, SiteProcess, SiteProcess];
    const onA = new SiteBrowser(a.url);
    await register(onA);
    const pageA = await onA.get(ARTICLE);
    const sid = sidOf(pageA);
    expect(sid).toBeTruthy();
    for (const site of [b, c]) {
      const page = await sameReaderOn(onA, site).get(ARTICLE);
      expect(page.status).toBe(200);
      expect({ uid: uidOf(page), sid: sidOf(page) }).toEqual({ uid: uidOf(pageA), sid });
    }

    expect(await logOut(sameReaderOn(onA, c))).toBe(200);
    for (const site of [a, b, c]) expect((await sessionOf(sameReaderOn(onA, site))).user).toBeNull();
    expect(emulator.sessionInfo(sid!)?.alive).toBe(false);
  });

  it('a signed hook sent to B ends the sessions made on A and C; its replay to A is refused', async () => {
    const [a, b, c] = trio.sites as [SiteProcess, SiteProcess, SiteProcess];
    const onA = new SiteBrowser(a.url);
    const email = await register(onA);
    const onC = new SiteBrowser(c.url);
    expect(await logIn(onC, email)).toBe(303);
    const sids = [sidOf(await onA.get(ARTICLE)), sidOf(await onC.get(ARTICLE))];
    const userId = String((await sessionOf(onA)).user!.id);

    const body = JSON.stringify({ userId });
    const signature = signHook(TEST_HOOK_SECRET, Math.floor(Date.now() / 1000), body);
    const send = (site: SiteProcess) =>
      fetch(`${site.url}/hooks/logout`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Hook-Signature': signature } });
    const sent = await send(b);
    expect(sent.status).toBe(200);
    expect(await sent.json()).toEqual({ loggedOut: 2 });
    expect((await send(a)).status).toBe(401);

    for (const browser of [onA, onC]) expect((await sessionOf(browser)).user).toBeNull();
    for (const sid of sids) expect(emulator.sessionInfo(sid!)?.alive).toBe(false);
  });

  it('failed logins spread over A, B and C count against one limit', async () => {
    const email = await register(new SiteBrowser(trio.sites[0]!.url));
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_LIMIT; i += 1) statuses.push(await logIn(new SiteBrowser(trio.sites[i % 3]!.url), email, 'wrong password, attempt ' + i));
    expect(statuses.every((status) => status === 401 || status === 200)).toBe(true);
    const refused = await Promise.all(trio.sites.map((site) => logIn(new SiteBrowser(site.url), email, 'one more wrong guess')));
    expect(refused).toEqual([429, 429, 429]);
  });

  it('60 logouts queued while the platform refuses them reach it exactly once each when it recovers', async () => {
    const readers = Array.from({ length: 60 }, (_, i) => new SiteBrowser(trio.sites[i % 3]!.url));
    for (const reader of readers) await register(reader);
    const sids = await Promise.all(readers.map(async (reader) => sidOf(await reader.get(ARTICLE))!));

    emulator.faults.failAll({ status: 503 }, 'logout');
    for (const reader of readers) expect(await logOut(reader)).toBe(200);
    expect(await pendingLogouts(trio)).toBe(60);

    // The platform comes back, slowly, while all three instances' delivery runs go on.
    emulator.faults.reset();
    emulator.faults.setLatency(100, 'logout');
    const callsBefore = emulator.stats().calls.logout;
    const recoveredAt = Date.now();
    await waitUntil('the queued logouts to be delivered', async () => (await pendingLogouts(trio)) === 0, 90_000);
    const calls = emulator.stats().calls.logout - callsBefore;
    emulator.faults.reset();
    process.stdout.write(`multi-instance: 60 queued logouts -> ${calls} platform logout calls, delivered ${((Date.now() - recoveredAt) / 1000).toFixed(1)} s after recovery\n`);

    expect(calls).toBe(60);
    for (const sid of sids) expect(emulator.sessionInfo(sid)?.alive).toBe(false);
  }, 120_000);

  it("the instances' PostgreSQL connections terminated mid-traffic: 503 or success meanwhile, no exit, all succeed afterwards", async () => {
    const readers = Array.from({ length: 9 }, (_, i) => new SiteBrowser(trio.sites[i % 3]!.url));
    for (const reader of readers) await register(reader);
    const traffic = trafficOn(trio, readers);
    await waitUntil('traffic to flow', () => traffic.seen.length >= 30, 20_000);
    const terminated = [];
    for (let round = 0; round < 3; round += 1) {
      const before = traffic.seen.length;
      terminated.push(
        ...(await query<{ pid: number }>(
          pg!,
          'select pg_terminate_backend(pid) as pid from pg_stat_activity where application_name = $1',
          [trio.applicationName],
        )),
      );
      await waitUntil('traffic to go on after the connections were cut', () => traffic.seen.length >= before + 30, 20_000);
    }
    const seen = await traffic.stop();
    process.stdout.write(`multi-instance: ${terminated.length} PostgreSQL connections terminated; answers meanwhile ${JSON.stringify(counts(seen))}\n`);

    for (const site of trio.sites) {
      if (site.hasExited()) process.stderr.write(`an instance exited:\n${site.output().stderr}\n${site.output().stdout}\n`);
      expect(site.hasExited()).toBe(false);
    }
    expect(terminated.length).toBeGreaterThan(0);
    expect(seen.filter(({ status }) => status !== 200 && status !== 503)).toEqual([]);
    for (const reader of readers) {
      for (const site of trio.sites) expect((await sameReaderOn(reader, site).get(ARTICLE)).status).toBe(200);
    }
  }, 90_000);

  it('500 register/page/logout/login/page/logout cycles, 96 at a time, spread over the three: no failure, nothing left behind', async () => {
    const CYCLES = 500;
    const IN_FLIGHT = 96;
    const logoutsBefore = emulator.stats().calls.logout;
    // Readers of the tests before this one are still logged in; this test's must all be gone.
    const liveBefore = emulator.stats().liveSessions;
    const failures: string[] = [];
    let logouts = 0;
    async function cycle(i: number): Promise<void> {
      const reader = new SiteBrowser(trio.sites[i % 3]!.url, 60_000);
      const email = await register(reader);
      const next = sameReaderOn(reader, trio.sites[(i + 1) % 3]!, 60_000);
      if (!sidOf(await next.get(ARTICLE))) throw new Error('no platform session after register');
      if ((await logOut(next)) !== 200) throw new Error('ajax logout');
      logouts += 1;
      const again = new SiteBrowser(trio.sites[(i + 2) % 3]!.url, 60_000);
      if ((await logIn(again, email)) !== 303) throw new Error('login');
      const page = await again.get(ARTICLE);
      if (!sidOf(page)) throw new Error('no platform session after login');
      const form = await again.postForm('/logout', { _csrf: csrfOf(page) });
      if (form.status !== 303) throw new Error(`form logout: ${form.status}`);
      logouts += 1;
    }
    const started = Date.now();
    // Like a balancer's connection cap in front of the three, at most IN_FLIGHT readers have a
    // request out at once; the rest wait their turn, as they would behind a real one.
    await eachLimited(Array.from({ length: CYCLES }, (_, i) => i), IN_FLIGHT, (i) => cycle(i).catch((error: Error) => void failures.push(error.message)));
    const seconds = (Date.now() - started) / 1000;
    await waitUntil('queued logouts to drain', async () => (await pendingLogouts(trio)) === 0, 60_000);
    const calls = emulator.stats().calls.logout - logoutsBefore;
    const codes = new Map<string, number>();
    for (const site of trio.sites) {
      for (const code of site.output().stdout.matchAll(/"code":"([A-Z_]+)"/g)) codes.set(code[1]!, (codes.get(code[1]!) ?? 0) + 1);
    }
    process.stdout.write(`multi-instance load: logged codes ${JSON.stringify(Object.fromEntries(codes))}\n`);
    process.stdout.write(
      `multi-instance load: ${CYCLES} cycles in ${seconds.toFixed(1)} s, ${failures.length} failures, ${logouts} logouts -> ${calls} platform logout calls, ${emulator.stats().liveSessions - liveBefore} live platform sessions left\n`,
    );

    expect(failures).toEqual([]);
    expect(calls).toBe(logouts);
    expect(emulator.stats().liveSessions).toBe(liveBefore);
    expect(await pendingLogouts(trio)).toBe(0);
  }, 240_000);
});

describeIf(Boolean(pg && hasRedisServer()))('three instances and a Redis that fails', () => {
  let emulator: TestEmulator;
  let redis: PrivateRedis;
  let trio: Trio;
  // Reconciliation every second, for rows idle two seconds: what takes ten minutes in production.
  const RECONCILE = { RECONCILE_INTERVAL_SECONDS: '1', RECONCILE_GRACE_SECONDS: '2' };

  beforeAll(async () => {
    emulator = await startTestEmulator();
    redis = await startPrivateRedis();
    trio = await startTrio(emulator, { url: redis.url, keyPrefix: '' }, RECONCILE);
  }, 120_000);
  afterAll(async () => {
    redis?.thaw();
    await trio?.close();
    await killAllSiteProcesses();
    await redis?.close();
    await emulator?.close();
  }, 60_000);

  async function loggedInReaders(count: number): Promise<SiteBrowser[]> {
    const readers = Array.from({ length: count }, (_, i) => new SiteBrowser(trio.sites[i % 3]!.url, 15_000));
    for (const reader of readers) await register(reader);
    return readers;
  }

  /** Every instance ready again, by its own /readyz, and a reader's page answered. */
  async function recovered(): Promise<number> {
    const started = Date.now();
    await waitUntil('every instance to be ready again', async () => {
      const states = await Promise.all(trio.sites.map((site) => fetch(`${site.url}/readyz`).then((r) => r.status, () => 0)));
      return states.every((status) => status === 200);
    }, 30_000);
    return Date.now() - started;
  }

  it('Redis killed and restarted under traffic: fast 503s, no 500, no hang; back without a restart', async () => {
    const readers = await loggedInReaders(6);
    const traffic = trafficOn(trio, readers);
    await waitUntil('traffic to flow', () => traffic.seen.length >= 20, 20_000);
    await redis.kill();
    const during = traffic.seen.length;
    await waitUntil('requests to meet the dead Redis', () => traffic.seen.length >= during + 20, 20_000);
    const anonymous = await fetch(`${trio.sites[0]!.url}/`);
    const ready = await fetch(`${trio.sites[1]!.url}/readyz`);
    await redis.restart();
    const recoveryMs = await recovered();
    const seen = await traffic.stop();
    process.stdout.write(`multi-instance: Redis killed: answers ${JSON.stringify(counts(seen))}, slowest ${Math.max(...seen.map((s) => s.ms))} ms, ready again ${recoveryMs} ms after the restart\n`);

    expect(anonymous.status).toBe(200);
    expect(ready.status).toBe(503);
    expect(seen.filter(({ status }) => status !== 200 && status !== 503)).toEqual([]);
    expect(counts(seen)[503]).toBeGreaterThan(0);
    // Redis kept nothing: the readers are anonymous now, and every page answers.
    for (const reader of readers) expect((await reader.get(ARTICLE)).status).toBe(200);
  }, 90_000);

  it('Redis frozen for a few seconds: 503s instead of a hang, then the same readers carry on', async () => {
    const readers = await loggedInReaders(6);
    const sids = await Promise.all(readers.map(async (reader) => sidOf(await reader.get(ARTICLE))));
    const traffic = trafficOn(trio, readers);
    await waitUntil('traffic to flow', () => traffic.seen.length >= 20, 20_000);
    redis.freeze();
    const during = traffic.seen.length;
    await waitUntil('requests to meet the frozen Redis', () => traffic.seen.slice(during).filter((s) => s.status === 503).length >= 12, 30_000);
    const readyMs = Date.now();
    const ready = await fetch(`${trio.sites[2]!.url}/readyz`);
    const readyTook = Date.now() - readyMs;
    redis.thaw();
    const recoveryMs = await recovered();
    const seen = await traffic.stop();
    process.stdout.write(`multi-instance: Redis frozen: answers ${JSON.stringify(counts(seen))}, slowest ${Math.max(...seen.map((s) => s.ms))} ms, /readyz said ${ready.status} in ${readyTook} ms, ready again ${recoveryMs} ms after the thaw\n`);

    expect(ready.status).toBe(503);
    expect(seen.filter(({ status }) => status !== 200 && status !== 503)).toEqual([]);
    // Redis kept its data: the same readers, with the same platform sessions.
    for (const [i, reader] of readers.entries()) expect(sidOf(await reader.get(ARTICLE))).toBe(sids[i]);
  }, 90_000);

  it('after a flush, every orphaned platform session is logged out within one reconciliation period', async () => {
    const readers = await loggedInReaders(9);
    const sids = await Promise.all(readers.map(async (reader) => sidOf(await reader.get(ARTICLE))!));
    await redis.flushAll();
    const flushedAt = Date.now();
    await waitUntil('the orphaned platform sessions to be logged out', () => sids.every((sid) => emulator.sessionInfo(sid)?.alive === false), 30_000);
    process.stdout.write(`multi-instance: after a Redis flush, ${sids.length} orphaned platform sessions logged out in ${((Date.now() - flushedAt) / 1000).toFixed(1)} s\n`);
    for (const reader of readers) expect((await sessionOf(reader)).user).toBeNull();
  }, 60_000);
});
