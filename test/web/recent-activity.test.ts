import { createAdjustableClock } from 'vf-login-bridge';
import { ACTIVITY_MINUTES, RecentActivity } from '../../src/web/recent-activity';
import { ago, deliveryChart, platformFigures } from '../../src/web/admin-status';

const MINUTE = 60_000;
// 12:00:30 UTC: half a minute into a minute, so a step of one minute lands in the next bucket.
const START = Date.UTC(2026, 11, 5, 12, 0, 30);

function activityAt() {
  const clock = createAdjustableClock({ now: () => START });
  return { clock, activity: new RecentActivity(clock) };
}

describe("the status page's last hour (in memory, a minute at a time)", () => {
  it('counts deliveries and failures in the current minute; dropped is neither a delivery nor a failure', () => {
    const { activity } = activityAt();
    activity.hear({ kind: 'logout', outcome: 'ok', count: 1 });
    activity.hear({ kind: 'logout', outcome: 'ok', count: 1 });
    activity.hear({ kind: 'logout', outcome: 'platform_timeout', count: 1 });
    activity.hear({ kind: 'logout', outcome: 'expired', count: 5 });
    activity.hear({ kind: 'logout', outcome: 'dropped', count: 1 });
    const minutes = activity.deliveries();
    expect(minutes).toHaveLength(ACTIVITY_MINUTES);
    expect(minutes.at(-1)).toEqual({ at: Date.UTC(2026, 11, 5, 12, 0), delivered: 2, failed: 6 });
    expect(minutes.slice(0, -1).every((m) => m.delivered === 0 && m.failed === 0)).toBe(true);
  });

  it('forgets a minute once it is an hour old, and reuses its slot for the new one', () => {
    const { clock, activity } = activityAt();
    activity.hear({ kind: 'logout', outcome: 'ok', count: 3 });
    clock.advance(59 * MINUTE);
    expect(activity.deliveries()[0]).toMatchObject({ delivered: 3 });
    clock.advance(MINUTE);
    // The same slot of the ring, a new minute: the old count is not carried over.
    activity.hear({ kind: 'logout', outcome: 'ok', count: 1 });
    const minutes = activity.deliveries();
    expect(minutes.reduce((sum, m) => sum + m.delivered, 0)).toBe(1);
    expect(minutes.at(-1)).toMatchObject({ delivered: 1 });
  });

  it('a quiet hour shows nothing, even with no minute written since', () => {
    const { clock, activity } = activityAt();
    activity.hear({ kind: 'logout', outcome: 'platform_unavailable', count: 2 });
    clock.advance(3 * ACTIVITY_MINUTES * MINUTE);
    expect(activity.deliveries().every((m) => m.delivered === 0 && m.failed === 0)).toBe(true);
    expect(activity.errors()).toEqual([]);
  });

  it('lists failures by where and code once (not again as the call that carried them), the most recent first, and not successes', () => {
    const { clock, activity } = activityAt();
    activity.hear({ kind: 'call', outcome: 'platform_timeout', endpoint: 'logout', count: 1 });
    activity.hear({ kind: 'logout', outcome: 'platform_timeout', count: 1 });
    clock.advance(MINUTE);
    activity.hear({ kind: 'call', outcome: 'token_invalid_client', endpoint: 'token', count: 1 });
    activity.hear({ kind: 'token', outcome: 'token_invalid_client', count: 1 });
    clock.advance(MINUTE);
    activity.hear({ kind: 'login', outcome: 'platform_timeout', count: 1 });
    activity.hear({ kind: 'logout', outcome: 'platform_timeout', count: 1 });
    activity.hear({ kind: 'login', outcome: 'ok', count: 4 });
    // A logout the platform had nothing left to end: its refused call is no failure of the site's.
    activity.hear({ kind: 'call', outcome: 'platform_rejected', endpoint: 'logout', count: 1 });
    activity.hear({ kind: 'logout', outcome: 'dropped', count: 1 });
    expect(activity.errors()).toEqual([
      { source: 'logout', code: 'platform_timeout', count: 2, lastAt: START + 2 * MINUTE },
      { source: 'login', code: 'platform_timeout', count: 1, lastAt: START + 2 * MINUTE },
      { source: 'token', code: 'token_invalid_client', count: 1, lastAt: START + MINUTE },
    ]);
  });

  it('remembers the last call to the accounts API, whatever its outcome; a token call is not one', () => {
    const { clock, activity } = activityAt();
    expect(activity.lastCall()).toBeUndefined();
    activity.hear({ kind: 'call', outcome: 'platform_rejected', endpoint: 'login', count: 1 });
    clock.advance(MINUTE);
    activity.hear({ kind: 'login', outcome: 'ok', count: 1 });
    activity.hear({ kind: 'call', outcome: 'ok', endpoint: 'token', count: 1 });
    expect(activity.lastCall()).toEqual({ at: START, outcome: 'platform_rejected' });
  });
});

