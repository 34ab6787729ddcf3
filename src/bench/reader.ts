import { performance } from 'node:perf_hooks';
import { BENCH_PASSWORD } from './settings';

/** A form page's cookies and CSRF token, as a browser would hold them. */
async function openForm(url: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(url);
  const cookie = res.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await res.text())?.[1];
  if (!csrf) throw new Error(`no CSRF token on ${url}`);
  return { cookie, csrf };
}

function sessionCookieOf(res: Response): string {
  const cookie = res.headers.getSetCookie().find((line) => line.split('=')[0]!.endsWith('vfb.sid'));
  if (!cookie) throw new Error('no session cookie');
  return cookie.split(';')[0]!;
}

/** Registers a reader; returns the logged-in session's cookie. */
export async function registerReader(base: string, email: string): Promise<string> {
  const form = await openForm(`${base}/register`);
  const res = await fetch(`${base}/register`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: form.csrf, email, name: 'Bench Reader', password: BENCH_PASSWORD }),
  });
  if (res.status !== 303) throw new Error(`registration failed: ${res.status}`);
  return sessionCookieOf(res);
}

/** Logs in `count` times, one after another; returns each POST /login's time in ms. */
export async function timeLogins(base: string, email: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const form = await openForm(`${base}/login`);
    const body = new URLSearchParams({ _csrf: form.csrf, email, password: BENCH_PASSWORD });
    const started = performance.now();
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    await res.arrayBuffer();
    times.push(performance.now() - started);
    if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
    // Logged out again, so the cap on sessions per reader never comes into it.
    const cookie = sessionCookieOf(res);
    const page = await fetch(`${base}/account`, { headers: { cookie } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    await fetch(`${base}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf }) });
  }
  return times;
}
