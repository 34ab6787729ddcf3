import { Kysely, Migrator, sql, type Migration, type MigrationProvider, type RawBuilder } from 'kysely';
import type { Dialect } from './database';

/**
 * The bridge's own migrations, recorded in its own table (`<prefix>migrations`), so they never
 * mix with the host site's. Every table and index carries the prefix. DDL is the only place SQLite
 * and PostgreSQL differ: the width of integers, and how an index is added to a table in use
 * (createIndexOnline below). `if not exists` throughout: a database the demo
 * site made before the bridge had its own migrations already holds these tables, moved under the
 * prefix by the site's own migration (docs/architecture.md#tables).
 */
function migrations(dialect: Dialect, prefix: string): Record<string, StepMigration> {
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
    // What pruning and the outbox's expiry select by, so each batch reads only the rows it deletes
    // (docs/architecture.md#the-outbox); built without blocking writes on a live table.
    '002_prune_indexes': {
      transaction: false,
      async up(db: Kysely<unknown>) {
        const online = (name: string, table: string, column: string, where?: RawBuilder<unknown>) =>
          createIndexOnline(db, dialect, { name: t(name), table: t(table), columns: [column], where });
        await online('bridge_sessions_idle', 'bridge_sessions', 'last_activity_at', sql`ended_at is null`);
        await online('bridge_sessions_ended_at', 'bridge_sessions', 'ended_at', sql`ended_at is not null`);
        await online('pending_logouts_created_at', 'pending_logouts', 'created_at');
        await online('hook_replays_expires_at', 'hook_replays', 'expires_at');
      },
    },
  };
}

/**
 * A migration; `transaction: false` runs it outside a transaction, as PostgreSQL's
 * `create index concurrently` must. Every other one runs in a transaction of its own.
 */
export interface StepMigration extends Migration {
  readonly transaction?: false;
}

export interface OnlineIndex {
  name: string;
  table: string;
  columns: string[];
  /** a partial index's condition */
  where?: RawBuilder<unknown> | undefined;
}

/** Below this many rows a plain build takes milliseconds: no reason to build concurrently. */
const SMALL_TABLE_ROWS = 10_000;
/** A concurrent build waits for every older transaction of the database; two may deadlock. */
const CONCURRENT_BUILD_TRIES = 5;

/**
 * Creates an index on a table that may be large and in use. PostgreSQL builds it concurrently:
 * writes to the table go on meanwhile, and the build may take as long as it needs (no statement
 * timeout). A concurrent build that failed leaves an INVALID index of that name, which `if not
 * exists` would take for done: it is dropped and built again. A table of a few rows (a new
 * database) gets a plain build: a concurrent one waits for every transaction of the whole
 * database, so several new schemas migrating side by side would wait on, and deadlock with, each
 * other. SQLite has no concurrent build: a plain create index, which holds the write lock while it
 * reads the table once.
 */
export async function createIndexOnline(db: Kysely<unknown>, dialect: Dialect, index: OnlineIndex): Promise<void> {
  const columns = sql.join(index.columns.map((column) => sql.id(column)));
  const where = index.where ? sql` where ${index.where}` : sql``;
  const plain = sql`create index if not exists ${sql.id(index.name)} on ${sql.table(index.table)} (${columns})${where}`;
  if (dialect === 'sqlite') {
    await plain.execute(db);
    return;
  }
  const found = await sql<{ valid: boolean }>`
    select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid
    where c.relname = ${index.name} and c.relnamespace = current_schema()::regnamespace`.execute(db);
  const existing = found.rows[0];
  if (existing?.valid) return;
  if (!existing && (await rowsUpTo(db, index.table, SMALL_TABLE_ROWS)) < SMALL_TABLE_ROWS) {
    await plain.execute(db);
    return;
  }
  await sql`set statement_timeout = 0`.execute(db);
  try {
    await buildConcurrently(db, index.name, sql`create index concurrently ${sql.id(index.name)} on ${sql.table(index.table)} (${columns})${where}`);
  } finally {
    await sql`reset statement_timeout`.execute(db);
  }
}

