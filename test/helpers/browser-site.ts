import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from './services';
import type { TestSite } from './site';

/** A test site served over real HTTP on 127.0.0.1, and a headless Chromium to browse it. */
export interface BrowserSite {
  t: TestSite;
  /** `http://127.0.0.1:<port>`, no trailing slash */
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * The port is taken before the site is built, so `build` can name the site's own address (a
 * connect callback, the links in its mail); the site then answers on it.
 */
export async function startBrowserSite(build: (base: string) => Promise<TestSite>): Promise<BrowserSite> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const t = await build(base);
  server.on('request', t.site.app);
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
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await t.close();
    },
  };
}
