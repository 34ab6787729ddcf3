import { contextOf } from './context';
import { deliverPendingLogouts } from './delivery';
import { onLogin, onProfileChange, platformSessionFor } from './login';
import { LoginQueue } from './login-queue';
import { hasEnded, logoutUser, onLogout } from './logout';
import { pruneSessions, Reconciler } from './maintenance';
import { countLogouts } from './outbox-rows';
import { PENDING_COUNT_CAP } from './policy';
import type { Bridge, BridgeDeps } from './types';

export type { Bridge, BridgeDeps, BridgeOptions, HostUser } from './types';

/**
 * Keeps one platform session per logged-in host session (docs/architecture.md#a-login): logs in at host login,
 * re-logs in before the platform's 12-hour idle expiry, and carries logouts through a durable
 * outbox so a platform outage never loses one. Knows nothing of HTTP or passport.
 */
export function createBridge(deps: BridgeDeps): Bridge {
  const ctx = contextOf(deps);
  const logins = new LoginQueue();
  const reconciler = new Reconciler(ctx);
  ctx.metrics?.watchPendingLogouts(() => countLogouts(ctx.db, PENDING_COUNT_CAP));
  return {
    onLogin: (hostSessionId, user) => onLogin(ctx, logins, hostSessionId, user),
    platformSessionFor: (hostSessionId, user, known) => platformSessionFor(ctx, logins, hostSessionId, user, known),
    onProfileChange: (hostSessionId, user) => onProfileChange(ctx, logins, hostSessionId, user),
    onLogout: (hostSessionId) => onLogout(ctx, logins, hostSessionId),
    logoutUser: (hostUserId) => logoutUser(ctx, hostUserId),
    deliverPendingLogouts: () => deliverPendingLogouts(ctx),
    hasEnded: (hostSessionId) => hasEnded(ctx, hostSessionId),
    pruneSessions: () => pruneSessions(ctx),
    reconcile: (hostSessionExists) => reconciler.pass(hostSessionExists),
    status: async () => ({ circuit: ctx.circuit(), pendingLogouts: await countLogouts(ctx.db, PENDING_COUNT_CAP) }),
  };
}
