import type { Kysely } from 'kysely';
import type { Clock } from 'vf-login-bridge';
import { RequestError } from '../errors';
import type { DatabaseSchema, Db, UserRole } from './schema';

export interface User {
  id: number;
  email: string;
  name: string;
  /** the address was confirmed by a link mailed to it (docs/accounts.md#verified-addresses) */
  emailVerified: boolean;
  role: UserRole;
  /** bumped by every password change or reset (docs/accounts.md#the-credentials-version) */
  credentialsVersion: number;
}

/** When an account was made, last changed, and had its address confirmed or changed (ms since the epoch). */
export interface AccountDates {
  createdAt: number;
  updatedAt: number;
  emailVerifiedAt: number | null;
  emailChangedAt: number | null;
}

/** The account a login names, before any password is checked: which device cookie counts, under which version. */
export interface LoginTarget {
  id: number;
  credentialsVersion: number;
}


export interface UserStore {
  create(input: { email: string; name: string; passwordHash: string }, db?: Db): Promise<User>;
  findById(id: number, db?: Db): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  /** For login only: the one place the hash leaves the database, read with the version it belongs to. */
  findCredentials(email: string): Promise<(User & { passwordHash: string }) | undefined>;
  /** The same, by id: a logged-in reader's current password, whatever the address is by now. */
  credentialsOf(id: number): Promise<(User & { passwordHash: string }) | undefined>;
  loginTargetOf(email: string): Promise<LoginTarget | undefined>;
  credentialsVersionOf(id: number): Promise<number | undefined>;
  updateName(id: number, name: string, db?: Db): Promise<User>;
  /** A confirmed email change: the new address, verified; EMAIL_TAKEN when another account has it by now. */
  changeEmail(id: number, email: string, db?: Db): Promise<User | undefined>;
  /** The account's address is confirmed, if it is still `email`. */
  markVerified(id: number, email: string, db?: Db): Promise<User | undefined>;
  /** A new password under a new credentials version; returns the version. */
  setPassword(id: number, passwordHash: string, db?: Db): Promise<number>;
  setRole(email: string, role: UserRole): Promise<User | undefined>;
  /** ADMIN_EMAILS at start-up: only accounts that registered with the address and verified it. */
  grantAdminToVerified(emails: readonly string[]): Promise<string[]>;
  listByRole(role: UserRole): Promise<User[]>;
  /** The account's times, for the reader's own export. */
  datesOf(id: number): Promise<AccountDates | undefined>;
  /** False when there was no such account (a deletion that came second). */
  delete(id: number, db?: Db): Promise<boolean>;
}

const COLUMNS = ['id', 'email', 'name', 'email_verified_at', 'role', 'credentials_version'] as const;

interface UserRow {
  id: number;
  email: string;
  name: string;
  email_verified_at: number | null;
  role: UserRole;
  credentials_version: number;
}

export function userOf(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    emailVerified: row.email_verified_at !== null,
    role: row.role,
    credentialsVersion: Number(row.credentials_version),
  };
}

