import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
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
  /** Stops opossum's timers; later calls are refused. */
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

/**
 * A circuit breaker (opossum) in front of every HTTP exchange with the platform, so a dead
 * platform is not hammered by every page view. Timeouts are axios's job (`timeout: false`
 * here), so there is one clock for a slow call, not two racing ones.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): PlatformCircuitBreaker {
  const resetTimeoutMs = positive('resetTimeoutMs', options.resetTimeoutMs ?? 10_000);
  const rollingWindowMs = positive('rollingWindowMs', options.rollingWindowMs ?? 10_000);
  const volumeThreshold = positive('volumeThreshold', options.volumeThreshold ?? 5);
  const errorThresholdPercentage = positive('errorThresholdPercentage', options.errorThresholdPercentage ?? 50);

  // The window is rotated from here rather than by opossum's own timer, so that it can be
  // emptied when the circuit closes: otherwise the failures that opened it would re-open it
  // at the first hiccup after the platform came back.
  const rotation = new EventEmitter();
  const rotate = () => rotation.emit('rotate');
  const ticker = setInterval(rotate, Math.max(1, Math.floor(rollingWindowMs / BUCKETS)));
  ticker.unref();

  const breaker = new CircuitBreaker<[() => Promise<unknown>], unknown>((call) => call(), {
    timeout: false,
    resetTimeout: resetTimeoutMs,
    volumeThreshold,
    errorThresholdPercentage,
    rollingCountTimeout: rollingWindowMs,
    rollingCountBuckets: BUCKETS,
    rotateBucketController: rotation,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    // Returning true means "not a failure": opossum then counts the call as a success.
    errorFilter: (error: unknown) => !isOutage(error),
  });
  breaker.on('close', () => {
    for (let i = 0; i < BUCKETS; i += 1) rotate();
  });

  const state = (): CircuitState => (breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed');

  return {
    async run<T>(call: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(call)) as T;
      } catch (error) {
        if (CircuitBreaker.isOurError(error as Error)) {
          const code = (error as { code?: string }).code;
          throw code === 'EOPENBREAKER'
            ? new PlatformError('PLATFORM_CIRCUIT_OPEN', 'The platform is failing; calls are paused for a while')
            : new PlatformError('PLATFORM_UNAVAILABLE', 'The platform client has been shut down');
        }
        throw error;
      }
    },
    state,
    onStateChange(listener) {
      breaker.on('open', () => listener('open'));
      breaker.on('halfOpen', () => listener('half-open'));
      breaker.on('close', () => listener('closed'));
    },
    shutdown() {
      clearInterval(ticker);
      breaker.shutdown();
    },
  };
}

/** No breaker: every call goes straight through (a standalone client, a benchmark). */
export const noGuard: PlatformGuard = { run: (call) => call() };
