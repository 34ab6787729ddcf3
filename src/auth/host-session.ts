import type { Request } from 'express';
import type session from 'express-session';
import type { Bridge, HostUser } from '../platform';
import type { User } from './user-store';

/** The host user as the platform sees it: its own id, never a fixed admin id (docs/platform-protocol.md#accounts-login). */
export function toHostUser(user: User): HostUser {
  return { id: String(user.id), name: user.name, email: user.email };
}

/**
 * The one place where the host login and logout meet the bridge, for the form post,
 * the AJAX call and registration alike.
 */
export function createHostSessions(bridge: Bridge, store: session.Store) {
  refuseSavesOfEndedSessions(store, (sid) => bridge.hasEnded(sid));
  return {
    /** passport regenerates the session id first (fixation); the bridge keys on the new one. */
    async logIn(req: Request, user: User): Promise<void> {
      // A second login in the same browser replaces the first: its platform session goes too.
      if (req.user) await bridge.onLogout(req.sessionID);
      await new Promise<void>((resolve, reject) => req.login(user, (err) => (err ? reject(err) : resolve())));
      await bridge.onLogin(req.sessionID, toHostUser(user));
    },

    /** Ends the platform session (queued durably if the platform is down), then the host one. */
    async logOut(req: Request): Promise<void> {
      if (req.user) await bridge.onLogout(req.sessionID);
      await new Promise<void>((resolve, reject) => req.logout((err) => (err ? reject(err) : resolve())));
    },

    /**
     * Every session of one user, wherever it is (the logout hook): platform first, then host.
     * Counts the host sessions that were still alive; one that expired on its own is not news.
     */
    async logOutUser(hostUserId: string): Promise<number> {
      const { hostSessionIds } = await bridge.logoutUser(hostUserId);
      const ended = await Promise.all(hostSessionIds.map((sid) => destroyIfAlive(store, sid)));
      return ended.filter(Boolean).length;
    },
  };
}

export type HostSessions = ReturnType<typeof createHostSessions>;

function destroyIfAlive(store: session.Store, sid: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    store.get(sid, (getError, data) => {
      if (getError) return reject(getError);
      store.destroy(sid, (destroyError) => (destroyError ? reject(destroyError) : resolve(Boolean(data))));
    });
  });
}

/**
 * express-session saves a modified session at the end of its request, by an upsert. A request
 * that was under way when its session was logged out from elsewhere (the logout hook) would
 * write that session back, still logged in. Every logged-out host session leaves a tombstone in
 * the bridge, and a save for such a session is dropped.
 */
function refuseSavesOfEndedSessions(store: session.Store, hasEnded: (sid: string) => Promise<boolean>): void {
  const save = store.set.bind(store);
  store.set = (sid, data, callback) => {
    hasEnded(sid).then(
      (ended) => (ended ? callback?.() : save(sid, data, callback)),
      (error: unknown) => callback?.(error),
    );
  };
}
