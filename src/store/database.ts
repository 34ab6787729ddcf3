import type { Kysely } from 'kysely';
import { DEFAULT_TABLE_PREFIX, TablePrefixPlugin, connectDatabase, openBridgeDatabase, type BridgeDatabase, type ConnectOptions, type Dialect, type RawClient } from 'vf-login-bridge';
import { migrateSiteTables } from './migrations';
import type { DatabaseSchema } from './schema';

/** The site's database: its own tables and, through the bridge's prefix, the bridge's. */
export interface Database {
  /** the site's queries: its tables by name, the bridge's by their unprefixed names */
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: Dialect;
  readonly raw: RawClient;
  /** the same connection as the bridge sees it */
  readonly bridge: BridgeDatabase;
  /** Answers when the database does: used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions extends ConnectOptions {
  /** the prefix of the bridge's tables; default the bridge's own (`vf_`) */
  bridgeTablePrefix?: string | undefined;
}

/**
 * Opens `sqlite:<path>` or `postgres://...`, migrates the site's tables and then the bridge's,
 * and returns one connection for both: the site's page view joins the bridge's row in one read.
 */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const connection = connectDatabase(url, { ...options, applicationName: options.applicationName ?? 'vf-login-bridge-site' });
  const prefix = options.bridgeTablePrefix ?? DEFAULT_TABLE_PREFIX;
  try {
    await migrateSiteTables(connection.db, connection.dialect, prefix);
    const bridge = await openBridgeDatabase(connection.db, { tablePrefix: prefix });
    return {
      db: (connection.db as Kysely<DatabaseSchema>).withPlugin(new TablePrefixPlugin(prefix)),
      dialect: connection.dialect,
      raw: connection.raw!,
      bridge,
      ping: () => connection.ping(),
      close: () => connection.close(),
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
