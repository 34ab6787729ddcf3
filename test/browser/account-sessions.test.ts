import fs from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { uniqueEmail } from '../helpers/browser-flow';
import { startBrowserSite, type BrowserSite } from '../helpers/browser-site';
import { describeIf, hasChromium } from '../helpers/services';
import { startTestSite, TEST_PASSWORD } from '../helpers/site';

describeIf(hasChromium())('the sessions page, the export and deletion in a real browser', () => {
  let site: BrowserSite;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    site = await startBrowserSite(() => startTestSite());
    ({ base, browser } = site);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await site?.close();
  });

  async function newPage(userAgent: string): Promise<Page> {
    const context = await browser.newContext({ userAgent, acceptDownloads: true });
    contexts.push(context);
    return context.newPage();
  }

  it('two browsers listed -> log out everywhere else -> the other is logged out -> download the data -> delete the account', async () => {
    const email = uniqueEmail('browser-sessions');
    const home = await newPage('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0');
    const pageErrors: string[] = [];
    home.on('pageerror', (error) => pageErrors.push(error.message));
    await home.goto(`${base}/register`);
    await home.fill('form[action="/register"] input[name="name"]', 'Session Reader');
    await home.fill('form[action="/register"] input[name="email"]', email);
    await home.fill('form[action="/register"] input[name="password"]', TEST_PASSWORD);
    await Promise.all([home.waitForURL(`${base}/`), home.click('form[action="/register"] button[type="submit"]')]);

    const elsewhere = await newPage('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15');
    await elsewhere.goto(`${base}/login`);
    await elsewhere.fill('form[action="/login"] input[name="email"]', email);
    await elsewhere.fill('form[action="/login"] input[name="password"]', TEST_PASSWORD);
    await Promise.all([elsewhere.waitForURL(`${base}/`), elsewhere.click('form[action="/login"] button[type="submit"]')]);

    await home.goto(`${base}/account/sessions`);
    const devices = await home.locator('.article-list h2').allTextContents();
    expect(devices).toHaveLength(2);
    expect(devices.join(' | ')).toMatch(/Firefox 128 on Linux \(this browser\)/);
    expect(devices.join(' | ')).toMatch(/Safari 17 on macOS/);

    await Promise.all([home.waitForURL(/\/account\/sessions/), home.click('form[action="/account/sessions/logout-others"] button')]);
    expect(await home.locator('p.form-ok[role="status"]').textContent()).toContain('One session was logged out');
    expect(await home.locator('.article-list h2').count()).toBe(1);
    await elsewhere.reload();
    await elsewhere.locator('[data-login-link]').waitFor();
    expect(await elsewhere.locator('a.who').count()).toBe(0);

    await home.goto(`${base}/account`);
    const [download] = await Promise.all([home.waitForEvent('download'), home.click('a[href="/account/export"]')]);
    expect(download.suggestedFilename()).toBe('account.json');
    const exported = JSON.parse(fs.readFileSync((await download.path())!, 'utf8')) as { account: { email: string }; sessions: unknown[] };
    expect(exported.account.email).toBe(email);
    expect(exported.sessions).toHaveLength(1);

    await home.getByLabel('Current password, to delete your account').fill(TEST_PASSWORD);
    await Promise.all([home.waitForURL(`${base}/?deleted=1`), home.click('form[action="/account/delete"] button[type="submit"]')]);
    expect(await home.locator('p.form-ok[role="status"]').textContent()).toContain('Your account has been deleted');
    await home.locator('[data-login-link]').waitFor();
    expect(pageErrors).toEqual([]);
  });
});
