import type { Kysely } from 'kysely';
import type { PendingWork } from '../pending-work';
import type { DatabaseSchema } from '../store/schema';
import type { MailOutbox } from '../mail/outbox';
import { passwordChangedMail, passwordResetMail } from '../mail/messages';
import type { AccountTokens } from './account-tokens';
import type { User, UserStore } from '../store/user-store';

export interface PasswordResetDeps {
  db: Kysely<DatabaseSchema>;
  users: UserStore;
  tokens: AccountTokens;
  outbox: MailOutbox;
  pending: PendingWork;
  /** PUBLIC_URL, without a trailing slash */
  publicUrl: string;
  /** counts one mail to this address; false past its limit (the answer to the request is the same either way) */
  allowMailTo(address: string): Promise<boolean>;
}

/**
 * "Forgot your password?" (docs/accounts.md#password-reset): a one-time link, valid an hour, to the
 * account's own address. Whether the address has an account shows nowhere: the request's answer is
 * made before the account is even looked up (see `request`).
 */
export function createPasswordReset(deps: PasswordResetDeps) {
  const { db, users, tokens, outbox, pending, publicUrl } = deps;

  async function mailLink(email: string): Promise<void> {
    const user = await users.findByEmail(email);
    if (!user || !(await deps.allowMailTo(user.email))) return;
    await db.transaction().execute(async (tx) => {
      const token = await tokens.issue(tx, user.id, 'reset_password', user.email);
      await outbox.queue(tx, passwordResetMail(user.email, user.name, `${publicUrl}/password/reset?token=${token}`));
    });
    outbox.kick();
  }

  return {
    /**
     * Starts the work and returns at once: the answer goes out in the same time whether or not the
     * address has an account, since the lookup, the token and the mail all happen after it.
     */
    request(email: string): void {
      pending.run('PASSWORD_RESET_FAILED', () => mailLink(email));
    },

    /** The reader a live link is for, while the account's address is still the one it was sent to. */
    async peek(token: string): Promise<User | undefined> {
      const grant = await tokens.peek(token, 'reset_password');
      const user = grant && (await users.findById(grant.userId));
      return user && user.email === grant.email ? user : undefined;
    },

    /**
     * Uses the link up and sets the password under a new credentials version, in one transaction;
     * the address is verified too, since the link was opened from it, and told (ASVS 2.5.5).
     * Undefined when the link is unknown, used, expired, superseded, or was sent to an address the
     * account no longer has.
     */
    async reset(token: string, passwordHash: string): Promise<User | undefined> {
      const user = await db.transaction().execute(async (tx) => {
        const grant = await tokens.consume(tx, token, 'reset_password');
        if (!grant) return undefined;
        // Before the account row, as an email change's confirmation locks them (no deadlock): an
        // address change asked under the old password, perhaps by a squatter who registered this
        // address first, ends with it (docs/accounts.md#password-reset).
        await tokens.cancelEmailChanges(tx, grant.userId, grant.email);
        const verified = await users.markVerified(grant.userId, grant.email, tx);
        if (!verified) return undefined;
        const credentialsVersion = await users.setPassword(grant.userId, passwordHash, tx);
        await outbox.queue(tx, passwordChangedMail(verified.email, verified.name, 'reset'));
        return { ...verified, credentialsVersion };
      });
      if (user) outbox.kick();
      return user;
    },
  };
}

export type PasswordReset = ReturnType<typeof createPasswordReset>;
