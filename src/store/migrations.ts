import { Kysely, Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './database';

/**
 * Migrations are code, in order. DDL is the only place SQLite and PostgreSQL differ:
 * the identity column and the width of integers.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    '001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('email', 'text', (c) => c.notNull().unique())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('sessions')
          .addColumn('sid', 'text', (c) => c.primaryKey())
          .addColumn('sess', 'text', (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

        await db.schema
          .createTable('bridge_sessions')
          .addColumn('host_sid', 'text', (c) => c.primaryKey())
          .addColumn('host_user_id', 'text', (c) => c.notNull())
          .addColumn('platform_user_id', 'text')
          .addColumn('platform_session', 'text')
          .addColumn('last_activity_at', time, (c) => c.notNull())
          .addColumn('retry_at', time)
          .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex('bridge_sessions_host_user_id')
          .on('bridge_sessions')
          .column('host_user_id')
          .execute();

        await db.schema
          .createTable('pending_logouts')
          .addColumn('platform_session', 'text', (c) => c.primaryKey())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', time, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('hook_replays')
          .addColumn('signature', 'text', (c) => c.primaryKey())
          .addColumn('expires_at', time, (c) => c.notNull())
          .execute();
      },
    },
    '002_bridge_session_tombstones': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('bridge_sessions').addColumn('ended_at', time).execute();
      },
    },
    '003_outbox_claims_and_job_leases': {
      async up(db: Kysely<unknown>) {
        // A queued logout is claimed by one instance before it is sent (docs/architecture.md).
        await db.schema.alterTable('pending_logouts').addColumn('claim_token', 'text').execute();
        await db.schema.alterTable('pending_logouts').addColumn('claimed_until', time).execute();
        await db.schema.createIndex('pending_logouts_next_attempt_at').on('pending_logouts').column('next_attempt_at').execute();
        await db.schema
          .createTable('job_leases')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('lease_until', time, (c) => c.notNull())
          .execute();
      },
    },
    '004_platform_tokens': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('platform_tokens')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('sealed', 'text')
          .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_holder', 'text')
          .addColumn('lease_until', time)
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
      },
    },
    '005_sessions_user_id': {
      async up(db: Kysely<unknown>) {
        // A page view reads the session, its reader and its bridge row in one statement (docs/architecture.md#a-page-view).
        await db.schema.alterTable('sessions').addColumn('user_id', 'integer').execute();
      },
    },
  };
}

export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  // Kysely looks for its own tables in every schema unless told which: with another schema of the
  // same database holding them (a second site, a test run), it would skip creating them here.
  const schema = dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const { error } = await new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) }).migrateToLatest();
  if (error) throw error;
  // Readiness probes and tests rely on the schema being complete after this resolves.
  await sql`select 1`.execute(db);
}
