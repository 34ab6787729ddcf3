import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from './services';
import type { TestSite } from './site';
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
