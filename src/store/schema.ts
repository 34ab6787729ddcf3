import type { Generated, Kysely, Transaction } from 'kysely';
import type { BridgeSchema } from 'vf-login-bridge';

/** Times are milliseconds since the epoch (bigint in PostgreSQL, read back as numbers). */
export interface UsersTable {
  id: Generated<number>;
  email: string;
  name: string;
  /** empty for a reader who only logs in at the OpenID Provider: no password matches it */
  password_hash: string;
  created_at: number;
  updated_at: number;
  /** null until the reader opens the link mailed to `email` (docs/accounts.md#verified-addresses) */
  email_verified_at: number | null;
  /** set when an email change is confirmed: ADMIN_EMAILS never grants a role to a changed address */
  email_changed_at: number | null;
  role: Generated<UserRole>;
  /** bumped by every password change or reset: sessions and device cookies made under an older one are refused */
  credentials_version: Generated<number>;
}

export type UserRole = 'reader' | 'admin';

/** One-time links: only a hash of the token is kept (docs/accounts.md#one-time-links). */
export interface AccountTokensTable {
  token_hash: string;
  user_id: number;
  purpose: AccountTokenPurpose;
  /** the address the link was sent to: a verification confirms exactly it, a reset needs it still to be the account's */
  email: string;
  created_at: number;
  expires_at: number;
}

export type AccountTokenPurpose = 'verify_email' | 'reset_password';

/** Mail waiting to be sent, claimed by one instance at a time (src/mail/outbox.ts). */
export interface MailOutboxTable {
  id: Generated<number>;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  claim_token: string | null;
  claimed_until: number | null;
}

/** Each logged-in session of a reader, by a public id that is never the session id (src/auth/session-index.ts). */
export interface UserSessionsTable {
  public_id: string;
  sid: string;
  user_id: number;
  started_at: number;
  user_agent: string;
  /** the client's address, truncated (IPv4 /24, IPv6 /48) */
  network: string;
  /** the OpenID Provider's session (`sid` of its ID token) this login came with: back-channel logout names it */
  idp_sid: string | null;
}

/** A reader who logs in at the publisher's OpenID Provider, by issuer and subject (docs/oidc-login.md). */
export interface UserIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: number;
  created_at: number;
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
  account_tokens: AccountTokensTable;
  mail_outbox: MailOutboxTable;
  user_sessions: UserSessionsTable;
  user_identities: UserIdentitiesTable;
}

/**
 * What the site's queries see: its own tables, and the bridge's under their unprefixed names
 * (the bridge's TablePrefixPlugin writes the prefix), for the page view's one joined read.
 */
export type DatabaseSchema = SiteSchema & BridgeSchema;

/** The site's database, or one transaction of it: account changes write the user, a token and a mail together. */
export type Db = Kysely<DatabaseSchema> | Transaction<DatabaseSchema>;
