import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type TestAgent from 'supertest/lib/agent';
import { grantAdmin } from '../helpers/admin';
import { axeViolations } from '../helpers/axe';
import { csrfFor, register } from '../helpers/browser-flow';
import { describeIf, hasChromium } from '../helpers/services';
import { registerInBrowser, startBrowserSite, type BrowserSite } from '../helpers/browser-site';
import { OPS_AUTHORIZATION, startTestSite, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const ADMIN = 'status-operator@example.com';

describeIf(hasChromium())("the operator's status page in a real browser", () => {
  let t: TestSite;
  let site: BrowserSite;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    site = await startBrowserSite(() => startTestSite());
    ({ t, base, browser } = site);
  });
  afterAll(() => site?.close());

  async function logoutsCounted(): Promise<number> {
    const text = (await t.agent().get('/metrics').set('Authorization', OPS_AUTHORIZATION).expect(200)).text;
    return [...text.matchAll(/^vf_bridge_logouts_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  /** A reader comes and goes; `failing`: the platform refuses the logout, which is queued for a retry. */
  async function readerVisit(failing: boolean): Promise<void> {
    const reader: TestAgent = t.agent();
    await register(reader);
    const before = await logoutsCounted();
    if (failing) t.emulator.faults.failNext(1, { status: 500 }, 'logout');
    const _csrf = await csrfFor(reader, '/account');
    await reader.post('/logout').type('form').send({ _csrf }).expect(303);
    await waitFor(async () => (await logoutsCounted()) > before, 'the logout counted');
  }

  it('shows the figures and the last hour as a chart drawn without script; the screenshot is test-artifacts/admin-status.png', async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
    const page = await context.newPage();
    await registerInBrowser(page, base, { email: ADMIN, name: 'Operator' });
    await grantAdmin(t, ADMIN);
    // Forty minutes of traffic: a few logouts a minute every five minutes, some refused.
    for (let step = 0; step < 8; step += 1) {
      for (let n = 0; n < 1 + (step % 3); n += 1) await readerVisit(n === 1 && step % 2 === 1);
      t.clock.advance(5 * 60_000);
    }

    await page.goto(`${base}/admin/status`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Status');
    expect(await page.locator('#platform-circuit').getAttribute('data-state')).toBe('closed');
    const delivered = Number(await page.locator('[data-last-hour="delivered"]').textContent());
    const failed = Number(await page.locator('[data-last-hour="failed"]').textContent());
    expect(delivered + failed).toBe(15);
    expect(failed).toBeGreaterThan(0);
    expect(await page.locator('#delivery-chart rect').count()).toBeGreaterThanOrEqual(8);
    expect(await page.locator('#recent-errors tr[data-code]').count()).toBeGreaterThan(0);
    expect(await axeViolations(page)).toEqual([]);
    // Nothing wider than the window.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // A phone's width too.
    await page.setViewportSize({ width: 390, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.setViewportSize({ width: 900, height: 900 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-status.png'), fullPage: true });

    // With script off the chart is the same picture: the server drew it.
    const noScript = await browser.newContext({ javaScriptEnabled: false, storageState: await context.storageState() });
    const plain = await noScript.newPage();
    await plain.goto(`${base}/admin/status`);
    const box = await plain.locator('#delivery-chart').boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(box?.height).toBeGreaterThan(40);
    expect(await plain.locator('#delivery-chart rect').count()).toBe(await page.locator('#delivery-chart rect').count());
    await noScript.close();
    await context.close();
  });
});
