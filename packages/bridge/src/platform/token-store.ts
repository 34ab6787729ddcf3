import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import type { BridgeSchema } from '../store/schema';
import { createTokenSealer, type TokenSealer } from './token-crypto';

/** What the bridge keeps of its platform token, between refreshes and across instances. */
export interface TokenRecord {
  accessToken: string;
  refreshToken?: string | undefined;
  /** When the token was asked for (ms); its lifetime counts from here. */
  obtainedAt: number;
  expiresAt: number;
  /** Last time a refresh (not the first grant or connect) succeeded. */
  refreshedAt?: number | undefined;
  /** Who the token acts for, from the answer's extra fields (seed 001's `user_id`), for the status line. */
  connectedAs?: string | undefined;
  /** Set when the platform refused the refresh token and no new grant is possible: an operator must reconnect. */
  reconnectNeeded?: string | undefined;
}

export type LeaseResult<T> = { held: true; value: T } | { held: false };

/** Where the token lives: this process only, or the database shared by every instance. */
export interface TokenStore {
  readonly shared: boolean;
  read(): Promise<TokenRecord | null>;
  /** Replaces the record in one statement: readers see the old token or the new one, never a mix. */
  write(record: TokenRecord): Promise<void>;
  /** Runs `work` while holding the refresh lease; `{ held: false }` when another instance holds it. */
  withLease<T>(work: () => Promise<T>): Promise<LeaseResult<T>>;
}

/** One process: single-flight in the token source is all the coordination needed. */
export function createMemoryTokenStore(): TokenStore {
  let record: TokenRecord | null = null;
  return {
    shared: false,
    read: async () => (record ? { ...record } : null),
    write: async (next) => {
      record = { ...next };
    },
    withLease: async (work) => ({ held: true, value: await work() }),
  };
}

export interface DatabaseTokenStoreOptions {
  db: Kysely<BridgeSchema>;
  clock: Clock;
  /** AES-256-GCM key (TOKEN_ENCRYPTION_KEY). */
  key: Buffer;
  /** What the token is for (token URL, client, grant): another dialect's row is never read. */
  identity: string;
  /** A holder that died releases its lease after this long. Default 30 s. */
  leaseMs?: number | undefined;
}

/**
 * The token in the `platform_tokens` table, sealed with AES-256-GCM, and a lease column so that
 * one instance at a time refreshes: a rotating refresh token used twice would kill the other copy.
 */
export function createDatabaseTokenStore(options: DatabaseTokenStoreOptions): TokenStore {
  const { db, clock } = options;
  const sealer: TokenSealer = createTokenSealer(options.key);
  const name = `platform:${createHash('sha256').update(options.identity).digest('hex').slice(0, 24)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  const holder = randomUUID();

  async function ensureRow(): Promise<void> {
    await db
      .insertInto('platform_tokens')
      .values({ name, sealed: null, version: 0, lease_holder: null, lease_until: null, updated_at: clock.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }

  return {
    shared: true,
    async read() {
      const row = await db.selectFrom('platform_tokens').select(['sealed']).where('name', '=', name).executeTakeFirst();
      if (!row?.sealed) return null;
      try {
        return JSON.parse(sealer.open(row.sealed, name)) as TokenRecord;
      } catch {
        // Another key (rotated TOKEN_ENCRYPTION_KEY) or a damaged row: as if none were kept.
        return null;
      }
    },
    async write(record) {
      await ensureRow();
      await db
        .updateTable('platform_tokens')
        .set((eb) => ({ sealed: sealer.seal(JSON.stringify(record), name), version: eb('version', '+', 1), updated_at: clock.now() }))
        .where('name', '=', name)
        .execute();
    },
    async withLease(work) {
      await ensureRow();
      const now = clock.now();
      const taken = await db
        .updateTable('platform_tokens')
        .set({ lease_holder: holder, lease_until: now + leaseMs })
        .where('name', '=', name)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) return { held: false };
      try {
        return { held: true, value: await work() };
      } finally {
        await db
          .updateTable('platform_tokens')
          .set({ lease_holder: null, lease_until: null })
          .where('name', '=', name)
          .where('lease_holder', '=', holder)
          .execute();
      }
    },
  };
}
