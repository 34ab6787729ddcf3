import type { Generated } from 'kysely';
import type { BridgeSchema } from 'vf-login-bridge';

/** Times are milliseconds since the epoch (bigint in PostgreSQL, read back as numbers). */
export interface UsersTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  sid: string;
  sess: string;
  expires_at: number;
  /** the logged-in user the session names: a page view joins it with its reader in one read */
  user_id: number | null;
}

/** The site's own tables. */
export interface SiteSchema {
  users: UsersTable;
  sessions: SessionsTable;
}

/**
 * What the site's queries see: its own tables, and the bridge's under their unprefixed names
 * (the bridge's TablePrefixPlugin writes the prefix), for the page view's one joined read.
 */
export type DatabaseSchema = SiteSchema & BridgeSchema;
