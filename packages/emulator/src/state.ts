import { randomBytes } from 'node:crypto';
import type { Clock } from 'vf-login-bridge';
import type { PlatformUserView } from './types';

/** The platform's example answers (docs/platform-protocol.md#example-values) show user ids of this shape: `7000000003119`. */
const FIRST_USER_ID = 7_000_000_000_001;
/** The platform's example session, `o52l4itrv8q4p8n4amsou1c567`: 26 lowercase alphanumerics. */
const SESSION_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SESSION_LENGTH = 26;
/** Expired tokens are swept once the table grows past this, so a long benchmark stays small. */
const TOKEN_SWEEP_THRESHOLD = 1000;

interface PlatformSession {
  userId: number;
  lastActivityAt: number;
  loggedOut: boolean;
}

export interface LoginDetails {
  hostId: string;
  name: string;
  /** `undefined` keeps the stored email; a string replaces it. */
  email: string | undefined;
}

export type EmulatorState = ReturnType<typeof createEmulatorState>;

/**
 * Tokens, users and sessions of one emulated site. Time only ever comes from `clock`, so tests
 * can walk a session through its 12 idle hours in a millisecond.
 */
export function createEmulatorState(deps: { clock: Clock; tokenTtlSeconds: number; sessionIdleMs: number }) {
  const { clock, tokenTtlSeconds, sessionIdleMs } = deps;
  const tokenExpiry = new Map<string, number>();
  const usersByHostId = new Map<string, PlatformUserView>();
  const usersById = new Map<number, PlatformUserView>();
  const sessions = new Map<string, PlatformSession>();
  let tokensIssued = 0;
  let nextUserId = FIRST_USER_ID;

  function isAlive(session: PlatformSession): boolean {
    return !session.loggedOut && clock.now() - session.lastActivityAt < sessionIdleMs;
  }

  function sweepExpiredTokens(): void {
    const now = clock.now();
    for (const [token, expiresAt] of tokenExpiry) if (expiresAt <= now) tokenExpiry.delete(token);
  }

  function newSessionId(): string {
    let id = '';
    while (id.length < SESSION_LENGTH) {
      for (const byte of randomBytes(SESSION_LENGTH * 2)) {
        // 252 = 7 * 36: dropping the top bytes keeps every character equally likely.
        if (byte < 252 && id.length < SESSION_LENGTH) id += SESSION_ALPHABET[byte % 36];
      }
    }
    return sessions.has(id) ? newSessionId() : id;
  }

  return {
    tokenTtlSeconds,

    /** A token that never expires by itself: a personal access token (docs/token-dialects.md). */
    registerLongLivedToken(token: string): void {
      tokenExpiry.set(token, Number.POSITIVE_INFINITY);
    },

    /** A new bearer token, random like the platform's example `9MRSxm+GZwLfRKLn1luFrJvUP5A=`. */
    issueToken(): string {
      if (tokenExpiry.size >= TOKEN_SWEEP_THRESHOLD) sweepExpiredTokens();
      let token: string;
      do token = randomBytes(20).toString('base64');
      while (tokenExpiry.has(token));
      tokenExpiry.set(token, clock.now() + tokenTtlSeconds * 1000);
      tokensIssued += 1;
      return token;
    },

    isTokenValid(token: string): boolean {
      const expiresAt = tokenExpiry.get(token);
      return expiresAt !== undefined && clock.now() < expiresAt;
    },

    forgetAllTokens(): void {
      tokenExpiry.clear();
    },

    /** Creates the user on first login, updates changed details, and always opens a new session. */
    login(details: LoginDetails): { user: PlatformUserView; session: string } {
      let user = usersByHostId.get(details.hostId);
      if (!user) {
        user = { userId: nextUserId, hostId: details.hostId, name: details.name, email: details.email ?? null };
        nextUserId += 1;
        usersByHostId.set(user.hostId, user);
        usersById.set(user.userId, user);
      } else {
        user.name = details.name;
        if (details.email !== undefined) user.email = details.email;
      }
      const session = newSessionId();
      sessions.set(session, { userId: user.userId, lastActivityAt: clock.now(), loggedOut: false });
      return { user: { ...user }, session };
    },

    /** Ends a session at once. Unknown or already dead sessions are fine: logout is idempotent. */
    logout(sessionId: string): void {
      const session = sessions.get(sessionId);
      if (session) session.loggedOut = true;
    },

    /** The user of a live session, counting this as activity; `null` for a dead or unknown one. */
    touchSession(sessionId: string): PlatformUserView | null {
      const session = sessions.get(sessionId);
      if (!session || !isAlive(session)) return null;
      session.lastActivityAt = clock.now();
      const user = usersById.get(session.userId);
      return user ? { ...user } : null;
    },

    /** A look at a session without counting it as activity. */
    sessionInfo(sessionId: string): (PlatformUserView & { alive: boolean }) | null {
      const session = sessions.get(sessionId);
      const user = session && usersById.get(session.userId);
      if (!session || !user) return null;
      return { ...user, alive: isAlive(session) };
    },

    /** The user's name as it is now: comments show this, not the name they were posted under. */
    currentName(userId: number): string | null {
      return usersById.get(userId)?.name ?? null;
    },

    userByHostId(hostId: string): PlatformUserView | null {
      const user = usersByHostId.get(hostId);
      return user ? { ...user } : null;
    },

    counts(): { tokensIssued: number; users: number; liveSessions: number } {
      let liveSessions = 0;
      for (const session of sessions.values()) if (isAlive(session)) liveSessions += 1;
      return { tokensIssued, users: usersById.size, liveSessions };
    },
  };
}
