import { Router } from 'express';
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Registry } from 'prom-client';
import { PENDING_COUNT_CAP, type CircuitState, type Clock, type TokenSource } from 'vf-login-bridge';
import type { DatabaseSchema } from '../store/schema';
import type { Render } from './render';
import { adminOnly } from './admin-only';
import type { ErrorFigure, MinuteFigures, RecentActivity } from './recent-activity';

/** Shared figures are counted up to the bridge's own cap for its queue: a larger count would scan a large table. */
const STATUS_COUNT_CAP = PENDING_COUNT_CAP;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** How queued logouts are grouped by age; the last group has no upper end. */
const AGE_GROUPS: ReadonlyArray<readonly [label: string, fromMs: number, toMs: number]> = [
  ['under 1 minute', 0, MINUTE_MS],
  ['1 to 10 minutes', MINUTE_MS, 10 * MINUTE_MS],
  ['10 to 60 minutes', 10 * MINUTE_MS, HOUR_MS],
  // The platform forgets an idle session after 12 hours (docs/platform-protocol.md#idle-expiry).
  ['1 to 12 hours', HOUR_MS, 12 * HOUR_MS],
  ['over 12 hours', 12 * HOUR_MS, Infinity],
];

/** The circuit gauge's values (packages/bridge/src/platform/metrics.ts). */
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface AdminStatusDeps {
  registry: Registry;
  activity: RecentActivity;
  /** the circuit breaker's state (the platform's `breakerState`) */
  circuit: () => CircuitState;
  tokens: Pick<TokenSource, 'status' | 'health'>;
  db: Kysely<DatabaseSchema>;
  clock: Clock;
  render: Render;
}

/** A figure of the page; `metric` and `labels` name what /metrics shows for it (the sum of the series that carry those labels). */
export interface Figure {
  label: string;
  value: number;
  metric?: string;
  labels?: string;
}

/**
 * The operator's status page: what this instance knows of the platform, what every instance
 * shares through the database, and this instance's counters and last hour. Reads only what the
 * site keeps: the registry behind /metrics, the token store, the bridge's tables and the
 * in-memory last hour (src/web/recent-activity.ts); it never calls the platform.
 */
export function createAdminStatusRoutes(deps: AdminStatusDeps): Router {
  const router = Router();
  router.get('/admin/status', adminOnly, async (_req, res) => {
    const now = deps.clock.now();
    const [token, shared, counters] = await Promise.all([deps.tokens.status(), sharedFigures(deps.db, now), counterFigures(deps.registry)]);
    const deliveries = deps.activity.deliveries();
    deps.render(res, 'admin-status', {
      title: 'Status',
      generatedAt: iso(now),
      platform: platformFigures(deps.circuit(), deps.activity.lastCall(), now),
      token: tokenFigures(deps.tokens.health(), token, now),
      pending: { metric: 'vf_bridge_pending_logouts', ...shared.pending },
      shared,
      counters,
      lastHour: {
        delivered: deliveries.reduce((sum, m) => sum + m.delivered, 0),
        failed: deliveries.reduce((sum, m) => sum + m.failed, 0),
        chart: deliveryChart(deliveries),
      },
      errors: deps.activity.errors().map((e: ErrorFigure) => ({ ...e, lastAt: iso(e.lastAt), ago: ago(now - e.lastAt) })),
    });
  });
  return router;
}

function iso(ms: number): string {
  // To the second: an operator reads it, and the datetime attribute keeps it valid.
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** `3 min`, `2 h 5 min`, `4 d 1 h`: an age at a glance. */
export function ago(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / MINUTE_MS));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Call outcomes that mean no answer came back; any other failure was an answer, of a refusal. */
const UNANSWERED: ReadonlySet<string> = new Set(['platform_timeout', 'platform_unavailable', 'platform_circuit_open']);

