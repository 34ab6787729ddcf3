import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type KyselyConfig } from 'kysely';
import { withStatementCache } from './statement-cache';
import { Pool, types as pgTypes, type PoolClient } from 'pg';
import { migrateToLatest } from './migrations';
import type { DatabaseSchema } from './schema';
import type { Logger } from '../logger';

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

export interface OpenDatabaseOptions {
  /** where a dropped idle PostgreSQL connection is reported; it is never fatal */
  logger?: Logger | undefined;
  /** how the site's connections are named in pg_stat_activity, unless the URL names them. Default `vf-login-bridge`. */
  applicationName?: string | undefined;
  /** how long a query waits for a pooled PostgreSQL connection. Default POSTGRES_LIMITS.connectTimeoutMs */
  connectionWaitMs?: number | undefined;
  /** called with each statement's SQL as it runs (counting, never logging: parameters are not passed) */
  onQuery?: ((sql: string) => void) | undefined;
}

/**
 * Bounds on every wait for PostgreSQL, so an outage is a fast, clear 503 and never a hang:
 * a connection (new or from the busy pool) within 2 s, a statement within 2 s on the server,
 * an answer within 2.5 s on the client (a server that has vanished from the network). Every
 * statement the site runs is a short indexed one; one that takes longer is a fault.
 */
export const POSTGRES_LIMITS = {
  poolSize: 10,
  connectTimeoutMs: 2_000,
  statementTimeoutMs: 2_000,
  queryTimeoutMs: 2_500,
  idleInTransactionMs: 10_000,
  idleConnectionMs: 30_000,
} as const;

/**
 * Opens `sqlite:<path>` or `postgres://...`, runs migrations, and returns one Kysely instance:
 * the rest of the code has a single query path for both.
 */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const log = options.onQuery ? queryCounter(options.onQuery) : undefined;
  const { db, raw } = url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length), log) : openPostgres(url, options, log);
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

function openSqlite(file: string, log: KyselyConfig['log']): Opened {
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
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), ...(log ? { log } : {}) });
  return { db, raw: { dialect: 'sqlite', client: sqlite } };
}

function openPostgres(url: string, options: OpenDatabaseOptions, log: KyselyConfig['log']): Opened {
  // Times are bigint columns; read them as numbers (ms since the epoch fit in 2^53) for this pool only.
  const pool = new Pool({
    connectionString: url,
    ...(new URL(url).searchParams.has('application_name') ? {} : { application_name: options.applicationName ?? 'vf-login-bridge' }),
    max: POSTGRES_LIMITS.poolSize,
    connectionTimeoutMillis: options.connectionWaitMs ?? POSTGRES_LIMITS.connectTimeoutMs,
    statement_timeout: POSTGRES_LIMITS.statementTimeoutMs,
    query_timeout: POSTGRES_LIMITS.queryTimeoutMs,
    idle_in_transaction_session_timeout: POSTGRES_LIMITS.idleInTransactionMs,
    idleTimeoutMillis: POSTGRES_LIMITS.idleConnectionMs,
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pgTypes.getTypeParser(oid, format)) as typeof pgTypes.getTypeParser,
    },
  });
  // An idle connection the server ended (a restart, a failover, an idle timeout) is reported here
  // and simply replaced by the next checkout; with no listener it would crash the process.
  const dropped = (error: Error & { code?: string }) =>
    options.logger?.warn({ code: 'DATABASE_UNAVAILABLE', pgCode: error.code, reason: error.message }, 'a database connection was dropped; the pool replaces it');
  pool.on('error', dropped);
  // A connection checked out by a query or a transaction has no pool listener; the server ending
  // it between two statements would otherwise be an unhandled 'error' event. The statement under
  // way fails by itself, and the pool discards the connection when it comes back.
  const nameFor = statementNames();
  pool.on('connect', (client) => {
    client.on('error', dropped);
    prepareStatements(client, nameFor);
  });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) });
  return { db, raw: { dialect: 'postgres', client: pool } };
}

/** Kysely's log hook, reduced to the statement's text: migrations' statements included. */
function queryCounter(onQuery: (sql: string) => void): KyselyConfig['log'] {
  return (event) => onQuery(event.query.sql);
}

/**
 * Names for SQL texts, so PostgreSQL parses and plans each statement once per connection and then
 * only binds and runs it (a prepared statement), as SQLite's statement cache does
 * (src/store/statement-cache.ts). The bound keeps `in (...)` lists of every length from naming
 * statements without end; past it, statements run unnamed, as before.
 */
function statementNames(limit = 256): (text: string) => string | undefined {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (name === undefined && names.size < limit) {
      name = `vfb_${names.size}`;
      names.set(text, name);
    }
    return name;
  };
}

/** Kysely's queries (text and values, no callback) run as named statements; anything else as it was. */
function prepareStatements(client: PoolClient, nameFor: (text: string) => string | undefined): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, values?: unknown, callback?: unknown) => {
    const name = typeof text === 'string' && Array.isArray(values) && values.length > 0 && callback === undefined ? nameFor(text) : undefined;
    return name ? query({ name, text, values }) : query(...[text, values, callback].filter((arg) => arg !== undefined));
  }) as typeof client.query;
}
