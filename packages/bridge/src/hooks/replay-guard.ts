import type { Kysely } from 'kysely';
import type { BridgeSchema } from '../store/schema';
import { SIGNATURE_TOLERANCE_SECONDS } from './signature';

/**
 * Remembers every accepted signature until it is too old to pass the time check anyway, in the
 * database so that a replay is refused across restarts and across site processes.
 */
export function createReplayGuard(db: Kysely<BridgeSchema>) {
  return {
    /** true the first time a signature is seen, false on every replay */
    async firstUse(signature: string, timestampSeconds: number, nowMs: number): Promise<boolean> {
      await db.deleteFrom('hook_replays').where('expires_at', '<', nowMs).execute();
      const expires_at = (timestampSeconds + SIGNATURE_TOLERANCE_SECONDS + 60) * 1000;
      const inserted = await db
        .insertInto('hook_replays')
        .values({ signature, expires_at })
        .onConflict((oc) => oc.column('signature').doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
    },
  };
}
