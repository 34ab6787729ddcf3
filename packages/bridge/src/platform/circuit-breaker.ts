import { systemClock, type Clock } from '../clock';
import { PlatformError } from '../errors';
import type { CircuitState } from './metrics';

export interface CircuitBreakerOptions {
  /** How long the circuit stays open before one trial call is let through. Default 10 s. */
  resetTimeoutMs?: number;
  /** Calls in the rolling window before the failure rate is judged at all. Default 5. */
  volumeThreshold?: number;
  /** Failure rate (percent) above which the circuit opens. Default 50. */
  errorThresholdPercentage?: number;
  /** Length of the rolling window of call statistics. Default 10 s. */
  rollingWindowMs?: number;
}

/** Anything that can run a platform call: the breaker, or a pass-through when there is none. */
export interface PlatformGuard {
  run<T>(call: () => Promise<T>): Promise<T>;
}

export interface PlatformCircuitBreaker extends PlatformGuard {
  state(): CircuitState;
  onStateChange(listener: (state: CircuitState) => void): void;
  /** Later calls are refused. */
  shutdown(): void;
}

const BUCKETS = 10;

/** Only an unreachable platform opens the circuit: a 4xx answer proves it is up. */
function isOutage(error: unknown): boolean {
  return error instanceof PlatformError && (error.code === 'PLATFORM_TIMEOUT' || error.code === 'PLATFORM_UNAVAILABLE');
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`circuit breaker: ${name} must be a positive number`);
  return value;
}

interface Bucket {
  /** which slice of time this bucket counts: floor(now / bucketMs) */
  slot: number;
  calls: number;
  failures: number;
}

/**
 * A circuit breaker in front of every HTTP exchange with the platform, so a dead platform is not
 * hammered by every page view. Every time it measures (the rolling window, the cool-down) is read
 * from the injected clock and judged when a call or a probe asks, never by a timer of its own:
 * the same sequence of calls gives the same states on an idle machine and a busy one, and a
 * test moves the clock instead of sleeping. Timeouts are the HTTP client's job, so there is one
 * clock for a slow call, not two racing ones.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}, clock: Clock = systemClock): PlatformCircuitBreaker {
  const resetTimeoutMs = positive('resetTimeoutMs', options.resetTimeoutMs ?? 10_000);
  const rollingWindowMs = positive('rollingWindowMs', options.rollingWindowMs ?? 10_000);
  const volumeThreshold = positive('volumeThreshold', options.volumeThreshold ?? 5);
  const errorThresholdPercentage = positive('errorThresholdPercentage', options.errorThresholdPercentage ?? 50);
  const bucketMs = Math.max(1, Math.floor(rollingWindowMs / BUCKETS));

  let current: CircuitState = 'closed';
  let openedAt = 0;
  let trialInFlight = false;
  let stopped = false;
  let buckets: Bucket[] = [];
  const listeners: Array<(state: CircuitState) => void> = [];

  function moveTo(next: CircuitState): void {
    if (next === current) return;
    current = next;
    if (next === 'open') openedAt = clock.now();
    // A circuit that closes starts from an empty window: the failures that opened it would
    // otherwise re-open it at the first hiccup after the platform came back.
    if (next === 'closed') buckets = [];
    for (const listener of listeners) listener(next);
  }

  function record(failed: boolean): void {
    const slot = Math.floor(clock.now() / bucketMs);
    const oldest = slot - BUCKETS + 1;
    buckets = buckets.filter((b) => b.slot >= oldest);
    let bucket = buckets.find((b) => b.slot === slot);
    if (!bucket) buckets.push((bucket = { slot, calls: 0, failures: 0 }));
    bucket.calls += 1;
    if (failed) bucket.failures += 1;
    const calls = buckets.reduce((sum, b) => sum + b.calls, 0);
    const failures = buckets.reduce((sum, b) => sum + b.failures, 0);
    if (failed && calls >= volumeThreshold && (failures / calls) * 100 > errorThresholdPercentage) moveTo('open');
  }

  function state(): CircuitState {
    if (current === 'open' && clock.now() - openedAt >= resetTimeoutMs) moveTo('half-open');
    return current;
  }

  return {
    async run<T>(call: () => Promise<T>): Promise<T> {
      if (stopped) throw new PlatformError('PLATFORM_UNAVAILABLE', 'The platform client has been shut down');
      const now = state();
      const trial = now === 'half-open';
      if (now === 'open' || (trial && trialInFlight)) {
        throw new PlatformError('PLATFORM_CIRCUIT_OPEN', 'The platform is failing; calls are paused for a while');
      }
      if (trial) trialInFlight = true;
      try {
        const result = await call();
        if (trial) moveTo('closed');
        else record(false);
        return result;
      } catch (error) {
        const outage = isOutage(error);
        if (trial) moveTo(outage ? 'open' : 'closed');
        else if (current === 'closed') record(outage);
        throw error;
      } finally {
        if (trial) trialInFlight = false;
      }
    },
    state,
    onStateChange(listener) {
      listeners.push(listener);
    },
    shutdown() {
      stopped = true;
    },
  };
}

/** No breaker: every call goes straight through (a standalone client, a benchmark). */
export const noGuard: PlatformGuard = { run: (call) => call() };
