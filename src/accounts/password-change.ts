import type { Kysely } from 'kysely';
import type { MailOutbox } from '../mail/outbox';
import { passwordChangedMail } from '../mail/messages';
import type { DatabaseSchema } from '../store/schema';
import type { User, UserStore } from '../store/user-store';
import type { AccountTokens } from './account-tokens';

/**
 * A new password from the account page: set under a new credentials version
 * (docs/accounts.md#the-credentials-version), with a notice to the account's address written in
 * the same transaction (ASVS 2.5.5). Returns the new version.
 */
export function createPasswordChange(deps: { db: Kysely<DatabaseSchema>; users: UserStore; tokens: Pick<AccountTokens, 'cancelEmailChanges'>; outbox: MailOutbox }) {
  const { db, users, tokens, outbox } = deps;
  return async function changePassword(user: User, passwordHash: string): Promise<number> {
    const version = await db.transaction().execute(async (tx) => {
      // The change-of-address notice tells a reader who did not ask for it to change the password:
      // that ends the change, which whoever had the old password may have asked. Links before the
      // account row, the order a confirmation locks them in.
      await tokens.cancelEmailChanges(tx, user.id, user.email);
      const next = await users.setPassword(user.id, passwordHash, tx);
      await outbox.queue(tx, passwordChangedMail(user.email, user.name, 'changed'));
      return next;
    });
    outbox.kick();
    return version;
  };
}

export type ChangePassword = ReturnType<typeof createPasswordChange>;
