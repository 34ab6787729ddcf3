import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { describeIf, hasChromium } from '../helpers/services';
import { startBrowserSite, type BrowserSite } from '../helpers/browser-site';
import { startTestSite } from '../helpers/site';

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
});
