import type * as PromClient from 'prom-client';
import { isAppError } from '../errors';

export type CircuitState = 'closed' | 'open' | 'half-open';
export type PlatformEndpoint = 'token' | 'login' | 'logout';

const CIRCUIT_GAUGE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * A prom-client `Registry` of the publisher's, described by what identifies one: prom-client is
 * an optional peer dependency, and no shipped `.d.ts` may need its types.
 */
export interface MetricsRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  metrics(): Promise<string>;
}

interface CounterOf<L extends string> {
  inc(labels: Partial<Record<L, string>>, value?: number): void;
}

interface HistogramOf<L extends string> {
  observe(labels: Partial<Record<L, string>>, value: number): void;
}

export interface PlatformMetrics {
  readonly calls: CounterOf<'endpoint' | 'outcome'>;
  readonly callDuration: HistogramOf<'endpoint'>;
  readonly tokenFetches: CounterOf<'outcome'>;
  readonly logins: CounterOf<'outcome'>;
  readonly logouts: CounterOf<'outcome'>;
  /** The circuit gauge reads this on every scrape. */
  watchCircuit(state: () => CircuitState): void;
  /** The pending-logouts gauge reads this on every scrape (one COUNT on the outbox). */
  watchPendingLogouts(count: () => Promise<number>): void;
}

const ignore = { inc: () => undefined, observe: () => undefined };

/** Which counter an outcome was counted by. */
export type OutcomeKind = 'call' | 'token' | 'login' | 'logout';

/** One counted outcome, as the counters of `createPlatformMetrics` count it. */
export interface PlatformOutcome {
  kind: OutcomeKind;
  /** `ok`, `dropped`, `expired`, or an error code in lower case */
  outcome: string;
  /** the platform endpoint of a `call` */
  endpoint?: string | undefined;
  /** how many at once (the outbox expires rows a group at a time) */
  count: number;
}

/** Told of every outcome the platform counters count, with or without a registry. */
export type OutcomeListener = (outcome: PlatformOutcome) => void;

/** Metrics that record nothing: a publisher who passes no registry has none. */
export const noMetrics: PlatformMetrics = {
  calls: ignore,
  callDuration: ignore,
  tokenFetches: ignore,
  logins: ignore,
  logouts: ignore,
  watchCircuit: () => undefined,
  watchPendingLogouts: () => undefined,
};

function loadPromClient(): typeof PromClient {
  try {
    return require('prom-client') as typeof PromClient;
  } catch {
    throw new TypeError('metricsRegistry needs the "prom-client" package: npm install prom-client');
  }
}

/**
 * The platform and bridge metrics, registered on `registry` only: never on prom-client's global
 * default registry, so every app (and every test) has its own set. No registry: no metrics.
 * `onOutcome` hears every outcome the four counters count, registry or not: what an operator's
 * page keeps of the last hour matches /metrics because both are told by the same call.
 */
export function createPlatformMetrics(registry: MetricsRegistry | undefined, onOutcome?: OutcomeListener): PlatformMetrics {
  if (!registry) return onOutcome ? { ...noMetrics, ...reporting(noMetrics, onOutcome) } : noMetrics;
  const counted = countersOn(registry);
  return onOutcome ? { ...counted, ...reporting(counted, onOutcome) } : counted;
}

/** The four outcome counters of `metrics`, each also telling `onOutcome`. */
function reporting(metrics: PlatformMetrics, onOutcome: OutcomeListener): Pick<PlatformMetrics, 'calls' | 'tokenFetches' | 'logins' | 'logouts'> {
  const tell = <L extends string>(counter: CounterOf<L | 'outcome'>, kind: OutcomeKind): CounterOf<L | 'outcome'> => ({
    inc(labels, value = 1) {
      counter.inc(labels, value);
      const endpoint = (labels as Partial<Record<string, string>>).endpoint;
      onOutcome({ kind, outcome: labels.outcome ?? 'ok', endpoint, count: value });
    },
  });
  return {
    calls: tell(metrics.calls, 'call'),
    tokenFetches: tell(metrics.tokenFetches, 'token'),
    logins: tell(metrics.logins, 'login'),
    logouts: tell(metrics.logouts, 'logout'),
  };
}

function countersOn(registry: MetricsRegistry): PlatformMetrics {
  const { Counter, Gauge, Histogram } = loadPromClient();
  let circuitSource: (() => CircuitState) | undefined;
  let pendingSource: (() => Promise<number>) | undefined;
  const registers = [registry as unknown as PromClient.Registry];

  const metrics: PlatformMetrics = {
    calls: new Counter({
      name: 'vf_platform_calls_total',
      help: 'Calls to the platform API by endpoint and outcome (ok, or the error code in lower case)',
      labelNames: ['endpoint', 'outcome'] as const,
      registers,
    }),
    callDuration: new Histogram({
      name: 'vf_platform_call_duration_seconds',
      help: 'Time of one HTTP exchange with the platform API',
      labelNames: ['endpoint'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    tokenFetches: new Counter({
      name: 'vf_platform_token_fetches_total',
      help: 'client_credentials token requests (RFC 6749 section 4.4) by outcome',
      labelNames: ['outcome'] as const,
      registers,
    }),
    logins: new Counter({
      name: 'vf_bridge_logins_total',
      help: 'Platform logins made by the bridge (login, re-login, profile change) by outcome',
      labelNames: ['outcome'] as const,
      registers,
    }),
    logouts: new Counter({
      name: 'vf_bridge_logouts_total',
      help: 'Platform logout deliveries by outcome (ok, kept for a retry, dropped)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    watchCircuit(state) {
      circuitSource = state;
    },
    watchPendingLogouts(count) {
      pendingSource = count;
    },
  };

  new Gauge({
    name: 'vf_platform_circuit_state',
    help: 'Circuit breaker in front of the platform: 0 closed, 1 half-open, 2 open',
    registers,
    collect() {
      if (circuitSource) this.set(CIRCUIT_GAUGE_VALUE[circuitSource()]);
    },
  });
  new Gauge({
    name: 'vf_bridge_pending_logouts',
    help: 'Platform logouts queued because the platform could not be reached yet, counted up to 10000 (10000: at least that many)',
    registers,
    async collect() {
      if (pendingSource) this.set(await pendingSource());
    },
  });

  return metrics;
}

/** A bounded label value: `ok`, or the stable error code in lower case. */
export function outcomeOf(error?: unknown): string {
  if (error === undefined) return 'ok';
  return isAppError(error) ? error.code.toLowerCase() : 'internal';
}
