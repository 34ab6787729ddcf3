import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { isAppError } from '../errors';

export type CircuitState = 'closed' | 'open' | 'half-open';
export type PlatformEndpoint = 'token' | 'login' | 'logout';

const CIRCUIT_GAUGE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface PlatformMetrics {
  readonly calls: Counter<'endpoint' | 'outcome'>;
  readonly callDuration: Histogram<'endpoint'>;
  readonly tokenFetches: Counter<'outcome'>;
  readonly logins: Counter<'outcome'>;
  readonly logouts: Counter<'outcome'>;
  /** The circuit gauge reads this on every scrape. */
  watchCircuit(state: () => CircuitState): void;
  /** The pending-logouts gauge reads this on every scrape (one COUNT on the outbox). */
  watchPendingLogouts(count: () => Promise<number>): void;
}

/**
 * The platform and bridge metrics, registered on `registry` only: never on prom-client's global
 * default registry, so every app (and every test) has its own set.
 */
export function createPlatformMetrics(registry: Registry): PlatformMetrics {
  let circuitSource: (() => CircuitState) | undefined;
  let pendingSource: (() => Promise<number>) | undefined;
  const registers = [registry];

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
    help: 'Platform logouts queued because the platform could not be reached yet',
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
