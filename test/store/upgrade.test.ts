import { sql, type Kysely } from 'kysely';
import { connectDatabase, createPlatform, liveHostSessionsOf, openBridgeDatabase, silentLogger, type Clock, type Connection, type Dialect } from 'vf-login-bridge';
import { openDatabase } from '../../src/store/database';
import { createReaderReads } from '../../src/store/reader-snapshot';
import { migrateToLatest as migratePreviousRelease } from '../fixtures/previous-release-migrations';
import { createTestStores, type TestStores } from '../helpers/backend';

const NOW = 1_800_000_000_000;
const clock: Clock = { now: () => NOW };
const DAY = 24 * 60 * 60_000;
const OLD_BRIDGE_TABLES = ['bridge_sessions', 'pending_logouts', 'hook_replays', 'job_leases', 'platform_tokens'];

/** One row in every table the previous release made, as that release wrote them. */
const ROWS = {
  users: [{ id: 1, email: 'reader@example.com', name: 'Reader', password_hash: 'hash', created_at: NOW - DAY, updated_at: NOW - DAY }],
  sessions: [{ sid: 'host-live', sess: JSON.stringify({ cookie: { originalMaxAge: DAY }, passport: { user: 1 } }), expires_at: NOW + DAY, user_id: 1 }],
  bridge_sessions: [
    { host_sid: 'host-live', host_user_id: '1', platform_user_id: 'platform-user-1', platform_session: 'platform-session-live', last_activity_at: NOW, retry_at: null, failed_attempts: 0, ended_at: null },
    { host_sid: 'host-ended', host_user_id: '1', platform_user_id: 'platform-user-1', platform_session: 'platform-session-ended', last_activity_at: NOW - 1_000, retry_at: null, failed_attempts: 0, ended_at: NOW - 500 },
  ],
  pending_logouts: [{ platform_session: 'platform-session-ended', attempts: 2, next_attempt_at: NOW + 5_000, created_at: NOW - 500, claim_token: null, claimed_until: null }],
  hook_replays: [{ signature: 'signature-1', expires_at: NOW + 300_000 }],
  job_leases: [{ name: 'prune', holder: 'instance-a', lease_until: NOW + 60_000 }],
  platform_tokens: [{ name: 'platform', sealed: 'sealed-token', version: 3, lease_holder: null, lease_until: null, updated_at: NOW - DAY }],
} as const;

type TableName = keyof typeof ROWS;

/** Tables where unqualified names resolve: the test's own PostgreSQL schema, or the SQLite file. */
async function tablesOf(db: Kysely<unknown>, dialect: Dialect): Promise<string[]> {
  const query =
    dialect === 'postgres'
      ? sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`
      : sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`;
  return (await query.execute(db)).rows.map((row) => row.name).sort();
}

