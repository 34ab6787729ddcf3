import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { startTestSite, type TestSite } from '../helpers/site';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) process.stdout.write('Strength hint browser suite skipped: no Chromium at /usr/bin/chromium\n');

(haveChromium ? describe : describe.skip)('the password strength hint in a browser (ASVS 2.1.8)', () => {
  let t: TestSite;
  let server: http.Server;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    t = await startTestSite();
    server = http.createServer(t.site.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  it('ASVS 2.1.8: says why a password is weak as the reader types, under the strict CSP', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${base}/register`);
    const hint = page.locator('#password-hint');
    await page.fill('input[name="password"]', 'short');
    await page.waitForFunction(() => document.getElementById('password-hint')?.dataset.strength === 'weak');
    expect(await hint.textContent()).toContain('Too short');
    await page.fill('input[name="password"]', 'password1234');
    await page.waitForFunction(() => /Too easy to guess/.test(document.getElementById('password-hint')?.textContent ?? ''));
    await page.fill('input[name="password"]', 'a quiet harbour crane at dawn');
    await page.waitForFunction(() => ['good', 'strong'].includes(document.getElementById('password-hint')?.dataset.strength ?? ''));
    expect(violations).toEqual([]);
    await page.close();
  });
});
