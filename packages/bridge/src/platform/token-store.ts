import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import { silentLogger, type Logger } from '../logger';
import type { BridgeSchema } from '../store/schema';
import { createTokenSealer, SealedTokenError, type TokenSealer } from './token-crypto';

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
  /** The kept record, null when none is; a `SealedTokenError` when one is kept that this process cannot open. */
  read(): Promise<TokenRecord | null>;
  /** Replaces the record in one statement: readers see the old token or the new one, never a mix. */
  write(record: TokenRecord): Promise<void>;
  /** Runs `work` while holding the refresh lease; `{ held: false }` when another instance holds it. */
  withLease<T>(work: () => Promise<T>): Promise<LeaseResult<T>>;
}

/**
 * A record this process can use, or null: one it cannot open (sealed under a key no longer
 * listed, or damaged) counts as none kept, as docs/token-dialects.md says. The store has logged it.
 */
export async function readKept(store: TokenStore): Promise<TokenRecord | null> {
  try {
    return await store.read();
  } catch (error) {
    if (error instanceof SealedTokenError) return null;
    throw error;
  }
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
  /** AES-256-GCM keys (TOKEN_ENCRYPTION_KEYS), newest first: writes seal under the first, reads open with any. */
  keys: readonly Buffer[];
  /** Where a kept token no listed key opens is reported. Default: nowhere. */
  logger?: Logger | undefined;
  /** What the token is for (token URL, client, grant): another dialect's row is never read. */
  identity: string;
  /** A holder that died releases its lease after this long. Default 30 s. */
  leaseMs?: number | undefined;
}

/** Distinct unreadable values remembered, so that each is reported once however often it is read. */
const REPORTED_SEALS_KEPT = 16;

/**
 * The token in the `platform_tokens` table, sealed with AES-256-GCM, and a lease column so that
 * one instance at a time refreshes: a rotating refresh token used twice would kill the other copy.
 * A value sealed under an older listed key is sealed anew under the first at the next write (a
 * refresh or a new grant), never on a read: mid-rotation, instances whose lists start with
 * different keys would otherwise rewrite the row back and forth on every read.
 */
export function createDatabaseTokenStore(options: DatabaseTokenStoreOptions): TokenStore {
  const { db, clock } = options;
  const sealer: TokenSealer = createTokenSealer(options.keys);
  const logger = options.logger ?? silentLogger;
  const reported = new Set<string>();
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

  function reportOnce(sealed: string, error: SealedTokenError): void {
    const digest = createHash('sha256').update(sealed).digest('hex');
    if (reported.has(digest)) return;
    reported.add(digest);
    if (reported.size > REPORTED_SEALS_KEPT) reported.delete(reported.values().next().value!);
    const advice =
      error.code === 'TOKEN_KEY_UNKNOWN'
        ? 'list the key it was sealed under in TOKEN_ENCRYPTION_KEYS (docs/token-dialects.md#rotating-the-sealing-key); until then it counts as none kept'
        : 'it counts as none kept';
    logger.warn({ code: error.code, keys: options.keys.length }, `${error.message}: ${advice}`);
  }

  function opened(sealed: string): TokenRecord {
    const plain = sealer.open(sealed, name);
    try {
      return JSON.parse(plain) as TokenRecord;
    } catch {
      // No cause attached: a JSON error quotes its input, and the input is the token.
      throw new SealedTokenError('TOKEN_SEAL_DAMAGED');
    }
  }

  return {
    shared: true,
    async read() {
      const row = await db.selectFrom('platform_tokens').select(['sealed']).where('name', '=', name).executeTakeFirst();
      if (!row?.sealed) return null;
      try {
        return opened(row.sealed);
      } catch (error) {
        if (error instanceof SealedTokenError) reportOnce(row.sealed, error);
        throw error;
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