export function platformFigures(circuit: CircuitState, lastCall: { at: number; outcome: string } | undefined, now: number) {
  const when = lastCall ? `${ago(now - lastCall.at)} ago` : '';
  const [reachable, reachability] =
    circuit === 'open'
      ? ['no', 'not answering: calls are paused until the circuit breaker lets a trial call through']
      : !lastCall
        ? ['unknown', 'unknown: this instance has not called the platform since it started']
        : lastCall.outcome === 'ok'
          ? ['yes', `answering: the last call succeeded ${when}`]
          : UNANSWERED.has(lastCall.outcome)
            ? ['no', `not answering: the last call ended in ${lastCall.outcome} ${when}; the circuit breaker is ${circuit}`]
            : ['yes', `answering, but it refused the last call (${lastCall.outcome}) ${when}`];
  return { circuit, circuitValue: CIRCUIT_VALUE[circuit], reachable, reachability };
}

type TokenStatus = Awaited<ReturnType<TokenSource['status']>>;

function tokenFigures(health: string, status: TokenStatus, now: number) {
  const problem =
    status.reconnectNeeded !== undefined
      ? `reconnect needed: ${status.reconnectNeeded}`
      : status.keptTokenUnreadable !== undefined
        ? `the kept token cannot be read (${status.keptTokenUnreadable}): it counts as none kept`
        : !status.connected
          ? 'not connected: an administrator connects the platform at /admin/platform'
          : undefined;
  return {
    health,
    grant: status.grant,
    connected: status.connected,
    connectedAs: status.connectedAs,
    expiresAt: status.expiresAt === undefined ? undefined : iso(status.expiresAt),
    expiresIn: status.expiresAt === undefined ? undefined : status.expiresAt > now ? `in ${ago(status.expiresAt - now)}` : `${ago(now - status.expiresAt)} ago`,
    expired: status.expiresAt !== undefined && status.expiresAt <= now,
    refreshedAt: status.refreshedAt === undefined ? undefined : iso(status.refreshedAt),
    // Only an operator's connect can be renewed by a refresh token (docs/token-dialects.md, "Scope").
    mustReconnect: status.grant === 'authorization_code' && status.renewable === false,
    problem,
  };
}

/** One COUNT over at most STATUS_COUNT_CAP rows: a figure at the cap means at least that many. */
async function cappedCount<T extends keyof DatabaseSchema>(db: Kysely<DatabaseSchema>, rows: SelectQueryBuilder<DatabaseSchema, T, { key: string }>): Promise<number> {
  const row = await db
    .selectFrom(rows.limit(STATUS_COUNT_CAP).as('capped'))
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Queued logouts created after `after` and at or before `atOrBefore`; either bound may be left open. */
function pendingSince(db: Kysely<DatabaseSchema>, atOrBefore: number | undefined, after: number | undefined) {
  let rows = db.selectFrom('pending_logouts').select('platform_session as key');
  if (atOrBefore !== undefined) rows = rows.where('created_at', '<=', atOrBefore);
  if (after !== undefined) rows = rows.where('created_at', '>', after);
  return rows;
}

function liveSessions(db: Kysely<DatabaseSchema>) {
  return db.selectFrom('bridge_sessions').select('host_sid as key').where('ended_at', 'is', null);
}

/** What every instance shares through the database: the logout queue by age, its oldest, the live bridge sessions. */
async function sharedFigures(db: Kysely<DatabaseSchema>, now: number) {
  // One statement at a time: an operator's refresh never holds more than one of the pool's
  // connections that readers' page views need.
  const groups: Array<{ label: string; count: number }> = [];
  for (const [label, fromMs, toMs] of AGE_GROUPS) {
    // The youngest group has no lower bound: a row stamped ahead of this clock (another instance's) counts in it.
    const rows = pendingSince(db, fromMs > 0 ? now - fromMs : undefined, Number.isFinite(toMs) ? now - toMs : undefined);
    groups.push({ label, count: await cappedCount(db, rows) });
  }
  const oldest = await db.selectFrom('pending_logouts').select((eb) => eb.fn.min('created_at').as('oldest')).executeTakeFirst();
  const sessions = await cappedCount(db, liveSessions(db));
  const oldestAt = oldest?.oldest === null || oldest?.oldest === undefined ? undefined : Number(oldest.oldest);
  // The groups split the queue between them, so their sum is the queue: the gauge's count, capped as it is.
  const pending = Math.min(STATUS_COUNT_CAP, groups.reduce((sum, g) => sum + g.count, 0));
  return {
    pending: { total: pending, capped: pending >= STATUS_COUNT_CAP },
    ages: groups.map((g) => ({ ...g, capped: g.count >= STATUS_COUNT_CAP })),
    oldest: oldestAt === undefined ? undefined : { at: iso(oldestAt), age: ago(now - oldestAt) },
    liveSessions: { count: sessions, capped: sessions >= STATUS_COUNT_CAP },
  };
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
}

async function valuesOf(registry: Registry, name: string): Promise<MetricValue[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values as MetricValue[];
}

/** Sums `values` by the given labels: one figure per combination seen, in a stable order. */
function sumsBy(metric: string, values: readonly MetricValue[], by: readonly string[], describe: (labels: Record<string, string>) => string): Figure[] {
  const sums = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const v of values) {
    const labels = Object.fromEntries(by.map((name) => [name, String(v.labels[name] ?? '')]));
    const key = by.map((name) => `${name}=${labels[name]}`).join(' ');
    const entry = sums.get(key) ?? { labels, value: 0 };
    entry.value += v.value;
    sums.set(key, entry);
  }
  return [...sums]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, { labels, value }]) => ({ label: describe(labels), value, metric, labels: key }));
}