async function rowsUpTo(db: Kysely<unknown>, table: string, limit: number): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from (select 1 from ${sql.table(table)} limit ${limit}) as head`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** Drops what an earlier or a deadlocked build left, and builds again; a deadlock is tried again. */
async function buildConcurrently(db: Kysely<unknown>, name: string, create: RawBuilder<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    await sql`drop index concurrently if exists ${sql.id(name)}`.execute(db);
    try {
      await create.execute(db);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= CONCURRENT_BUILD_TRIES) throw error;
    }
  }
}

/** The schema PostgreSQL resolves unqualified names in; Kysely otherwise looks for its tables in every schema. */
async function currentSchema(db: Kysely<unknown>, dialect: Dialect): Promise<string | undefined> {
  if (dialect !== 'postgres') return undefined;
  return (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
}

/** Runs the migrations in `provide`, recorded in `<table>` and `<table>_lock` of the current schema. */
export async function runMigrations(db: Kysely<unknown>, dialect: Dialect, table: string, provide: () => Record<string, StepMigration>): Promise<void> {
  const all = provide();
  const provider: MigrationProvider = { getMigrations: async () => all };
  // With another schema of the same database holding a migration table of that name (a second
  // site, a test run), Kysely would otherwise skip creating the tables here.
  const schema = await currentSchema(db, dialect);
  const migratorOn = (on: Kysely<unknown>, outside: boolean) =>
    new Migrator({
      db: on,
      provider,
      migrationTableName: table,
      migrationLockTableName: `${table}_lock`,
      disableTransactions: outside,
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
  // SQLite runs no DDL in Kysely's transactions anyway: one run does it all.
  if (dialect !== 'postgres') return migrated(await migratorOn(db, false).migrateToLatest());
  await db.connection().execute((conn) =>
    holdingMigrationLock(conn, async () => {
      // A run of migrations of one kind at a time, each with or without transactions. Under the
      // lock no other instance moves on meanwhile, so `migrateTo` only ever goes up.
      for (;;) {
        const pending = (await migratorOn(conn, false).getMigrations()).filter((info) => info.executedAt === undefined).map((info) => info.name);
        if (pending.length === 0) return;
        const outside = (name: string) => all[name]?.transaction === false;
        let last = 0;
        while (last + 1 < pending.length && outside(pending[last + 1]!) === outside(pending[0]!)) last += 1;
        migrated(await migratorOn(conn, outside(pending[0]!)).migrateTo(pending[last]!));
      }
    }),
  );
}

function migrated(result: { error?: unknown }): void {
  if (result.error) throw result.error;
}

/** How often an instance asks again for the migration lock another instance holds. */
const MIGRATION_LOCK_RETRY_MS = 250;

/**
 * One instance migrates at a time, the others wait until it is done: a session lock of this
 * connection's, asked for without blocking (a blocked statement would meet the statement timeout
 * while another instance builds an index), for as long as an index build may take.
 */
async function holdingMigrationLock(conn: Kysely<unknown>, run: () => Promise<void>): Promise<void> {
  // One lock for the whole database, every schema: Kysely's own migration lock is database-wide and
  // blocking, and an instance waiting inside it holds a snapshot that another schema's concurrent
  // index build would wait for, a deadlock. Migrations of one database run one after another.
  const key = sql`hashtext('vf-login-bridge migrations')`;
  while (!(await sql<{ held: boolean }>`select pg_try_advisory_lock(${key}) as held`.execute(conn)).rows[0]?.held) {
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_LOCK_RETRY_MS));
  }
  try {
    await run();
  } finally {
    await sql`select pg_advisory_unlock(${key})`.execute(conn);
  }
}

/** Brings the bridge's tables under `prefix` up to date. */
export function migrateBridgeTables(db: Kysely<unknown>, dialect: Dialect, prefix: string): Promise<void> {
  return runMigrations(db, dialect, `${prefix}migrations`, () => migrations(dialect, prefix));
}
