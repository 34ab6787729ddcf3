import { csrfFrom, uniqueEmail } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';
import { proxiedBrowser } from './proxied-browser';

// The production defaults (src/config.ts), behind a proxy so that each test client has its own IP.
const LIMITS = { loginPerAccountClient: 10, loginPerAccount: 30, loginPerIp: 50, loginCeiling: 100, registerPerIp: 1000 };

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({ overrides: { trustProxy: true, rateLimits: LIMITS } });
});
afterAll(() => t.close());

describe('failed-login throttling that never locks the owner out (ASVS 2.2.1)', () => {
  it('ASVS 2.2.1: 100 failures from one client do not stop the owner on another client or on a known device; the attacker stays limited', async () => {
    const email = uniqueEmail('owner');
    const knownDevice = proxiedBrowser(t.site.app, '198.51.100.10');
    expect((await knownDevice.register(email)).status).toBe(303);
    expect([...knownDevice.jar.keys()]).toContain('__Host-vfb.device');

    const attacker = proxiedBrowser(t.site.app, '203.0.113.66');
    const statuses: number[] = [];
    for (let i = 0; i < 100; i += 1) statuses.push((await attacker.login(email, `wrong guess number ${i}`)).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMITS.loginPerAccountClient);
    expect(statuses.slice(LIMITS.loginPerAccountClient).every((s) => s === 429)).toBe(true);
    // Even the right password gets the attacker's client nowhere.
    const attackerWithPassword = await attacker.login(email, TEST_PASSWORD);
    expect(attackerWithPassword.status).toBe(429);
    expect(Number(attackerWithPassword.headers['retry-after'])).toBeGreaterThan(0);

    expect((await proxiedBrowser(t.site.app, '192.0.2.44').login(email)).status).toBe(303);
    expect((await knownDevice.login(email)).status).toBe(303);
  });

  it('ASVS 2.2.1: a distributed run is stopped at the per-account limit, while a known device, even on the attacker’s IP, still logs in', async () => {
    const email = uniqueEmail('owner');
    const knownDevice = proxiedBrowser(t.site.app, '198.51.100.20');
    expect((await knownDevice.register(email)).status).toBe(303);

    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) statuses.push((await proxiedBrowser(t.site.app, `10.20.${i}.1`).login(email, `guess ${i} from afar`)).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMITS.loginPerAccount);
    expect(statuses.slice(LIMITS.loginPerAccount).every((s) => s === 429)).toBe(true);
    // A stranger's client, right password or not, waits: the account is under attack.
    expect((await proxiedBrowser(t.site.app, '192.0.2.99').login(email)).status).toBe(429);

    // The owner's own browser, moved behind the attacker's last address, is not a stranger.
    const sameNat = proxiedBrowser(t.site.app, '10.20.39.1');
    for (const [name, value] of knownDevice.jar) sameNat.jar.set(name, value);
    expect((await sameNat.login(email)).status).toBe(303);
  });

  it('ASVS 2.2.1: a burst of parallel guesses from one client gets no more tries than the limit', async () => {
    const email = uniqueEmail('owner');
    expect((await proxiedBrowser(t.site.app, '198.51.100.30').register(email)).status).toBe(303);
    const attacker = proxiedBrowser(t.site.app, '203.0.113.30');
    const _csrf = csrfFrom((await attacker.get('/login')).text);
    const statuses = await Promise.all(
      Array.from({ length: 25 }, (_, i) => attacker.postForm('/login', { _csrf, email, password: `parallel guess ${i}` }).then((res) => res.status)),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMITS.loginPerAccountClient);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25 - LIMITS.loginPerAccountClient);
  });

  it('ASVS 2.2.1: a device cookie of another reader, or a forged one, is no known device', async () => {
    const owner = uniqueEmail('owner');
    const other = uniqueEmail('other');
    expect((await proxiedBrowser(t.site.app, '198.51.100.40').register(owner)).status).toBe(303);
    const otherBrowser = proxiedBrowser(t.site.app, '203.0.113.40');
    expect((await otherBrowser.register(other)).status).toBe(303);
    const forged = proxiedBrowser(t.site.app, '203.0.113.41');
    const value = otherBrowser.jar.get('__Host-vfb.device')!;
    forged.jar.set('__Host-vfb.device', value.replace(/^\d+\./, '1.'));
    for (let i = 0; i < LIMITS.loginPerAccountClient; i += 1) expect((await otherBrowser.login(owner, `not it ${i}`)).status).toBe(401);
    expect((await otherBrowser.login(owner)).status).toBe(429);
    for (let i = 0; i < LIMITS.loginPerAccountClient; i += 1) expect((await forged.login(owner, `not it ${i}`)).status).toBe(401);
    expect((await forged.login(owner)).status).toBe(429);
  });
});
