import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { emulatorHttp, platformLogin, startTestEmulator, type TestEmulator } from '../helpers/emulator';

const CHROMIUM = '/usr/bin/chromium';
const HOUR = 60 * 60 * 1000;
// In CI the browser must be there; elsewhere a machine without Chromium skips this suite.
const describeWithBrowser = fs.existsSync(CHROMIUM) || process.env.CI === 'true' ? describe : describe.skip;

/** The host site's own script: it talks to the embed only through vfQ and the vf API. */
const HOST_SCRIPT = `
window.violations = [];
document.addEventListener('securitypolicyviolation', function (e) { window.violations.push(e.violatedDirective + ' ' + e.blockedURI); });
window.seen = [];
window.vfQ = window.vfQ || [];
window.vfQ.push(function () {
  window.userWhenQueuedRan = vf.context.get('user');
  vf.$prepublish(function (channel, event) {
    window.seen.push(channel + ':' + event);
    if (event === 'required' && window.cancelRequired) return false;
  });
  vf.$subscribe('authentication', 'logout', function () { window.logoutHeard = true; });
});
`;

interface EmbedTag {
  uid?: number | string;
  sid?: string;
}

/** A publisher's page under a strict CSP: scripts and styles only from itself and the platform. */
function startHostSite(emulator: TestEmulator, tagFor: () => EmbedTag) {
  const app = express();
  const loginVisits: string[] = [];
  const csp = [
    "default-src 'none'",
    `script-src 'self' ${emulator.url}`,
    `style-src 'self' ${emulator.url}`,
    `connect-src ${emulator.url}`,
    "require-trusted-types-for 'script'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
  app.get('/site.js', (_req, res) => {
    res.type('application/javascript').send(HOST_SCRIPT);
  });
  app.get('/articles/:slug', (_req, res) => {
    const tag = tagFor();
    const data = tag.uid === undefined || tag.sid === undefined ? '' : ` data-uid="${tag.uid}" data-sid="${tag.sid}"`;
    res
      .set('Content-Security-Policy', csp)
      .type('html')
      .send(
        `<!doctype html><html><head><title>Article</title><script src="/site.js"></script></head><body>` +
          `<h1>Article</h1><div class="viafoura" id="first"></div><div class="viafoura" id="second"></div>` +
          `<script id="viafoura-platform" src="${emulator.embedSrc}"${data} async></script></body></html>`,
      );
  });
  app.get('/login', (req, res) => {
    loginVisits.push(String(req.query['returnTo']));
    res.set('Content-Security-Policy', csp).type('html').send('<!doctype html><title>Log in</title><h1>Log in</h1>');
  });
  const server = app.listen(0, '127.0.0.1');
  return {
    loginVisits,
    ready: new Promise<string>((resolve) => server.once('listening', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describeWithBrowser('emulator: the embed in a real browser under a strict CSP', () => {
  let browser: Browser;
  let emulator: TestEmulator;
  let host: ReturnType<typeof startHostSite>;
  let hostUrl: string;
  let tag: EmbedTag;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    emulator = await startTestEmulator();
    tag = {};
    host = startHostSite(emulator, () => tag);
    hostUrl = await host.ready;
    context = await browser.newContext();
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  });
  afterEach(async () => {
    await context?.close();
    await host?.close();
    await emulator?.close();
  });

  async function openArticle(path = '/articles/harbour'): Promise<void> {
    await page.goto(`${hostUrl}${path}`);
    await page.waitForFunction(() => typeof (window as unknown as { vf?: unknown }).vf === 'object');
  }

  async function loggedInTag(name = 'Ann Reader'): Promise<{ userId: number; session: string }> {
    const { user_id: userId, session } = await platformLogin(emulator, { id: 'host-7', name });
    tag = { uid: userId, sid: session };
    return { userId, session };
  }

  const violations = () => page.evaluate(() => (window as unknown as { violations: string[] }).violations);
  const seen = () => page.evaluate(() => (window as unknown as { seen: string[] }).seen);

  it('shows "Commenting as NAME" in every container for a live session, with no CSP violation', async () => {
    const { userId } = await loggedInTag('Ann <img src=x onerror=alert(1)>');
    await openArticle();

    for (const container of ['#first', '#second']) {
      await expect(page.locator(`${container} .vf-status`).textContent()).resolves.toBe(
        'Commenting as Ann <img src=x onerror=alert(1)>',
      );
      await expect(page.locator(`${container} .vf-post`).textContent()).resolves.toBe('Post comment');
    }
    expect(await page.locator('.viafoura img').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).vf.context.get('user'))).toEqual({ id: userId, name: 'Ann <img src=x onerror=alert(1)>' });
    // The stylesheet arrived through a <link>, not inline style.
    expect(await page.locator('#first .vf-post').evaluate((node) => getComputedStyle(node).backgroundColor)).toBe('rgb(31, 95, 191)');
    expect(await violations()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('runs functions queued before the load once loaded, and a later push at once', async () => {
    const { userId } = await loggedInTag();
    await openArticle();

    expect(await page.evaluate(() => (window as any).userWhenQueuedRan)).toEqual({ id: userId, name: 'Ann Reader' });
    expect(await seen()).toEqual(['authentication:login']);
    const ranAtOnce = await page.evaluate(() => {
      let ran = false;
      (window as any).vfQ.push(() => {
        ran = true;
      });
      return ran;
    });
    expect(ranAtOnce).toBe(true);
  });

  it('counts the page view as activity that keeps the session alive', async () => {
    const { session } = await loggedInTag();
    emulator.clock.advance(11 * HOUR);
    await openArticle();
    await page.locator('.vf-status', { hasText: 'Commenting as' }).first().waitFor();
    emulator.clock.advance(11 * HOUR);

    expect(emulator.sessionInfo(session)?.alive).toBe(true);
  });

  it('posts a comment that the platform keeps for the page', async () => {
    await loggedInTag();
    await openArticle();
    await page.locator('#first .vf-textarea').fill('Hello from the browser');
    await page.locator('#first .vf-post').click();

    await page.locator('#first .vf-comment-text', { hasText: 'Hello from the browser' }).waitFor();
    const stored = await emulatorHttp(emulator).get('/embed/v1/comments', { params: { page: '/articles/harbour' } });
    expect(stored.data.comments).toEqual([expect.objectContaining({ name: 'Ann Reader', text: 'Hello from the browser' })]);
  });

  it('logs out through vf.session.logout(): platform session ended, event published, anonymous view', async () => {
    const { session } = await loggedInTag();
    await openArticle();

    const after = await page.evaluate(async () => {
      const vf = (window as any).vf;
      const returned = vf.session.logout();
      const isPromise = returned instanceof Promise;
      await returned;
      return { isPromise, user: vf.context.get('user'), heard: (window as any).logoutHeard === true };
    });

    expect(after).toEqual({ isPromise: true, user: null, heard: true });
    expect(emulator.sessionInfo(session)?.alive).toBe(false);
    expect(await seen()).toEqual(['authentication:login', 'authentication:logout']);
    await expect(page.locator('#first .vf-login').textContent()).resolves.toBe('Log in to comment');
    expect(await page.locator('.vf-comment-box').count()).toBe(0);
  });

  it('offers the older window.viafoura.session.logout() too', async () => {
    const { session } = await loggedInTag();
    await openArticle();
    await page.evaluate(() => (window as any).viafoura.session.logout());
    expect(emulator.sessionInfo(session)?.alive).toBe(false);
  });

  it('sends an anonymous reader to the host login with this page as returnTo', async () => {
    await openArticle('/articles/harbour?ref=front');
    expect(await page.evaluate(() => (window as any).vf.context.get('user'))).toBeNull();

    await Promise.all([page.waitForURL(/\/login\?/), page.locator('#first .vf-login').click()]);
    expect(host.loginVisits).toEqual(['/articles/harbour?ref=front']);
    expect(new URL(page.url()).search).toBe(`?returnTo=${encodeURIComponent('/articles/harbour?ref=front')}`);
  });

  it('lets a prepublish hook cancel the login requirement and keep the reader on the page', async () => {
    await openArticle();
    await page.evaluate(() => {
      (window as any).cancelRequired = true;
    });
    await page.locator('#first .vf-login').click();
    await page.waitForTimeout(200);

    expect(await seen()).toEqual(['authentication:required']);
    expect(new URL(page.url()).pathname).toBe('/articles/harbour');
    expect(host.loginVisits).toEqual([]);
  });

  it('treats a dead session as anonymous and publishes no login', async () => {
    const { session } = await loggedInTag();
    await emulatorHttp(emulator).post('/embed/v1/logout', `sid=${session}`, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    await openArticle();

    await page.locator('#first .vf-login').waitFor();
    expect(await page.evaluate(() => (window as any).vf.context.get('user'))).toBeNull();
    expect(await seen()).toEqual([]);
  });

  it('treats a tag whose data-uid is not the session owner as anonymous', async () => {
    const { session } = await loggedInTag();
    tag = { uid: 1, sid: session };
    await openArticle();

    await page.locator('#first .vf-login').waitFor();
    expect(await page.evaluate(() => (window as any).vf.context.get('user'))).toBeNull();
  });

  it('asks for a login when the session died before the reader posted', async () => {
    const { session } = await loggedInTag();
    await openArticle();
    await page.locator('#first .vf-post').waitFor();
    emulator.clock.advance(12 * HOUR);
    expect(emulator.sessionInfo(session)?.alive).toBe(false);

    await page.locator('#first .vf-textarea').fill('Too late');
    await Promise.all([page.waitForURL(/\/login\?/), page.locator('#first .vf-post').click()]);
    expect(host.loginVisits).toEqual(['/articles/harbour']);
  });
});
