import path from 'node:path';
import type { BenchProcess } from './processes';
import { ARTICLE_PATH } from './settings';

/** The minimal publisher app with the library and without it (src/bench/adapter-process.ts), each logged in once. */
export interface AdapterApps {
  with: { server: BenchProcess; cookie: string };
  without: { server: BenchProcess; cookie: string };
}

/** The app's own login for its one reader: POST /login, answered 204 with the session cookie. */
async function logIn(base: string): Promise<string> {
  const res = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual' });
  const cookie = res.headers.getSetCookie().find((line) => line.startsWith('connect.sid='));
  if (res.status !== 204 || !cookie) throw new Error(`the minimal app's login failed: ${res.status}`);
  return cookie.split(';')[0]!;
}

/** The page each app serves its reader: the logged-in embed tag with the library, the anonymous one without. */
async function checkPage(base: string, cookie: string, loggedIn: boolean): Promise<void> {
  const html = await (await fetch(base + ARTICLE_PATH, { headers: { cookie } })).text();
  if (/<script id="viafoura-platform"[^>]* data-uid="/.test(html) !== loggedIn) throw new Error(`${base}${ARTICLE_PATH} does not carry the ${loggedIn ? 'logged-in' : 'anonymous'} embed tag`);
}

export async function startAdapterApps(
  start: (script: string, env: Record<string, string>) => Promise<BenchProcess>,
  emulator: BenchProcess,
  dir: string,
): Promise<AdapterApps> {
  const env = { BENCH_API_URL: emulator.url, BENCH_EMBED_SRC: emulator.embedSrc!, BENCH_DATABASE_URL: `sqlite:${path.join(dir, 'adapter.db')}` };
  const withIt = await start('adapter-process', { ...env, BENCH_ADAPTER: 'on' });
  const without = await start('adapter-process', { ...env, BENCH_ADAPTER: 'off' });
  const apps = {
    with: { server: withIt, cookie: await logIn(withIt.url) },
    without: { server: without, cookie: await logIn(without.url) },
  };
  await checkPage(withIt.url, apps.with.cookie, true);
  await checkPage(without.url, apps.without.cookie, false);
  return apps;
}