describe("the status page's chart and ages", () => {
  it('scales the bars to the busiest minute, failures stacked on deliveries, quiet minutes drawn as nothing', () => {
    const minutes = Array.from({ length: ACTIVITY_MINUTES }, (_, i) => ({ at: START - (ACTIVITY_MINUTES - 1 - i) * MINUTE, delivered: 0, failed: 0 }));
    minutes[10] = { ...minutes[10]!, delivered: 6, failed: 2 };
    minutes[59] = { ...minutes[59]!, delivered: 2, failed: 0 };
    const chart = deliveryChart(minutes);
    expect(chart.peak).toBe(8);
    expect(chart.bars).toHaveLength(2);
    const [busy, last] = chart.bars;
    const plot = chart.height - chart.top - chart.bottom;
    expect(busy!.okHeight + busy!.failHeight).toBeCloseTo(plot, 0);
    expect(busy!.failY + busy!.failHeight).toBeCloseTo(busy!.okY, 5);
    expect(busy!.okY + busy!.okHeight).toBeCloseTo(chart.base, 5);
    expect(busy!.x).toBe(10 * chart.bar);
    expect(last!.x).toBe(59 * chart.bar);
    expect(last!.title).toBe('12:00 UTC: 2 delivered, 0 failed');
    expect(busy!.x + chart.barWidth).toBeLessThanOrEqual(chart.width);
  });

  it('an empty hour has no bars and no division by zero', () => {
    const chart = deliveryChart(Array.from({ length: ACTIVITY_MINUTES }, (_, i) => ({ at: i * MINUTE, delivered: 0, failed: 0 })));
    expect(chart.bars).toEqual([]);
    expect(chart.peak).toBe(0);
  });

  it.each([
    [0, '0 min'],
    [59 * MINUTE + 59_000, '59 min'],
    [2 * 60 * MINUTE + 5 * MINUTE, '2 h 5 min'],
    [(4 * 24 + 1) * 60 * MINUTE, '4 d 1 h'],
    [-5 * MINUTE, '0 min'],
  ])('an age of %d ms reads %s', (ms, text) => {
    expect(ago(ms)).toBe(text);
  });
});

describe("the status page's reachability: from the circuit and this instance's last call, never a call of its own", () => {
  const call = (outcome: string) => ({ at: START - 3 * MINUTE, outcome });
  it.each([
    ['an open circuit', 'open', call('ok'), 'no', /^not answering: calls are paused/],
    ['no call yet', 'closed', undefined, 'unknown', /^unknown: this instance has not called/],
    ['a call that succeeded', 'closed', call('ok'), 'yes', /^answering: the last call succeeded 3 min ago$/],
    ['a call that timed out', 'closed', call('platform_timeout'), 'no', /^not answering: the last call ended in platform_timeout 3 min ago; the circuit breaker is closed$/],
    ['a call the platform refused', 'half-open', call('platform_rejected'), 'yes', /^answering, but it refused the last call \(platform_rejected\) 3 min ago$/],
  ] as const)('%s', (_name, circuit, last, reachable, text) => {
    const figures = platformFigures(circuit, last, START);
    expect(figures.reachable).toBe(reachable);
    expect(figures.reachability).toMatch(text);
  });
});
