import { Client } from 'pg';
import { sql, type Kysely } from 'kysely';
import { openBridgeDatabase } from 'vf-login-bridge';
import type { Database } from '../../src/store/database';
import { openTempDatabase } from '../helpers/temp-database';

const PRUNE_INDEXES = ['vf_bridge_sessions_ended_at', 'vf_bridge_sessions_idle', 'vf_hook_replays_expires_at', 'vf_pending_logouts_created_at'];
const onSqlite = (process.env.BACKEND ?? 'sqlite') === 'sqlite';
const onPostgres = onSqlite ? test.skip : test;

/**
 * The bridge's migration 002 (packages/bridge/src/store/migrations.ts) adds the indexes pruning
 * and the outbox's expiry read by, to a database that already holds rows; on PostgreSQL it
 * builds them concurrently, outside a transaction, and rebuilds one a failed build left INVALID.
 */
describe('the prune indexes migration', () => {
  let database: Database & { url: string };
  // Kysely<any>: the migration's tables by their full, prefixed names, as the migration writes them.
  let raw: Kysely<any>;

  beforeEach(async () => {
    database = await openTempDatabase();
    raw = database.db as Kysely<any>;
  });
  afterEach(async () => {
    await database.close();
  });

  /** Index name → whether PostgreSQL may use it (always true on SQLite). */
  async function indexes(): Promise<Map<string, boolean>> {
    const query = onSqlite
      ? sql<{ name: string; valid: number | boolean }>`select name, 1 as valid from sqlite_master where type = 'index'`
      : sql<{ name: string; valid: number | boolean }>`
          select c.relname as name, i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid
          where c.relnamespace = current_schema()::regnamespace`;
    return new Map((await query.execute(raw)).rows.map((row) => [row.name, Boolean(row.valid)]));
  }

  /** Back to a database the bridge's migration 001 made: 002's indexes and its record gone. */
  async function undoMigration002(): Promise<void> {
    for (const name of PRUNE_INDEXES) await sql`drop index if exists ${sql.id(name)}`.execute(raw);
    await sql`delete from vf_migrations where name = '002_prune_indexes'`.execute(raw);
  }

  const migrate = async () => (await openBridgeDatabase(raw, { tablePrefix: 'vf_' })).close();

  test('a new database has them, and the site its index on one-time links by expiry', async () => {
    const found = await indexes();
    for (const name of [...PRUNE_INDEXES, 'account_tokens_expires_at']) expect(found.get(name)).toBe(true);
  });

  test('on a database that already holds rows, they are built and every row stays', async () => {
    await undoMigration002();
    const now = Date.UTC(2026, 10, 2, 9, 0, 0);
    const rows = Array.from({ length: 300 }, (_, i) => ({
      host_sid: `s${i}`,
      host_user_id: `u${i}`,
      platform_user_id: null,
      platform_session: i % 3 === 0 ? null : `ps${i}`,
      last_activity_at: now - i * 60_000,
      retry_at: null,
      failed_attempts: 0,
      ended_at: i % 3 === 0 ? now - i : null,
    }));
    await raw.insertInto('vf_bridge_sessions').values(rows).execute();
    await raw
      .insertInto('vf_pending_logouts')
      .values(rows.slice(0, 50).map((row) => ({ platform_session: `q-${row.host_sid}`, attempts: 0, next_attempt_at: now, created_at: now - 1000, claim_token: null, claimed_until: null })))
      .execute();
    for (const name of PRUNE_INDEXES) expect((await indexes()).has(name)).toBe(false);

    await migrate();

    const found = await indexes();
    for (const name of PRUNE_INDEXES) expect(found.get(name)).toBe(true);
    const count = async (table: string) => Number((await raw.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    expect(await count('vf_bridge_sessions')).toBe(300);
    expect(await count('vf_pending_logouts')).toBe(50);
    const recorded = await raw.selectFrom('vf_migrations').select('name').where('name', '=', '002_prune_indexes').execute();
    expect(recorded).toHaveLength(1);
  });

  onPostgres('PostgreSQL: an index a failed concurrent build left INVALID is dropped and built again', async () => {
    await undoMigration002();
    const now = Date.UTC(2026, 10, 2, 9, 0, 0);
    // Two tombstones that ended at the same moment: a unique build of the index's name fails on them.
    const tombstone = (sid: string) => ({ host_sid: sid, host_user_id: 'u', platform_user_id: null, platform_session: null, last_activity_at: now, retry_at: null, failed_attempts: 0, ended_at: now });
    await raw.insertInto('vf_bridge_sessions').values([tombstone('a'), tombstone('b')]).execute();
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      await expect(client.query('create unique index concurrently vf_bridge_sessions_ended_at on vf_bridge_sessions (ended_at) where ended_at is not null')).rejects.toThrow(/could not create unique index/);
    } finally {
      await client.end();
    }
    expect((await indexes()).get('vf_bridge_sessions_ended_at')).toBe(false);

    await migrate();

    expect((await indexes()).get('vf_bridge_sessions_ended_at')).toBe(true);
    const rebuilt = await sql<{ unique: boolean }>`
      select i.indisunique as unique from pg_index i join pg_class c on c.oid = i.indexrelid
      where c.relname = 'vf_bridge_sessions_ended_at' and c.relnamespace = current_schema()::regnamespace`.execute(raw);
    expect(rebuilt.rows).toEqual([{ unique: false }]);
  });

  onPostgres('PostgreSQL: instances starting at once migrate one after the other, and each index is built once', async () => {
    await undoMigration002();

    await Promise.all([migrate(), migrate(), migrate()]);

    const found = await indexes();
    for (const name of PRUNE_INDEXES) expect(found.get(name)).toBe(true);
    const recorded = await raw.selectFrom('vf_migrations').select('name').execute();
    expect(recorded.map((row) => row.name).sort()).toEqual(['001_bridge_tables', '002_prune_indexes']);
  });
});
