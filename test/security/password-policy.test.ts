import { login, register } from '../helpers/browser-flow';
import { startTestSite, type TestSite } from '../helpers/site';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({ overrides: { rateLimits: { loginPerAccount: 10, loginPerIp: 50, registerPerIp: 1000 } } });
});
afterAll(() => t.close());

const messageOf = (html: string) => /class="form-error"[^>]*>([^<]*)</.exec(html)?.[1];

describe('password policy (ASVS 2.1)', () => {
  it.each([
    ['password12', /at least 12 characters/],
    ['1234567890', /at least 12 characters/],
    ['a'.repeat(11), /at least 12 characters/],
    ['aaaaaaaaaaaa', /too easy to guess: it repeats one character/],
    ['123456789012', /too easy to guess: it is on lists of commonly used and breached passwords/],
    ['password1234', /too easy to guess: it is close to a commonly used password/],
    ['qwertyuiop12', /too easy to guess/],
  ])('ASVS 2.1.1, 2.1.7: %j is refused with a reason', async (password, reason) => {
    const { res } = await register(t.agent(), { password });
    expect(res.status).toBe(400);
    expect(messageOf(res.text)).toMatch(reason);
  });

  it('ASVS 2.1.7: a password built from the reader’s own email is refused', async () => {
    const email = `zanzibar.quokka.${Date.now()}@example.com`;
    const { res } = await register(t.agent(), { email, password: 'zanzibar-quokka' });
    expect(res.status).toBe(400);
    expect(messageOf(res.text)).toMatch(/too easy to guess/);
  });

  it('ASVS 2.1.2, 2.1.3, 2.1.4: long passphrases, spaces, Unicode and emoji are accepted, whole', async () => {
    const long = 'ein Hafenkran träumt vom Meer 🌊 '.repeat(4).slice(0, 128);
    const agent = t.agent();
    const { res, email } = await register(agent, { password: long });
    expect(res.status).toBe(303);
    expect((await login(t.agent(), email, long)).status).toBe(303);
    // No truncation: the same passphrase one character short is another password.
    expect((await login(t.agent(), email, long.slice(0, -1))).status).toBe(401);
  });

  it('ASVS 2.1.8: the register and account forms load the strength hint from files, and the CSP stays without inline script', async () => {
    const page = await t.agent().get('/register').expect(200);
    expect(page.text).toContain('data-password-strength="password-hint"');
    for (const src of ['/public/vendor/zxcvbn-core.js', '/public/vendor/zxcvbn-common.js', '/public/password-strength.js']) {
      expect(page.text).toContain(`<script src="${src}" defer></script>`);
      const script = await t.agent().get(src).expect(200);
      expect(script.headers['content-type']).toMatch(/javascript/);
    }
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
  });
});
