import type { Request } from 'express';
import type session from 'express-session';
import { LogoutAwareStore, storeDestroy, storeHas, storeRead, type Bridge, type Clock } from 'vf-login-bridge';
import { RequestError } from '../errors';
import { toHostUser } from '../host-user';
import type { SessionIndex } from './session-index';
import type { User } from '../store/user-store';

declare module 'express-session' {
  interface SessionData {
    /** when the reader logged in to this session: the absolute lifetime counts from here */
    startedAt?: number;
    /** the reader's credentials version when this session logged in: an older one than the account's is refused */
    cv?: number;
    passport?: { user?: unknown };
    /** the login at the publisher's OpenID Provider this session came from (docs/oidc-login.md) */
    provider?: ProviderSession;
  }
}

/** What a session keeps of the OpenID Provider's login it came from. */
export interface ProviderSession {
  /** the provider's session (`sid`): back-channel logout names it */
  sid?: string | undefined;
  /** sent back as `id_token_hint` at logout (RP-initiated logout) */
  idToken?: string | undefined;
  /** when the reader last proved who they are there (`auth_time`, ms since the epoch) */
  authTime?: number | undefined;
}

export interface HostSessionDeps {
  bridge: Bridge;
  /** the store express-session is given: a HostSessionStore, so a late save cannot revive a session ended here */
  store: session.Store;
  clock: Clock;
  /** host session ids that may still be live for a user (packages/bridge/src/core/session-rows.ts) */
  sessionsOf(hostUserId: string): Promise<string[]>;
  /** live sessions per user; the oldest beyond this is logged out at login (ASVS 3.3) */
  maxPerUser: number;
  /** each reader's sessions, whether or not the platform holds one for them */
  index: SessionIndex;
  /** the account's credentials version now (src/store/user-store.ts) */
  credentialsVersionOf(userId: number): Promise<number | undefined>;
}

/**
 * The one place where the host login and logout meet the bridge, for the form post,
 * the AJAX call and registration alike.
 */
