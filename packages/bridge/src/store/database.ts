import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type KyselyConfig } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type * as Pg from 'pg';
import type { Logger } from '../logger';
import { isPgPoolHandle, isSqliteHandle, type PgClientHandle, type PgPoolHandle, type RawClient, type SqliteHandle } from './handles';
import { bridgePool } from './pg-pool';
import { withStatementCache } from './statement-cache';

export type Dialect = 'sqlite' | 'postgres';

/**
 * A database connection: one Kysely instance over SQLite or PostgreSQL, so the rest of the code
 * has a single query path for both. Holds no schema: the bridge migrates its own tables
 * (src/store/migrations.ts), the host site its own.
 */
export interface Connection {
  // Kysely<any> is Kysely's own idiom for an instance whose tables the holder has not declared.
  readonly db: Kysely<any>;
  readonly dialect: Dialect;
  /** the driver's handle, for libraries that speak to it directly; undefined for an adopted Kysely */
  readonly raw: RawClient | undefined;
  /** Answers when the database does: used by readiness probes. */
  ping(): Promise<void>;
  /** Ends what this connection opened; a handle the caller passed in stays open. */
  close(): Promise<void>;
}

/** What `onQuery` is told of a statement besides its SQL. */
export interface QueryRun {
  readonly parameters: readonly unknown[];
  readonly durationMs: number;
}

export interface ConnectOptions {
  /** where a dropped idle PostgreSQL connection is reported; it is never fatal */
  logger?: Logger | undefined;
  /** how connections are named in pg_stat_activity, unless the URL names them. Default `vf-login-bridge`. */
  applicationName?: string | undefined;
  /** how long a query waits for a pooled PostgreSQL connection. Default POSTGRES_LIMITS.connectTimeoutMs */
  connectionWaitMs?: number | undefined;
  /**
   * Called with each statement's SQL once it has run, and its parameters and duration (for
   * counting, timing and planning it again: parameters may hold secrets and are never to be logged).
   */
  onQuery?: ((sql: string, ran: QueryRun) => void) | undefined;
}

/**
 * Bounds on every wait for PostgreSQL, so an outage is a fast, clear 503 and never a hang:
 * a connection (new or from the busy pool) within 2 s, a statement within 2 s on the server,
 * an answer within 2.5 s on the client (a server that has vanished from the network). Every
 * statement the bridge runs is a short indexed one; one that takes longer is a fault.
 */
export const POSTGRES_LIMITS = {
  poolSize: 10,
  connectTimeoutMs: 2_000,
  statementTimeoutMs: 2_000,
  queryTimeoutMs: 2_500,
  idleInTransactionMs: 10_000,
  idleConnectionMs: 30_000,
} as const;

/** What a database option may be: a URL, a driver's handle, or a Kysely instance. */
// Kysely<any>: any Kysely instance, whatever tables its owner declared.
export type DatabaseSource = string | SqliteHandle | PgPoolHandle | Kysely<any>;

/** A driver the publisher has not installed: one error naming the package and the option. */
function optionalPeer<T>(name: 'pg' | 'better-sqlite3', option: string): T {
  try {
    return require(name) as T;
  } catch {
    throw new TypeError(`${option} needs the "${name}" package: npm install ${name}`);
  }
}

