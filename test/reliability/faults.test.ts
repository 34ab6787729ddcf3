import type { Response } from 'supertest';
import { csrfFor, embedTagOf, login, register } from '../helpers/browser-flow';
import { OPS_AUTHORIZATION, startTestSite, type TestSite } from '../helpers/site';

const TIMEOUT_MS = 400;
/** Long enough that only the test's own clock moves end it, however busy the machine is. */
const COOL_DOWN_MS = 60_000;
const RETRY_BASE_MS = 1_000;
const PLATFORM_ANSWERS_AFTER_MS = 15_000;

/** A site whose platform calls give up after 400 ms and whose breaker cools down when the test moves its clock. */
function startFaultSite(): Promise<TestSite> {
  return startTestSite({
    timeoutMs: TIMEOUT_MS,
    overrides: { rateLimits: { loginPerAccount: 10, loginPerIp: 10_000, registerPerIp: 10_000 } },
    platformOptions: {
      retryBaseMs: RETRY_BASE_MS,
      retryMaxMs: 4 * RETRY_BASE_MS,
      breaker: { resetTimeoutMs: COOL_DOWN_MS, volumeThreshold: 3, rollingWindowMs: 10_000 },
    },
  });
}

type Fault = [string, (t: TestSite) => void];
const FAULTS: Fault[] = [
  ['down (connections dropped)', (t) => t.emulator.faults.failAll('drop', 'any')],
  ['slow (beyond the client timeout)', (t) => t.emulator.faults.setLatency(TIMEOUT_MS * 3, 'any')],
  ['answering 500', (t) => t.emulator.faults.failAll({ status: 500 }, 'any')],
  ['answering 401 to every call', (t) => t.emulator.faults.failAll({ status: 401 }, 'any')],
];

describe.each(FAULTS)('platform %s', (_label, breakPlatform) => {
  let t: TestSite;
  beforeAll(async () => {
    t = await startFaultSite();
  });
  afterAll(() => t.close());

  it('readers still register, log in, read and log out, with no 5xx; they get platform sessions back when it returns', async () => {
    const responses: Response[] = [];
    const seen = <T extends Response>(res: T): T => (responses.push(res), res);
    breakPlatform(t);

    const reader = t.agent();
    const { res: registered, email } = await register(reader, { name: 'Resilient Reader' });
    seen(registered);
    expect(registered.status).toBe(303);
    const page = seen(await reader.get('/articles/library-late-fees'));
    expect(page.status).toBe(200);
    expect(embedTagOf(page.text)).toEqual({ uid: null, sid: null });

    const token = await csrfFor(reader, '/account');
    expect(seen(await reader.post('/logout').type('form').send({ _csrf: token })).status).toBe(303);
    expect(seen(await login(reader, email)).status).toBe(303);
    expect(seen(await reader.get('/articles/library-late-fees')).status).toBe(200);
    expect(responses.every((r) => r.status < 500)).toBe(true);

    // The platform comes back: after the breaker's cool-down and the bridge's retry time, the
    // next page view logs the reader in to the platform, with no restart.
    t.emulator.faults.reset();
    t.clock.advance(COOL_DOWN_MS + 4 * RETRY_BASE_MS);
    const recovered = embedTagOf((await reader.get('/articles/library-late-fees').expect(200)).text);
    expect(recovered.uid).toBe(String(t.emulator.userByHostId(String((await reader.get('/api/session')).body.user.id))?.userId));
    expect(t.emulator.sessionInfo(recovered.sid!)?.alive).toBe(true);
  });
});

describe('circuit breaker', () => {
  let t: TestSite;
  beforeAll(async () => {
    t = await startFaultSite();
  });
  afterAll(() => t.close());

  it('opens on a dead platform, shows it in /readyz and /metrics, stops calling, and closes after a trial call', async () => {
    t.emulator.faults.failAll('drop', 'any');
    for (let i = 0; i < 4; i += 1) await register(t.agent());
    const ready = await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION).expect(200);
    expect(ready.body.checks.platform).toMatchObject({ ok: false, circuit: 'open' });
    expect((await t.agent().get('/metrics').set('Authorization', OPS_AUTHORIZATION).expect(200)).text).toMatch(/^vf_platform_circuit_state 2$/m);

    // While open, logins do not reach the platform at all.
    const callsWhileOpen = t.emulator.stats().calls;
    for (let i = 0; i < 5; i += 1) expect((await register(t.agent())).res.status).toBe(303);
    expect(t.emulator.stats().calls).toEqual(callsWhileOpen);

    t.emulator.faults.reset();
    t.clock.advance(COOL_DOWN_MS);
    const reader = t.agent();
    await register(reader);
    expect(embedTagOf((await reader.get('/').expect(200)).text).sid).toBeTruthy();
    expect((await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION).expect(200)).body.checks.platform).toMatchObject({ ok: true, circuit: 'closed' });
    expect((await t.agent().get('/metrics').set('Authorization', OPS_AUTHORIZATION).expect(200)).text).toMatch(/^vf_platform_circuit_state 0$/m);
  });
});

describe('token endpoint failing', () => {
  let t: TestSite;
  beforeAll(async () => {
    t = await startFaultSite();
  });
  afterAll(() => t.close());

  it('50 concurrent logins: none waits past the timeout, and the token endpoint sees a trial, not a storm', async () => {
    // Far beyond the client's timeout: a reader who waited for the platform's answer would show.
    t.emulator.faults.setLatency(PLATFORM_ANSWERS_AFTER_MS, 'token');
    const readers = await Promise.all(Array.from({ length: 50 }, async () => {
      const agent = t.agent();
      const _csrf = await csrfFor(agent, '/register');
      return { agent, _csrf };
    }));
    const tokenCallsBefore = t.emulator.stats().calls.token;
    const timings = await Promise.all(
      readers.map(async ({ agent, _csrf }, i) => {
        const started = Date.now();
        const res = await agent.post('/register').type('form').send({ _csrf, email: `storm-${i}-${Date.now()}@example.com`, name: 'Storm', password: 'correct horse battery' });
        return { status: res.status, ms: Date.now() - started };
      }),
    );
    expect(timings.filter((r) => r.status !== 303)).toEqual([]);
    // Nobody waited for the platform: the client's timeout and the open circuit answered first.
    expect(Math.max(...timings.map((r) => r.ms))).toBeLessThan(PLATFORM_ANSWERS_AFTER_MS);
    expect(t.emulator.stats().calls.token - tokenCallsBefore).toBeLessThanOrEqual(3);
  });

  it('readiness probes report the failing token endpoint without calling it', async () => {
    const tokenCallsBefore = t.emulator.stats().calls.token;
    for (let i = 0; i < 20; i += 1) {
      const res = await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION).expect(200);
      expect(res.body.checks.platform).toMatchObject({ ok: false, token: 'failing' });
    }
    expect(t.emulator.stats().calls.token).toBe(tokenCallsBefore);
  });
});
