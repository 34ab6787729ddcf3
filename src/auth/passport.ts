import type { Request } from 'express';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { attachSnapshot, snapshotFor, type ReaderSnapshot } from '../store/reader-snapshot';
import type { PasswordHasher } from './passwords';
import type { User, UserStore } from '../store/user-store';

declare global {
  namespace Express {
    // passport's req.user is our User (src/store/user-store.ts)
    interface User {
      id: number;
      email: string;
      name: string;
      emailVerified: boolean;
      role: 'reader' | 'admin';
      credentialsVersion: number;
    }
  }
}

/** The one answer for a wrong password and an unknown email: nothing tells which it was. */
export const INVALID_CREDENTIALS_MESSAGE = 'Wrong email or password.';

/**
 * A Passport instance of this app's own: never the shared default singleton. `readReader` reads a
 * user with the bridge row of one host session, in one statement.
 */
export function createPassport(
  users: UserStore,
  passwords: PasswordHasher,
  readReader: (sid: string, userId: number) => Promise<ReaderSnapshot>,
): InstanceType<typeof Passport> {
  const passport = new Passport();

  passport.use(
    new LocalStrategy({ usernameField: 'email', passwordField: 'password' }, (email, password, done) => {
      verifyCredentials(users, passwords, email, password).then((user) => done(null, user || false), done);
    }),
  );
  passport.serializeUser((user, done) => done(null, user.id));
  // A user that no longer exists simply ends up logged out.
  passport.deserializeUser((req: Request, id: unknown, done: (err: unknown, user?: User | false) => void) => {
    if (typeof id !== 'number') return done(null, false);
    // The session store may have read the reader with the session already (src/store/reader-snapshot.ts).
    const known = snapshotFor(req);
    if (known?.sessionUserId === id) return done(null, known.user ?? false);
    readReader(req.sessionID, id).then((snapshot) => {
      attachSnapshot(req, snapshot);
      done(null, snapshot.user ?? false);
    }, done);
  });
  return passport;
}

async function verifyCredentials(
  users: UserStore,
  passwords: PasswordHasher,
  email: string,
  password: string,
): Promise<User | undefined> {
  const found = await users.findCredentials(email);
  // A reader of the OpenID Provider has no password here: the same work as a wrong one, so timing tells nothing.
  if (!found || found.passwordHash === '') {
    await passwords.verifyNothing(password);
    return undefined;
  }
  const { passwordHash, ...user } = found;
  return (await passwords.verify(passwordHash, password)) ? user : undefined;
}
