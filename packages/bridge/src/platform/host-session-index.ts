import type { Kysely } from 'kysely';
import type { BridgeSchema } from '../store/schema';

/**
 * The host session ids the bridge holds live rows for, for one host user: the site's index of a
 * reader's sessions (a row is written at every login, before the platform is called, and becomes
 * a tombstone at logout). Used to cap how many sessions one reader keeps.
 */
export async function liveHostSessionsOf(db: Kysely<BridgeSchema>, hostUserId: string): Promise<string[]> {
  const rows = await db.selectFrom('bridge_sessions').select('host_sid').where('host_user_id', '=', hostUserId).where('ended_at', 'is', null).execute();
  return rows.map((row) => row.host_sid);
}
