import type { Kysely } from 'kysely';
import type { Clock } from 'vf-login-bridge';
import { RequestError } from '../errors';
import type { DatabaseSchema } from '../store/schema';

export interface User {
  id: number;
  email: string;
  name: string;
}

export interface UserStore {
  create(input: { email: string; name: string; passwordHash: string }): Promise<User>;
  findById(id: number): Promise<User | undefined>;
  /** For login only: the one place the hash leaves the database. */
  findCredentials(email: string): Promise<(User & { passwordHash: string }) | undefined>;
  /** The account's id, when the email has one: which reader a login names, before any password is checked. */
  idOf(email: string): Promise<number | undefined>;
  updateProfile(id: number, profile: { email: string; name: string }): Promise<User>;
  setPasswordHash(id: number, passwordHash: string): Promise<void>;
}

const PUBLIC_COLUMNS = ['id', 'email', 'name'] as const;

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

export function createUserStore(db: Kysely<DatabaseSchema>, clock: Clock): UserStore {
  return {
    async create({ email, name, passwordHash }) {
      const now = clock.now();
      try {
        return await db
          .insertInto('users')
          .values({ email: normaliseEmail(email), name, password_hash: passwordHash, created_at: now, updated_at: now })
          .returning(PUBLIC_COLUMNS)
          .executeTakeFirstOrThrow();
      } catch (error) {
        throw emailTaken(error);
      }
    },

    findById: (id) => db.selectFrom('users').select(PUBLIC_COLUMNS).where('id', '=', id).executeTakeFirst(),

    async findCredentials(email) {
      const row = await db
        .selectFrom('users')
        .select([...PUBLIC_COLUMNS, 'password_hash'])
        .where('email', '=', normaliseEmail(email))
        .executeTakeFirst();
      return row && { id: row.id, email: row.email, name: row.name, passwordHash: row.password_hash };
    },

    async idOf(email) {
      const row = await db.selectFrom('users').select('id').where('email', '=', normaliseEmail(email)).executeTakeFirst();
      return row?.id;
    },

    async setPasswordHash(id, passwordHash) {
      await db.updateTable('users').set({ password_hash: passwordHash, updated_at: clock.now() }).where('id', '=', id).execute();
    },

    async updateProfile(id, { email, name }) {
      try {
        return await db
          .updateTable('users')
          .set({ email: normaliseEmail(email), name, updated_at: clock.now() })
          .where('id', '=', id)
          .returning(PUBLIC_COLUMNS)
          .executeTakeFirstOrThrow();
      } catch (error) {
        throw emailTaken(error);
      }
    },
  };
}
