import type { Kysely } from 'kysely';
import { bridgeRowFromJoined, joinedBridgeColumns, type BridgeSessionRow, type JoinedBridgeColumns } from 'vf-login-bridge';
import { compileOnce } from 'vf-login-bridge';
import type { DatabaseSchema, UserRole } from './schema';
import { userOf, type User } from './user-store';

/**
 * What a logged-in page view needs besides the session itself, read in the same statement as the
 * session where sessions live in the database, or in one statement after it where they live in
 * Redis (docs/architecture.md#a-page-view). Read afresh on every request, never cached: a logout
 * or an account change on any instance shows on the next view.
 */
export interface ReaderSnapshot {
  /** the host session the rows were read for */
  sid: string;
  /** the user id the session row names (null: a row from before sessions carried it) */
  sessionUserId: number | null;
  /** that user as the users table has it now; null: no such user */
  user: User | null;
  /** this host session's bridge row; null: it has none */
  bridgeRow: BridgeSessionRow | null;
}

/** The joined columns, named so no two tables' columns collide; the bridge's come from the bridge. */
const USER_COLUMNS = [
  'u.id as user_id_found',
  'u.email as user_email',
  'u.name as user_name',
  'u.email_verified_at as user_email_verified_at',
  'u.role as user_role',
  'u.credentials_version as user_credentials_version',
] as const;

interface JoinedColumns extends JoinedBridgeColumns {
  user_id_found: number | null;
  user_email: string | null;
  user_name: string | null;
  user_email_verified_at: number | null;
  user_role: UserRole | null;
  user_credentials_version: number | null;
}

function snapshotOf(sid: string, sessionUserId: number | null, row: JoinedColumns | undefined): ReaderSnapshot {
  const user =
    row && row.user_id_found !== null
      ? userOf({
          id: row.user_id_found,
          email: row.user_email!,
          name: row.user_name!,
          email_verified_at: row.user_email_verified_at,
          role: row.user_role!,
          credentials_version: row.user_credentials_version!,
        })
      : null;
  return { sid, sessionUserId, user, bridgeRow: row ? bridgeRowFromJoined(row) : null };
}

export interface ReaderReads {
  /**
   * A session row with its reader and bridge row, in one statement: the database session store's
   * read. Undefined when the session does not exist or has expired.
   */
  sessionWithReader(sid: string, now: number): Promise<{ sess: string; snapshot: ReaderSnapshot } | undefined>;
  /** A reader and the bridge row of one host session, in one statement: for sessions kept elsewhere (Redis). */
  reader(sid: string, userId: number): Promise<ReaderSnapshot>;
}

/** The two reads, built and compiled once for this database (packages/bridge/src/store/compiled-query.ts). */
export function createReaderReads(db: Kysely<DatabaseSchema>): ReaderReads {
  const BRIDGE_COLUMNS = joinedBridgeColumns('b');
  const sessionRow = compileOnce(
    db,
    (sid: string, now: number) =>
      db
        .selectFrom('sessions as s')
        .leftJoin('users as u', 'u.id', 's.user_id')
        .leftJoin('bridge_sessions as b', 'b.host_sid', 's.sid')
        .select(['s.sess', 's.user_id', ...USER_COLUMNS, ...BRIDGE_COLUMNS])
        .where('s.sid', '=', sid)
        .where('s.expires_at', '>', now),
    2,
  );
  const readerRow = compileOnce(
    db,
    (sid: string, userId: number) =>
      db
        .selectFrom('users as u')
        .leftJoin('bridge_sessions as b', (join) => join.on('b.host_sid', '=', sid))
        .select([...USER_COLUMNS, ...BRIDGE_COLUMNS])
        .where('u.id', '=', userId),
    2,
  );
  return {
    async sessionWithReader(sid, now) {
      const row = (await sessionRow(sid, now)) as (JoinedColumns & { sess: string; user_id: number | null }) | undefined;
      return row && { sess: row.sess, snapshot: snapshotOf(sid, row.user_id, row) };
    },
    async reader(sid, userId) {
      return snapshotOf(sid, userId, (await readerRow(sid, userId)) as JoinedColumns | undefined);
    },
  };
}

/**
 * Which object carries which snapshot: first the session data a store read, then the request. Kept
 * beside them, not in them, so it is never saved, serialised or copied into the session.
 */
const carried = new WeakMap<object, ReaderSnapshot>();

export function attachSnapshot(carrier: object, snapshot: ReaderSnapshot): void {
  carried.set(carrier, snapshot);
}

export function attachedSnapshot(carrier: object): ReaderSnapshot | undefined {
  return carried.get(carrier);
}

/** The snapshot read for this request's session; none when the session id has changed since (a login regenerates it). */
export function snapshotFor(req: { sessionID: string }): ReaderSnapshot | undefined {
  const snapshot = carried.get(req);
  return snapshot?.sid === req.sessionID ? snapshot : undefined;
}