/** This instance's counters since it started, read from the registry /metrics reads. */
async function counterFigures(registry: Registry) {
  const [requests, logins, logouts, calls, tokenFetches] = await Promise.all(
    ['http_requests_total', 'vf_bridge_logins_total', 'vf_bridge_logouts_total', 'vf_platform_calls_total', 'vf_platform_token_fetches_total'].map((name) => valuesOf(registry, name)),
  );
  return [
    { id: 'http-requests', caption: 'HTTP requests by status class', rows: sumsBy('http_requests_total', requests!, ['status'], (l) => l.status!) },
    { id: 'platform-logins', caption: 'Platform logins by outcome', rows: sumsBy('vf_bridge_logins_total', logins!, ['outcome'], (l) => l.outcome!) },
    { id: 'platform-logouts', caption: 'Platform logout deliveries by outcome', rows: sumsBy('vf_bridge_logouts_total', logouts!, ['outcome'], (l) => l.outcome!) },
    { id: 'platform-calls', caption: 'Platform calls by endpoint and outcome', rows: sumsBy('vf_platform_calls_total', calls!, ['endpoint', 'outcome'], (l) => `${l.endpoint}: ${l.outcome}`) },
    { id: 'token-fetches', caption: 'Token requests by outcome', rows: sumsBy('vf_platform_token_fetches_total', tokenFetches!, ['outcome'], (l) => l.outcome!) },
  ];
}

/** The chart's drawing area, in SVG user units; the picture scales to its box. */
const CHART = { width: 600, height: 120, top: 14, bottom: 18, bar: 10 } as const;

export interface ChartBar {
  x: number;
  /** delivered, at the bottom */
  okY: number;
  okHeight: number;
  /** failed, on top of the delivered */
  failY: number;
  failHeight: number;
  title: string;
}

/** Bars of the last hour, one a minute, stacked delivered-then-failed, scaled to the busiest minute. */
export function deliveryChart(minutes: readonly MinuteFigures[]) {
  const peak = Math.max(0, ...minutes.map((m) => m.delivered + m.failed));
  const plot = CHART.height - CHART.top - CHART.bottom;
  const base = CHART.height - CHART.bottom;
  // An empty hour has no bars to scale: its peak of 0 divides nothing.
  const scale = (n: number) => Math.round((n / Math.max(1, peak)) * plot * 10) / 10;
  const bars: ChartBar[] = [];
  minutes.forEach((m, i) => {
    if (m.delivered + m.failed === 0) return;
    const okHeight = scale(m.delivered);
    const failHeight = scale(m.failed);
    bars.push({
      x: i * CHART.bar,
      okY: base - okHeight,
      okHeight,
      failY: base - okHeight - failHeight,
      failHeight,
      title: `${iso(m.at).slice(11, 16)} UTC: ${m.delivered} delivered, ${m.failed} failed`,
    });
  });
  return { ...CHART, base, peak, barWidth: CHART.bar - 2, bars };
}
