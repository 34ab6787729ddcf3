/**
 * The database handles a publisher may pass, described by the few members the bridge uses. The
 * drivers are optional peer dependencies: these shapes keep every shipped `.d.ts` free of their
 * types, so a consumer without `@types/pg` or `@types/better-sqlite3` still compiles.
 */

/** A better-sqlite3 `Database`. */
export interface SqliteHandle {
  prepare(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
}

/** A checked-out node-postgres client. */
export interface PgClientHandle {
  query(config: { text: string; values?: readonly unknown[]; name?: string; types?: unknown }): Promise<{ rows: unknown[]; rowCount: number | null; command: string }>;
  query(cursor: object): unknown;
  release(destroy?: boolean | Error): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** A node-postgres `Pool`. */
export interface PgPoolHandle {
  connect(): Promise<PgClientHandle>;
  end(): Promise<void>;
  on(event: 'error' | 'connect', listener: (arg: never) => void): unknown;
  readonly totalCount: number;
}

/** The driver under Kysely, for libraries that speak to it directly (a rate limiter's store). */
export type RawClient = { dialect: 'sqlite'; client: SqliteHandle } | { dialect: 'postgres'; client: PgPoolHandle };

export function isSqliteHandle(value: unknown): value is SqliteHandle {
  const v = value as Partial<SqliteHandle> | null;
  return typeof v === 'object' && v !== null && typeof v.prepare === 'function' && typeof v.pragma === 'function';
}

export function isPgPoolHandle(value: unknown): value is PgPoolHandle {
  const v = value as Partial<PgPoolHandle> | null;
  return typeof v === 'object' && v !== null && typeof v.connect === 'function' && typeof v.end === 'function' && typeof v.totalCount === 'number';
}
