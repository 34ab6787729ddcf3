import type { PageRun } from '../../src/bench/scale/phases';
import { scaleCharts, scaleGoals, scaleMarkdown, type DatabaseFigures, type SizeFigures } from '../../src/bench/scale/report';

const run = (reqPerSecond: number, p99: number): PageRun => ({
  requests: reqPerSecond * 4,
  seconds: 4,
  bad: 0,
  latency: { p50: 2, p90: 4, p99, p999: p99 * 2, max: p99 * 3 },
  tool: 'wrk',
  cpuMicrosPerRequest: 500,
  statementsPerView: 1,
});

const memory = (rssMb: number) => ({ rss: rssMb * 1024 * 1024, heapUsed: 50 * 1024 * 1024, heapTotal: 0, external: 0, arrayBuffers: 0 });
const pass = (longestStatementMs: number) => ({ ms: 900, rows: 1000, longestStatementMs, statements: [], p99Without: 10, p99During: 15, maxDuring: 30, longestLockWaitMs: 12 });
const drain = (queued: number, platformCalls = queued) => ({ queued, instances: 1, ms: 1000, perSecond: queued, platformCalls, left: 0 });

function size(label: string, readers: number, rates: number[], options: { longest?: number; rss?: number; calls?: number } = {}): SizeFigures {
  return {
    readers,
    label,
    fillMs: readers / 10,
    pageViews: rates.map((rate) => run(rate, 20)),
    loginMs: [20, 21, 22],
    statementsPerLogin: [30],
    memory: { afterViews: memory(options.rss ?? 150), afterDrain: memory(150), afterPasses: memory(140) },
    drainOne: drain(readers / 10, options.calls),
    drainThree: { ...drain(readers / 10), instances: 3 },
    prune: pass(options.longest ?? 20),
    reconcile: pass(options.longest ?? 20),
  };
}

const database = (large: SizeFigures): DatabaseFigures => ({
  dialect: 'sqlite',
  sizes: [size('10k', 10_000, [2000, 2200, 2100]), size('100k', 100_000, [1950, 2150, 2000]), large],
  plans: [{ phase: 'prune', sql: 'delete from "vf_bridge_sessions" where x | y', count: 3, maxMs: 4, plan: ['SEARCH vf_bridge_sessions USING INDEX i (x<?)'], scans: [], ok: true }],
});

describe('the scale report', () => {
  it('has one column per size and the largest over the smallest last, with the page view ratio measured round by round', () => {
    const markdown = scaleMarkdown([database(size('1M', 1_000_000, [1900, 2090, 1890]))], { quick: false });
    expect(markdown).toContain('| figure | 10k | 100k | 1M | 1M / 10k |');
    // Rounds 1900/2000, 2090/2200, 1890/2100: 0.95, 0.95, 0.90.
    expect(markdown).toMatch(/\| logged-in page view, req\/s \| 2100 \(2000-2200\) \| 2000 \(1950-2150\) \| 1900 \(1890-2090\) \| 0\.95 \(0\.90-0\.95\) \|/);
    expect(markdown).toContain('| fill, s | 1.0 | 10.0 | 100.0 | 100.00 |');
    expect(markdown).toContain('\\|'); // a | inside a statement cannot break the table
  });

  it('judges each goal on the largest size', () => {
    const met = scaleGoals(database(size('1M', 1_000_000, [1900, 2090, 1890])));
    expect(met.every((goal) => goal.met)).toBe(true);
    const missed = scaleGoals(database(size('1M', 1_000_000, [1500, 1600, 1500], { longest: 140, rss: 200, calls: 100_001 })));
    const names = missed.filter((goal) => !goal.met).map((goal) => goal.name);
    expect(names).toEqual([
      'page view req/s, 1M / 10k',
      'longest prune or reconcile statement at 1M, ms',
      'every queued logout sent exactly once (1 and 3 instances, every size)',
      'RSS across sizes, largest / smallest',
    ]);
  });

  it('draws latency and drain rate against size as SVG, one line per database and figure', () => {
    const charts = scaleCharts([database(size('1M', 1_000_000, [1900, 2090, 1890])), { ...database(size('1M', 1_000_000, [1800, 1800, 1800])), dialect: 'postgres' }]);
    expect(charts.latency).toMatch(/^<svg /);
    for (const name of ['SQLite p50', 'SQLite p99', 'PostgreSQL p50', 'PostgreSQL p99']) expect(charts.latency).toContain(`>${name}</text>`);
    for (const name of ['SQLite, 1 instance', 'PostgreSQL, 3 instances']) expect(charts.drain).toContain(`>${name}</text>`);
    expect(charts.drain.match(/<polyline /g)).toHaveLength(4);
  });
});
