import type { Clock, OutcomeKind, PlatformOutcome } from 'vf-login-bridge';

const MINUTE_MS = 60_000;
/** One bucket a minute, for the last hour. */
export const ACTIVITY_MINUTES = 60;

/** Which of the bridge's counters an outcome came from. */
export type ActivitySource = Exclude<OutcomeKind, 'call'>;

/** Outcomes that are not failures: `ok`, and a logout the platform had nothing left to end for. */
const NOT_FAILURES: ReadonlySet<string> = new Set(['ok', 'dropped']);

interface Bucket {
  /** minutes since the epoch; a bucket of another minute is stale and counts as empty */
  minute: number;
  delivered: number;
  failed: number;
  /** `source code` -> how many in this minute */
  errors: Map<string, number>;
}

export interface MinuteFigures {
  /** the minute's start, ms since the epoch */
  at: number;
  delivered: number;
  failed: number;
}

export interface ErrorFigure {
  source: ActivitySource;
  code: string;
  count: number;
  lastAt: number;
}

/**
 * What this instance saw of the platform in the last hour, in memory: logout deliveries and
 * failures a minute at a time, and the failures' codes. Told by the bridge's counters themselves
 * (`onOutcome` of the platform, packages/bridge/src/platform/metrics.ts), so it counts exactly what
 * /metrics counts; nothing is asked of the platform or the database for it. A restart starts it empty.
 */
export class RecentActivity {
  private readonly buckets: Bucket[] = Array.from({ length: ACTIVITY_MINUTES }, () => ({ minute: -1, delivered: 0, failed: 0, errors: new Map() }));
  private readonly lastErrorAt = new Map<string, number>();
  private last: { at: number; outcome: string } | undefined;

  constructor(private readonly clock: Clock) {}

  /**
   * The platform's `onOutcome`: one counted outcome. A call to the accounts API is only kept as
   * the last call (reachability): its failure is also the failure of the login, logout or token
   * request that made it, listed once under that. A token call is not kept: with another dialect
   * the token comes from another server (docs/token-dialects.md).
   */
  readonly hear = (event: PlatformOutcome): void => {
    if (event.kind === 'call') {
      if (event.endpoint !== 'token') this.last = { at: this.clock.now(), outcome: event.outcome };
      return;
    }
    this.record(event.kind, event.outcome, event.count);
  };

  private record(source: ActivitySource, outcome: string, count: number): void {
    const now = this.clock.now();
    const bucket = this.bucketFor(Math.floor(now / MINUTE_MS));
    const failure = !NOT_FAILURES.has(outcome);
    if (source === 'logout') {
      if (outcome === 'ok') bucket.delivered += count;
      else if (failure) bucket.failed += count;
    }
    if (!failure) return;
    const key = `${source} ${outcome}`;
    bucket.errors.set(key, (bucket.errors.get(key) ?? 0) + count);
    this.lastErrorAt.set(key, now);
  }

  /** The last hour's logout deliveries, oldest minute first, the current minute last. */
  deliveries(): MinuteFigures[] {
    const current = Math.floor(this.clock.now() / MINUTE_MS);
    const figures: MinuteFigures[] = [];
    for (let minute = current - ACTIVITY_MINUTES + 1; minute <= current; minute += 1) {
      const bucket = this.buckets[minute % ACTIVITY_MINUTES]!;
      const live = bucket.minute === minute;
      figures.push({ at: minute * MINUTE_MS, delivered: live ? bucket.delivered : 0, failed: live ? bucket.failed : 0 });
    }
    return figures;
  }

  /** The last hour's failures by where and code, the most recent first. */
  errors(): ErrorFigure[] {
    const current = Math.floor(this.clock.now() / MINUTE_MS);
    const counts = new Map<string, number>();
    for (const bucket of this.buckets) {
      if (bucket.minute <= current - ACTIVITY_MINUTES || bucket.minute > current) continue;
      for (const [key, count] of bucket.errors) counts.set(key, (counts.get(key) ?? 0) + count);
    }
    return [...counts]
      .map(([key, count]) => {
        const [source, code] = key.split(' ') as [ActivitySource, string];
        return { source, code, count, lastAt: this.lastErrorAt.get(key) ?? 0 };
      })
      .sort((a, b) => b.lastAt - a.lastAt);
  }

  /** The last call this instance made to the platform's accounts API (for reachability), or none since it started. */
  lastCall(): { at: number; outcome: string } | undefined {
    return this.last;
  }

  private bucketFor(minute: number): Bucket {
    const bucket = this.buckets[minute % ACTIVITY_MINUTES]!;
    if (bucket.minute !== minute) {
      bucket.minute = minute;
      bucket.delivered = 0;
      bucket.failed = 0;
      bucket.errors.clear();
    }
    return bucket;
  }
}
