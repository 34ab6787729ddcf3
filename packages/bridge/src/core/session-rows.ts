/**
 * Every statement on the bridge's sessions table: one row per logged-in host session, holding its
 * platform session, and a tombstone once it has logged out (docs/architecture.md#tables).
 */
import type { Kysely } from 'kysely';
import type { PlatformSession } from '../platform/accounts-client';
import type { BridgeSchema, Db } from '../store/schema';
import { compileOnce } from '../store/compiled-query';
import { BRIDGE_SESSION_COLUMNS, type BridgeSessionRow } from '../store/session-columns';
import { keyIn } from './batches';
import { enqueueLogout } from './outbox-rows';
import { emptyRow, sessionLeftOver } from './policy';

/** The two reads of a page view: a host session's row, and whether it is a tombstone. */
export interface RowReads {
  row(hostSessionId: string): Promise<BridgeSessionRow | undefined>;
  hasEnded(hostSessionId: string): Promise<boolean>;
}

/**
 * Built and compiled once per bridge (src/store/compiled-query.ts): every page view runs them,
 * and building Kysely's query tree, prefixing its tables and compiling it again each time costs
 * more than running the statement.
 */
export function createRowReads(db: Kysely<BridgeSchema>): RowReads {
  const row = compileOnce(db, (sid: string) => db.selectFrom('bridge_sessions').select(BRIDGE_SESSION_COLUMNS).where('host_sid', '=', sid), 1);
  const endedAt = compileOnce(db, (sid: string) => db.selectFrom('bridge_sessions').select('ended_at').where('host_sid', '=', sid), 1);
  return {
    row,
    hasEnded: async (sid) => (await endedAt(sid))?.ended_at != null,
  };
}

/**
 * The row this host session logs in with, or null when the session has logged out (a request
 * that was in flight at the logout). A row left by another user (which a regenerated session id
 * rules out, but a shared database may not) is reset, its platform session queued for logout.
 * Writing the row before the platform call means a logout that comes meanwhile ends it, and the
 * login's conditional update then sees that.
 */
