import type { Browser, Page } from 'playwright-core';
import { uniqueEmail } from '../helpers/browser-flow';
import { SUBJECTS, waitForMail } from '../helpers/mail';
import { describeIf, hasChromium } from '../helpers/services';
import { registerInBrowser, startBrowserSite, type BrowserSite } from '../helpers/browser-site';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

const NEW_PASSWORD = 'lantern orchard quietly 42';

describeIf(hasChromium())('verification and password reset mail, followed in a real browser', () => {
  let t: TestSite;
  let site: BrowserSite;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    site = await startBrowserSite((address) => startTestSite({ overrides: { mail: { publicUrl: address } } }));
    ({ t, base, browser } = site);
  });

  afterAll(() => site?.close());

  /** Opens the development inbox and follows the link of the newest message to `email` about `subject`. */
  async function followMailedLink(page: Page, email: string, subject: string, path: string): Promise<void> {
    await waitForMail(t, email, subject);
    await page.goto(`${base}/dev/mail`);
    const link = page.locator('article.dev-mail-message').filter({ hasText: email }).filter({ hasText: subject }).first().locator(`a[href*="${path}"]`);
    expect(await link.getAttribute('href')).toMatch(new RegExp(`^${base}${path}\\?token=`));
    await Promise.all([page.waitForURL(new RegExp(`${path}\\?token=`)), link.click()]);
  }

  /** Sends the login form; resolves with the status of its answer once the page it leads to has loaded. */
  async function logInWith(page: Page, email: string, password: string): Promise<number> {
    await page.goto(`${base}/login`);
    await page.fill('form[action="/login"] input[name="email"]', email);
    await page.fill('form[action="/login"] input[name="password"]', password);
    const [answer] = await Promise.all([
      page.waitForResponse((res) => res.url() === `${base}/login` && res.request().method() === 'POST'),
      page.click('form[action="/login"] button[type="submit"]'),
    ]);
    if (answer.status() === 303) await page.waitForURL(`${base}/`);
    await page.waitForLoadState('load');
    return answer.status();
  }

  it('register -> confirm from the mailed link -> forgot password -> reset from the mailed link -> the old password is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const email = uniqueEmail('browser-mail');

    await registerInBrowser(page, base, { email, name: 'Mail Reader' });
    expect(await page.locator('.verify-banner').textContent()).toContain('Please confirm your email address');

    await followMailedLink(page, email, SUBJECTS.verify, '/email/verify');
    expect(await page.locator('h1').textContent()).toBe('Confirm your email address');
    await Promise.all([page.waitForURL(`${base}/account?verified=1`), page.click('form[action="/email/verify"] button[type="submit"]')]);
    expect(await page.locator('[role="status"]').first().textContent()).toContain('Your email address is confirmed.');
    expect(await page.locator('[data-email-status]').textContent()).toBe(`${email}: verified`);
    expect(await page.locator('.verify-banner').count()).toBe(0);

    // Logged out (the AJAX logout), then "forgot your password?" from the login page.
    await page.click('form[data-ajax-logout] button');
    await page.locator('[data-login-link]').waitFor();
    await page.goto(`${base}/login`);
    await Promise.all([page.waitForURL(`${base}/password/forgot`), page.click('a[href="/password/forgot"]')]);
    await page.fill('form[action="/password/forgot"] input[name="email"]', email);
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/password/forgot"] button[type="submit"]')]);
    await page.getByText('If an account uses that address').waitFor();

    await followMailedLink(page, email, SUBJECTS.reset, '/password/reset');
    await page.fill('form[action="/password/reset"] input[name="newPassword"]', NEW_PASSWORD);
    await Promise.all([page.waitForURL(`${base}/account?password=reset`), page.click('form[action="/password/reset"] button[type="submit"]')]);
    expect(await page.getByText('Password reset. Every session of yours was logged out.').count()).toBe(1);
    expect(await page.locator('a.who').textContent()).toBe('Mail Reader');

    await page.click('form[data-ajax-logout] button');
    await page.locator('[data-login-link]').waitFor();
    expect(await logInWith(page, email, TEST_PASSWORD)).toBe(401);
    expect(await page.locator('.form-error').textContent()).toBe('Wrong email or password.');
    expect(await logInWith(page, email, NEW_PASSWORD)).toBe(303);
    expect(page.url()).toBe(`${base}/`);
    expect(await page.locator('a.who').textContent()).toBe('Mail Reader');

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
