import { Kysely, Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './database';

/**
 * The bridge's own migrations, recorded in its own table (`<prefix>migrations`), so they never
 * mix with the host site's. Every table and index carries the prefix. DDL is the only place SQLite
 * and PostgreSQL differ: the width of integers. `if not exists` throughout: a database the demo
 * site made before the bridge had its own migrations already holds these tables, moved under the
 * prefix by the site's own migration (docs/architecture.md#tables).
 */
function migrations(dialect: Dialect, prefix: string): Record<string, Migration> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  const t = (name: string) => `${prefix}${name}`;
  return {
    '001_bridge_tables': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable(t('bridge_sessions'))
          .ifNotExists()
          .addColumn('host_sid', 'text', (c) => c.primaryKey())
          .addColumn('host_user_id', 'text', (c) => c.notNull())
          .addColumn('platform_user_id', 'text')
          .addColumn('platform_session', 'text')
          .addColumn('last_activity_at', time, (c) => c.notNull())
          .addColumn('retry_at', time)
          .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('ended_at', time)
          .execute();
        await db.schema.createIndex(t('bridge_sessions_host_user_id')).ifNotExists().on(t('bridge_sessions')).column('host_user_id').execute();

        // A queued logout is claimed by one instance before it is sent (docs/architecture.md).
        await db.schema
          .createTable(t('pending_logouts'))
          .ifNotExists()
          .addColumn('platform_session', 'text', (c) => c.primaryKey())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', time, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('claim_token', 'text')
          .addColumn('claimed_until', time)
          .execute();
        await db.schema.createIndex(t('pending_logouts_next_attempt_at')).ifNotExists().on(t('pending_logouts')).column('next_attempt_at').execute();

        await db.schema
          .createTable(t('hook_replays'))
          .ifNotExists()
          .addColumn('signature', 'text', (c) => c.primaryKey())
          .addColumn('expires_at', time, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable(t('job_leases'))
          .ifNotExists()
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('lease_until', time, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable(t('platform_tokens'))
          .ifNotExists()
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('sealed', 'text')
          .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_holder', 'text')
          .addColumn('lease_until', time)
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
      },
    },
  };
}

/** The schema PostgreSQL resolves unqualified names in; Kysely otherwise looks for its tables in every schema. */
async function currentSchema(db: Kysely<unknown>, dialect: Dialect): Promise<string | undefined> {
  if (dialect !== 'postgres') return undefined;
  return (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
}

/** Runs the migrations in `provide`, recorded in `<table>` and `<table>_lock` of the current schema. */
export async function runMigrations(db: Kysely<unknown>, dialect: Dialect, table: string, provide: () => Record<string, Migration>): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => provide() };
  // With another schema of the same database holding a migration table of that name (a second
  // site, a test run), Kysely would otherwise skip creating the tables here.
  const schema = await currentSchema(db, dialect);
  const migrator = new Migrator({ db, provider, migrationTableName: table, migrationLockTableName: `${table}_lock`, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

/** Brings the bridge's tables under `prefix` up to date. */
export function migrateBridgeTables(db: Kysely<unknown>, dialect: Dialect, prefix: string): Promise<void> {
  return runMigrations(db, dialect, `${prefix}migrations`, () => migrations(dialect, prefix));
}
