import type { Kysely } from 'kysely';
import { toConnection, type ConnectOptions, type DatabaseSource, type Dialect } from './database';
import { migrateBridgeTables } from './migrations';
import type { BridgeSchema } from './schema';
import { DEFAULT_TABLE_PREFIX, TablePrefixPlugin } from './table-prefix';

/** The bridge's view of a database: its own tables only, under their prefix, migrated. */
export interface BridgeDatabase {
  readonly db: Kysely<BridgeSchema>;
  readonly dialect: Dialect;
  readonly tablePrefix: string;
  ping(): Promise<void>;
  /** Ends what the bridge opened itself (from a URL); a handle the publisher passed stays open. */
  close(): Promise<void>;
}

export interface OpenBridgeDatabaseOptions extends ConnectOptions {
  /** Default `vf_`; lower-case letters, digits and `_` (src/store/table-prefix.ts). */
  tablePrefix?: string | undefined;
}

/**
 * Opens (a URL) or adopts (a pg Pool, a better-sqlite3 Database, a Kysely instance) the
 * database, and migrates the bridge's own tables in it; nothing else in it is read or changed.
 */
export async function openBridgeDatabase(source: DatabaseSource, options: OpenBridgeDatabaseOptions = {}): Promise<BridgeDatabase> {
  const plugin = new TablePrefixPlugin(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
  const connection = toConnection(source, options);
  try {
    await migrateBridgeTables(connection.db, connection.dialect, plugin.prefix);
  } catch (error) {
    await connection.close();
    throw error;
  }
  return {
    db: (connection.db as Kysely<BridgeSchema>).withPlugin(plugin),
    dialect: connection.dialect,
    tablePrefix: plugin.prefix,
    ping: () => connection.ping(),
    close: () => connection.close(),
  };
}
