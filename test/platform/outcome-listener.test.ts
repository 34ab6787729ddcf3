import { Registry } from 'prom-client';
import { createPlatformMetrics, type PlatformOutcome } from '../../packages/bridge/src/platform';
import { startPlatformFixture } from './fixture';

/** Every sample of the four outcome counters in `registry`, as `name{labels} value` lines. */
async function outcomeLines(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((line) => /^vf_(platform_calls|platform_token_fetches|bridge_logins|bridge_logouts)_total\{/.test(line));
}

describe("the platform counters' outcome listener", () => {
  function countSome(metrics: ReturnType<typeof createPlatformMetrics>): void {
    metrics.calls.inc({ endpoint: 'login', outcome: 'ok' });
    metrics.calls.inc({ endpoint: 'logout', outcome: 'platform_timeout' });
    metrics.tokenFetches.inc({ outcome: 'token_invalid_client' });
    metrics.logins.inc({ outcome: 'ok' });
    metrics.logouts.inc({ outcome: 'dropped' });
    metrics.logouts.inc({ outcome: 'expired' }, 7);
  }

  const heard: PlatformOutcome[] = [
    { kind: 'call', outcome: 'ok', endpoint: 'login', count: 1 },
    { kind: 'call', outcome: 'platform_timeout', endpoint: 'logout', count: 1 },
    { kind: 'token', outcome: 'token_invalid_client', endpoint: undefined, count: 1 },
    { kind: 'login', outcome: 'ok', endpoint: undefined, count: 1 },
    { kind: 'logout', outcome: 'dropped', endpoint: undefined, count: 1 },
    { kind: 'logout', outcome: 'expired', endpoint: undefined, count: 7 },
  ];

  it('hears each outcome the registry counts, with the same count', async () => {
    const registry = new Registry();
    const outcomes: PlatformOutcome[] = [];
    countSome(createPlatformMetrics(registry, (o) => outcomes.push(o)));
    expect(outcomes).toEqual(heard);
    expect(await outcomeLines(registry)).toEqual(
      expect.arrayContaining([
        'vf_platform_calls_total{endpoint="login",outcome="ok"} 1',
        'vf_platform_calls_total{endpoint="logout",outcome="platform_timeout"} 1',
        'vf_platform_token_fetches_total{outcome="token_invalid_client"} 1',
        'vf_bridge_logins_total{outcome="ok"} 1',
        'vf_bridge_logouts_total{outcome="dropped"} 1',
        'vf_bridge_logouts_total{outcome="expired"} 7',
      ]),
    );
    expect(await outcomeLines(registry)).toHaveLength(6);
  });

  it('hears them without a registry too', () => {
    const outcomes: PlatformOutcome[] = [];
    countSome(createPlatformMetrics(undefined, (o) => outcomes.push(o)));
    expect(outcomes).toEqual(heard);
  });

  it('without a listener the counters are the registry\'s own', async () => {
    const registry = new Registry();
    const metrics = createPlatformMetrics(registry);
    countSome(metrics);
    expect(metrics.calls).toBe(registry.getSingleMetric('vf_platform_calls_total'));
    expect(await outcomeLines(registry)).toHaveLength(6);
  });
});

describe('a listener that throws', () => {
  it('is logged, and the login and the logout it heard still work and are counted', async () => {
    const fixture = await startPlatformFixture({
      onOutcome: () => {
        throw new Error('listener bug');
      },
    });
    try {
      const { bridge } = fixture.platform;
      const session = await bridge.onLogin('sid-listener', { id: '7', name: 'Lin', email: null });
      expect(session).not.toBeNull();
      await bridge.onLogout('sid-listener');
      expect(fixture.emulator.sessionInfo(session!.session)!.alive).toBe(false);
      const text = await fixture.registry.metrics();
      expect(text).toContain('vf_bridge_logins_total{outcome="ok"} 1');
      expect(text).toContain('vf_bridge_logouts_total{outcome="ok"} 1');
      expect(fixture.logLines.some((line) => line.includes('the onOutcome listener threw'))).toBe(true);
    } finally {
      await fixture.close();
    }
  });
});
