import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { withStatementCache } from './statement-cache';
import { Pool, types as pgTypes } from 'pg';
import { migrateToLatest } from './migrations';
import type { DatabaseSchema } from './schema';

export type Dialect = 'sqlite' | 'postgres';

/** The driver under Kysely, for libraries that speak to it directly (the rate limiter's store). */
export type RawClient = { dialect: 'sqlite'; client: BetterSqlite3.Database } | { dialect: 'postgres'; client: Pool };

export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: Dialect;
  readonly raw: RawClient;
  /** Answers when the database does: used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const INT8_OID = 20;

/**
 * Opens `sqlite:<path>` or `postgres://...`, runs migrations, and returns one Kysely instance:
 * the rest of the code has a single query path for both.
 */
export async function openDatabase(url: string): Promise<Database> {
  const { db, raw } = url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length)) : openPostgres(url);
  const dialect = raw.dialect;
  try {
    await migrateToLatest(db as Kysely<unknown>, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    db,
    dialect,
    raw,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

interface Opened {
  db: Kysely<DatabaseSchema>;
  raw: RawClient;
}

function openSqlite(file: string): Opened {
  // A mistyped path must not quietly become a new, empty database in a new folder: the caller
  // creates the one default folder itself, any other must exist already.
  const folder = path.dirname(path.resolve(file));
  if (file !== ':memory:' && !fs.existsSync(folder)) {
    throw Object.assign(new Error(`the folder ${path.dirname(file)} does not exist`), { code: 'DATABASE_FOLDER_MISSING' });
  }
  const sqlite = new BetterSqlite3(file);
  // WAL lets readers go on while one writer commits; a busy timeout rides out short write locks.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, raw: { dialect: 'sqlite', client: sqlite } };
}

function openPostgres(url: string): Opened {
  // Times are bigint columns; read them as numbers (ms since the epoch fit in 2^53) for this pool only.
  const pool = new Pool({
    connectionString: url,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pgTypes.getTypeParser(oid, format)) as typeof pgTypes.getTypeParser,
    },
  });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  return { db, raw: { dialect: 'postgres', client: pool } };
}
