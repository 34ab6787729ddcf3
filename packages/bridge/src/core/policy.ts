/**
 * The bridge's rules as pure functions of a row, a reader, the time and the options: what a page
 * view may show, when a login is due, how long a failed call waits, which refusals end a logout.
 * No database and no clock: callers pass `now` in, so every rule is tested on its own.
 */
import { PlatformError, isAppError } from '../errors';
import type { PlatformSession } from '../platform/accounts-client';
import type { CircuitState } from '../platform/metrics';
import type { BridgeSessionRow } from '../store/session-columns';
import type { BridgeOptions, HostUser } from './types';

export const HOUR = 60 * 60 * 1000;
/** Longer than any request that was in flight at the logout can still take. */
export const TOMBSTONE_KEEP_MS = HOUR;
/** Queued logouts sent to the platform at once while the circuit is closed. */
export const DELIVERY_CONCURRENCY = 10;
/**
 * Queued logouts are counted up to this many (status, the metric, a delivery pass's `remaining`):
 * a figure of this size means "at least", and counting never reads the whole outbox.
 */
export const PENDING_COUNT_CAP = 10_000;
/** The largest prune batch: whatever the option says, no batch's statement or transaction grows long. */
export const MAX_PRUNE_BATCH = 5_000;

export type ResolvedOptions = Required<BridgeOptions>;

/** Why a platform login is made: the host's login or a profile change, or what a page view found. */
export type LoginReason = 'login' | 'profile' | 'missing' | 'other-user' | 'retry' | 'idle';

export function resolveOptions(options: BridgeOptions = {}): ResolvedOptions {
  const platformIdleMs = options.platformIdleMs ?? 12 * HOUR;
  const resolved = {
    idleReloginMs: options.idleReloginMs ?? 11.5 * HOUR,
    platformIdleMs,
    retryBaseMs: options.retryBaseMs ?? 5_000,
    retryMaxMs: options.retryMaxMs ?? 5 * 60_000,
    activityWriteIntervalMs: options.activityWriteIntervalMs ?? 60_000,
    pendingLogoutTtlMs: options.pendingLogoutTtlMs ?? platformIdleMs,
    deliveryBatchSize: options.deliveryBatchSize ?? 100,
    deliveryLeaseMs: options.deliveryLeaseMs ?? 60_000,
    reconcileGraceMs: options.reconcileGraceMs ?? 5 * 60_000,
    reconcileBatchSize: options.reconcileBatchSize ?? 50_000,
    forgetAfterMs: options.forgetAfterMs ?? 7 * 24 * HOUR + platformIdleMs,
    pruneBatchSize: options.pruneBatchSize ?? 500,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`bridge option ${name} must be a positive number`);
  }
  if (!Number.isInteger(resolved.pruneBatchSize) || resolved.pruneBatchSize > MAX_PRUNE_BATCH) {
    throw new TypeError(`bridge option pruneBatchSize must be a whole number up to ${MAX_PRUNE_BATCH}`);
  }
  if (resolved.idleReloginMs >= platformIdleMs) throw new TypeError('idleReloginMs must be shorter than platformIdleMs');
  return resolved;
}

export function checkUser(user: HostUser): void {
  if (typeof user?.id !== 'string' || user.id === '') throw new TypeError('a host user needs an id');
  if (typeof user.name !== 'string' || user.name.trim() === '') throw new TypeError('a host user needs a name');
}

/** A row with no platform session yet: what a login starts from, and what a tombstone holds. */
export function emptyRow(hostSessionId: string, hostUserId: string, now: number, endedAt: number | null = null): BridgeSessionRow {
  return {
    host_sid: hostSessionId,
    host_user_id: hostUserId,
    platform_user_id: null,
    platform_session: null,
    last_activity_at: now,
    retry_at: null,
    failed_attempts: 0,
    ended_at: endedAt,
  };
}

// Only for showing a session: the embed keeps a session alive on the platform without the
// host seeing it, so a logout is sent whatever the host's own activity clock says.
export function stillAlive(lastActivityAt: number, now: number, options: Pick<ResolvedOptions, 'platformIdleMs'>): boolean {
  return now - lastActivityAt < options.platformIdleMs;
}

