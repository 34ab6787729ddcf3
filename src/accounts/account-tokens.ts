import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from 'vf-login-bridge';
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
  forgetUser(db: Db, userId: number): Promise<void>;
  /** Drops expired tokens; the prune job calls it. */
  prune(): Promise<number>;
}

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

    async forgetUser(db, userId) {
      await db.deleteFrom('account_tokens').where('user_id', '=', userId).execute();
    },

    async prune() {
      const result = await store.deleteFrom('account_tokens').where('expires_at', '<=', clock.now()).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
