import { sql, type Kysely, type Migration } from 'kysely';
import { BRIDGE_TABLES, createIndexOnline, runMigrations, type Dialect, type StepMigration } from 'vf-login-bridge';

/**
 * The site's own migrations: its users and sessions. They keep the names and the table
 * (`kysely_migration`) of the site's earlier releases, whose 002-004 created the bridge's tables;
 * the bridge migrates those itself now (docs/architecture.md#tables), so they are empty here, and
 * 006 moves a database of those releases under the bridge's prefix, rows kept.
 */
function migrations(dialect: Dialect, bridgePrefix: string): Record<string, StepMigration> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  const done: Migration = { up: async () => undefined };
  return {
    '001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
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
      },
    },
    '002_bridge_session_tombstones': done,
    '003_outbox_claims_and_job_leases': done,
    '004_platform_tokens': done,
    '005_sessions_user_id': {
      async up(db: Kysely<unknown>) {
        // A page view reads the session, its reader and its bridge row in one statement (docs/architecture.md#a-page-view).
        await db.schema.alterTable('sessions').addColumn('user_id', 'integer').execute();
      },
    },
    '006_bridge_tables_under_prefix': {
      up: (db: Kysely<unknown>) => moveBridgeTables(db, dialect, bridgePrefix),
    },
    '007_accounts': {
      up: (db: Kysely<unknown>) => createAccountTables(db, dialect),
    },
    '008_identities': {
      up: (db: Kysely<unknown>) => createIdentityTables(db, dialect),
    },
    // The prune job deletes expired one-time links in batches by their expiry (src/accounts/account-tokens.ts);
    // built without blocking writes on a live table.
    '009_account_tokens_expires_at': {
      transaction: false,
      up: (db: Kysely<unknown>) => createIndexOnline(db, dialect, { name: 'account_tokens_expires_at', table: 'account_tokens', columns: ['expires_at'] }),
    },
  };
}

/**
 * Verified addresses, roles, the credentials version, one-time links, the mail outbox and the
 * index of each reader's sessions (docs/accounts.md). Each added column has a default, so the
 * statement is quick on a large table (no row is rewritten in PostgreSQL 11+ or SQLite); readers of
 * an earlier release start unverified, readers, at version 1.
 */
async function createAccountTables(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.alterTable('users').addColumn('email_verified_at', time).execute();
  await db.schema.alterTable('users').addColumn('email_changed_at', time).execute();
  await db.schema.alterTable('users').addColumn('role', 'text', (c) => c.notNull().defaultTo('reader')).execute();
  await db.schema.alterTable('users').addColumn('credentials_version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema
    .createTable('account_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('expires_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('account_tokens_user_purpose').on('account_tokens').columns(['user_id', 'purpose']).execute();
  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', time, (c) => c.notNull())
    .addColumn('claim_token', 'text')
    .addColumn('claimed_until', time)
    .execute();
  await db.schema.createIndex('mail_outbox_next_attempt_at').on('mail_outbox').column('next_attempt_at').execute();
  await db.schema
    .createTable('user_sessions')
    .addColumn('public_id', 'text', (c) => c.primaryKey())
    .addColumn('sid', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('started_at', time, (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addColumn('network', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('user_sessions_user_id').on('user_sessions').column('user_id').execute();
}

/**
 * Readers of the publisher's OpenID Provider (docs/oidc-login.md): their issuer and subject, and the
 * provider's session each login came with. A new table and a nullable column: quick on a large database.
 */
async function createIdentityTables(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('user_identities')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('user_identities_pkey', ['issuer', 'subject'])
    .execute();
  await db.schema.createIndex('user_identities_user_id').on('user_identities').column('user_id').execute();
  await db.schema.alterTable('user_sessions').addColumn('idp_sid', 'text').execute();
  await db.schema.createIndex('user_sessions_idp_sid').on('user_sessions').column('idp_sid').execute();
}

/** The indexes the earlier releases made on the bridge's tables, by table. */
const LEGACY_INDEXES: Record<string, { name: string; column: string }> = {
  bridge_sessions: { name: 'bridge_sessions_host_user_id', column: 'host_user_id' },
  pending_logouts: { name: 'pending_logouts_next_attempt_at', column: 'next_attempt_at' },
};

/**
 * A database of the earlier releases holds the bridge's tables without a prefix: each is renamed
 * under the prefix with its rows, and its indexes follow, so the database ends as a new one
 * starts and no name of the bridge's is left for a table of the site's to collide with. A new
 * database has none of them.
 */
async function moveBridgeTables(db: Kysely<unknown>, dialect: Dialect, prefix: string): Promise<void> {
  const existing = new Set(await tablesOfThisSchema(db, dialect));
  for (const table of BRIDGE_TABLES) {
    if (!existing.has(table) || existing.has(prefix + table)) continue;
    await sql`alter table ${sql.table(table)} rename to ${sql.table(prefix + table)}`.execute(db);
    // SQLite renames a table's own key index with it; PostgreSQL keeps the key's old name.
    if (dialect === 'postgres') await renamePrimaryKey(db, prefix + table);
    const index = LEGACY_INDEXES[table];
    if (!index) continue;
    // SQLite cannot rename an index; it is made again under the new name.
    await db.schema.dropIndex(index.name).ifExists().execute();
    await db.schema.createIndex(prefix + index.name).ifNotExists().on(prefix + table).column(index.column).execute();
  }
}

/** Gives a moved table's primary key (and its index) the name PostgreSQL gives a new table's: `<table>_pkey`. */
async function renamePrimaryKey(db: Kysely<unknown>, table: string): Promise<void> {
  const { rows } = await sql<{ name: string }>`select conname as name from pg_constraint where conrelid = ${table}::regclass and contype = 'p'`.execute(db);
  const current = rows[0]?.name;
  const wanted = `${table}_pkey`;
  if (current && current !== wanted) {
    await sql`alter table ${sql.table(table)} rename constraint ${sql.id(current)} to ${sql.id(wanted)}`.execute(db);
  }
}

/** Table names where unqualified names resolve: PostgreSQL's current schema (each test run has its own), or the SQLite file. */
async function tablesOfThisSchema(db: Kysely<unknown>, dialect: Dialect): Promise<string[]> {
  const query =
    dialect === 'postgres'
      ? sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`
      : sql<{ name: string }>`select name from sqlite_master where type = 'table'`;
  return (await query.execute(db)).rows.map((row) => row.name);
}

/** Brings the site's own tables up to date; the bridge's tables are migrated by the bridge. */
export function migrateSiteTables(db: Kysely<unknown>, dialect: Dialect, bridgePrefix: string): Promise<void> {
  return runMigrations(db, dialect, 'kysely_migration', () => migrations(dialect, bridgePrefix));
}
