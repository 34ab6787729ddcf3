import type session from 'express-session';
import type { Logger } from '../logger';
import type { Bridge } from '../core';
import { storeDestroy } from './session-store';

export interface LogoutUserDeps {
  bridge: Pick<Bridge, 'logoutUser'>;
  /** the bridge's store: destroying through it reaches the app's */
  sessionStore: session.Store;
  logger: Logger;
}

/**
 * Ends every host and platform session of one user (docs/architecture.md#a-logout): the bridge
 * turns the rows into tombstones and logs the platform out, then each host session is destroyed
 * in the store; one whose request is still under way is not saved back, for the store refuses
 * saves of tombstoned sessions. Resolves how many host sessions were destroyed.
 */
export function createLogoutUser(deps: LogoutUserDeps): (hostUserId: string) => Promise<number> {
  const destroyed = (sid: string) =>
    storeDestroy(deps.sessionStore, sid).then(
      () => true,
      () => {
        // Its saves stay refused, but the store keeps the session until it expires it there.
        deps.logger.error({ code: 'SESSION_STORE_UNAVAILABLE' }, 'a logged-out host session could not be destroyed in the session store');
        return false;
      },
    );
  return async (hostUserId) => {
    const { hostSessionIds } = await deps.bridge.logoutUser(hostUserId);
    return (await Promise.all(hostSessionIds.map(destroyed))).filter(Boolean).length;
  };
}
