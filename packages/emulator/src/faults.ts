import type { EmulatorFaults, FaultEndpoint, FaultKind, PlatformEndpoint } from './types';

const PLATFORM_ENDPOINTS: readonly PlatformEndpoint[] = ['token', 'login', 'logout'];

export interface FaultPlan extends EmulatorFaults {
  latencyFor(endpoint: PlatformEndpoint): number;
  /** The fault this request gets, consuming one `failNext` slot when that is what applies. */
  takeFault(endpoint: PlatformEndpoint): FaultKind | null;
}

function targets(endpoint: FaultEndpoint): readonly PlatformEndpoint[] {
  if (endpoint === 'any') return PLATFORM_ENDPOINTS;
  if (!PLATFORM_ENDPOINTS.includes(endpoint)) throw new TypeError(`unknown fault endpoint: ${String(endpoint)}`);
  return [endpoint];
}

function checkKind(kind: FaultKind): FaultKind {
  if (kind === 'drop') return kind;
  const status = (kind as { status?: unknown } | null)?.status;
  // Only error answers: a "fault" with a 2xx would be a second, untested way to succeed.
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError('a fault is "drop" or { status } with a status from 400 to 599');
  }
  return { status };
}

/**
 * The knobs of the fault tests. Order of precedence for one request: pending `failNext` slots
 * first (oldest first), then `failAll`. Latency is added in every case, before the answer.
 */
export function createFaultPlan(onExpireAllTokens: () => void): FaultPlan {
  const latency = new Map<PlatformEndpoint, number>();
  const failingAll = new Map<PlatformEndpoint, FaultKind>();
  let pending: { endpoint: FaultEndpoint; remaining: number; kind: FaultKind }[] = [];

  return {
    setLatency(ms, endpoint = 'any') {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('latency is a non-negative number of ms');
      for (const target of targets(endpoint)) latency.set(target, ms);
    },
    failNext(count, kind, endpoint = 'any') {
      if (!Number.isInteger(count) || count < 0) throw new RangeError('failNext() takes a non-negative integer count');
      targets(endpoint);
      if (count > 0) pending.push({ endpoint, remaining: count, kind: checkKind(kind) });
    },
    failAll(kind, endpoint = 'any') {
      const checked = kind === null ? null : checkKind(kind);
      for (const target of targets(endpoint)) {
        if (checked === null) failingAll.delete(target);
        else failingAll.set(target, checked);
      }
    },
    expireAllTokens() {
      onExpireAllTokens();
    },
    reset() {
      latency.clear();
      failingAll.clear();
      pending = [];
    },
    latencyFor(endpoint) {
      return latency.get(endpoint) ?? 0;
    },
    takeFault(endpoint) {
      const slot = pending.find((entry) => entry.endpoint === endpoint || entry.endpoint === 'any');
      if (slot) {
        slot.remaining -= 1;
        if (slot.remaining === 0) pending = pending.filter((entry) => entry !== slot);
        return slot.kind;
      }
      return failingAll.get(endpoint) ?? null;
    },
  };
}
