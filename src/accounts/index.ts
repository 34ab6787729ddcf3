import { Router, type RequestHandler } from 'express';
import type session from 'express-session';
import type { Bridge, Clock } from 'vf-login-bridge';
import type { HostSessions } from '../auth/host-session';
import type { LoginGuard } from '../auth/login-limits';
import type { PasswordHasher } from '../auth/passwords';
import type { PasswordPolicy } from '../auth/password-policy';
import type { SessionIndex } from '../auth/session-index';
import type { TrustedDevices } from '../auth/trusted-device';
import type { MailOutbox } from '../mail/outbox';
import type { PendingWork } from '../pending-work';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema';
import type { UserStore } from '../store/user-store';
import type { Render } from '../web/render';
import { createAccountDataRoutes } from './account-data-routes';
import { createAccountRoutes } from './account-routes';
import { createAccountTokens } from './account-tokens';
import { createEmailRoutes } from './email-routes';
import { createPasswordReset } from './password-reset';
import { createPasswordResetRoutes } from './password-reset-routes';
import { createReaderSessions } from './reader-sessions';
import { createRegistrationRoutes } from './registration-routes';
import { createSessionRoutes } from './session-routes';
import { createVerification } from './verification';
import { createPasswordChange } from './password-change';

export interface AccountDeps {
  db: Kysely<DatabaseSchema>;
  clock: Clock;
  users: UserStore;
  passwords: PasswordHasher;
  policy: PasswordPolicy;
  hostSessions: HostSessions;
  sessionIndex: SessionIndex;
  /** the store express-session is given: the sessions page reads each session's liveness there */
  sessionStore: session.Store;
  guard: LoginGuard;
  devices: TrustedDevices;
  bridge: Bridge;
  outbox: MailOutbox;
  pending: PendingWork;
  /** PUBLIC_URL without a trailing slash: every link in a mail starts with it */
  publicUrl: string;
  render: Render;
  /** false with LOGIN=oidc: readers come from the OpenID Provider, so nobody registers or resets a password here */
  localAccounts: boolean;
}

const withoutEmbed: RequestHandler = (_req, res, next) => {
  res.locals.embed = null;
  next();
};

/**
 * Everything a reader does with their account besides logging in and out (docs/accounts.md):
 * registering, the account page, verified addresses, password reset, the sessions page, deletion
 * and export. One router; the services under it are built here, once per app.
 */
export function createAccountsRouter(deps: AccountDeps): Router {
  const { db, clock, users, passwords, policy, hostSessions, sessionIndex, guard, devices, bridge, outbox, render } = deps;
  const tokens = createAccountTokens(db, clock);
  const verification = createVerification({ db, users, tokens, outbox, publicUrl: deps.publicUrl });
  const passwordReset = createPasswordReset({
    db,
    users,
    tokens,
    outbox,
    pending: deps.pending,
    publicUrl: deps.publicUrl,
    allowMailTo: (address) => guard.allowMailTo(address),
  });
  const readerSessions = createReaderSessions({ index: sessionIndex, store: deps.sessionStore, db });
  const router = Router().use(
    // A one-time link's token is in these pages' address and form: no third-party script runs beside it.
    ['/email/verify', '/password/reset'],
    withoutEmbed,
  ).use(
    createAccountRoutes({ users, passwords, policy, hostSessions, guard, devices, bridge, verification, changePassword: createPasswordChange({ db, users, tokens, outbox }), render, clock }),
    createSessionRoutes({ readerSessions, index: sessionIndex, hostSessions, guard, clock, render }),
    createAccountDataRoutes({ db, users, passwords, devices, tokens, index: sessionIndex, outbox, hostSessions, guard, verification, readerSessions, clock, render }),
    createEmailRoutes({ verification, tokens, guard, bridge, render }),
  );
  if (deps.localAccounts) {
    router.use(
      createRegistrationRoutes({ passwords, policy, hostSessions, guard, devices, verification, render }),
      createPasswordResetRoutes({ passwordReset, passwords, policy, hostSessions, guard, devices, render }),
    );
  }
  return router;
}
