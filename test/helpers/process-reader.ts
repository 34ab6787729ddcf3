import { SiteBrowser, type SiteReply } from './site-process';
import { TEST_PASSWORD } from './site';

/** What a reader's browser does against a site process: forms, the session API, waits with bounds. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `condition` holds; rejects naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

export function within<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Runs `task` over `items`, `limit` at a time: argon2 at production cost is the bottleneck. */
export async function eachLimited<T>(items: T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function csrfOf(reply: SiteReply): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(reply.text)?.[1];
  if (!token) throw new Error(`no CSRF token on a ${reply.status} page`);
  return token;
}

export interface SessionView {
  user: { id: string; name: string } | null;
  platform: { uid: string; sid: string } | null;
  csrfToken?: string;
}

export async function sessionOf(browser: SiteBrowser): Promise<SessionView> {
  const reply = await browser.get('/api/session', { Accept: 'application/json' });
  if (reply.status !== 200) throw new Error(`GET /api/session: ${reply.status}`);
  return JSON.parse(reply.text) as SessionView;
}

let readerCount = 0;
/** A registration through the form; the browser ends logged in. Returns the email. */
export async function register(browser: SiteBrowser): Promise<string> {
  readerCount += 1;
  const email = `reader-${process.pid}-${readerCount}-${Date.now()}@example.com`;
  const _csrf = csrfOf(await browser.get('/register'));
  const reply = await browser.postForm('/register', { _csrf, email, name: `Reader ${readerCount}`, password: TEST_PASSWORD });
  if (reply.status !== 303) throw new Error(`POST /register: ${reply.status}`);
  return email;
}

/** A login through the form; resolves with the answer's status (303 when it worked). */
export async function logIn(browser: SiteBrowser, email: string, password = TEST_PASSWORD): Promise<number> {
  const _csrf = csrfOf(await browser.get('/login'));
  return (await browser.postForm('/login', { _csrf, email, password })).status;
}

/** The AJAX logout; resolves with the answer's status (200 when it worked). */
export async function logOut(browser: SiteBrowser): Promise<number> {
  const { csrfToken } = await sessionOf(browser);
  return (await browser.postForm('/logout', { _csrf: csrfToken ?? '' }, { Accept: 'application/json' })).status;
}
