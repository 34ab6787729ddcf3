import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { signHook } from 'vf-login-bridge';
import { register, uniqueEmail } from '../helpers/browser-flow';
import { describeIf, hasChromium } from '../helpers/services';
import { startBrowserSite, type BrowserSite } from '../helpers/browser-site';
import { startTestSite, TEST_HOOK_SECRET, TEST_PASSWORD, type TestSite } from '../helpers/site';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const ARTICLE = '/articles/harbour-bridge-reopens';

describeIf(hasChromium())('the reader round trip in a real browser', () => {
  let t: TestSite;
  let site: BrowserSite;
  let base: string;
  let browser: Browser;
  const name = 'Browser Reader';
  const email = uniqueEmail('browser');

  beforeAll(async () => {
    site = await startBrowserSite(() => startTestSite());
    ({ t, base, browser } = site);
    await register(request.agent(t.site.app), { email, name });
  });

  afterAll(() => site?.close());

  async function logInThroughForm(page: Page): Promise<void> {
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', TEST_PASSWORD);
    await Promise.all([page.waitForURL(`${base}${ARTICLE}`), page.click('form.stacked-form button[type="submit"]')]);
  }

  it('anonymous -> needs login -> back on the article commenting -> AJAX logout without a reload -> hook logout', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.goto(`${base}${ARTICLE}`);
    const loginButton = page.locator('.viafoura .vf-login');
    await loginButton.waitFor();
    expect(await loginButton.textContent()).toContain('Log in to comment');

    // The embed publishes ('authentication', 'required'); the site's script sends the reader to its own login.
    await Promise.all([page.waitForURL(/\/login\?returnTo=/), loginButton.click()]);
    expect(new URL(page.url()).searchParams.get('returnTo')).toBe(ARTICLE);
    await logInThroughForm(page);

    const status = page.locator('.viafoura .vf-status');
    await status.waitFor();
    expect(await status.textContent()).toBe(`Commenting as ${name}`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'logged-in-article.png'), fullPage: true });

    const sid = await page.getAttribute('#viafoura-platform', 'data-sid');
    expect(sid).toBeTruthy();
    expect(t.emulator.sessionInfo(sid!)?.alive).toBe(true);

    // A marker on window survives only if the page is not reloaded.
    await page.evaluate(() => Object.assign(window, { roundTripMarker: 'still here' }));
    await page.click('form[data-ajax-logout] button');
    await page.locator('.viafoura .vf-login').waitFor();
    expect(await page.evaluate(() => (window as unknown as { roundTripMarker?: string }).roundTripMarker)).toBe('still here');
    expect(await page.isVisible('[data-login-link]')).toBe(true);
    expect(await page.isVisible('form[data-ajax-logout]')).toBe(false);
    expect(t.emulator.sessionInfo(sid!)?.alive).toBe(false);
    expect(pageErrors).toEqual([]);

    // Logged in again in a second browser; another system of the host sends the logout hook.
    const second = await browser.newContext();
    const other = await second.newPage();
    await other.goto(`${base}/login?returnTo=${encodeURIComponent(ARTICLE)}`);
    await logInThroughForm(other);
    await other.locator('.viafoura .vf-status').waitFor();

    const userId = String((await t.site.database.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id);
    const body = JSON.stringify({ userId });
    const hook = await request(t.site.app)
      .post('/hooks/logout')
      .set('Content-Type', 'application/json')
      .set('X-Hook-Signature', signHook(TEST_HOOK_SECRET, Math.floor(t.clock.now() / 1000), body))
      .send(body);
    // the second browser, and the session left by the registration in beforeAll
    expect(hook.body).toEqual({ loggedOut: 2 });

    await other.reload();
    await other.locator('.viafoura .vf-login').waitFor();
    expect(await other.getAttribute('#viafoura-platform', 'data-sid')).toBeNull();
    await second.close();
    await context.close();
  });

  it('with JavaScript off, logout is a plain form post that redirects', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/login?returnTo=${encodeURIComponent(ARTICLE)}`);
    await logInThroughForm(page);
    expect(await page.isVisible('form[data-ajax-logout]')).toBe(true);
    await Promise.all([page.waitForURL(`${base}/`), page.click('form[data-ajax-logout] button')]);
    expect(await page.isVisible('[data-login-link]')).toBe(true);
    expect(await page.isVisible('form[data-ajax-logout]')).toBe(false);
    await context.close();
  });
});