export function createHostSessions(deps: HostSessionDeps) {
  const { bridge, store, clock, index } = deps;

  /** Ends one session, wherever it is: platform first (queued if it is down), then the host row. */
  async function endSession(sid: string): Promise<boolean> {
    await bridge.onLogout(sid);
    const alive = await destroyIfAlive(store, sid);
    await index.forget([sid]);
    return alive;
  }

  /** Ends one session of the request's own, then forgets it. */
  async function logOut(req: Request): Promise<void> {
    // Nobody logged in: nothing to end, and no session row to write for it.
    if (!req.user) return;
    const sid = req.sessionID;
    await bridge.onLogout(sid);
    await new Promise<void>((resolve, reject) => req.logout((err) => (err ? reject(err) : resolve())));
    await index.forget([sid]);
  }

  /**
   * Every host session that may still be live for a user: the index has each login's, the bridge's
   * rows also those of sessions made before the index existed.
   */
  async function sessionIdsOf(hostUserId: string): Promise<string[]> {
    return [...new Set([...(await deps.sessionsOf(hostUserId)), ...(await indexedSids(hostUserId))])];
  }

  /** The index's sessions of a user; a host user id that is not one of the site's has none. */
  async function indexedSids(hostUserId: string): Promise<string[]> {
    return /^\d+$/.test(hostUserId) ? (await index.list(Number(hostUserId))).map((entry) => entry.sid) : [];
  }

  /** Logs out this user's oldest sessions beyond the cap (with or without a platform session); the one just started stays. */
  async function enforceCap(userId: number, currentSid: string): Promise<void> {
    const sids = (await sessionIdsOf(String(userId))).filter((sid) => sid !== currentSid);
    if (sids.length < deps.maxPerUser) return;
    const live = (await Promise.all(sids.map(async (sid) => ({ sid, data: await storeRead(store, sid) }))))
      .filter(({ data }) => data?.passport?.user === userId)
      .sort((a, b) => (a.data?.startedAt ?? 0) - (b.data?.startedAt ?? 0));
    const surplus = live.length + 1 - deps.maxPerUser;
    await Promise.all(live.slice(0, Math.max(0, surplus)).map(({ sid }) => endSession(sid)));
  }

  return {
    /**
     * passport regenerates the session id first (fixation); the bridge keys on the new one. `user`
     * carries the credentials version its password was checked under: if a password change or
     * reset moved it meanwhile, the session just made ends again (its platform session queued for
     * logout) and the login is refused (docs/accounts.md#the-credentials-version).
     */
    async logIn(req: Request, user: User, options: { provider?: ProviderSession } = {}): Promise<void> {
      // The same reader logging in again here (a new password) keeps the provider's login this session came from.
      const provider = options.provider ?? (req.user?.id === user.id ? req.session.provider : undefined);
      // A second login in the same browser replaces the first: its platform session goes too.
      if (req.user) {
        await bridge.onLogout(req.sessionID);
        await index.forget([req.sessionID]);
      }
      await new Promise<void>((resolve, reject) => req.login(user, (err) => (err ? reject(err) : resolve())));
      const startedAt = clock.now();
      req.session.startedAt = startedAt;
      req.session.cv = user.credentialsVersion;
      if (provider) req.session.provider = provider;
      await index.record({ sid: req.sessionID, userId: user.id, startedAt, userAgent: req.headers['user-agent'], ip: req.ip, idpSid: provider?.sid });
      await bridge.onLogin(req.sessionID, toHostUser(user));
      // Checked after the platform login: a change that came first is seen here; one that comes
      // later finds this session's bridge row and index row, and ends it.
      if ((await deps.credentialsVersionOf(user.id)) !== user.credentialsVersion) {
        await logOut(req);
        throw new RequestError('CREDENTIALS_CHANGED', 'The password of this account was just changed. Log in with the new one.');
      }
      await enforceCap(user.id, req.sessionID);
    },

    /** Ends the platform session (queued durably if the platform is down), then the host one. */
    logOut,

    /**
     * Every host session logged in under one session of the OpenID Provider (back-channel logout,
     * docs/oidc-login.md#back-channel-logout); counts those still alive.
     */
    async logOutProviderSession(idpSid: string): Promise<number> {
      const ended = await Promise.all((await index.sidsOfProviderSession(idpSid)).map((sid) => endSession(sid)));
      return ended.filter(Boolean).length;
    },

    /** One session of this reader, by the id the sessions page shows; false when it is not theirs or already ended. */
    async logOutSession(userId: number, publicId: string): Promise<boolean> {
      const entry = (await index.list(userId)).find((session) => session.publicId === publicId);
      if (!entry) return false;
      return endSession(entry.sid);
    },

    /**
     * Every session of one user, wherever it is (the logout hook, a password change, the sessions
     * page's "everywhere else" with `except`): platform first, then host. Counts the host sessions
     * that were still alive; one that expired on its own is not news.
     */
    async logOutUser(hostUserId: string, options: { except?: string } = {}): Promise<number> {
      const keep = options.except;
      if (keep !== undefined) {
        const ended = await Promise.all((await sessionIdsOf(hostUserId)).filter((sid) => sid !== keep).map((sid) => endSession(sid)));
        return ended.filter(Boolean).length;
      }
      // All of them: the bridge ends its rows in one pass (queuing their platform logouts), then every host session goes.
      const { hostSessionIds } = await bridge.logoutUser(hostUserId);
      const sids = [...new Set([...hostSessionIds, ...(await indexedSids(hostUserId))])];
      const ended = await Promise.all(sids.map((sid) => destroyIfAlive(store, sid)));
      await index.forget(sids);
      return ended.filter(Boolean).length;
    },
  };
}

export type HostSessions = ReturnType<typeof createHostSessions>;

async function destroyIfAlive(store: session.Store, sid: string): Promise<boolean> {
  const alive = await storeHas(store, sid);
  await storeDestroy(store, sid);
  return alive;
}

/**
 * The store express-session and the host sessions are given: a save of a session logged out
 * meanwhile is dropped (the library's LogoutAwareStore, docs/architecture.md#a-logout), and the
 * sessions a request starts with are built by the store beneath, which hands the request what it
 * read with the session (src/store/session-store.ts).
 */
export class HostSessionStore extends LogoutAwareStore {
  constructor(inner: session.Store, bridge: Pick<Bridge, 'hasEnded'>) {
    super(inner, (sid) => bridge.hasEnded(sid));
  }

  /**
   * The site moves an expiry only by saving, when it moves by a minute (src/auth/session-lifetime.ts);
   * neither store beneath touches (the database one has no touch, Redis's is turned off). So a touch
   * has nothing to do, and asking whether the session ended would cost every page view a read.
   */
  override touch(_sid: string, _data: session.SessionData, callback?: () => void): void {
    callback?.();
  }
}
