import type { Browser, BrowserContext, Page } from 'playwright-core';
import { grantAdmin } from '../helpers/admin';
import { axeViolations } from '../helpers/axe';
import { uniqueEmail } from '../helpers/browser-flow';
import { describeIf, hasChromium } from '../helpers/services';
import { registerInBrowser, startBrowserSite, type BrowserSite } from '../helpers/browser-site';
import { startTestSite, type TestSite } from '../helpers/site';

const ARTICLE = '/articles/harbour-bridge-reopens';

/**
 * Each form field's own label text (the label's text, not the hint inside it): none empty, no two
 * alike, so a screen reader user can tell the fields apart.
 */
async function fieldLabels(page: Page): Promise<string[]> {
  return page.$$eval('input:not([type="hidden"]), textarea, select', (fields) =>
    fields.map((field) => {
      const label = (field as HTMLInputElement).labels?.[0];
      if (!label) return field.getAttribute('aria-label') ?? '';
      return [...label.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE).map((node) => node.textContent).join(' ').replace(/\s+/g, ' ').trim();
    }),
  );
}

async function expectAccessible(page: Page): Promise<void> {
  const where = new URL(page.url()).pathname;
  expect({ where, violations: await axeViolations(page) }).toEqual({ where, violations: [] });
  const labels = await fieldLabels(page);
  expect({ where, labels }).toEqual({ where, labels: [...new Set(labels)].filter(Boolean) });
}

describeIf(hasChromium())('every kind of page passes axe-core with no violation of any impact', () => {
  let t: TestSite;
  let site: BrowserSite;
  let base: string;
  let browser: Browser;
  let reader: BrowserContext;
  let readerPage: Page;
  const email = uniqueEmail('axe');

  beforeAll(async () => {
    site = await startBrowserSite(() => startTestSite());
    ({ t, base, browser } = site);
    reader = await browser.newContext();
    readerPage = await reader.newPage();
    await registerInBrowser(readerPage, base, { email, name: 'Axe Reader' });
  });

  afterAll(async () => {
    await reader?.close();
    await site?.close();
  });

  describe('a visitor', () => {
    let context: BrowserContext;
    let page: Page;
    beforeAll(async () => {
      context = await browser.newContext();
      page = await context.newPage();
    });
    afterAll(() => context?.close());

    it('the front page', async () => {
      await page.goto(`${base}/`);
      await expectAccessible(page);
    });

    it('an article, with the embed showing "Log in to comment" and the site\'s "Register" beside it', async () => {
      await page.goto(`${base}${ARTICLE}`);
      await page.locator('.viafoura .vf-login').waitFor({ timeout: 10_000 });
      expect(await page.isVisible('.comments-join a[href^="/register"]')).toBe(true);
      await expectAccessible(page);
    });

    it('the login page with an error', async () => {
      await page.goto(`${base}/login`);
      await page.fill('input[name="email"]', email);
      await page.fill('input[name="password"]', 'not the password at all');
      await Promise.all([page.waitForLoadState('load'), page.click('form.stacked-form button[type="submit"]')]);
      await page.locator('.form-error').waitFor();
      await expectAccessible(page);
    });

    it('the register page', async () => {
      await page.goto(`${base}/register`);
      await expectAccessible(page);
    });
  });

  describe('a reader', () => {
    it('an article, with a comment posted: the comment box labelled, the comment timed', async () => {
      await readerPage.goto(`${base}${ARTICLE}`);
      // A label on screen, not only one for screen readers.
      expect(await readerPage.locator('.viafoura label', { hasText: 'Your comment' }).isVisible()).toBe(true);
      await readerPage.getByLabel('Your comment', { exact: true }).fill('A comment for axe to read.');
      const before = t.clock.now();
      await readerPage.locator('.viafoura .vf-post').click();
      const time = readerPage.locator('.vf-comment', { hasText: 'A comment for axe to read.' }).locator('time');
      await time.waitFor();
      // The instant the platform kept, to the millisecond, in the datetime attribute.
      const stamp = await time.getAttribute('datetime');
      expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(stamp!)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(stamp!)).toBeLessThanOrEqual(t.clock.now());
      expect((await time.textContent())?.trim()).not.toBe('');
      expect(await readerPage.isVisible('.comments-join')).toBe(false);
      await expectAccessible(readerPage);
    });

    it('the account page, its three password fields each labelled for what it is for', async () => {
      await readerPage.goto(`${base}/account`);
      expect(await readerPage.getByLabel('Current password', { exact: true }).count()).toBe(1);
      expect(await readerPage.getByLabel('Password, to confirm the new email').count()).toBe(1);
      expect(await readerPage.getByLabel('Current password, to delete your account', { exact: true }).count()).toBe(1);
      await expectAccessible(readerPage);
    });

    it('the sessions page', async () => {
      await readerPage.goto(`${base}/account/sessions`);
      await expectAccessible(readerPage);
    });
  });

  it("an administrator's platform page", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const admin = uniqueEmail('axe-admin');
    await registerInBrowser(page, base, { email: admin, name: 'Axe Operator' });
    await grantAdmin(t, admin);
    await page.goto(`${base}/admin/platform`);
    await page.locator('#platform-status').waitFor();
    await expectAccessible(page);
    await context.close();
  });
});
