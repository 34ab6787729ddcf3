import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { uniqueEmail } from '../helpers/browser-flow';
import { describeIf, hasChromium } from '../helpers/services';
import { startBrowserSite, type BrowserSite } from '../helpers/browser-site';
import { startTestSite, TEST_PASSWORD } from '../helpers/site';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');

describeIf(hasChromium())('the first page on a phone', () => {
  let site: BrowserSite;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    site = await startBrowserSite(() => startTestSite());
    ({ base, browser } = site);
  });

  afterAll(() => site?.close());

  it('at 390 px wide, "Log in" and "Register" each fit on one line, and no request fails (the favicon included)', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${base}/articles/harbour-bridge-reopens`);
    await page.locator('.viafoura .vf-login').waitFor({ timeout: 10_000 });
    // Headless Chromium asks for no icon on its own: fetch the one the page names, as a browser would.
    const icon = await page.evaluate(async () => {
      const href = document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href;
      if (!href) return null;
      const res = await fetch(href);
      return { status: res.status, type: res.headers.get('content-type') };
    });
    expect(icon).toEqual({ status: 200, type: expect.stringMatching(/^image\/svg\+xml/) });

    const lineCounts = await page.$$eval('.account-nav [data-when="anonymous"] a', (links) =>
      // The text's line boxes, whatever the link's display: one distinct top per line.
      links.map((link) => {
        const range = document.createRange();
        range.selectNodeContents(link);
        const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
        return { text: link.textContent?.trim(), lines: tops.size };
      }),
    );
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'masthead-390.png'), clip: { x: 0, y: 0, width: 390, height: 120 } });

    for (const link of lineCounts) expect(link).toMatchObject({ lines: 1 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(failed).toEqual([]);
    await context.close();
  });

  // The longest name the site accepts (100 characters, one word of them longer than a phone is
  // wide), and 40 wide characters, each about twice a Latin letter's width.
  const LONG_NAME = 'Hubert Blaine Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaftschaferswessenschafewar'.slice(0, 100);
  const WIDE_NAME = '東京湾岸新聞の熱心な読者であり港の歴史をこよなく愛する者渡辺健太郎山田花子佐藤一郎鈴木'.slice(0, 40);
  const ARTICLE = '/articles/harbour-bridge-reopens';
  const WIDTHS = [320, 390];

  async function registerAs(context: BrowserContext, name: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${base}/register`);
    await page.fill('input[name="name"]', name);
    await page.fill('input[name="email"]', uniqueEmail('masthead'));
    await page.fill('input[name="password"]', TEST_PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`), page.click('form.stacked-form button[type="submit"]')]);
    return page;
  }

  /** How far the page is wider than the screen, and where each named control lies. */
  async function layoutOf(page: Page, selectors: string[]) {
    return page.evaluate((wanted) => {
      const boxes = wanted.map((selector) => {
        const el = document.querySelector(selector);
        const rect = el?.getBoundingClientRect();
        return { selector, left: rect?.left ?? -1, right: rect?.right ?? Infinity, width: rect?.width ?? 0 };
      });
      return { overflow: document.documentElement.scrollWidth - window.innerWidth, innerWidth: window.innerWidth, boxes };
    }, selectors);
  }

  /** `where` names the page and width in a failure message. */
  function expectOnScreen(where: string, layout: Awaited<ReturnType<typeof layoutOf>>): void {
    expect({ where, overflowPx: Math.max(0, layout.overflow) }).toEqual({ where, overflowPx: 0 });
    for (const { selector, left, right, width } of layout.boxes) {
      expect({ where, selector, left, right, onScreen: width > 0 && left >= 0 && right <= layout.innerWidth }).toMatchObject({ onScreen: true });
    }
  }

  it.each([
    ['a 100-character name', LONG_NAME, 'long'],
    ['a 40-character wide-character name', WIDE_NAME, 'wide'],
  ])('logged in with %s, at 320 and 390 px: no sideways scroll, "Log out" on screen, the name cut short but whole in its title and its accessible name', async (_label, name, slug) => {
    expect([...name]).toHaveLength(slug === 'long' ? 100 : 40);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await registerAs(context, name);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 844 });
      for (const path of ['/', ARTICLE, '/account']) {
        await page.goto(`${base}${path}`);
        if (path === ARTICLE) await page.locator('.viafoura .vf-comment-box').waitFor({ timeout: 10_000 });
        expectOnScreen(`${path} at ${width} px`, await layoutOf(page, ['form[data-ajax-logout] button', '.account-nav .who']));
      }
      const who = page.locator('.account-nav .who');
      expect(await who.getAttribute('title')).toBe(name);
      expect(await page.getByRole('link', { name, exact: true }).count()).toBe(1);
      // Cut short on screen: the text is wider than the box it is shown in.
      expect(await who.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, `masthead-${slug}-name-${width}.png`), clip: { x: 0, y: 0, width, height: 160 } });
    }
    await context.close();
  });

  it('logged out, at 320 and 390 px: no sideways scroll, "Log in" and "Register" on screen', async () => {
    const context = await browser.newContext({ deviceScaleFactor: 1 });
    const page = await context.newPage();
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 844 });
      for (const path of ['/', ARTICLE, '/login', '/register']) {
        await page.goto(`${base}${path}`);
        if (path === ARTICLE) await page.locator('.viafoura .vf-login').waitFor({ timeout: 10_000 });
        expectOnScreen(`${path} at ${width} px`, await layoutOf(page, ['[data-login-link]', '.account-nav a[href="/register"]']));
      }
    }
    await context.close();
  });

  it('an AJAX logout says so in a polite live region and moves focus to "Log in"', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await registerAs(context, 'Focus Reader');
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${base}${ARTICLE}`);
    await page.locator('.viafoura .vf-comment-box').waitFor({ timeout: 10_000 });
    const region = page.locator('[data-announcer]');
    expect(await region.getAttribute('aria-live')).toBe('polite');
    expect(await region.getAttribute('aria-atomic')).toBe('true');
    expect((await region.textContent())?.trim()).toBe('');

    // From the keyboard, as a screen reader user would: focus on "Log out", then Enter.
    await page.focus('form[data-ajax-logout] button');
    await page.keyboard.press('Enter');
    await page.locator('.viafoura .vf-login').waitFor();
    await expect(region.textContent()).resolves.toBe('You are logged out.');
    expect(await page.evaluate(() => document.activeElement?.matches('[data-login-link]') ?? false)).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Log in');
    expect(await page.isVisible('.comments-join a[href^="/register"]')).toBe(true);
    expect(page.url()).toBe(`${base}${ARTICLE}`);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