/** The row's platform session, if it is this user's and the platform has not idled it out. */
export function usableSession(row: BridgeSessionRow | undefined, user: HostUser, now: number, options: Pick<ResolvedOptions, 'platformIdleMs'>): PlatformSession | null {
  if (!row || row.ended_at !== null || row.host_user_id !== user.id || !row.platform_session || !row.platform_user_id) return null;
  return stillAlive(row.last_activity_at, now, options) ? { userId: row.platform_user_id, session: row.platform_session } : null;
}

/**
 * What a page view makes of this user's row: the platform session it may show, and whether a
 * (re-)login is due first (none yet, idle for close to the platform's limit, or a retry whose time has come).
 */
export function pageViewOf(
  row: BridgeSessionRow,
  user: HostUser,
  now: number,
  options: Pick<ResolvedOptions, 'platformIdleMs' | 'idleReloginMs'>,
): { current: PlatformSession | null; due: boolean } {
  const current = usableSession(row, user, now, options);
  const due = row.retry_at === null ? !current || now - row.last_activity_at >= options.idleReloginMs : now >= row.retry_at;
  return { current, due };
}

/** Why a page view logs in: it found no row, another user's row, a retry that is due, or an idle session. */
export function pageViewLoginReason(row: BridgeSessionRow | undefined, user: HostUser): LoginReason {
  return !row ? 'missing' : row.host_user_id !== user.id ? 'other-user' : row.retry_at !== null ? 'retry' : 'idle';
}

/** A page's view of the row writes last_activity_at at most once per activityWriteIntervalMs. */
export function activityWriteDue(lastActivityAt: number, now: number, options: Pick<ResolvedOptions, 'activityWriteIntervalMs'>): boolean {
  return now - lastActivityAt >= options.activityWriteIntervalMs;
}

/**
 * What a finished platform login leaves to log out. A login that won its row replaced the row's
 * old platform session (if it had another one); a login that lost (a logout or another login got
 * there first) leaves the session it has just opened.
 */
export function sessionLeftOver(won: boolean, previousSession: string | null, freshSession: string): string | null {
  if (!won) return freshSession;
  return previousSession !== null && previousSession !== freshSession ? previousSession : null;
}

type RetryOptions = Pick<ResolvedOptions, 'retryBaseMs' | 'retryMaxMs'>;

function doubling(failures: number, options: RetryOptions): number {
  return Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(failures - 1, 30));
}

/** How long after its n-th failed platform login a host session waits before a page view tries again. */
export function loginRetryDelay(failedAttempts: number, options: RetryOptions): number {
  return doubling(failedAttempts, options);
}

/** How long after its n-th failed delivery a queued platform logout waits before it is sent again. */
export function logoutRetryDelay(attempts: number, options: RetryOptions): number {
  return doubling(attempts, options);
}

/** 4xx answers that mean "later", not "never": the logout stays queued. */
export const RETRY_LATER: ReadonlySet<number> = new Set([401, 408, 425, 429]);

/** Any other 4xx to a logout: the platform has no such session, so there is nothing to retry. */
export function nothingToLogOut(error: unknown): boolean {
  const status = error instanceof PlatformError ? error.upstreamStatus : undefined;
  return error instanceof PlatformError && error.code === 'PLATFORM_REJECTED' && status !== undefined && status >= 400 && status < 500 && !RETRY_LATER.has(status);
}

/** The log fields of a failed platform call. */
export function failureFields(error: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  // The code and status only: never the error itself, whose cause or body could carry a token.
  const fields: Record<string, unknown> = { code: isAppError(error) ? error.code : 'INTERNAL', ...extra };
  if (error instanceof PlatformError) {
    if (error.upstreamStatus !== undefined) fields.upstreamStatus = error.upstreamStatus;
    if (error.oauthError !== undefined) fields.oauthError = error.oauthError;
  }
  return fields;
}

/** Queued logouts one delivery round claims under this circuit state (never asked while it is open). */
export function claimSize(circuit: CircuitState, deliveryBatchSize: number): number {
  return circuit === 'closed' ? deliveryBatchSize : 1;
}

/** Claimed logouts sent at once: one at a time unless the circuit is closed. */
export function sendSize(circuit: CircuitState): number {
  return circuit === 'closed' ? DELIVERY_CONCURRENCY : 1;
}
