import type { Kysely } from 'kysely';
import type { MailOutbox } from '../mail/outbox';
import { accountDeletedMail } from '../mail/messages';
import type { DatabaseSchema } from '../store/schema';
import type { AccountTokens } from './account-tokens';
import type { HostSessions } from '../auth/host-session';
import type { LoginGuard } from '../auth/login-limits';
import type { SessionIndex } from '../auth/session-index';
import type { User, UserStore } from '../store/user-store';
import type { IdentityStore } from '../store/identity-store';

export interface AccountDeletionDeps {
  db: Kysely<DatabaseSchema>;
  users: UserStore;
  tokens: AccountTokens;
  index: SessionIndex;
  outbox: MailOutbox;
  hostSessions: HostSessions;
  guard: Pick<LoginGuard, 'forgetAccount'>;
  identities: IdentityStore;
}

/**
 * A reader deletes their account (docs/accounts.md): every session of theirs ends, here and on
 * the platform; then the account, its one-time links and its index of sessions go in one
 * transaction with the mail that says so, so either all of it happened or none. The platform
 * logouts queued on the way stay queued until delivered: they are keyed by platform session, not
 * by reader. The counters keyed by the account go last, so its address can register again at once.
 */
export function createAccountDeletion(deps: AccountDeletionDeps) {
  const { db, users, tokens, index, outbox, hostSessions, guard } = deps;

  return {
    /** False when the account was already gone (a deletion that came second): nothing more is done or mailed. */
    async erase(user: User): Promise<boolean> {
      const hostUserId = String(user.id);
      await hostSessions.logOutUser(hostUserId);
      const gone = await db.transaction().execute(async (tx) => {
        // Read in the transaction: the mail goes to the address and name the account has as it goes.
        const found = await users.findById(user.id, tx);
        if (!found) return undefined;
        // The links before the account row, in the order a link's use locks them (its token, then
        // the account: src/accounts/verification.ts, src/accounts/password-reset.ts): the other
        // order deadlocks on PostgreSQL with a link used at the same moment.
        await tokens.forgetUser(tx, user.id);
        if (!(await users.delete(user.id, tx))) return undefined;
        await index.forgetUser(tx, user.id);
        await deps.identities.forgetUser(tx, user.id);
        await outbox.queue(tx, accountDeletedMail(found.email, found.name));
        return found;
      });
      if (!gone) return false;
      outbox.kick();
      // A login that checked the password before the account went, and started its session after
      // the logout above listed the sessions, passed its credentials check too (src/auth/host-session.ts):
      // its bridge row was written before that check, so this second pass finds and ends it. A
      // login checked after the commit finds no account and ends itself.
      await hostSessions.logOutUser(hostUserId);
      await guard.forgetAccount(gone.id, gone.email);
      return true;
    },
  };
}

export type AccountDeletion = ReturnType<typeof createAccountDeletion>;
