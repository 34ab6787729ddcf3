import type { Database as BetterSqlite } from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Kysely asks SQLite to prepare every query afresh. The site runs a few dozen distinct
 * statements, so each is compiled once and reused; the bound keeps `in (...)` lists of every
 * length from growing the cache without end.
 */
export function withStatementCache(sqlite: BetterSqlite, limit = 256): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (statements.size >= limit) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  };
}
