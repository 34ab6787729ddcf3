import type { Browser, Page } from 'playwright-core';
import { describeIf, hasChromium } from '../helpers/services';
import { startBrowserSite, type BrowserSite } from '../helpers/browser-site';
import { oidcOverrides, startProviderFor } from '../helpers/oidc-site';
import type { RunningOpenIdProvider } from '../helpers/openid-provider';
import { startTestSite, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';

const ARTICLE = '/articles/harbour-bridge-reopens';

describeIf(hasChromium())('logging in with the publisher\'s OpenID Provider, in a real browser', () => {
  let t: TestSite;
  let site: BrowserSite;
  let op: RunningOpenIdProvider;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    site = await startBrowserSite(async (address) => {
      op = await startProviderFor(address);
      return startTestSite({ overrides: oidcOverrides(address, op.issuer) });
    });
    ({ t, base, browser } = site);
  });

  afterAll(async () => {
    await site?.close();
    await op?.stop();
  });

  /** The provider's development login page, then its consent page: what a reader clicks through there. */
  async function signInAtProvider(page: Page, login: string): Promise<void> {
    await page.waitForURL((url) => url.origin === op.issuer);
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
    const consent = page.locator('input[name="prompt"][value="consent"]');
    await Promise.race([consent.waitFor({ state: 'attached' }), page.waitForURL((url) => url.origin === base)]);
    if (new URL(page.url()).origin === op.issuer) await page.click('button[type="submit"]');
  }

  it('provider login -> commenting as the provider\'s name -> the provider\'s back-channel logout -> anonymous embed', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.goto(`${base}${ARTICLE}`);
    await Promise.all([page.waitForURL(/\/login\?returnTo=/), page.locator('.viafoura .vf-login').click()]);
    await page.click('text=Log in with Harbour ID');
    await signInAtProvider(page, 'alice');
    await page.waitForURL(`${base}${ARTICLE}`);

    const status = page.locator('.viafoura .vf-status');
    await status.waitFor();
    expect(await status.textContent()).toBe('Commenting as Alice Provider');
    const sid = await page.getAttribute('#viafoura-platform', 'data-sid');
    expect(t.emulator.sessionInfo(sid!)?.alive).toBe(true);

    // The reader signs out at the provider itself; it tells the site over the back channel.
    await page.goto(`${op.issuer}/session/end`);
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL((url) => url.pathname.startsWith('/session/end/success'));
    await waitFor(() => t.emulator.sessionInfo(sid!)?.alive === false, 'the platform session to end');

    await page.goto(`${base}${ARTICLE}`);
    await page.locator('.viafoura .vf-login').waitFor();
    expect(await page.getAttribute('#viafoura-platform', 'data-sid')).toBeNull();
    expect(await page.isVisible('[data-login-link]')).toBe(true);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('logging out on the site takes the reader through the provider\'s logout and back to the front page', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/login/oidc?returnTo=${encodeURIComponent(ARTICLE)}`);
    await signInAtProvider(page, 'bob');
    await page.waitForURL(`${base}${ARTICLE}`);
    expect(await page.isVisible('form[data-ajax-logout]')).toBe(true);

    await page.click('form[data-ajax-logout] button');
    // The provider asks before it ends its own session (the site sent id_token_hint and where to come back).
    await page.waitForURL((url) => url.origin === op.issuer);
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL(`${base}/`);
    expect(await page.isVisible('[data-login-link]')).toBe(true);
    await context.close();
  });

  it('the AJAX logout shows the reader logged out, then the provider\'s logout page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/login/oidc?returnTo=${encodeURIComponent(ARTICLE)}`);
    await signInAtProvider(page, 'carol');
    await page.waitForURL(`${base}${ARTICLE}`);
    const sid = await page.getAttribute('#viafoura-platform', 'data-sid');
    await Promise.all([page.waitForURL((url) => url.origin === op.issuer), page.click('form[data-ajax-logout] button')]);
    expect(t.emulator.sessionInfo(sid!)?.alive).toBe(false);
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL(`${base}/`);
    await context.close();
  });
});
