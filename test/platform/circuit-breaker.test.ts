import { createCircuitBreaker } from '../../packages/bridge/src/platform';
import { PlatformError } from '../../src/errors';
import { platformErrorOf, startPlatformFixture, type PlatformFixture } from './fixture';

const RESET_MS = 150;

describe('circuit breaker in front of the platform', () => {
  let fixture: PlatformFixture;

  beforeEach(async () => {
    fixture = await startPlatformFixture({ timeoutMs: 300, options: { breaker: { resetTimeoutMs: RESET_MS } } });
    // A token first, so each failing login below is exactly one call to the platform.
    await fixture.platform.tokens.getToken();
  });

  afterEach(async () => {
    await fixture.close();
  });

  const login = (i: number) => fixture.platform.accounts.login({ id: `reader-${i}`, name: `Reader ${i}` });

  /** Failing logins until the circuit opens; the count of calls that reached the platform. */
  async function failLoginsUntilOpen(): Promise<number> {
    let failures = 0;
    while (fixture.platform.breakerState() === 'closed' && failures < 20) {
      expect((await platformErrorOf(login(failures))).code).toBe('PLATFORM_UNAVAILABLE');
      failures += 1;
    }
    return failures;
  }

  test('opens after consecutive failures and then refuses fast without calling the platform', async () => {
    const { emulator, platform, registry } = fixture;
    emulator.faults.failAll({ status: 503 }, 'login');

    const failures = await failLoginsUntilOpen();

    // volumeThreshold 5 (the token call counts as one of them) and more than half failing.
    expect(failures).toBeGreaterThanOrEqual(4);
    expect(failures).toBeLessThanOrEqual(5);
    expect(platform.breakerState()).toBe('open');
    const callsBefore = emulator.stats().calls.login;
    const started = Date.now();
    const refused = await platformErrorOf(login(99));
    expect(refused.code).toBe('PLATFORM_CIRCUIT_OPEN');
    expect(Date.now() - started).toBeLessThan(50);
    expect(emulator.stats().calls.login).toBe(callsBefore);
    await expect(platform.bridge.status()).resolves.toMatchObject({ circuit: 'open' });
    expect(await registry.metrics()).toContain('vf_platform_circuit_state 2');
    expect(await registry.metrics()).toContain('vf_platform_calls_total{endpoint="login",outcome="platform_circuit_open"} 1');
  });

  test('after resetTimeoutMs one trial call goes through, and its success closes the circuit', async () => {
    const { emulator, platform, registry } = fixture;
    emulator.faults.failAll({ status: 503 }, 'login');
    await failLoginsUntilOpen();
    emulator.faults.failAll(null, 'login');

    fixture.emulator.clock.advance(RESET_MS);
    expect(platform.breakerState()).toBe('half-open');
    expect(await registry.metrics()).toContain('vf_platform_circuit_state 1');

    const trial = login(100);
    // While the trial is out, others are still refused rather than piling onto the platform.
    expect((await platformErrorOf(login(101))).code).toBe('PLATFORM_CIRCUIT_OPEN');
    await expect(trial).resolves.toMatchObject({ userId: expect.any(String) });
    expect(platform.breakerState()).toBe('closed');

    // A clean start: the failures that opened the circuit do not re-open it at the next hiccup.
    emulator.faults.failNext(1, { status: 503 }, 'login');
    await platformErrorOf(login(102));
    expect(platform.breakerState()).toBe('closed');
  });

  test('a failed trial opens the circuit again', async () => {
    const { emulator, platform } = fixture;
    emulator.faults.failAll({ status: 503 }, 'login');
    await failLoginsUntilOpen();

    fixture.emulator.clock.advance(RESET_MS);
    expect(platform.breakerState()).toBe('half-open');
    expect((await platformErrorOf(login(200))).code).toBe('PLATFORM_UNAVAILABLE');
    expect(platform.breakerState()).toBe('open');
  });

  test('timeouts count as failures', async () => {
    const { emulator, platform } = fixture;
    emulator.faults.setLatency(1000, 'login');

    const errors = await Promise.all(Array.from({ length: 5 }, (_, i) => platformErrorOf(login(i))));

    expect(errors.map((error) => error.code)).toEqual(Array(5).fill('PLATFORM_TIMEOUT'));
    expect(platform.breakerState()).toBe('open');
  });

  test('refusals (4xx) prove the platform is up and never open the circuit', async () => {
    const { emulator, platform } = fixture;
    emulator.faults.failAll({ status: 400 }, 'login');

    for (let i = 0; i < 10; i += 1) expect((await platformErrorOf(login(i))).code).toBe('PLATFORM_REJECTED');

    expect(platform.breakerState()).toBe('closed');
  });

  test('a token endpoint that is down opens the same circuit', async () => {
    const { emulator, platform } = fixture;
    platform.tokens.invalidate(await platform.tokens.getToken());
    emulator.faults.failAll({ status: 503 }, 'token');

    const codes: string[] = [];
    for (let i = 0; i < 6; i += 1) codes.push((await platformErrorOf(platform.tokens.getToken())).code);

    expect(codes).toContain('PLATFORM_UNAVAILABLE');
    expect(codes[codes.length - 1]).toBe('PLATFORM_CIRCUIT_OPEN');
    expect(platform.breakerState()).toBe('open');
    expect((await platformErrorOf(login(1))).code).toBe('PLATFORM_CIRCUIT_OPEN');
  });

  test('queued logouts wait while the circuit is open, and all go out once a trial call succeeds', async () => {
    const { emulator, platform } = fixture;
    const sessions = [];
    for (let i = 0; i < 3; i += 1) sessions.push((await platform.bridge.onLogin(`sid-${i}`, { id: `u${i}`, name: `Reader ${i}` }))!);
    emulator.faults.failAll({ status: 503 });
    for (let i = 0; i < 3; i += 1) await platform.bridge.onLogout(`sid-${i}`);
    // The queued logouts fall due first; then the circuit opens, its cool-down counted from there.
    emulator.clock.advance(60_000);
    await failLoginsUntilOpen();

    const callsWhileOpen = emulator.stats().calls.logout;
    await expect(platform.bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 0, remaining: 3 });
    expect(emulator.stats().calls.logout).toBe(callsWhileOpen);

    emulator.faults.failAll(null);
    fixture.emulator.clock.advance(RESET_MS);
    await expect(platform.bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 3, remaining: 0 });
    expect(platform.breakerState()).toBe('closed');
    for (const { session } of sessions) expect(emulator.sessionInfo(session)!.alive).toBe(false);
  });
});

describe('createCircuitBreaker', () => {
  test('passes results and non-outage errors through unchanged, and is refused after shutdown', async () => {
    const breaker = createCircuitBreaker({ resetTimeoutMs: 50 });
    await expect(breaker.run(async () => 42)).resolves.toBe(42);
    const refusal = new PlatformError('PLATFORM_REJECTED', 'no', { upstreamStatus: 400 });
    await expect(breaker.run(async () => Promise.reject(refusal))).rejects.toBe(refusal);
    expect(breaker.state()).toBe('closed');

    breaker.shutdown();
    await expect(breaker.run(async () => 1)).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE' });
  });

  test('rejects nonsense options at construction', () => {
    expect(() => createCircuitBreaker({ resetTimeoutMs: 0 })).toThrow(TypeError);
    expect(() => createCircuitBreaker({ volumeThreshold: -1 })).toThrow(TypeError);
  });
});