/** Opens `sqlite:<path>` or `postgres://...`. */
export function connectDatabase(url: string, options: ConnectOptions = {}): Connection {
  if (url.startsWith('sqlite:')) return sqliteConnection(openSqliteFile(url.slice('sqlite:'.length)), options, true);
  if (/^postgres(ql)?:\/\//.test(url)) return postgresConnection(openPostgresPool(url, options), options, true);
  throw new TypeError('database must be "sqlite:<path>", "postgres://...", a pg Pool, a better-sqlite3 Database or a Kysely instance');
}

/** A URL, a handle or a Kysely instance, as one Connection; handles and instances passed in are never closed by it. */
export function toConnection(source: DatabaseSource, options: ConnectOptions = {}): Connection {
  if (typeof source === 'string') return connectDatabase(source, options);
  if (source instanceof Kysely || isKyselyLike(source)) return kyselyConnection(source as Kysely<unknown>);
  if (isSqliteHandle(source)) return sqliteConnection(source, options, false);
  if (isPgPoolHandle(source)) return postgresConnection(source, options, false);
  throw new TypeError('database must be "sqlite:<path>", "postgres://...", a pg Pool, a better-sqlite3 Database or a Kysely instance');
}

function isKyselyLike(value: unknown): boolean {
  const v = value as { selectFrom?: unknown; getExecutor?: unknown; withPlugin?: unknown } | null;
  return typeof v === 'object' && v !== null && typeof v.selectFrom === 'function' && typeof v.getExecutor === 'function' && typeof v.withPlugin === 'function';
}

function kyselyConnection(db: Kysely<unknown>): Connection {
  const adapter = db.getExecutor().adapter;
  const name = adapter.constructor.name;
  const dialect: Dialect | undefined =
    adapter instanceof PostgresAdapter || name === 'PostgresAdapter' ? 'postgres' : name === 'SqliteAdapter' ? 'sqlite' : undefined;
  if (!dialect) throw new TypeError(`database: a Kysely instance over ${name} is not supported (SQLite or PostgreSQL)`);
  return { db, dialect, raw: undefined, ping: () => pingOf(db), close: async () => undefined };
}

async function pingOf(db: Kysely<unknown>): Promise<void> {
  await sql`select 1`.execute(db);
}

function openSqliteFile(file: string): SqliteHandle {
  // A mistyped path must not quietly become a new, empty database in a new folder: the caller
  // creates the one default folder itself, any other must exist already.
  const folder = path.dirname(path.resolve(file));
  if (file !== ':memory:' && !fs.existsSync(folder)) {
    throw Object.assign(new Error(`the folder ${path.dirname(file)} does not exist`), { code: 'DATABASE_FOLDER_MISSING' });
  }
  const Sqlite = optionalPeer<typeof BetterSqlite3>('better-sqlite3', 'database "sqlite:..."');
  const sqlite = new Sqlite(file);
  // WAL lets readers go on while one writer commits; a busy timeout rides out short write locks.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

function sqliteConnection(sqlite: SqliteHandle, options: ConnectOptions, owned: boolean): Connection {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite, { owned }) }), ...logOption(options) });
  return { db, dialect: 'sqlite', raw: { dialect: 'sqlite', client: sqlite }, ping: () => pingOf(db), close: () => db.destroy() };
}

function openPostgresPool(url: string, options: ConnectOptions): PgPoolHandle {
  const pg = optionalPeer<typeof Pg>('pg', 'database "postgres://..."');
  const pool = new pg.Pool({
    connectionString: url,
    ...(new URL(url).searchParams.has('application_name') ? {} : { application_name: options.applicationName ?? 'vf-login-bridge' }),
    max: POSTGRES_LIMITS.poolSize,
    connectionTimeoutMillis: options.connectionWaitMs ?? POSTGRES_LIMITS.connectTimeoutMs,
    statement_timeout: POSTGRES_LIMITS.statementTimeoutMs,
    query_timeout: POSTGRES_LIMITS.queryTimeoutMs,
    idle_in_transaction_session_timeout: POSTGRES_LIMITS.idleInTransactionMs,
    idleTimeoutMillis: POSTGRES_LIMITS.idleConnectionMs,
    keepAlive: true,
  });
  // An idle connection the server ended (a restart, a failover, an idle timeout) is reported here
  // and simply replaced by the next checkout; with no listener it would crash the process.
  const dropped = (error: Error & { code?: string }) =>
    options.logger?.warn({ code: 'DATABASE_UNAVAILABLE', pgCode: error.code, reason: error.message }, 'a database connection was dropped; the pool replaces it');
  pool.on('error', dropped);
  // A connection checked out by a query or a transaction has no pool listener; the server ending
  // it between two statements would otherwise be an unhandled 'error' event. The statement under
  // way fails by itself, and the pool discards the connection when it comes back.
  pool.on('connect', (client) => client.on('error', dropped));
  return pool as unknown as PgPoolHandle;
}

function postgresConnection(pool: PgPoolHandle, options: ConnectOptions, owned: boolean): Connection {
  const pg = optionalPeer<typeof Pg>('pg', 'database (a pg Pool)');
  const dialect = new PostgresDialect({ pool: bridgePool(pool, { owned, defaultParser: pg.types.getTypeParser as (oid: number) => unknown }) });
  const db = new Kysely<unknown>({ dialect, ...logOption(options) });
  return { db, dialect: 'postgres', raw: { dialect: 'postgres', client: pool }, ping: () => pingOf(db), close: () => db.destroy() };
}

/** Kysely's log hook, reduced to the statement, its parameters and its time: migrations' statements included. */
function logOption(options: ConnectOptions): Pick<KyselyConfig, 'log'> {
  const onQuery = options.onQuery;
  return onQuery ? { log: (event) => onQuery(event.query.sql, { parameters: event.query.parameters, durationMs: event.queryDurationMillis }) } : {};
}

export type { PgClientHandle };
