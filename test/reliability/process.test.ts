import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import { embedTagOf } from '../helpers/browser-flow';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';
import { killAllSiteProcesses, SiteBrowser, siteProcessEnv, startSiteProcess, type SiteProcess, type SiteReply } from '../helpers/site-process';
import { csrfOf, eachLimited, register, sessionOf, sleep, waitUntil as waitFor, within } from '../helpers/process-reader';
import { TEST_HOOK_SECRET, TEST_PASSWORD } from '../helpers/site';
import { makeTempDir } from '../helpers/temp-database';

const ARTICLE = '/articles/harbour-bridge-reopens';

/** How a TCP connect to the port ends: the listener gone shows as ECONNREFUSED. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000, () => (socket.destroy(), resolve('timeout')));
    socket.once('connect', () => (socket.destroy(), resolve('accepted')));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** The idle timeout the site announces on a kept-alive connection (`Keep-Alive: timeout=N`). */
function keepAliveAnnounced(url: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const agent = new http.Agent({ keepAlive: true });
    http
      .get(`${url}/healthz`, { agent }, (res) => {
        res.resume();
        const announced = res.headers['keep-alive'];
        res.on('end', () => (agent.destroy(), resolve(typeof announced === 'string' ? announced : undefined)));
      })
      .on('error', reject);
  });
}

