import type { Clock } from 'vf-login-bridge';
import type { ReaderSessions } from './reader-sessions';
import type { User, UserStore } from '../store/user-store';
import type { IdentityStore } from '../store/identity-store';
import type { Verification } from './verification';

/**
 * Everything the site holds about a reader, for the reader to take away. Never the password hash,
 * a one-time link's token, a session id or a platform session: each would let whoever reads the
 * file act as the reader, and none is the reader's information.
 */
export interface AccountExport {
  exportedAt: string;
  account: {
    id: number;
    email: string;
    name: string;
    role: User['role'];
    emailVerified: boolean;
    emailVerifiedAt: string | null;
    emailChangedAt: string | null;
    /** an address a change is waiting on (its link not opened yet) */
    pendingEmail: string | null;
    createdAt: string;
    updatedAt: string;
  };
  sessions: Array<{
    device: string;
    userAgent: string;
    network: string;
    startedAt: string;
    lastSeenAt: string;
    platformSession: boolean;
    current: boolean;
  }>;
  platform: { userId: string | null };
  /** the OpenID Provider accounts that log in to this one */
  identities: Array<{ issuer: string; subject: string; linkedAt: string }>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function createAccountExport(deps: { users: UserStore; identities: IdentityStore; verification: Verification; readerSessions: ReaderSessions; clock: Clock }) {
  const { users, identities: identityStore, verification, readerSessions, clock } = deps;

  return {
    /** Undefined when the account is gone (deleted meanwhile). */
    async exportOf(user: User, currentSid: string | undefined): Promise<AccountExport | undefined> {
      const [dates, pendingEmail, sessions, platformUserId, identities] = await Promise.all([
        users.datesOf(user.id),
        verification.pendingChange(user),
        readerSessions.list(user.id, currentSid),
        readerSessions.platformUserIdOf(user.id),
        identityStore.listFor(user.id),
      ]);
      if (!dates) return undefined;
      return {
        exportedAt: iso(clock.now()),
        account: {
          id: user.id,
          email: user.email,
          name: user.name,
          role: user.role,
          emailVerified: user.emailVerified,
          emailVerifiedAt: dates.emailVerifiedAt === null ? null : iso(dates.emailVerifiedAt),
          emailChangedAt: dates.emailChangedAt === null ? null : iso(dates.emailChangedAt),
          pendingEmail: pendingEmail ?? null,
          createdAt: iso(dates.createdAt),
          updatedAt: iso(dates.updatedAt),
        },
        // Listed field by field: a field added to ReaderSession later does not reach the file unread.
        sessions: sessions.map((s) => ({
          device: s.device,
          userAgent: s.userAgent,
          network: s.network,
          startedAt: iso(s.startedAt),
          lastSeenAt: iso(s.lastSeenAt),
          platformSession: s.platformSession,
          current: s.current,
        })),
        platform: { userId: platformUserId ?? null },
        identities: identities.map((identity) => ({ issuer: identity.issuer, subject: identity.subject, linkedAt: iso(identity.createdAt) })),
      };
    },
  };
}

export type AccountExporter = ReturnType<typeof createAccountExport>;
