import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_PATH } from './services';
import { TEST_PASSWORD, type TestSite } from './site';
import { listenFirst } from './listen-first';

/** A test site served over real HTTP on 127.0.0.1, and a headless Chromium to browse it. */
export interface BrowserSite {
  t: TestSite;
  /** `http://127.0.0.1:<port>`, no trailing slash */
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** The site's port is taken before it is built (./listen-first.ts), so `build` can name its own address. */
export async function startBrowserSite(build: (base: string) => Promise<TestSite>): Promise<BrowserSite> {
  const server = await listenFirst();
  const { base } = server;
  const t = await build(base);
  server.serve(t.site.app);
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  return {
    t,
    base,
    browser,
    async close() {
      await browser.close();
      await server.close();
      await t.close();
    },
  };
}

/** Registers through the site's form, as a reader would; the page ends on the front page, logged in. */
export async function registerInBrowser(page: Page, base: string, fields: { email: string; name: string; password?: string }): Promise<void> {
  await page.goto(`${base}/register`);
  await page.fill('form[action="/register"] input[name="name"]', fields.name);
  await page.fill('form[action="/register"] input[name="email"]', fields.email);
  await page.fill('form[action="/register"] input[name="password"]', fields.password ?? TEST_PASSWORD);
  await Promise.all([page.waitForURL(`${base}/`), page.click('form[action="/register"] button[type="submit"]')]);
}
