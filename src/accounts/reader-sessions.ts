import Bowser from 'bowser';
import type session from 'express-session';
import type { Kysely } from 'kysely';
import { storeRead } from 'vf-login-bridge';
import type { DatabaseSchema } from '../store/schema';
import type { SessionIndex } from '../auth/session-index';

/**
 * One logged-in session of a reader, as the reader may see it (ASVS 3.3.4): named by its public
 * id, never by its session id, and with whether the platform holds a session for it, never that
 * session's token.
 */
export interface ReaderSession {
  publicId: string;
  /** browser and operating system, as far as the user agent tells */
  device: string;
  userAgent: string;
  /** the client's network, truncated when the session started (src/auth/session-index.ts) */
  network: string;
  startedAt: number;
  /** moves at most about once a minute (src/auth/session-lifetime.ts), so it is "about" */
  lastSeenAt: number;
  /** the bridge has a live platform session for it */
  platformSession: boolean;
  /** the browser asking */
  current: boolean;
}

/** "Firefox 128 on Linux", as far as the user agent tells; "Unknown device" when it tells nothing. */
export function deviceOf(userAgent: string): string {
  let parsed: Bowser.Parser.ParsedResult | undefined;
  try {
    // bowser refuses an empty string; anything else it parses, possibly to nothing.
    parsed = userAgent.trim() ? Bowser.parse(userAgent) : undefined;
  } catch {
    parsed = undefined;
  }
  const browser = parsed?.browser.name ? [parsed.browser.name, parsed.browser.version?.split('.')[0]].filter(Boolean).join(' ') : '';
  const os = parsed?.os.name ?? '';
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  if (os) return `A browser on ${os}`;
  return 'Unknown device';
}

export interface ReaderSessionDeps {
  index: SessionIndex;
  /** the store express-session is given (src/auth/host-session.ts) */
  store: session.Store;
  db: Kysely<DatabaseSchema>;
}

/**
 * A reader's sessions, from the index of their logins (src/auth/session-index.ts), each checked
 * against the session store: a session that has ended (logged out, expired, its store row gone)
 * is dropped from the index here and not shown. Which of them hold a platform session, and the
 * reader's platform user id, come from the bridge's rows.
 */
export function createReaderSessions(deps: ReaderSessionDeps) {
  const { index, store, db } = deps;

  /** The bridge's rows of this reader, live and ended (an ended one is a tombstone for a while). */
  const bridgeRowsOf = (userId: number) =>
    db
      .selectFrom('bridge_sessions')
      .select(['host_sid', 'platform_user_id', 'platform_session', 'ended_at'])
      .where('host_user_id', '=', String(userId))
      .execute();

  return {
    /** The live sessions of this reader, this browser's first, then the most recently seen. */
    async list(userId: number, currentSid: string | undefined): Promise<ReaderSession[]> {
      const [entries, rows] = await Promise.all([index.list(userId), bridgeRowsOf(userId)]);
      const withPlatform = new Set(rows.filter((row) => row.ended_at === null && row.platform_session !== null).map((row) => row.host_sid));
      const read = await Promise.all(entries.map(async (entry) => ({ entry, data: await storeRead(store, entry.sid) })));
      // A login saves its session before it is indexed (passport saves at login), so a session
      // the store does not hold, or holds for nobody or someone else, has ended.
      const live = read.filter(({ data }) => data?.passport?.user === userId);
      await index.forget(read.filter((found) => !live.includes(found)).map(({ entry }) => entry.sid));
      return live
        .map(({ entry, data }) => ({
          publicId: entry.publicId,
          device: deviceOf(entry.userAgent),
          userAgent: entry.userAgent,
          network: entry.network,
          startedAt: entry.startedAt,
          lastSeenAt: data?.rolledAt ?? data?.startedAt ?? entry.startedAt,
          platformSession: withPlatform.has(entry.sid),
          current: entry.sid === currentSid,
        }))
        .sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt - a.lastSeenAt);
    },

    /** The reader's user id on the platform, if any bridge row of theirs knows it. */
    async platformUserIdOf(userId: number): Promise<string | undefined> {
      const rows = await bridgeRowsOf(userId);
      const known = rows.filter((row) => row.platform_user_id !== null).sort((a, b) => Number(a.ended_at !== null) - Number(b.ended_at !== null));
      return known[0]?.platform_user_id ?? undefined;
    },
  };
}

export type ReaderSessions = ReturnType<typeof createReaderSessions>;
