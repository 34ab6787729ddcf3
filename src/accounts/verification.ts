import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema';
import type { MailOutbox } from '../mail/outbox';
import { emailChangeRequestedMail, verifyAddressMail } from '../mail/messages';
import type { AccountTokens } from './account-tokens';
import type { Db } from '../store/schema';
import { normaliseEmail, type User, type UserStore } from '../store/user-store';

export interface VerificationDeps {
  db: Kysely<DatabaseSchema>;
  users: UserStore;
  tokens: AccountTokens;
  outbox: MailOutbox;
  /** PUBLIC_URL, without a trailing slash: the start of every link in a mail */
  publicUrl: string;
}

/**
 * Verified addresses (docs/accounts.md#verified-addresses): registration and every email change
 * mail a one-time link to the address; the account uses an address only once that link is opened.
 * Until then an email change leaves the old address in force, and the old address is told.
 */
export function createVerification(deps: VerificationDeps) {
  const { db, users, tokens, outbox, publicUrl } = deps;
  const linkFor = (token: string) => `${publicUrl}/email/verify?token=${token}`;

  async function mailLink(tx: Db, user: User, email: string): Promise<void> {
    const token = await tokens.issue(tx, user.id, 'verify_email', email);
    await outbox.queue(tx, verifyAddressMail(email, user.name, linkFor(token), email !== user.email));
  }

  return {
    /** A new account and the link to its address, written together (EMAIL_TAKEN when the address has an account). */
    async createAccount(input: { email: string; name: string; passwordHash: string }): Promise<User> {
      const user = await db.transaction().execute(async (tx) => {
        const created = await users.create(input, tx);
        await mailLink(tx, created, created.email);
        return created;
      });
      outbox.kick();
      return user;
    },

    /**
     * The reader asked for a new address: a link to it, a notice to the address in force, both
     * written with the token in one transaction. The account's address does not change yet.
     */
    async requestEmailChange(user: User, email: string): Promise<void> {
      const address = normaliseEmail(email);
      await db.transaction().execute(async (tx) => {
        await mailLink(tx, user, address);
        await outbox.queue(tx, emailChangeRequestedMail(user.email, user.name, address));
      });
      outbox.kick();
    },

    /**
     * A new link for the address waiting (a pending change), or else the account's own while
     * unverified, if `allow` lets one more mail go to it. Says which address, or why none.
     */
    async resend(user: User, allow: (address: string) => Promise<boolean>): Promise<{ sent: string } | { nothing: true } | { limited: string }> {
      const pending = await tokens.pendingEmail(user.id);
      const email = pending ?? (user.emailVerified ? undefined : user.email);
      if (email === undefined) return { nothing: true };
      if (!(await allow(email))) return { limited: email };
      await db.transaction().execute((tx) => mailLink(tx, user, email));
      outbox.kick();
      return { sent: email };
    },

    /** The address a change is waiting on, to show on the account page. */
    pendingChange: async (user: User) => {
      const pending = await tokens.pendingEmail(user.id);
      return pending !== undefined && pending !== user.email ? pending : undefined;
    },

    /**
     * Opens a link: the account's address is now the one the link was sent to, verified. Undefined
     * for a link that is unknown, used, expired or superseded; EMAIL_TAKEN when another account
     * took the address meanwhile (the transaction rolls back: nothing changes, the link stays until it expires).
     */
    async confirm(token: string): Promise<{ user: User; changed: boolean } | undefined> {
      return db.transaction().execute(async (tx) => {
        const grant = await tokens.consume(tx, token, 'verify_email');
        if (!grant) return undefined;
        const before = await users.findById(grant.userId, tx);
        if (!before) return undefined;
        if (before.email === grant.email) {
          const user = await users.markVerified(grant.userId, grant.email, tx);
          return user && { user, changed: false };
        }
        const user = await users.changeEmail(grant.userId, grant.email, tx);
        return user && { user, changed: true };
      });
    },
  };
}

export type Verification = ReturnType<typeof createVerification>;
