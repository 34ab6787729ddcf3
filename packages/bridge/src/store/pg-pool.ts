import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type { PgClientHandle, PgPoolHandle } from './handles';

const INT8_OID = 20;

/**
 * Type parsers for the bridge's own statements: times are bigint columns, read as numbers (ms
 * since the epoch fit in 2^53). Passed per query, so a publisher's pool keeps its own parsers.
 */
function bridgeTypes(fallback: (oid: number, format?: string) => unknown) {
  return { getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? (value: string) => Number(value) : fallback(oid, format)) };
}

/**
 * Names for SQL texts, so PostgreSQL parses and plans each statement once per connection and then
 * only binds and runs it (a prepared statement), as SQLite's statement cache does
 * (src/store/statement-cache.ts). The bound keeps `in (...)` lists of every length from naming
 * statements without end; past it, statements run unnamed.
 */
export function statementNames(limit = 256): (text: string) => string | undefined {
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

/**
 * The one statement allowed to outrun the client's answer timeout: a migration's concurrent index
 * build (src/store/migrations.ts), which blocks no writer and takes as long as the table is large.
 */
const LONG_STATEMENT = /^\s*(create|drop) index concurrently /i;
/** A day: the longest timer Node keeps is under 25 days. */
const LONG_STATEMENT_TIMEOUT_MS = 24 * 60 * 60_000;

/** A checked-out client as Kysely sees it: the bridge's statements named and typed, the client itself untouched. */
class BridgeClient implements PostgresPoolClient {
  constructor(
    private readonly client: PgClientHandle,
    private readonly nameFor: (text: string) => string | undefined,
    private readonly types: unknown,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query(sqlOrCursor: unknown, parameters?: ReadonlyArray<unknown>): unknown {
    if (typeof sqlOrCursor !== 'string') return this.client.query(sqlOrCursor as object);
    const name = parameters && parameters.length > 0 ? this.nameFor(sqlOrCursor) : undefined;
    const long = LONG_STATEMENT.test(sqlOrCursor) ? { query_timeout: LONG_STATEMENT_TIMEOUT_MS } : {};
    return this.client.query({ text: sqlOrCursor, values: parameters ?? [], types: this.types, ...(name ? { name } : {}), ...long });
  }

  release(destroy?: boolean): void {
    this.client.release(destroy);
  }
}

export interface BridgePoolOptions {
  /** whether closing the bridge ends the pool: only a pool the bridge opened itself */
  owned: boolean;
  /** node-postgres's default type parsers, for every type but int8 */
  defaultParser: (oid: number, format?: string) => unknown;
}

/** The pool as Kysely's PostgresDialect takes it, over a node-postgres Pool of the bridge's or the publisher's. */
export function bridgePool(pool: PgPoolHandle, options: BridgePoolOptions): PostgresPool {
  const nameFor = statementNames();
  const types = bridgeTypes(options.defaultParser);
  return {
    connect: async () => new BridgeClient(await pool.connect(), nameFor, types),
    end: async () => {
      if (options.owned) await pool.end();
    },
  };
}
