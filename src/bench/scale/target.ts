/**
 * One scale database: a SQLite file, or a PostgreSQL schema of its own (its URL sets the search
 * path), migrated as the site migrates, with a raw connection for the fill and for counting rows.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Client } from 'pg';
import { openDatabase } from '../../store/database';

export type ScaleDialect = 'sqlite' | 'postgres';

export interface ScaleTarget {
  readonly dialect: ScaleDialect;
  /** what the site processes open */
  readonly url: string;
  /** one statement with `?` placeholders */
  execute(sql: string, parameters?: readonly unknown[]): Promise<void>;
  count(table: string, where?: string): Promise<number>;
  /** the site's and the bridge's tables */
  tables(): Promise<string[]>;
  /** fresh planner statistics, as a live database's autovacuum or `ANALYZE` would keep them */
  analyze(): Promise<void>;
  /** what a database needs after rows came in with their keys given (PostgreSQL's id sequence) */
  afterFill(readers: number): Promise<void>;
  close(): Promise<void>;
}

/** Host session id k of filled reader i: 32 base64url characters, as express-session's are. */
export function benchSid(i: number, k: number): string {
  return createHash('sha256').update(`bench:${i}:${k}`).digest('base64url').slice(0, 32);
}

/** The same, in SQL, so PostgreSQL makes the ids itself. */
const PG_BENCH_SID = `create function bench_sid(i bigint, k bigint) returns text immutable language sql as
  $$ select substr(translate(encode(sha256(convert_to('bench:' || i || ':' || k, 'UTF8')), 'base64'), '+/=', '-_'), 1, 32) $$`;

/** Migrates the new database the way the site does at its start. */
async function migrate(url: string): Promise<void> {
  const database = await openDatabase(url);
  await database.close();
}

export async function openSqliteTarget(dir: string, name: string): Promise<ScaleTarget> {
  const file = path.join(dir, `${name}.db`);
  const url = `sqlite:${file}`;
  await migrate(url);
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 30000');
  // A page cache that holds the whole index being filled: random keys (session ids) otherwise
  // cost a disk read per row once the index outgrows the default 2 MB, and 1M readers take minutes.
  sqlite.pragma('cache_size = -1000000');
  sqlite.function('bench_sid', { deterministic: true }, (i: unknown, k: unknown) => benchSid(Number(i), Number(k)));
  const execute = async (sql: string, parameters: readonly unknown[] = []) => {
    sqlite.prepare(sql).run(...parameters);
  };
  return {
    dialect: 'sqlite',
    url,
    execute,
    async count(table, where = 'true') {
      return Number((sqlite.prepare(`select count(*) as n from ${table} where ${where}`).get() as { n: number }).n);
    },
    async tables() {
      return (sqlite.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`).all() as Array<{ name: string }>).map((row) => row.name);
    },
    analyze: () => execute('analyze'),
    afterFill: () => execute('analyze'),
    async close() {
      sqlite.close();
    },
  };
}

/** `?` placeholders as PostgreSQL's `$1`, `$2`, ... (the fill's statements hold no `?` in a string). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${(n += 1)}`);
}

export async function openPostgresTarget(baseUrl: string, name: string): Promise<ScaleTarget> {
  const schema = `scale_${name}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const scoped = new URL(baseUrl);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  const url = scoped.toString();
  await migrate(url);
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query(PG_BENCH_SID);
  const execute = async (sql: string, parameters: readonly unknown[] = []) => {
    await client.query(numbered(sql), [...parameters]);
  };
  return {
    dialect: 'postgres',
    url,
    execute,
    async count(table, where = 'true') {
      return Number((await client.query<{ n: string }>(`select count(*) as n from ${table} where ${where}`)).rows[0]!.n);
    },
    async tables() {
      return (await client.query<{ name: string }>('select table_name as name from information_schema.tables where table_schema = current_schema()')).rows.map((row) => row.name);
    },
    analyze: () => execute('analyze'),
    async afterFill(readers) {
      await client.query(`select setval(pg_get_serial_sequence('users', 'id'), $1)`, [readers]);
      await client.query('analyze');
    },
    async close() {
      await client.end();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}
