import type { Kysely } from 'kysely';
import type { BridgeSchema } from '../store/schema';

/**
 * Keys already used, each until it expires, in the `hook_replays` table: a second use is refused
 * across restarts and across site processes, because the first insert of a key wins in the
 * database. Keys are namespaced by their owner (`swh:<webhook-id>` for Standard Webhooks); an
 * `X-Hook-Signature` is kept as its bare hex `v1`, as it always was, so existing rows still count.
 */
export interface ReplayGuard {
  /** true for the one caller that first takes `key`, false while the key is held (until `expiresAtMs`) */
  firstUse(key: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
  /** until when `key` is held (ms), or undefined when it is not */
  heldUntil(key: string, nowMs: number): Promise<number | undefined>;
  /** gives a key back, as if never used: the work it guarded failed and may be tried again */
  release(key: string): Promise<void>;
}

export function createReplayGuard(db: Kysely<BridgeSchema>): ReplayGuard {
  return {
    async firstUse(key, expiresAtMs, nowMs) {
      // An expired key is free again: rows are removed as they expire, by whoever comes next.
      await db.deleteFrom('hook_replays').where('expires_at', '<', nowMs).execute();
      const inserted = await db
        .insertInto('hook_replays')
        .values({ signature: key, expires_at: expiresAtMs })
        .onConflict((oc) => oc.column('signature').doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async heldUntil(key, nowMs) {
      const row = await db.selectFrom('hook_replays').select('expires_at').where('signature', '=', key).executeTakeFirst();
      return row && Number(row.expires_at) >= nowMs ? Number(row.expires_at) : undefined;
    },
    async release(key) {
      await db.deleteFrom('hook_replays').where('signature', '=', key).execute();
    },
  };
}