export function claimRow(db: Kysely<BridgeSchema>, hostSessionId: string, hostUserId: string, now: number): Promise<BridgeSessionRow | null> {
  const fresh = emptyRow(hostSessionId, hostUserId, now);
  const { host_sid: _key, ...reset } = fresh;
  return db.transaction().execute(async (trx) => {
    // A write first (a no-op when the row exists): SQLite then holds the write lock for the
    // whole transaction instead of failing on a read snapshot another process made stale.
    const inserted = await trx.insertInto('bridge_sessions').values(fresh).onConflict((oc) => oc.column('host_sid').doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return fresh;
    const row = await trx.selectFrom('bridge_sessions').select(BRIDGE_SESSION_COLUMNS).where('host_sid', '=', hostSessionId).executeTakeFirstOrThrow();
    if (row.ended_at !== null) return null;
    if (row.host_user_id === hostUserId) return row;
    // Never over a tombstone: a logout that committed since the read above stands.
    const updated = await trx.updateTable('bridge_sessions').set(reset).where('host_sid', '=', hostSessionId).where('ended_at', 'is', null).executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return null;
    if (row.platform_session) await enqueueLogout(trx, row.platform_session, now);
    return fresh;
  });
}

/**
 * Writes a platform login's session into the row it started from (`previousSession` is what that
 * row held), and queues what it leaves to log out. `won`: the row took the new session.
 */
export function recordLogin(
  db: Kysely<BridgeSchema>,
  row: { hostSessionId: string; hostUserId: string; previousSession: string | null },
  fresh: PlatformSession,
  now: number,
): Promise<{ won: boolean; replaced: string | null }> {
  return db.transaction().execute(async (trx) => {
    // Only over the row this login started from: if a logout or another login got there
    // first, that one stands and the session just opened is the one to log out.
    let update = trx
      .updateTable('bridge_sessions')
      .set({ platform_user_id: fresh.userId, platform_session: fresh.session, last_activity_at: now, retry_at: null, failed_attempts: 0 })
      .where('host_sid', '=', row.hostSessionId)
      .where('host_user_id', '=', row.hostUserId)
      .where('ended_at', 'is', null);
    update =
      row.previousSession === null
        ? update.where('platform_session', 'is', null)
        : update.where('platform_session', '=', row.previousSession);
    const result = await update.executeTakeFirst();
    const won = Number(result.numUpdatedRows) === 1;
    const toLogOut = sessionLeftOver(won, row.previousSession, fresh.session);
    if (toLogOut !== null) await enqueueLogout(trx, toLogOut, now);
    return { won, replaced: toLogOut };
  });
}

/** Records a failed login on a live row of this user; false when no such row is left (a logout came). */
export async function markLoginFailure(
  db: Kysely<BridgeSchema>,
  row: { hostSessionId: string; hostUserId: string },
  failure: { retryAt: number; failedAttempts: number },
): Promise<boolean> {
  const marked = await db
    .updateTable('bridge_sessions')
    .set({ retry_at: failure.retryAt, failed_attempts: failure.failedAttempts })
    .where('host_sid', '=', row.hostSessionId)
    .where('host_user_id', '=', row.hostUserId)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(marked.numUpdatedRows) === 1;
}

export async function touchActivity(db: Kysely<BridgeSchema>, hostSessionId: string, now: number): Promise<void> {
  await db.updateTable('bridge_sessions').set({ last_activity_at: now }).where('host_sid', '=', hostSessionId).execute();
}

/**
 * Ends host sessions' rows, one host session's or every one of a user's, and queues their
 * platform logouts, in the caller's transaction. Each row becomes a tombstone, so the platform
 * session is forgotten exactly once. The delete comes first: a transaction that starts by
 * writing takes SQLite's write lock at once instead of failing on a stale read snapshot.
 * Ending one host session leaves a tombstone even when it had no row, so a page view already
 * under way cannot create one and log the reader back in.
 */
export async function endRows(
  trx: Db,
  which: { hostSessionId: string } | { hostUserId: string },
  now: number,
): Promise<Array<{ host_sid: string; platform_session: string | null }>> {
  const oneSession = 'hostSessionId' in which;
  const ended = await trx
    .deleteFrom('bridge_sessions')
    .where(oneSession ? 'host_sid' : 'host_user_id', '=', oneSession ? which.hostSessionId : which.hostUserId)
    .where('ended_at', 'is', null)
    .returning(['host_sid', 'host_user_id', 'platform_session', 'last_activity_at'])
    .execute();
  const tombstones = ended.map((row) => emptyRow(row.host_sid, row.host_user_id, row.last_activity_at, now));
  if (oneSession && ended.length === 0) tombstones.push(emptyRow(which.hostSessionId, '', now, now));
  if (tombstones.length > 0) {
    await trx.insertInto('bridge_sessions').values(tombstones).onConflict((oc) => oc.column('host_sid').doNothing()).execute();
  }
  for (const row of ended) if (row.platform_session) await enqueueLogout(trx, row.platform_session, now);
  return ended;
}

/** Ends one host session in a transaction of its own; returns the platform session queued for logout, if any. */
export function endHostSession(db: Kysely<BridgeSchema>, hostSessionId: string, now: number): Promise<string | null> {
  return db.transaction().execute(async (trx) => (await endRows(trx, { hostSessionId }, now))[0]?.platform_session ?? null);
}

/** Ends every host session of a user in one transaction; returns the rows ended. */
export function endUserSessions(db: Kysely<BridgeSchema>, hostUserId: string, now: number): Promise<Array<{ host_sid: string; platform_session: string | null }>> {
  return db.transaction().execute((trx) => endRows(trx, { hostUserId }, now));
}

/**
 * Forgets at most `limit` tombstones that ended at or before `endedUpTo`, oldest first; returns
 * how many. By key, with the condition checked again on each row deleted: on PostgreSQL a row
 * that changed after the inner select is deleted only if it still qualifies.
 */
export async function deleteTombstones(db: Db, endedUpTo: number, limit: number): Promise<number> {
  const tombstones = await db
    .deleteFrom('bridge_sessions')
    .where(keyIn(db, 'host_sid', db.selectFrom('bridge_sessions').select('host_sid').where('ended_at', '<=', endedUpTo).orderBy('ended_at').limit(limit)))
    .where('ended_at', '<=', endedUpTo)
    .executeTakeFirst();
  return Number(tombstones.numDeletedRows);
}

/**
 * Deletes at most `limit` live rows no page view has touched since `idleSince`, longest idle
 * first; returns their platform sessions (null: none). A row a page view touches after the inner
 * select is kept: the outer condition is checked again on the row as it is then.
 */
export async function deleteAbandoned(trx: Db, idleSince: number, limit: number): Promise<Array<string | null>> {
  const abandoned = await trx
    .deleteFrom('bridge_sessions')
    .where(
      keyIn(
        trx,
        'host_sid',
        trx.selectFrom('bridge_sessions').select('host_sid').where('ended_at', 'is', null).where('last_activity_at', '<=', idleSince).orderBy('last_activity_at').limit(limit),
      ),
    )
    .where('ended_at', 'is', null)
    .where('last_activity_at', '<=', idleSince)
    .returning('platform_session')
    .execute();
  return abandoned.map((row) => row.platform_session);
}

/** One page of live host session ids after `after` in key order, of rows not active since `activeUpTo`. */
export async function reconcilePage(db: Db, after: string, activeUpTo: number, limit: number): Promise<string[]> {
  const page = await db
    .selectFrom('bridge_sessions')
    .select('host_sid')
    .where('host_sid', '>', after)
    .where('ended_at', 'is', null)
    .where('last_activity_at', '<=', activeUpTo)
    .orderBy('host_sid')
    .limit(limit)
    .execute();
  return page.map((row) => row.host_sid);
}

/**
 * The host session ids the bridge holds live rows for, for one host user: the site's index of a
 * reader's sessions (a row is written at every login, before the platform is called, and becomes
 * a tombstone at logout). Used to cap how many sessions one reader keeps.
 */
export async function liveHostSessionsOf(db: Kysely<BridgeSchema>, hostUserId: string): Promise<string[]> {
  const rows = await db.selectFrom('bridge_sessions').select('host_sid').where('host_user_id', '=', hostUserId).where('ended_at', 'is', null).execute();
  return rows.map((row) => row.host_sid);
}
