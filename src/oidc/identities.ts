import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from 'vf-login-bridge';
import { isAppError } from '../errors';
import type { DatabaseSchema, Db } from '../store/schema';
import { createIdentityStore } from '../store/identity-store';
import { normaliseEmail, type User, type UserStore } from '../store/user-store';

/** What the provider said about a reader, after the ID token was validated (src/oidc/login-strategy.ts). */
export interface ProviderReader {
  issuer: string;
  subject: string;
  name: string;
  /** only an address the provider says it verified (`email_verified: true`) */
  verifiedEmail: string | undefined;
}

/** Attempts at one first login that races another for the same subject or address. */
const ATTEMPTS = 3;

/**
 * An address nobody receives mail at (RFC 2606 `.invalid`), unique per subject: the account of a
 * reader whose provider gave no verified address, or one another account holds already.
 */
export function placeholderEmail(issuer: string, subject: string): string {
  return `${createHash('sha256').update(`${issuer} ${subject}`).digest('hex').slice(0, 32)}@oidc.invalid`;
}

export function isPlaceholderEmail(email: string): boolean {
  return email.endsWith('@oidc.invalid');
}

/**
 * The site's readers who log in at the OpenID Provider, keyed by issuer and subject, never by
 * address (docs/oidc-login.md#accounts): a provider's address that matches an account made here
 * does not open that account, so nobody takes over an account by registering its address there.
 */
export function createIdentities(db: Kysely<DatabaseSchema>, users: UserStore, clock: Clock) {
  const identityStore = createIdentityStore(db);
  const userIdOf = identityStore.userIdOf;

  /** Read in the transaction: on SQLite a read beside it would wait for the connection the transaction holds. */
  async function addressTaken(tx: Db, email: string): Promise<boolean> {
    return (await tx.selectFrom('users').select('id').where('email', '=', normaliseEmail(email)).executeTakeFirst()) !== undefined;
  }

  /** A new account: the verified address when no account has it, else a placeholder; never a password. */
  async function createReader(tx: Db, reader: ProviderReader, useAddress: boolean): Promise<User> {
    const email = useAddress && reader.verifiedEmail !== undefined ? reader.verifiedEmail : placeholderEmail(reader.issuer, reader.subject);
    const user = await users.create({ email, name: reader.name, passwordHash: '' }, tx);
    await identityStore.link({ issuer: reader.issuer, subject: reader.subject, createdAt: clock.now() }, user.id, tx);
    return email === reader.verifiedEmail ? ((await users.markVerified(user.id, email, tx)) ?? user) : user;
  }

  /** A returning reader: the name as the provider has it now, and a verified address once one comes. */
  async function refreshReader(tx: Db, userId: number, reader: ProviderReader): Promise<User | undefined> {
    const user = await users.findById(userId, tx);
    if (!user) return undefined;
    const named = user.name === reader.name ? user : await users.updateName(userId, reader.name, tx);
    const address = reader.verifiedEmail;
    if (address !== undefined && isPlaceholderEmail(named.email) && !(await addressTaken(tx, address))) return users.changeEmail(userId, address, tx);
    return named;
  }

  return {
    userIdOf,

    /**
     * The account of this subject, made at its first login. Two first logins at once (two tabs,
     * two instances) end with one account: the loser of the race reads the winner's.
     */
    async readerFor(reader: ProviderReader): Promise<User> {
      let lastError: unknown;
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        try {
          return await db.transaction().execute(async (tx) => {
            const userId = await userIdOf(reader.issuer, reader.subject, tx);
            if (userId !== undefined) {
              const user = await refreshReader(tx, userId, reader);
              if (user) return user;
            }
            const addressFree = reader.verifiedEmail !== undefined && !(await addressTaken(tx, reader.verifiedEmail));
            return createReader(tx, reader, addressFree && attempt === 0);
          });
        } catch (error) {
          // A unique key lost to a concurrent login (the subject, or the address): read again.
          if (isAppError(error) && error.code !== 'EMAIL_TAKEN') throw error;
          lastError = error;
        }
      }
      throw lastError;
    },

  };
}

export type Identities = ReturnType<typeof createIdentities>;
