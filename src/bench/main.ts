import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { systemClock } from '../clock';
import { createLogger } from '../logger';
import { startEmulator } from '../emulator';
import { createPasswordHasher } from '../auth/passwords';
import { createAccountsClient, createTokenClient } from '../platform';
import { openSite } from '../site';

/**
 * `npm run bench`: what the bridge costs, measured side by side in one run on 127.0.0.1
 * against the bundled emulator. Each figure is a ratio of two runs made the same way.
 */
const SITE_ID = 'bench-site';
const API_KEY = 'bench+key/with=chars';
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vf-bench-'));
  const logger = createLogger({ level: 'silent' });
  const emulator = await startEmulator({ siteId: SITE_ID, apiKey: API_KEY });
  const site = await openSite({
    clock: systemClock,
    logger,
    databaseUrl: `sqlite:${path.join(dir, 'site.db')}`,
    platform: { baseUrl: emulator.url, siteId: SITE_ID, apiKey: API_KEY, embedSrc: emulator.embedSrc, timeoutMs: 3000 },
    sessionSecret: 'bench-session-secret-0123456789abcdef',
    sessionIdleMs: 60 * 60 * 1000,
    trustProxy: false,
    hookSecret: undefined,
    rateLimits: { loginPerAccount: 10, loginPerIp: 1_000_000, registerPerIp: 1_000_000 },
    passwords: createPasswordHasher(),
  });
  const server: http.Server = site.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  try {
    const cookie = await registerReader(base);
    const article = `${base}/articles/harbour-bridge-reopens`;

    // 1. A page view for a logged-in reader against an anonymous one: the bridge's share of a page.
    const anonymous = await load(article, {});
    const loginsBefore = emulator.stats().calls.login;
    const loggedIn = await load(article, { cookie });
    const platformCallsDuringPages = emulator.stats().calls.login - loginsBefore;

    // 2. Platform logins with the cached token against fetching a token for every call.
    const cached = await timeLogins(emulator.url, false);
    const uncached = await timeLogins(emulator.url, true);

    // 3. Single-flight: a burst of concurrent logins on a cold token cache.
    const tokensBefore = emulator.stats().calls.token;
    const tokens = createTokenClient({ baseUrl: emulator.url, siteId: SITE_ID, apiKey: API_KEY, clock: systemClock, timeoutMs: 5000 });
    const accounts = createAccountsClient({ baseUrl: emulator.url, tokens, timeoutMs: 5000 });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => accounts.login({ id: `burst-${i}`, name: `Burst ${i}` })));
    const burstTokenCalls = emulator.stats().calls.token - tokensBefore;

    const rows: Array<[string, string]> = [
      ['page views/s, anonymous', anonymous.toFixed(0)],
      ['page views/s, logged-in reader', loggedIn.toFixed(0)],
      ['ratio logged-in / anonymous (session, user and bridge reads together)', (loggedIn / anonymous).toFixed(2)],
      ['platform calls during logged-in page views', String(platformCallsDuringPages)],
      ['platform logins/s, cached token', cached.toFixed(0)],
      ['platform logins/s, a token per call', uncached.toFixed(0)],
      ['ratio cached / token per call', (cached / uncached).toFixed(2)],
      ['token calls for 1,000 concurrent logins on a cold cache', String(burstTokenCalls)],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    process.stdout.write(`\nvf-login-bridge benchmarks (${DURATION_S} s per load run, node ${process.version})\n\n`);
    for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await site.close();
    await emulator.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function registerReader(base: string): Promise<string> {
  const form = await fetch(`${base}/register`);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${base}/register`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email: 'bench@example.com', name: 'Bench Reader', password: 'bench password 123' }),
  });
  if (res.status !== 303) throw new Error(`registration failed: ${res.status}`);
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

async function load(url: string, headers: Record<string, string>): Promise<number> {
  const result = await autocannon({ url, headers, connections: 10, duration: DURATION_S });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`load run had ${result.non2xx} non-2xx and ${result.errors} errors`);
  return result.requests.average;
}

/** Sequential platform logins for a fixed time; with `fresh`, the token is dropped before each. */
async function timeLogins(baseUrl: string, fresh: boolean): Promise<number> {
  const tokens = createTokenClient({ baseUrl, siteId: SITE_ID, apiKey: API_KEY, clock: systemClock, timeoutMs: 5000 });
  const accounts = createAccountsClient({ baseUrl, tokens, timeoutMs: 5000 });
  const until = Date.now() + (DURATION_S * 1000) / 2;
  let count = 0;
  while (Date.now() < until) {
    if (fresh) tokens.invalidate(await tokens.getToken());
    await accounts.login({ id: `reader-${count % 50}`, name: 'Bench Reader' });
    count += 1;
  }
  return count / (DURATION_S / 2);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
