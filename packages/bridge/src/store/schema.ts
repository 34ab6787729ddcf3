/**
 * The bridge's own tables (docs/architecture.md#tables). Queries name them without the prefix;
 * `prefixTables` (src/store/table-prefix.ts) writes the configured prefix (default `vf_`) into the
 * SQL, so no statement of the library can name a table of the publisher's.
 * Times are milliseconds since the epoch (bigint in PostgreSQL, read back as numbers).
 */
import type { Kysely, Transaction } from 'kysely';

/** One row per logged-in host session: the bridge's index of platform sessions by host user. */
export interface BridgeSessionsTable {
  host_sid: string;
  host_user_id: string;
  platform_user_id: string | null;
  platform_session: string | null;
  /** last page view that used this platform session: drives the 12-hour idle re-login */
  last_activity_at: number;
  /** when the platform login failed: the earliest time a page view may try again */
  retry_at: number | null;
  failed_attempts: number;
  /**
   * Set when the host session logged out: the row stays a while as a tombstone, so a page view
   * that was already in flight does not log the reader back in to the platform.
   */
  ended_at: number | null;
}

/** Outbox of platform logouts that have not reached the platform yet. */
export interface PendingLogoutsTable {
  platform_session: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  /** the claim of the instance sending it now: only that claim may delete or reschedule the row */
  claim_token: string | null;
  /** another instance may take the row over after this (its claimer crashed or hung) */
  claimed_until: number | null;
}

/** Background jobs that exactly one instance runs per period (pruning, reconciliation). */
export interface JobLeasesTable {
  name: string;
  holder: string;
  lease_until: number;
}

export interface HookReplaysTable {
  signature: string;
  expires_at: number;
}

/** The platform token shared by every instance: sealed (AES-256-GCM), with a refresh lease. */
export interface PlatformTokensTable {
  name: string;
  sealed: string | null;
  version: number;
  lease_holder: string | null;
  lease_until: number | null;
  updated_at: number;
}

/** The bridge's tables, by their unprefixed names. */
export interface BridgeSchema {
  bridge_sessions: BridgeSessionsTable;
  pending_logouts: PendingLogoutsTable;
  hook_replays: HookReplaysTable;
  job_leases: JobLeasesTable;
  platform_tokens: PlatformTokensTable;
}

export const BRIDGE_TABLES = ['bridge_sessions', 'pending_logouts', 'hook_replays', 'job_leases', 'platform_tokens'] as const satisfies ReadonlyArray<keyof BridgeSchema>;

/** A statement runs on the database or inside the caller's transaction. */
export type Db = Kysely<BridgeSchema> | Transaction<BridgeSchema>;