async function indexesOf(db: Kysely<unknown>, dialect: Dialect): Promise<string[]> {
  const query =
    dialect === 'postgres'
      ? sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema()`
      : sql<{ name: string }>`select name from sqlite_master where type = 'index'`;
  return (await query.execute(db)).rows.map((row) => row.name).sort();
}

/** Every row of a table, by its full name, in key order. */
async function rowsOf(db: Kysely<unknown>, table: string): Promise<unknown[]> {
  const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db)).rows;
  return rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const sorted = (rows: readonly object[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** A database exactly as the previous release left it: its migrations, then one row in every table. */
async function buildPreviousRelease(url: string): Promise<void> {
  const connection = connectDatabase(url);
  try {
    await migratePreviousRelease(connection.db as Kysely<unknown>, connection.dialect);
    for (const table of Object.keys(ROWS) as TableName[]) {
      await connection.db.insertInto(table).values([...ROWS[table]]).execute();
    }
  } finally {
    await connection.close();
  }
}

/** The database as a plain connection, to look at it without the site's or the bridge's view. */
async function inspect<T>(url: string, look: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = connectDatabase(url);
  try {
    return await look(connection);
  } finally {
    await connection.close();
  }
}

describe('upgrading a database of the previous release in place', () => {
  let stores: TestStores;

  beforeEach(async () => {
    stores = await createTestStores();
    await buildPreviousRelease(stores.databaseUrl);
  });
  afterEach(async () => {
    await stores.drop();
  });

  it('moves every bridge table under the prefix with its rows, and keeps the site tables as they were', async () => {
    const database = await openDatabase(stores.databaseUrl);
    await database.close();

    await inspect(stores.databaseUrl, async ({ db, dialect }) => {
      const tables = await tablesOf(db, dialect);
      for (const table of OLD_BRIDGE_TABLES) {
        expect(tables).not.toContain(table);
        expect(await rowsOf(db, `vf_${table}`)).toEqual(sorted(ROWS[table as TableName]));
      }
      // Readers of the previous release start unverified, as readers, at credentials version 1 (docs/accounts.md#tables).
      const accountDefaults = { email_verified_at: null, email_changed_at: null, role: 'reader', credentials_version: 1 };
      expect(await rowsOf(db, 'users')).toEqual(sorted(ROWS.users).map((row) => ({ ...row, ...accountDefaults })));
      expect(await rowsOf(db, 'sessions')).toEqual(sorted(ROWS.sessions));
      expect(tables).toEqual(expect.arrayContaining(['vf_migrations', 'kysely_migration']));

      const indexes = await indexesOf(db, dialect);
      for (const table of OLD_BRIDGE_TABLES) expect(indexes.filter((name) => name.startsWith(table))).toEqual([]);
    });
  });

  it('ends with the tables and indexes a new database starts with', async () => {
    const fresh = await createTestStores();
    try {
      await (await openDatabase(fresh.databaseUrl)).close();
      await (await openDatabase(stores.databaseUrl)).close();
      const schemaOf = ({ db, dialect }: Connection) => Promise.all([tablesOf(db, dialect), indexesOf(db, dialect)]);
      expect(await inspect(stores.databaseUrl, schemaOf)).toEqual(await inspect(fresh.databaseUrl, schemaOf));
    } finally {
      await fresh.drop();
    }
  });

  it('changes nothing when opened a second time', async () => {
    const snapshot = ({ db, dialect }: Connection) =>
      Promise.all([
        tablesOf(db, dialect),
        rowsOf(db, 'kysely_migration'),
        rowsOf(db, 'vf_migrations'),
        ...OLD_BRIDGE_TABLES.map((table) => rowsOf(db, `vf_${table}`)),
      ]);
    await (await openDatabase(stores.databaseUrl)).close();
    const afterFirst = await inspect(stores.databaseUrl, snapshot);

    await (await openDatabase(stores.databaseUrl)).close();
    expect(await inspect(stores.databaseUrl, snapshot)).toEqual(afterFirst);
  });

  it('serves the moved rows to the bridge and to the page view', async () => {
    const database = await openDatabase(stores.databaseUrl);
    const platform = createPlatform({
      // Nothing here reaches the platform: every answer comes from the moved rows.
      baseUrl: 'http://127.0.0.1:9',
      siteId: 'site',
      apiKey: 'key',
      timeoutMs: 1_000,
      clock,
      logger: silentLogger,
      db: database.bridge.db,
    });
    try {
      expect(await platform.bridge.hasEnded('host-ended')).toBe(true);
      expect(await platform.bridge.hasEnded('host-live')).toBe(false);
      expect((await platform.bridge.status()).pendingLogouts).toBe(1);
      expect(await liveHostSessionsOf(database.bridge.db, '1')).toEqual(['host-live']);

      const read = await createReaderReads(database.db).sessionWithReader('host-live', NOW);
      expect(read?.snapshot).toMatchObject({
        user: { id: 1, email: 'reader@example.com' },
        bridgeRow: { host_sid: 'host-live', platform_session: 'platform-session-live' },
      });
    } finally {
      await platform.close();
      await database.close();
    }
  });
});

describe('a database the demo site did not make', () => {
  let stores: TestStores;

  beforeEach(async () => {
    stores = await createTestStores();
  });
  afterEach(async () => {
    await stores.drop();
  });

  it("leaves a publisher's own table named like an old bridge table alone, and makes only prefixed ones", async () => {
    await inspect(stores.databaseUrl, async ({ db }) => {
      await db.schema.createTable('bridge_sessions').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('note', 'text').execute();
      await db.insertInto('bridge_sessions').values({ id: 7, note: "the publisher's own" }).execute();
    });

    const bridge = await openBridgeDatabase(stores.databaseUrl);
    await bridge.close();

    await inspect(stores.databaseUrl, async ({ db, dialect }) => {
      expect(await rowsOf(db, 'bridge_sessions')).toEqual([{ id: 7, note: "the publisher's own" }]);
      expect(await tablesOf(db, dialect)).toEqual(['bridge_sessions', ...OLD_BRIDGE_TABLES.map((table) => `vf_${table}`), 'vf_migrations', 'vf_migrations_lock'].sort());
    });
  });
});
