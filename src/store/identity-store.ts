import type { Kysely } from 'kysely';
import type { DatabaseSchema, Db } from './schema';

/** One OpenID Provider subject that logs in to a host account (docs/oidc-login.md#accounts). */
export interface Identity {
  issuer: string;
  subject: string;
  createdAt: number;
}

/** Every statement on `user_identities`: which account a provider's subject is, made at its first login. */
export function createIdentityStore(store: Kysely<DatabaseSchema>) {
  return {
    async userIdOf(issuer: string, subject: string, db: Db = store): Promise<number | undefined> {
      const row = await db.selectFrom('user_identities').select('user_id').where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
      return row?.user_id;
    },

    /** Fails on the primary key when another login linked the subject first: the caller reads again. */
    async link(identity: Identity, userId: number, db: Db): Promise<void> {
      await db.insertInto('user_identities').values({ issuer: identity.issuer, subject: identity.subject, user_id: userId, created_at: identity.createdAt }).execute();
    },

    async listFor(userId: number): Promise<Identity[]> {
      const rows = await store.selectFrom('user_identities').select(['issuer', 'subject', 'created_at']).where('user_id', '=', userId).execute();
      return rows.map((row) => ({ issuer: row.issuer, subject: row.subject, createdAt: Number(row.created_at) }));
    },

    /** The identity goes with the account: a later login at the provider makes a new one. */
    async forgetUser(db: Db, userId: number): Promise<void> {
      await db.deleteFrom('user_identities').where('user_id', '=', userId).execute();
    },
  };
}

export type IdentityStore = ReturnType<typeof createIdentityStore>;
