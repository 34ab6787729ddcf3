import session from 'express-session';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import type { DatabaseSchema } from './schema';

type Callback = (err?: unknown) => void;

/**
 * express-session Store over the `sessions` table, through Kysely: the same code keeps
 * sessions in SQLite (the default) and PostgreSQL. Expired rows are never returned and are
 * pruned on a timer that does not keep the process alive.
 */
export class DatabaseSessionStore extends session.Store {
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly clock: Clock,
    private readonly defaultTtlMs: number,
    pruneEveryMs = 15 * 60_000,
  ) {
    super();
    this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), pruneEveryMs);
    this.pruneTimer.unref();
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    this.db
      .selectFrom('sessions')
      .select('sess')
      .where('sid', '=', sid)
      .where('expires_at', '>', this.clock.now())
      .executeTakeFirst()
      .then((row) => callback(null, row ? (JSON.parse(row.sess) as session.SessionData) : null), callback);
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    const sess = JSON.stringify(data);
    const expires_at = this.expiryOf(data);
    this.db
      .insertInto('sessions')
      .values({ sid, sess, expires_at })
      .onConflict((oc) => oc.column('sid').doUpdateSet({ sess, expires_at }))
      .execute()
      .then(() => callback?.(), (err: unknown) => callback?.(err));
  }

  /**
   * A rolling session is touched by every request. Moving its expiry by less than a minute (or a
   * hundredth of its lifetime) is not worth a write, so such a touch matches no row.
   */
  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    const expires_at = this.expiryOf(data);
    const resolution = Math.min(60_000, this.defaultTtlMs / 100);
    this.db
      .updateTable('sessions')
      .set({ expires_at })
      .where('sid', '=', sid)
      .where('expires_at', '<', expires_at - resolution)
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

  /** Deletes expired rows; returns how many. */
  async prune(): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<=', this.clock.now()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  close(): void {
    clearInterval(this.pruneTimer);
  }

  private expiryOf(data: session.SessionData): number {
    const expires = data.cookie?.expires;
    return expires ? new Date(expires).getTime() : this.clock.now() + this.defaultTtlMs;
  }
}
