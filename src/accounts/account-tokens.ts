import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { inBatches, keyIn, type Clock } from 'vf-login-bridge';
import type { AccountTokenPurpose, DatabaseSchema } from '../store/schema';
import type { Db } from '../store/schema';

/** How long each kind of link works (docs/accounts.md#one-time-links). */
export const TOKEN_LIFETIME_MS: Record<AccountTokenPurpose, number> = {
  verify_email: 24 * 60 * 60_000,
  reset_password: 60 * 60_000,
};

/** What a link stands for, once its token is found. */
export interface AccountTokenGrant {
  userId: number;
  email: string;
}

export interface AccountTokens {
  /** A new link for this reader and purpose; every earlier one of the same purpose stops working. Returns the token to mail. */
  issue(db: Db, userId: number, purpose: AccountTokenPurpose, email: string): Promise<string>;
  /** The grant of a live token, without using it up (a form shows before the token is spent). */
  peek(token: string, purpose: AccountTokenPurpose): Promise<AccountTokenGrant | undefined>;
  /** Uses the token up: of two concurrent uses, one gets the grant. */
  consume(db: Db, token: string, purpose: AccountTokenPurpose): Promise<AccountTokenGrant | undefined>;
  /** The address a verification link is waiting on, if any. */
  pendingEmail(userId: number): Promise<string | undefined>;
  /**
   * Ends every email change waiting on a link (the links to any address but `address`, the
   * account's own): a change asked under a password that is gone may have been asked by whoever
   * had that password, and must not outlive it.
   */
  cancelEmailChanges(db: Db, userId: number, address: string): Promise<void>;
  forgetUser(db: Db, userId: number): Promise<void>;
  /** Drops expired tokens; the prune job calls it. */
  prune(): Promise<number>;
}

/** Expired tokens one statement of prune() deletes at most. */
const PRUNE_BATCH = 500;

/** 32 random bytes: unguessable, so a fast hash is enough to keep it from being useful if the table leaks. */
const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function createAccountTokens(store: Kysely<DatabaseSchema>, clock: Clock): AccountTokens {
  return {
    async issue(db, userId, purpose, email) {
      const token = randomBytes(32).toString('base64url');
      const now = clock.now();
      await db.deleteFrom('account_tokens').where('user_id', '=', userId).where('purpose', '=', purpose).execute();
      await db
        .insertInto('account_tokens')
        .values({ token_hash: hashOf(token), user_id: userId, purpose, email, created_at: now, expires_at: now + TOKEN_LIFETIME_MS[purpose] })
        .execute();
      return token;
    },

    async peek(token, purpose) {
      if (!TOKEN_SHAPE.test(token)) return undefined;
      const row = await store
        .selectFrom('account_tokens')
        .select(['user_id', 'email'])
        .where('token_hash', '=', hashOf(token))
        .where('purpose', '=', purpose)
        .where('expires_at', '>', clock.now())
        .executeTakeFirst();
      return row && { userId: row.user_id, email: row.email };
    },

    async consume(db, token, purpose) {
      if (!TOKEN_SHAPE.test(token)) return undefined;
      const row = await db
        .deleteFrom('account_tokens')
        .where('token_hash', '=', hashOf(token))
        .where('purpose', '=', purpose)
        .where('expires_at', '>', clock.now())
        .returning(['user_id', 'email'])
        .executeTakeFirst();
      return row && { userId: row.user_id, email: row.email };
    },

    async pendingEmail(userId) {
      const row = await store
        .selectFrom('account_tokens')
        .select('email')
        .where('user_id', '=', userId)
        .where('purpose', '=', 'verify_email')
        .where('expires_at', '>', clock.now())
        .executeTakeFirst();
      return row?.email;
    },

    async cancelEmailChanges(db, userId, address) {
      await db.deleteFrom('account_tokens').where('user_id', '=', userId).where('purpose', '=', 'verify_email').where('email', '<>', address).execute();
    },

    async forgetUser(db, userId) {
      // Reset links first, then the rest: the order a reset locks them in (its own link, then the
      // email changes it cancels). In one statement PostgreSQL locks them in whatever order it
      // scans them, and a deletion and a reset of the same account could wait on each other.
      await db.deleteFrom('account_tokens').where('user_id', '=', userId).where('purpose', '=', 'reset_password').execute();
      await db.deleteFrom('account_tokens').where('user_id', '=', userId).execute();
    },

    async prune() {
      // In batches by the expires_at index (migration 009), each its own statement: a large table
      // never holds SQLite's write lock for long.
      const now = clock.now();
      return inBatches(PRUNE_BATCH, async () => {
        const result = await store
          .deleteFrom('account_tokens')
          .where(keyIn(store, 'token_hash', store.selectFrom('account_tokens').select('token_hash').where('expires_at', '<=', now).orderBy('expires_at').limit(PRUNE_BATCH)))
          .where('expires_at', '<=', now)
          .executeTakeFirst();
        return Number(result.numDeletedRows);
      });
    },
  };
}
