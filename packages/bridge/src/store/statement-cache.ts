import type { SqliteDatabase, SqliteStatement } from 'kysely';
import type { SqliteHandle } from './handles';

/**
 * Kysely asks SQLite to prepare every query afresh. The bridge and the site run a few dozen
 * distinct statements, so each is compiled once and reused; the bound keeps `in (...)` lists of
 * every length from growing the cache without end. A handle the publisher passed in is not
 * closed with the bridge (`owned: false`).
 */
export function withStatementCache(sqlite: SqliteHandle, options: { owned: boolean; limit?: number }): SqliteDatabase {
  const limit = options.limit ?? 256;
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql) as SqliteStatement;
        if (statements.size >= limit) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      if (options.owned) sqlite.close();
    },
  };
}