/** Emails are compared trimmed and lower-cased, so one mailbox is one account. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function emailTaken(error: unknown): RequestError | unknown {
  const text = String((error as { code?: unknown; message?: unknown })?.code ?? '') + String((error as Error)?.message ?? '');
  // SQLite: SQLITE_CONSTRAINT_UNIQUE; PostgreSQL: 23505 unique_violation.
  return /SQLITE_CONSTRAINT_UNIQUE|23505|UNIQUE constraint/.test(text)
    ? new RequestError('EMAIL_TAKEN', 'An account with that email already exists. Log in instead.')
    : error;
}

export function createUserStore(store: Kysely<DatabaseSchema>, clock: Clock): UserStore {
  const withHash = store.selectFrom('users').select([...COLUMNS, 'password_hash']);
  const byEmail = (email: string) => store.selectFrom('users').select(COLUMNS).where('email', '=', normaliseEmail(email));
  return {
    async create({ email, name, passwordHash }, db = store) {
      const now = clock.now();
      try {
        const row = await db
          .insertInto('users')
          .values({ email: normaliseEmail(email), name, password_hash: passwordHash, created_at: now, updated_at: now, email_verified_at: null, email_changed_at: null })
          .returning(COLUMNS)
          .executeTakeFirstOrThrow();
        return userOf(row);
      } catch (error) {
        throw emailTaken(error);
      }
    },

    async findById(id, db = store) {
      const row = await db.selectFrom('users').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && userOf(row);
    },

    async findByEmail(email) {
      const row = await byEmail(email).executeTakeFirst();
      return row && userOf(row);
    },

    async findCredentials(email) {
      const row = await withHash.where('email', '=', normaliseEmail(email)).executeTakeFirst();
      return row && { ...userOf(row), passwordHash: row.password_hash };
    },

    async credentialsOf(id) {
      const row = await withHash.where('id', '=', id).executeTakeFirst();
      return row && { ...userOf(row), passwordHash: row.password_hash };
    },

    async loginTargetOf(email) {
      const row = await store.selectFrom('users').select(['id', 'credentials_version']).where('email', '=', normaliseEmail(email)).executeTakeFirst();
      return row && { id: row.id, credentialsVersion: Number(row.credentials_version) };
    },

    async credentialsVersionOf(id) {
      const row = await store.selectFrom('users').select('credentials_version').where('id', '=', id).executeTakeFirst();
      return row && Number(row.credentials_version);
    },

    async updateName(id, name, db = store) {
      const row = await db.updateTable('users').set({ name, updated_at: clock.now() }).where('id', '=', id).returning(COLUMNS).executeTakeFirstOrThrow();
      return userOf(row);
    },

    async changeEmail(id, email, db = store) {
      const now = clock.now();
      try {
        const row = await db
          .updateTable('users')
          .set({ email: normaliseEmail(email), email_verified_at: now, email_changed_at: now, updated_at: now })
          .where('id', '=', id)
          .returning(COLUMNS)
          .executeTakeFirst();
        return row && userOf(row);
      } catch (error) {
        throw emailTaken(error);
      }
    },

    async markVerified(id, email, db = store) {
      const now = clock.now();
      const row = await db
        .updateTable('users')
        .set((eb) => ({ email_verified_at: eb.fn.coalesce('email_verified_at', eb.val(now)), updated_at: now }))
        .where('id', '=', id)
        .where('email', '=', normaliseEmail(email))
        .returning(COLUMNS)
        .executeTakeFirst();
      return row && userOf(row);
    },

    async setPassword(id, passwordHash, db = store) {
      const row = await db
        .updateTable('users')
        .set((eb) => ({ password_hash: passwordHash, credentials_version: eb('credentials_version', '+', 1), updated_at: clock.now() }))
        .where('id', '=', id)
        .returning('credentials_version')
        .executeTakeFirstOrThrow();
      return Number(row.credentials_version);
    },

    async setRole(email, role) {
      const row = await store
        .updateTable('users')
        .set({ role, updated_at: clock.now() })
        .where('email', '=', normaliseEmail(email))
        .returning(COLUMNS)
        .executeTakeFirst();
      return row && userOf(row);
    },

    async grantAdminToVerified(emails) {
      if (emails.length === 0) return [];
      const rows = await store
        .updateTable('users')
        .set({ role: 'admin', updated_at: clock.now() })
        .where('email', 'in', emails.map(normaliseEmail))
        .where('email_verified_at', 'is not', null)
        .where('email_changed_at', 'is', null)
        .where('role', '<>', 'admin')
        .returning('email')
        .execute();
      return rows.map((row) => row.email);
    },

    async listByRole(role) {
      const rows = await store.selectFrom('users').select(COLUMNS).where('role', '=', role).orderBy('email').execute();
      return rows.map(userOf);
    },

    async datesOf(id) {
      const row = await store.selectFrom('users').select(['created_at', 'updated_at', 'email_verified_at', 'email_changed_at']).where('id', '=', id).executeTakeFirst();
      const time = (value: number | null) => (value === null ? null : Number(value));
      return row && { createdAt: Number(row.created_at), updatedAt: Number(row.updated_at), emailVerifiedAt: time(row.email_verified_at), emailChangedAt: time(row.email_changed_at) };
    },

    async delete(id, db = store) {
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
