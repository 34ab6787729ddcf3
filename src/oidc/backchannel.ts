import type { Kysely } from 'kysely';
import type { Router } from 'express';
import { createBackchannelLogoutRoutes, type Clock } from 'vf-login-bridge';
import type { HostSessions } from '../auth/host-session';
import type { Logger } from '../logger';
import type { DatabaseSchema } from '../store/schema';
import type { Identities } from './identities';
import type { OidcProvider } from './provider';

/**
 * The library's back-channel logout receiver over the site's own sessions (docs/oidc-login.md#back-channel-logout):
 * a provider session's logins are found in the session index, a subject's account by its identity.
 */
export function createBackchannelLogout(deps: {
  provider: OidcProvider;
  identities: Identities;
  hostSessions: HostSessions;
  db: Kysely<DatabaseSchema>;
  clock: Clock;
  logger: Logger;
}): Router {
  const { provider, identities, hostSessions } = deps;
  return createBackchannelLogoutRoutes(
    { clientId: provider.settings.clientId, provider: () => provider.discovered() },
    {
      clock: deps.clock,
      logger: deps.logger,
      db: deps.db,
      logOutProviderSession: (sid) => hostSessions.logOutProviderSession(sid),
      logOutSubject: async (issuer, sub) => {
        const userId = await identities.userIdOf(issuer, sub);
        return userId === undefined ? 0 : hostSessions.logOutUser(String(userId));
      },
    },
  );
}
