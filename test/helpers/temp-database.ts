import { openDatabase, type Database, type OpenDatabaseOptions } from '../../src/store/database';
import { createTestStores } from './backend';

export { makeTempDir } from './temp-dir';

/**
 * A real database of the run's backend (a SQLite file in a temp folder, or a PostgreSQL schema
 * of its own), migrated; `close()` also drops it.
 */
export async function openTempDatabase(options: OpenDatabaseOptions = {}): Promise<Database & { url: string }> {
  const stores = await createTestStores();
  const database = await openDatabase(stores.databaseUrl, options);
  return {
    ...database,
    url: stores.databaseUrl,
    close: async () => {
      await database.close();
      await stores.drop();
    },
  };
}
