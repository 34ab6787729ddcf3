import type { Browser } from 'playwright-core';
import { grantAdmin } from '../helpers/admin';
import { describeIf, hasChromium } from '../helpers/services';
import { registerInBrowser, startBrowserSite, type BrowserSite } from '../helpers/browser-site';
import { startTestSite, type TestSite } from '../helpers/site';

const ADMIN = 'operator@example.com';

describeIf(hasChromium())("the operator's connect in a real browser, against the emulator's consent page", () => {
  let t: TestSite;
  let site: BrowserSite;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    site = await startBrowserSite((address) => startTestSite({ profile: 'veem', threeLegged: true, redirectUrl: `${address}/admin/platform/callback` }));
    ({ t, base, browser } = site);
  });

  afterAll(() => site?.close());

  it('button -> consent page (state and PKCE checked by the platform) -> Allow -> connected; a forged state is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await registerInBrowser(page, base, { email: ADMIN, name: 'Operator' });
    await grantAdmin(t, ADMIN);

    await page.goto(`${base}/admin/platform`);
    expect(await page.locator('#platform-status').getAttribute('data-state')).toBe('not_connected');
    await Promise.all([page.waitForURL(/\/oauth\/authorize\?/), page.click('text=Connect the commenting platform')]);
    const consentUrl = new URL(page.url());
    expect(consentUrl.origin).toBe(t.emulator.url);
    expect(consentUrl.searchParams.get('code_challenge_method')).toBe('S256');

    // A forged callback in the same browser: right path, a code, a state this browser never started.
    const forged = await page.context().request.get(`${base}/admin/platform/callback?code=stolen&state=forged-state-0123456789`, { maxRedirects: 0 });
    expect(forged.status()).toBe(400);
    expect(t.emulator.grantCounts().authorization_code).toBe(0);
    // That used up the pending connect, so the operator starts again and this time allows.
    await page.goto(`${base}/admin/platform`);
    await Promise.all([page.waitForURL(/\/oauth\/authorize\?/), page.click('text=Connect the commenting platform')]);
    await Promise.all([page.waitForURL(`${base}/admin/platform?connected=1`), page.click('button[value="allow"]')]);

    expect(await page.locator('#platform-status').getAttribute('data-state')).toBe('connected');
    expect(await page.locator('#platform-status').textContent()).toContain('Connected as user 2');
    expect(t.emulator.grantCounts().authorization_code).toBe(1);
    await context.close();
  });
});
