import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../src/store/database';

/** A fresh folder under the OS temp dir, removed by the returned cleanup. */
export function makeTempDir(prefix = 'vf-bridge-'): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A real SQLite file in a temp folder, migrated; `close()` also deletes the folder. */
export async function openTempDatabase(): Promise<Database & { file: string; url: string }> {
  const { dir, remove } = makeTempDir();
  const file = path.join(dir, 'site.db');
  const url = `sqlite:${file}`;
  const database = await openDatabase(url);
  return {
    ...database,
    file,
    url,
    close: async () => {
      await database.close();
      remove();
    },
  };
}
