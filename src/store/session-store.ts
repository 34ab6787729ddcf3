import session from 'express-session';
import type { Kysely } from 'kysely';
import type { Request } from 'express';
import { inBatches, keyIn, type Clock } from 'vf-login-bridge';
import { attachSnapshot, attachedSnapshot, createReaderReads, type ReaderReads } from './reader-snapshot';
import type { DatabaseSchema } from './schema';

type Callback = (err?: unknown) => void;

/**
 * express-session Store over the `sessions` table, through Kysely: the same code keeps
 * sessions in SQLite (the default) and PostgreSQL. Expired rows are never returned; they are
 * pruned by the leased prune job (src/site.ts), so one instance does it. It has no `touch`: the site moves a
 * session's expiry by saving it, and only when it moves by a minute (src/auth/session-lifetime.ts).
 */
export class DatabaseSessionStore extends session.Store {
  private readonly reads: ReaderReads;

  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly clock: Clock,
    private readonly defaultTtlMs: number,
  ) {
    super();
    this.reads = createReaderReads(db);
  }

  /** The session, its reader and its bridge row in one statement; the last two ride along unsaved. */
  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    this.reads.sessionWithReader(sid, this.clock.now()).then((found) => {
      if (!found) return callback(null, null);
      const data = JSON.parse(found.sess) as session.SessionData;
      attachSnapshot(data, found.snapshot);
      callback(null, data);
    }, callback);
  }

  /** express-session builds the request's session from what get() gave: the snapshot moves to the request. */
  override createSession(req: Request, data: session.SessionData): session.Session & session.SessionData {
    const snapshot = attachedSnapshot(data);
    if (snapshot) attachSnapshot(req, snapshot);
    return super.createSession(req, data);
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    const sess = JSON.stringify(data);
    const expires_at = this.expiryOf(data);
    const user = (data as { passport?: { user?: unknown } }).passport?.user;
    const user_id = typeof user === 'number' ? user : null;
    this.db
      .insertInto('sessions')
      .values({ sid, sess, expires_at, user_id })
      .onConflict((oc) => oc.column('sid').doUpdateSet({ sess, expires_at, user_id }))
      .execute()
      .then(() => callback?.(), (err: unknown) => callback?.(err));
  }

  override destroy(sid: string, callback?: Callback): void {
    this.db
      .deleteFrom('sessions')
      .where('sid', '=', sid)
      .execute()
      .then(() => callback?.(), (err: unknown) => callback?.(err));
  }

  /**
   * Deletes expired rows, at most `batchSize` a statement (by the expires_at index, by key, the
   * expiry checked again on each row, so a session saved meanwhile stays), until a batch comes back
   * short; returns how many. No statement holds the table for long.
   */
  prune(batchSize = 500): Promise<number> {
    const now = this.clock.now();
    const expired = this.db.selectFrom('sessions').select('sid').where('expires_at', '<=', now).orderBy('expires_at').limit(batchSize);
    return inBatches(batchSize, async () => {
      const result = await this.db.deleteFrom('sessions').where(keyIn(this.db, 'sid', expired)).where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  /** Which of these sessions the table holds unexpired, in one statement (reconciliation asks a page at a time). */
  async existing(sids: readonly string[]): Promise<ReadonlySet<string>> {
    if (sids.length === 0) return new Set();
    const rows = await this.db.selectFrom('sessions').select('sid').where('sid', 'in', sids).where('expires_at', '>', this.clock.now()).execute();
    return new Set(rows.map((row) => row.sid));
  }


  private expiryOf(data: session.SessionData): number {
    const expires = data.cookie?.expires;
    return expires ? new Date(expires).getTime() : this.clock.now() + this.defaultTtlMs;
  }
}