describe('the site as a process: restarts, shutdown and the durable logout outbox', () => {
  let emulator: TestEmulator;
  let temp: { dir: string; remove: () => void };

  /** Same database and DATA_DIR every time: the generated session secret lives there. */
  function startSite(extra: Record<string, string> = {}): Promise<SiteProcess> {
    const env = siteProcessEnv({
      dataDir: temp.dir,
      databaseFile: path.join(temp.dir, 'site.db'),
      platform: { url: emulator.url, embedSrc: emulator.embedSrc, siteId: TEST_SITE_ID, apiKey: TEST_API_KEY },
      hookSecret: TEST_HOOK_SECRET,
      extra,
    });
    return startSiteProcess({ env, cwd: temp.dir });
  }

  /** Read-only, beside the running site: what a crash would leave on disk. */
  function pendingLogouts(): string[] {
    const db = new BetterSqlite3(path.join(temp.dir, 'site.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('select platform_session from vf_pending_logouts').all() as { platform_session: string }[]).map((row) => row.platform_session);
    } finally {
      db.close();
    }
  }

  beforeEach(async () => {
    temp = makeTempDir('vf-process-');
    emulator = await startTestEmulator();
  });

  afterEach(async () => {
    await killAllSiteProcesses();
    await emulator?.close();
    temp?.remove();
  });

  it('keeps idle connections past a load balancer\'s 60 s behind a proxy, and Node\'s 5 s otherwise', async () => {
    const direct = await startSite();
    expect(await keepAliveAnnounced(direct.url)).toBe('timeout=5');
    await direct.kill();

    const proxied = await startSite({ TRUST_PROXY: 'true' });
    expect(await keepAliveAnnounced(proxied.url)).toBe('timeout=65');
  });

  it('readers stay logged in, with the same platform session, across a SIGKILL in the middle of traffic', async () => {
    const READERS = 30;
    let site = await startSite();
    const readers = Array.from({ length: READERS }, () => new SiteBrowser(site.url, 5_000));
    await eachLimited(readers, 5, (reader) => register(reader).then(() => undefined));

    const before = await Promise.all(readers.map(async (reader) => embedTagOf((await reader.get(ARTICLE)).text)));
    for (const tag of before) expect(tag.sid).toBeTruthy();
    expect(new Set(before.map((tag) => tag.sid)).size).toBe(READERS);
    const loginCalls = emulator.stats().calls.login;

    type Outcome = { reader: number; startedAt: number; status?: number; sid?: string | null; error?: string };
    const outcomes: Outcome[] = [];
    let trafficOn = true;
    const traffic = readers.map(async (reader, index) => {
      while (trafficOn) {
        const startedAt = performance.now();
        try {
          const reply = await reader.get(ARTICLE);
          outcomes.push({ reader: index, startedAt, status: reply.status, sid: reply.status === 200 ? embedTagOf(reply.text).sid : null });
        } catch (error) {
          outcomes.push({ reader: index, startedAt, error: String((error as Error).cause ?? error) });
          // While the site is down a refusal is instant: do not spin.
          await sleep(50);
        }
      }
    });

    await sleep(800);
    const killedAt = performance.now();
    expect(await site.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    // Same port, so the readers' next requests simply find the new process there.
    site = await startSite({ PORT: String(site.port) });
    const restartedAt = performance.now();
    await sleep(1_500);
    trafficOn = false;
    await within('the traffic loops to stop', Promise.all(traffic), 10_000);

    const beforeKill = outcomes.filter((o) => o.startedAt < killedAt);
    expect(beforeKill.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(READERS);
    const afterRestart = outcomes.filter((o) => o.startedAt >= restartedAt);
    const failures = afterRestart.filter((o) => o.status !== 200 || o.sid !== before[o.reader]!.sid);
    // A handful is enough to read: a regression fails every reader's every request.
    expect({ failed: failures.length, first: failures.slice(0, 3) }).toEqual({ failed: 0, first: [] });
    for (let index = 0; index < READERS; index += 1) {
      expect(afterRestart.filter((o) => o.reader === index).length).toBeGreaterThan(0);
    }

    const after = await Promise.all(readers.map(sessionOf));
    after.forEach((view, index) => {
      expect(view.user).not.toBeNull();
      expect(view.platform).toEqual({ uid: before[index]!.uid, sid: before[index]!.sid });
    });
    // Not one platform login from the restart: the bridge's state came back from the database.
    expect(emulator.stats().calls.login).toBe(loginCalls);
    expect(emulator.stats().liveSessions).toBe(READERS);
  });

  it('SIGTERM lets in-flight logins and registrations finish, refuses new connections, and exits 0', async () => {
    const LATENCY_MS = 1_500;
    // The client timeout sits well above the latency: what is measured is the drain, not a timeout.
    const site = await startSite({ VF_TIMEOUT_MS: '5000' });

    const returningEmails: string[] = [];
    await eachLimited([0, 1, 2], 3, async () => {
      returningEmails.push(await register(new SiteBrowser(site.url)));
    });
    const posts: Array<{ browser: SiteBrowser; send: () => Promise<SiteReply> }> = [];
    for (const email of returningEmails) {
      const browser = new SiteBrowser(site.url, 20_000);
      const _csrf = csrfOf(await browser.get('/login'));
      posts.push({ browser, send: () => browser.postForm('/login', { _csrf, email, password: TEST_PASSWORD }) });
    }
    for (let n = 0; n < 3; n += 1) {
      const browser = new SiteBrowser(site.url, 20_000);
      const _csrf = csrfOf(await browser.get('/register'));
      const email = `newcomer-${process.pid}-${n}@example.com`;
      posts.push({ browser, send: () => browser.postForm('/register', { _csrf, email, name: `Newcomer ${n}`, password: TEST_PASSWORD }) });
    }

    emulator.faults.setLatency(LATENCY_MS, 'login');
    const loginCalls = emulator.stats().calls.login;
    const inFlight = posts.map(({ send }) => send().then((reply) => ({ reply, answeredAt: performance.now() })));
    // Every request is now inside its platform login, which the emulator holds for 1.5 s.
    await waitFor('every request to reach the platform login', () => emulator.stats().calls.login === loginCalls + posts.length, 10_000);

    const signalledAt = performance.now();
    site.signal('SIGTERM');
    let refusedAt = Infinity;
    await waitFor(
      'the listener to close',
      async () => {
        const outcome = await connectOutcome(site.port);
        if (outcome === 'ECONNREFUSED') refusedAt = performance.now();
        return outcome === 'ECONNREFUSED';
      },
      3_000,
    );

    const answers = await within('the in-flight requests', Promise.all(inFlight), 15_000);
    for (const { reply, answeredAt } of answers) {
      expect(reply.status).toBe(303);
      expect(reply.headers.get('location')).toBe('/');
      expect(answeredAt).toBeGreaterThan(signalledAt);
      // Refused while these were still being served: the drain, not a process already gone.
      expect(refusedAt).toBeLessThan(answeredAt);
    }
    expect(await within('the process to exit', site.exited, 15_000)).toEqual({ code: 0, signal: null });
    expect(site.output().stderr).toBe('');

    // Each drained request finished its work, not only its answer: a new process finds every one
    // of those readers logged in, with the platform session opened during the drain.
    const restarted = await startSite();
    const views = await Promise.all(
      posts.map(({ browser }) => {
        browser.baseUrl = restarted.url;
        return sessionOf(browser);
      }),
    );
    for (const view of views) {
      expect(view.user).not.toBeNull();
      expect(view.platform).not.toBeNull();
      expect(emulator.sessionInfo(view.platform!.sid)?.alive).toBe(true);
    }
    expect(emulator.stats().calls.login).toBe(loginCalls + posts.length);
  });

  it('a log reader that goes away (EPIPE) neither crashes nor hangs the site: it serves on, and SIGTERM still ends it', async () => {
    const site = await startSite({ LOG_LEVEL: 'info' });
    site.closeStdout();
    // Every request logs a line into the broken pipe.
    for (let i = 0; i < 5; i += 1) expect((await fetch(`${site.url}/`)).status).toBe(200);
    site.signal('SIGTERM');
    expect(await within('the site to exit after SIGTERM', site.exited, 20_000)).toEqual({ code: 0, signal: null });
  });

  it('a second SIGTERM ends the process at once, whatever is still draining', async () => {
    const site = await startSite({ SHUTDOWN_TIMEOUT_SECONDS: '600' });
    // A request whose body never finishes arriving: the drain would wait for it for minutes.
    const held = net.connect({ host: '127.0.0.1', port: site.port });
    await new Promise((resolve) => held.once('connect', resolve));
    held.write('POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=');
    await waitFor('the held request to reach the site', async () => (await fetch(`${site.url}/healthz`)).status === 200, 5_000);
    site.signal('SIGTERM');
    // The first signal has been handled once the site stops accepting connections.
    await waitFor('the site to stop listening', async () => (await connectOutcome(site.port)) === 'ECONNREFUSED', 10_000);
    expect(site.hasExited()).toBe(false);
    site.signal('SIGTERM');
    try {
      expect(await within('the site to exit after the second SIGTERM', site.exited, 20_000)).toEqual({ code: 1, signal: null });
    } finally {
      held.destroy();
    }
  });

  it('logouts queued while the platform is down survive a SIGKILL and reach the platform after the restart', async () => {
    const READERS = 8;
    let site = await startSite();
    const readers = Array.from({ length: READERS }, () => new SiteBrowser(site.url));
    await eachLimited(readers, 4, (reader) => register(reader).then(() => undefined));
    const sids = await Promise.all(
      readers.map(async (reader) => {
        const sid = (await sessionOf(reader)).platform?.sid;
        if (!sid) throw new Error('a registered reader has no platform session');
        return sid;
      }),
    );
    const cookiesBeforeLogout = readers.map((reader) => reader.cookie);

    emulator.faults.failAll('drop');
    for (const reader of readers) {
      const { csrfToken } = await sessionOf(reader);
      const reply = await reader.postForm('/logout', {}, { Accept: 'application/json', 'X-CSRF-Token': csrfToken ?? '' });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual({ ok: true });
      // The host session ends at once, whatever the platform does.
      expect(await sessionOf(reader)).toMatchObject({ user: null, platform: null });
    }
    expect(pendingLogouts().sort()).toEqual([...sids].sort());
    for (const sid of sids) expect(emulator.sessionInfo(sid)?.alive).toBe(true);

    expect(await site.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    emulator.faults.reset();
    site = await startSite();

    // The delivery runs every 5 s from start-up; the first run after the restart should do it.
    await waitFor('every queued logout to reach the platform', () => sids.every((sid) => emulator.sessionInfo(sid)?.alive === false), 20_000);
    expect(emulator.stats().liveSessions).toBe(0);
    await waitFor('the outbox to empty', () => pendingLogouts().length === 0, 5_000);
    // Ended on the server, not only forgotten by the browser: the old cookies log no one in.
    for (const cookie of cookiesBeforeLogout) {
      const replay = new SiteBrowser(site.url);
      replay.cookie = cookie;
      expect(await sessionOf(replay)).toMatchObject({ user: null, platform: null });
    }
  });
});
