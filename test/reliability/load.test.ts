import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

const CYCLES = 1_000;

/** One reader's browser: a cookie jar, and no redirects followed. */
function createReader(base: string, agent: http.Agent) {
  const jar = new Map<string, string>();
  return function send(path: string, init: { method?: string; form?: Record<string, string>; json?: boolean; csrf?: string } = {}) {
    const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
    const headers: Record<string, string> = {};
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    if (init.json) headers.accept = 'application/json';
    if (init.csrf) headers['x-csrf-token'] = init.csrf;
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(base + path, { method: init.method ?? 'GET', headers, agent, timeout: 30_000 }, (res) => {
        for (const line of res.headers['set-cookie'] ?? []) {
          const pair = line.split(';')[0]!;
          jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('timeout', () => req.destroy(new Error(`timeout on ${path}`)));
      req.on('error', reject);
      req.end(body);
    });
  };
}

const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const sidIn = (html: string) => /<script id="viafoura-platform"[^>]*data-sid="([^"]+)"/.exec(html)?.[1];

describe('load', () => {
  let t: TestSite;
  let server: http.Server;
  let base: string;
  // A thousand readers' cycles run at once; like a proxy in front of the site, at most 64
  // connections carry their requests, and an idle one is closed before the site closes it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4_000 });

  beforeAll(async () => {
    // Under a thousand concurrent readers on one event loop shared with the emulator, on a machine
    // that may be busy, a platform answer can take seconds: a timeout would measure the test rig,
    // and a login whose answer is lost leaves a platform session no one knows of (it idles out).
    // What this test asserts is that nothing is lost or left behind when the platform answers.
    t = await startTestSite({ timeoutMs: 30_000, overrides: { rateLimits: { loginPerAccount: 10, loginPerIp: 100_000, registerPerIp: 100_000 } } });
    server = t.site.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it(`${CYCLES} concurrent register/page/logout/login/page/logout cycles: no failure, no orphan platform session`, async () => {
    const failures: string[] = [];
    const expectStatus = (step: string, got: number, want: number) => {
      if (got !== want) throw new Error(`${step}: ${got}`);
    };

    async function cycle(i: number): Promise<void> {
      const send = createReader(base, agent);
      const email = `load-${i}-${Date.now()}@example.com`;
      const form = await send('/register');
      expectStatus('register', (await send('/register', { method: 'POST', form: { _csrf: csrfIn(form.text), email, name: `Reader ${i}`, password: TEST_PASSWORD } })).status, 303);
      const article = await send('/articles/night-market-returns');
      if (!sidIn(article.text)) throw new Error('no platform session on the page');
      const { csrfToken } = JSON.parse((await send('/api/session')).text) as { csrfToken: string };
      expectStatus('ajax logout', (await send('/logout', { method: 'POST', json: true, csrf: csrfToken })).status, 200);

      const loginForm = await send('/login');
      expectStatus('login', (await send('/login', { method: 'POST', form: { _csrf: csrfIn(loginForm.text), email, password: TEST_PASSWORD } })).status, 303);
      const again = await send('/articles/harbour-bridge-reopens');
      if (!sidIn(again.text)) throw new Error('no platform session after login');
      expectStatus('form logout', (await send('/logout', { method: 'POST', form: { _csrf: csrfIn(again.text) } })).status, 303);
      const after = JSON.parse((await send('/api/session')).text) as { user: unknown };
      if (after.user !== null) throw new Error('host session still alive after logout');
    }

    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    const started = Date.now();
    await Promise.all(Array.from({ length: CYCLES }, (_, i) => cycle(i).catch((error: Error) => void failures.push(error.message))));
    const seconds = (Date.now() - started) / 1000;
    lag.disable();
    process.stdout.write(`event loop delay: p50 ${(lag.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, max ${(lag.max / 1e6).toFixed(0)} ms\n`);
    // Delivered inline at logout; anything the platform could not take at once (a logout that
    // timed out on a busy machine) is in the queue: its retry falls due once the clock moves.
    t.clock.advance(10 * 60_000);
    await t.site.platform.bridge.deliverPendingLogouts();

    // Every host session ended: its row is a tombstone with no platform session in it.
    const bridgeRows = await t.site.database.db
      .selectFrom('bridge_sessions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where((eb) => eb.or([eb('ended_at', 'is', null), eb('platform_session', 'is not', null)]))
      .executeTakeFirstOrThrow();
    const pending = await t.site.database.db.selectFrom('pending_logouts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const codes = new Map<string, number>();
    for (const line of t.logLines) {
      const code = /"code":"([A-Z_]+)"/.exec(line)?.[1];
      if (code) codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    process.stdout.write(
      `load: ${CYCLES} cycles in ${seconds.toFixed(1)} s, ${failures.length} failures, ` +
        `${t.emulator.stats().liveSessions} live platform sessions, logged codes ${JSON.stringify(Object.fromEntries(codes))}\n`,
    );

    expect(failures).toEqual([]);
    expect(t.emulator.stats().liveSessions).toBe(0);
    expect(Number(bridgeRows.n)).toBe(0);
    expect(Number(pending.n)).toBe(0);
    expect(t.emulator.stats().calls.login).toBeGreaterThanOrEqual(2 * CYCLES);
  }, 400_000);
});
