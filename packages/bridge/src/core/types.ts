import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { AccountsClient, PlatformSession } from '../platform/accounts-client';
import type { CircuitState, PlatformMetrics } from '../platform/metrics';
import type { BridgeSchema } from '../store/schema';
import type { BridgeSessionRow } from '../store/session-columns';

/** The host site's reader, as the bridge needs it. */
export interface HostUser {
  id: string;
  name: string;
  email?: string | null;
}

export interface Bridge {
  /** After the host login (session id already regenerated). Never throws for platform failures: returns null and schedules a retry on a later page view. */
  onLogin(hostSessionId: string, user: HostUser): Promise<PlatformSession | null>;
  /**
   * Every page view of a logged-in reader. Steady state: one indexed read, no platform call. Never
   * throws for platform failures. `known` is this host session's row as the caller has just read
   * it (null: it has none), which saves the read.
   */
  platformSessionFor(hostSessionId: string, user: HostUser, known?: { row: BridgeSessionRow | null }): Promise<PlatformSession | null>;
  /** Name/email changed: a platform login with the new details; the old platform session is logged out. */
  onProfileChange(hostSessionId: string, user: HostUser): Promise<PlatformSession | null>;
  /** Host logout: the platform logout is queued durably, then delivered at once when the platform answers. */
  onLogout(hostSessionId: string): Promise<void>;
  /** Every host session of that user: platform logouts queued and delivered; the host session ids returned for the site to destroy. */
  logoutUser(hostUserId: string): Promise<{ hostSessionIds: string[] }>;
  /** Retries queued platform logouts that are due; `remaining` is counted up to 10,000 (that figure: at least as many). */
  deliverPendingLogouts(): Promise<{ delivered: number; remaining: number }>;
  /** Whether this host session has logged out (its row is a tombstone). */
  hasEnded(hostSessionId: string): Promise<boolean>;
  /** Forgets rows of ended host sessions and of host sessions long expired; returns how many. */
  pruneSessions(): Promise<number>;
  /**
   * Ends the rows whose host session the session store no longer has (a flushed or restarted
   * Redis, an expired database session) and queues their platform logouts. `hostSessionExists`
   * must answer false only when it is sure: an error stops the pass and nothing is ended. A
   * store that can answer for many ids in one query is given as `{ existing }`: one question a page.
   */
  reconcile(hostSessionExists: HostSessionCheck): Promise<{ checked: number; ended: number }>;
  /** `pendingLogouts` is counted up to 10,000: that figure means at least as many. */
  status(): Promise<{ circuit: CircuitState; pendingLogouts: number }>;
}

/**
 * Whether the session store still holds host sessions: one id at a time, or a page of ids at once
 * (the ids it holds; rejects when it cannot tell).
 */
export type HostSessionCheck =
  | ((hostSessionId: string) => Promise<boolean>)
  | { existing(hostSessionIds: readonly string[]): Promise<ReadonlySet<string>> };

export interface BridgeOptions {
  /** Re-login when the platform session has been idle this long. Default 11.5 h, inside the platform's 12 h. */
  idleReloginMs?: number | undefined;
  /** The platform ends a session after this long without activity (docs/platform-protocol.md#idle-expiry). Default 12 h. */
  platformIdleMs?: number | undefined;
  /** First wait after a failed platform call; doubles per failure. Default 5 s. */
  retryBaseMs?: number | undefined;
  /** Longest wait between retries. Default 5 min. */
  retryMaxMs?: number | undefined;
  /** last_activity_at is written at most this often per session. Default 60 s. */
  activityWriteIntervalMs?: number | undefined;
  /** A queued logout older than this is dropped undelivered. Default: platformIdleMs. */
  pendingLogoutTtlMs?: number | undefined;
  /** Queued logouts tried per deliverPendingLogouts() call. Default 100. */
  deliveryBatchSize?: number | undefined;
  /**
   * How long an instance's claim on a queued logout holds before another instance may take the
   * row over: longer than any platform call can take. Default 60 s.
   */
  deliveryLeaseMs?: number | undefined;
  /** reconcile() leaves rows active this recently alone: their session may not be saved yet. Default 5 min. */
  reconcileGraceMs?: number | undefined;
  /** Rows reconcile() checks per pass at most; the next pass goes on from there. Default 50,000: 2M rows in 40 passes, inside the platform's 12-hour idle limit at one pass in 10 minutes. */
  reconcileBatchSize?: number | undefined;
  /**
   * A row no page view has touched for this long belongs to a host session that has expired
   * without a logout, and is pruned. Default 7 days and 12 hours: the site passes its own idle
   * lifetime plus the platform's.
   */
  forgetAfterMs?: number | undefined;
  /**
   * Rows one statement of pruning or of the outbox's expiry deletes at most, each batch in a short
   * transaction of its own, so a large table never holds SQLite's write lock or PostgreSQL's row
   * locks for long (docs/architecture.md#the-outbox). Default 500, at most 5,000.
   */
  pruneBatchSize?: number | undefined;
}

export interface BridgeDeps {
  db: Kysely<BridgeSchema>;
  accounts: Pick<AccountsClient, 'login' | 'logout'>;
  clock: Clock;
  logger: Logger;
  metrics?: PlatformMetrics | undefined;
  /** The breaker's state, for status() and to hold deliveries while it is open. Default: always closed. */
  circuit?: (() => CircuitState) | undefined;
  options?: BridgeOptions | undefined;
}
